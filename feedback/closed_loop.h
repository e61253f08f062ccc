// SPDX-License-Identifier: Apache-2.0
// The closed loop, driven by a simulator: for each request the policy chooses,
// the decision (with its context and the world's exact truth) and the drawn
// reward travel to a collector through a FeedbackClient, the collector stores
// and joins them, and the joined interactions come back on the learner stream
// to update the policy. Requests are processed in batches: a batch is decided
// with the current model, then the loop waits until the collector has
// acknowledged and joined every event of the batch and applies the updates in
// request order. The learning delay is therefore exactly one batch (plus any
// reward delay, below), and the run is deterministic for a given seed
// whatever the timing.
//
// Delayed rewards. With RunConfig::reward_delay = M > 0 the simulated clock
// is the request index: request s's decision is sent at s, and its reward
// (every slot's, for a ranking) is held and sent through the same client only
// when the clock reaches s + d_s, just before request s + d_s is decided.
// d_s is M for reward_delay_dist = fixed (M whole), or geometric on
// {0, 1, ...} with mean M (P(d >= k) = (M / (M + 1))^k); it is drawn from the
// counter-based seed stream_seed(stream_seed(seed, 3), s), so every policy
// sees the same delays. A batch learns from the interactions whose rewards
// were sent during it, in the order they were sent; with a fixed delay D and
// one slot the policy has therefore learnt from t - D interactions after t
// requests (t a multiple of batch, t >= D). Rewards still held after the last
// request are sent then, and learnt from, so nothing is lost. M = 0 is the
// loop without delays, unchanged.
//
// Rankings. With RunConfig::slots = L > 1 the world must be a SlateSimulator
// (simulator/slate_simulator.h): each request shows an ordered slate of L
// candidates drawn by a ranker over the policy's pmf (policies/ranker.h,
// RunConfig::ranker). Slot k is logged as a decision of its own, event id
// "<event>/<k>", probability = the slot's marginal and conditional = P(item
// at k | slots above), with that slot's drawn reward; the policy learns from
// every slot's interaction, slots in order. L = 1 is the single decision of
// Policy::choose, exactly as without rankings.
//
// Common random numbers. Every run draws its requests and rewards from
// streams seeded by RunConfig::seed alone, so two runs on *fresh* worlds
// built from the same config see the same requests. A world with a clock
// (a PopulationWorld whose items expire) is not fresh after a run: build a
// new one for each policy (make_simulator), as `recloop simulate` does.
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
#include "policies/ranker.h"
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
  std::int64_t slots = 1;           // items shown per request; > 1 needs a SlateSimulator world
  std::string ranker = "plackett_luce";  // how a policy's pmf becomes a ranking when slots > 1
  double reward_delay = 0.0;        // mean delay of a request's reward, in requests; 0 = none
  std::string reward_delay_dist = "fixed";  // fixed | geometric (see the header)
  bool operator==(const RunConfig&) const = default;
  static RunConfig from(ConfigSection& section);
};

// What one policy did in the loop. Values are expectations from the
// simulator's truth, not sampled rewards: exact for single slots and for
// rankings in worlds whose value is linear in the slot marginals (pbm,
// multi_click); otherwise the exact expected reward of each drawn slate,
// whose mean is an unbiased estimate of the policy's value (value_exact false).
struct PolicyRun {
  std::string policy;
  std::uint64_t events = 0;        // requests served
  std::uint64_t slots = 1;         // items shown per request
  double clicks = 0.0;             // sum of drawn rewards (over every slot)
  // Sum over requests of the policy's value: sum_a pi(a|x) E[r|x,a] for one
  // slot; for rankings SlateSimulator::value_from_marginals of the ranker's
  // marginals when it has one, else expected_slate_reward of the drawn slate.
  double value_sum = 0.0;
  // Sum over requests of the best value: max_a E[r|x,a]; for rankings, the
  // top-L candidates by single-slot expected reward in that order (the best
  // slate when the value is linear in the marginals with slot weights that
  // do not grow down the slate, as under pbm and multi_click).
  double oracle_sum = 0.0;
  bool value_exact = true;         // value_sum is exact (see above)
  bool has_oracle = true;          // oracle_sum and regret are known (false when !value_exact)
  struct CurvePoint { std::uint64_t step; double cumulative_regret; double window_value; };
  std::vector<CurvePoint> curve;   // sampled learning curve
  std::unique_ptr<Policy> final_policy;  // the model after the last update
  double delay_sum = 0.0;                // sum over requests of the reward delay, in requests
  std::uint64_t max_outstanding = 0;     // most rewards held (drawn, not yet sent) at once

  double ctr() const { return events ? clicks / static_cast<double>(events) : 0.0; }
  double value() const { return events ? value_sum / static_cast<double>(events) : 0.0; }
  double regret() const { return oracle_sum - value_sum; }  // cumulative pseudo-regret
  double mean_delay() const { return events ? delay_sum / static_cast<double>(events) : 0.0; }
};

// Called after every batch with (policy, requests done, requests in total).
using Progress = std::function<void(const std::string&, std::int64_t, std::int64_t)>;

// Makes the ranker that turns a policy into rankings (the policy outlives it).
using RankerFactory = std::function<std::unique_ptr<Ranker>(std::shared_ptr<const Policy>)>;

// Runs `policy` for config.steps requests of `world` (fresh: see the header).
// Event ids are "<run_tag>:<policy>:<step>", and "<run_tag>:<policy>:<step>/<k>"
// for slot k of a ranking. With config.slots > 1, rankings come from
// `make_ranker` (when empty: the registry's config.ranker with its default
// keys). Throws ConfigError if config.slots > 1 and `world` is not a
// SlateSimulator, the slate is longer than its max_slots(), or a request has
// fewer candidates than slots; Error if the collector does not acknowledge or
// join a batch within config.timeout_ms.
PolicyRun run_policy(std::unique_ptr<Policy> policy, Simulator& world, const RunConfig& config,
                     const std::string& run_tag, FeedbackClient& client,
                     InteractionStream& stream, const Progress& progress,
                     const RankerFactory& make_ranker = {});

}  // namespace recloop
