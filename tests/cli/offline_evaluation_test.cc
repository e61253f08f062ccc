// SPDX-License-Identifier: Apache-2.0
// Off-policy estimates against the simulator's exact truth, on logs made in memory.
#include "cli/offline_evaluation.h"

#include <cmath>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "policies/epsilon_greedy.h"
#include "policies/lin_ucb.h"
#include "policies/uniform_random.h"
#include "simulator/linear_click_world.h"

using namespace recloop;

namespace {

// Logs `n` requests of `world` served by `logger` (updated online as it goes
// when `learn` is set), with the world's truth attached.
std::vector<Interaction> make_log(LinearClickWorld& world, Policy& logger, int n, std::uint64_t seed,
                                  bool learn) {
  Rng rng(seed);
  std::vector<Interaction> log;
  for (int t = 0; t < n; ++t) {
    Interaction i;
    i.context = world.next_context(rng);
    i.event_id = 'e' + std::to_string(t);
    const Decision d = logger.choose(i.context, i.event_id, seed);
    i.action = d.action;
    i.probability = d.probability;
    i.reward = world.draw_reward(i.context, d.action, rng);
    i.policy = std::string(logger.name());
    for (ActionId a = 0; a < i.context.size(); ++a) i.truth.push_back(world.expected_reward(i.context, a));
    if (learn) logger.update(i);
    log.push_back(std::move(i));
  }
  return log;
}

// A LinUCB trained on its own 5,000 requests, then frozen: the target.
std::unique_ptr<Policy> trained_lin_ucb(LinearClickWorld& world) {
  auto policy = std::make_unique<LinUcb>(LinUcb::Config{}, world.feature_dim());
  make_log(world, *policy, 5000, 99, true);
  return policy;
}

const Estimate& find(const OfflineEvaluation& e, const std::string& name) {
  for (const auto& [n, estimate] : e.estimates) {
    if (n == name) return estimate;
  }
  FAIL("no estimate " << name);
  return e.estimates.front().second;
}

}  // namespace

TEST_CASE("on a uniform log IPS, SNIPS and DR of frozen LinUCB land within 4 SE of its exact value",
          "[cli][statistical]") {
  // 20,000 uniform requests. Each estimator is asymptotically normal, so a
  // 4 SE miss has probability ~6e-5 per check at this fixed seed; the hidden
  // seed sweep in the evaluation tests checks 95% coverage across seeds.
  LinearClickWorld world({});
  auto target = trained_lin_ucb(world);
  UniformRandom logger;
  const auto log = make_log(world, logger, 20000, 1, false);
  const auto result = evaluate_offline(log, *target, {"ips", "snips", "dr"});
  REQUIRE(result.has_truth);
  for (const char* name : {"ips", "snips", "dr"}) {
    const auto& e = find(result, name);
    INFO(name << ": " << e.value << " +- " << e.std_error << " vs exact " << result.exact_value);
    REQUIRE(std::abs(e.value - result.exact_value) < 4 * e.std_error);
  }
}

TEST_CASE("on a biased log the naive average misses the exact value while IPS does not",
          "[cli][statistical]") {
  // The logger is an epsilon-greedy learner, so it shows good items far more
  // often than the uniform target would: the logged mean estimates the
  // logger's value, not the target's. The naive estimate must miss by more than
  // 5 of its SEs; IPS, which reweights by 1/probability, must land within 4.
  LinearClickWorld world({});
  EpsilonGreedy logger({.epsilon = 0.2}, world.feature_dim());
  make_log(world, logger, 5000, 7, true);  // warm up, then log with the learnt model
  const auto log = make_log(world, logger, 20000, 8, false);
  UniformRandom target;
  const auto result = evaluate_offline(log, target, {"ips"});
  INFO("naive " << result.naive.value << ", exact " << result.exact_value);
  REQUIRE(std::abs(result.naive.value - result.exact_value) > 5 * result.naive.std_error);
  const auto& ips = find(result, "ips");
  REQUIRE(std::abs(ips.value - result.exact_value) < 4 * ips.std_error);
}
