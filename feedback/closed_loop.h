// SPDX-License-Identifier: Apache-2.0
// The closed loop, driven by a simulator: for each request the policy chooses,
// the decision (with its context and the world's exact truth) and the drawn
// reward travel to a collector through a FeedbackClient, the collector stores
// and joins them, and the joined interactions come back on the learner stream
// to update the policy. Requests are processed in batches: a batch is decided
// with the current model, then the loop waits until the collector has
// acknowledged and joined every event of the batch and applies the updates in
// request order. The learning delay is therefore exactly one batch, and the
// run is deterministic for a given seed whatever the timing.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "feedback/client.h"
#include "policies/policy.h"
#include "simulator/simulator.h"

namespace recloop {

// The [run] section of a scenario.
struct RunConfig {
  std::int64_t steps = 20000;   // requests per policy
  std::vector<std::string> policies = {"uniform", "epsilon_greedy", "lin_ucb"};
  std::uint64_t seed = 7;       // requests, clicks and decisions (common to all policies)
  std::int64_t batch = 100;     // requests decided before their feedback is learnt
  std::string endpoint = "inproc://recloop-feedback";  // collector; inproc:// runs it in-process
  std::string learner_endpoint = "inproc://recloop-learner";  // joined interactions
  std::int64_t timeout_ms = 30000;  // longest wait for the collector before giving up
  std::int64_t curve_points = 20;   // learning-curve samples reported per policy
  bool operator==(const RunConfig&) const = default;
  static RunConfig from(ConfigSection& section);
};

// What one policy did in the loop. Values are exact expectations from the
// simulator's truth, not sampled rewards.
struct PolicyRun {
  std::string policy;
  std::uint64_t events = 0;
  double clicks = 0.0;             // sum of drawn rewards
  double value_sum = 0.0;          // sum over requests of sum_a pi(a|x) E[r|x,a]
  double oracle_sum = 0.0;         // sum over requests of max_a E[r|x,a]
  struct CurvePoint { std::uint64_t step; double cumulative_regret; double window_value; };
  std::vector<CurvePoint> curve;   // sampled learning curve
  std::unique_ptr<Policy> final_policy;  // the model after the last update

  double ctr() const { return events ? clicks / static_cast<double>(events) : 0.0; }
  double value() const { return events ? value_sum / static_cast<double>(events) : 0.0; }
  double regret() const { return oracle_sum - value_sum; }  // cumulative pseudo-regret
};

// Called after every batch with (policy, requests done, requests in total).
using Progress = std::function<void(const std::string&, std::int64_t, std::int64_t)>;

// Runs `policy` for config.steps requests of `world`. Event ids are
// "<run_tag>:<policy>:<step>". Throws Error if the collector does not
// acknowledge or join a batch within config.timeout_ms.
PolicyRun run_policy(std::unique_ptr<Policy> policy, Simulator& world, const RunConfig& config,
                     const std::string& run_tag, FeedbackClient& client,
                     InteractionStream& stream, const Progress& progress);

}  // namespace recloop
