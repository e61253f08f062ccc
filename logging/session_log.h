// SPDX-License-Identifier: Apache-2.0
// Sessions read back from an event log as trajectories (core/trajectory.h):
// what the reinforcement-learning trainers (policies/rl/) and the sequential
// estimators (evaluation/sequential.h) consume.
//
// A decision belongs to a session when its session column is not '' (schema
// version 4, logging/schema.sql); its step column is its index in the
// session. read_sessions() groups those decisions by session, in the order
// each session's first decision was stored, and orders each session's steps
// by step. Every step carries the stored context, action, logged probability,
// whole pmf (empty when the log kept only the probability), the joined reward
// (rewards table: the aggregated or defaulted reward of a windowed join) and,
// when the decision stored the exact expected rewards of its candidates,
// expected_reward = truth[action] (NaN otherwise).
//
// What "terminated" means for a log. A log records requests, not the moment a
// user left, so a session is read as complete - Trajectory::terminated, the
// value after its last step is 0 - when its steps are exactly 0, 1, ..., n-1
// and every one of them has a reward. A gap cuts it: if step k is missing, or
// its reward is not joined yet, the trajectory keeps steps 0 .. k-1 and is
// truncated (terminated = false: the session went on past the cut); the steps
// after the cut are dropped and counted. A session without step 0, or whose
// step 0 has no reward, yields no trajectory. A session still running when the
// log was read looks complete; read logs of sessions that have ended.
//
// Decisions at a slot other than 0 (the lower slots of a ranking) are not
// steps of a session: they are skipped and counted.
//
// Runs its own query on a connection of its own, separate from
// EventLog::for_each; the file is opened as an EventLog first, so an older
// schema is migrated in place and an unknown one refused.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/trajectory.h"

namespace recloop {

// What read_sessions() found besides the trajectories it returns.
struct SessionLogSummary {
  std::size_t sessions = 0;          // trajectories returned
  std::size_t steps = 0;             // steps in them
  std::size_t complete = 0;          // of those, terminated (contiguous from 0, all rewarded)
  std::size_t truncated = 0;         // of those, cut at a gap or a missing reward
  std::size_t unusable = 0;          // sessions skipped: no rewarded step 0
  std::size_t dropped_steps = 0;     // decisions after a cut (not returned)
  std::size_t other_decisions = 0;   // decisions with session '' (not part of a session)
  std::size_t ranking_slots = 0;     // session decisions at a slot other than 0 (skipped)
  std::size_t with_truth = 0;        // returned steps with an exact expected reward
};

// Every session in the log at `path`, as above; with a non-empty `policy`,
// only the decisions that policy logged. Throws recloop::Error naming the file
// and event id when a session holds the same step twice or a stored column is
// corrupt (context, pmf, truth, action, item, probability).
std::vector<Trajectory> read_sessions(const std::string& path, const std::string& policy = {},
                                      SessionLogSummary* summary = nullptr);

}  // namespace recloop
