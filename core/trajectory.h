// SPDX-License-Identifier: Apache-2.0
// A logged session read as a trajectory of a Markov decision process: what
// sequential off-policy evaluation (evaluation/sequential.h) and the
// reinforcement-learning trainers (policies/rl/) consume.
//
// Step t holds the state s_t (context.user: the state features the world or
// the application exposes, e.g. recent history, fatigue, step index) with the
// candidates offered (context.actions, context.items), the action a_t taken,
// the behaviour policy's probability of it, the reward r_t and, when a
// simulator made the request, the exact E[r_t | s_t, a_t]. The next state
// s_{t+1} is steps[t + 1].context. After the last step the session either
// ended (terminated: the value of what follows is 0) or the log stops there
// (truncated: the trajectory is cut, not finished).
//
// Plain values; no invariants are enforced here. Readers that build
// trajectories (logging/session_log.h, simulator/session_logging.h) guarantee
// steps in increasing step order, action < context.size() and, when known,
// probability == pmf[action] in (0, 1].
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "core/types.h"

namespace recloop {

struct TrajectoryStep {
  Context context;             // s_t and the candidates offered at step t
  ActionId action = 0;         // index of the candidate shown
  double probability = 0.0;    // behaviour P(action | s_t); 0 = unknown
  std::vector<double> pmf;     // behaviour distribution over the candidates; empty = unknown
  double reward = 0.0;         // r_t as observed
  // Exact E[r_t | s_t, a_t] when a simulator made the request; NaN when unknown.
  double expected_reward = std::numeric_limits<double>::quiet_NaN();
  std::string event_id;        // the decision's event id in the log, if any
};

struct Trajectory {
  std::string session;               // session id ("" when unnamed)
  std::vector<TrajectoryStep> steps;  // in step order
  bool terminated = true;            // false: truncated, the session went on after the last step
};

// Total number of steps over all trajectories.
inline std::size_t transition_count(const std::vector<Trajectory>& trajectories) {
  std::size_t n = 0;
  for (const auto& t : trajectories) n += t.steps.size();
  return n;
}

}  // namespace recloop
