// SPDX-License-Identifier: Apache-2.0
// Logged sessions from a session world: runs a stochastic behaviour policy
// over sessions first_session .. first_session + n - 1 and records each as a
// Trajectory (core/trajectory.h) with the behaviour's whole pmf, the logged
// probability of every action, the drawn reward and the exact expected
// reward. These are the data the reinforcement-learning trainers
// (policies/rl/) learn from and the sequential estimators
// (evaluation/sequential.h) score, with the world's exact session values as
// the truth to check them against.
//
// Decisions use the same seeds as run_session() with stochastic_policy()
// (session_value.h): step t of session i draws its action with
// sample_index(pmf, stream_seed(stream_seed(decision_seed, i), t)), so a
// logged session and a session run by compare_policies() under the same
// behaviour are the same session. Event ids are "<session>:<step>".
//
// Thread safety: as the world (one per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/trajectory.h"
#include "core/types.h"
#include "simulator/session_simulator.h"

namespace recloop {

struct SessionLoggingOptions {
  std::uint64_t first_session = 0;
  std::size_t sessions = 1000;
  std::uint64_t decision_seed = 0;
};

// The behaviour's pmf over the candidates of a request (valid: non-negative,
// summing to 1, one entry per candidate).
using BehaviourPmf = std::function<std::vector<double>(const Context& context)>;
// Called after every step with the step just recorded (for behaviours that
// learn online, e.g. a bandit updating on its own clicks); may be empty.
using StepObserver = std::function<void(const TrajectoryStep& step)>;

// Throws std::invalid_argument naming the session and step if the pmf has the
// wrong length, a negative or non-finite entry, or does not sum to 1 within 1e-6.
std::vector<Trajectory> log_sessions(SessionSimulator& world, const BehaviourPmf& behaviour,
                                     const SessionLoggingOptions& options,
                                     const StepObserver& observe = {});

// The decisions and rewards of trajectories, as a collector would store them:
// policy `policy`, event id "<session>:<step>", session and step set, the
// whole pmf, model version 0, timestamp_us = the step index. Appends to
// `decisions` and `rewards`.
void to_logged(const std::vector<Trajectory>& trajectories, std::string_view policy,
               std::vector<LoggedDecision>& decisions, std::vector<Reward>& rewards);

}  // namespace recloop
