// SPDX-License-Identifier: Apache-2.0
#include "policies/linear_softmax.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/epsilon_greedy.h"
#include "policies/registry.h"
#include "policies/softmax.h"
#include "tests/policies/bandit_fixtures.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::make_interaction;
using recloop::testing::random_context;

namespace {

constexpr int kUserDim = 3;
constexpr int kActionDim = 2;
constexpr int kDim = kUserDim + kActionDim;

// Trains `policy` and `greedy` (whose ridge regression is checked against a
// direct solve in epsilon_greedy_test.cc) on the same interactions.
void train_both(LinearSoftmax& policy, EpsilonGreedy& greedy, Rng& rng, int steps) {
  for (int t = 0; t < steps; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const double reward = context.user[0] * static_cast<double>(context.items[action] % 3) +
                          context.actions(1, action) + 0.1 * standard_normal(rng);
    const auto interaction = make_interaction(context, action, reward, 0.2);
    policy.update(interaction);
    greedy.update(interaction);
  }
}

}  // namespace

TEST_CASE("softmax_linear is the softmax of the ridge predictions over the temperature",
          "[policies]") {
  Rng rng(1);
  LinearSoftmax policy({.temperature = 0.3, .ridge = 2.0}, kDim);
  EpsilonGreedy greedy({.epsilon = 0.0, .ridge = 2.0}, kDim);
  train_both(policy, greedy, rng, 300);
  for (int i = 0; i < 20; ++i) {
    // Catalogue of 15 > 12 trained items: some candidates use the prior (0).
    const Context context = random_context(rng, kUserDim, kActionDim, 6, 15);
    std::vector<double> means(context.size());
    greedy.predict_rewards(context, means);
    REQUIRE(policy.probabilities(context) == softmax_pmf(means, 0.3));
  }
}

TEST_CASE("a fresh softmax_linear policy is uniform", "[policies]") {
  Rng rng(2);
  LinearSoftmax policy({.temperature = 1e-3}, kDim);
  const Context context = random_context(rng, kUserDim, kActionDim, 8, 1'000'000);
  for (double p : policy.probabilities(context)) REQUIRE(p == Approx(1.0 / 8));
}

TEST_CASE("softmax_linear with a huge temperature is uniform after learning", "[policies]") {
  Rng rng(3);
  LinearSoftmax policy({.temperature = 1e300}, kDim);
  EpsilonGreedy greedy({.epsilon = 0.0}, kDim);
  train_both(policy, greedy, rng, 200);
  const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
  for (double p : policy.probabilities(context)) REQUIRE(p == 0.2);
}

TEST_CASE("softmax_linear with a tiny temperature is greedy on the ridge predictions",
          "[policies]") {
  Rng rng(4);
  LinearSoftmax policy({.temperature = 1e-300}, kDim);
  EpsilonGreedy greedy({.epsilon = 0.0}, kDim);
  train_both(policy, greedy, rng, 300);
  for (int i = 0; i < 20; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    REQUIRE(policy.probabilities(context) == greedy.probabilities(context));
  }
}

TEST_CASE("softmax_linear holds state only for items it was updated on", "[policies]") {
  Rng rng(5);
  LinearSoftmax policy({}, kDim);
  const Context context = random_context(rng, kUserDim, kActionDim, 100, 1'000'000);
  policy.probabilities(context);
  REQUIRE(policy.arm_count() == 0);
  policy.update(make_interaction(context, 5, 1.0));
  policy.update(make_interaction(context, 5, 0.0));
  REQUIRE(policy.arm_count() == 1);
  REQUIRE(policy.model_version() == 2);
}

TEST_CASE("softmax_linear rejects a context of another feature dimension", "[policies]") {
  Rng rng(6);
  LinearSoftmax policy({}, kDim);
  const Context wrong = random_context(rng, kUserDim + 1, kActionDim, 4, 20);
  REQUIRE_THROWS_AS(policy.probabilities(wrong), std::logic_error);
  REQUIRE_THROWS_AS(policy.update(make_interaction(wrong, 0, 1.0)), std::logic_error);
  REQUIRE(policy.model_version() == 0);
}

TEST_CASE("softmax_linear learns per-candidate targets as one ridge step per candidate",
          "[policies]") {
  Rng rng(7);
  LinearSoftmax policy({}, kDim);
  EpsilonGreedy reference({}, kDim);
  for (int t = 0; t < 50; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 4, 10);
    std::vector<double> targets(context.size());
    for (auto& y : targets) y = standard_normal(rng);
    policy.learn(context, targets);
    reference.learn(context, targets);
  }
  REQUIRE(policy.model_version() == 50);
  const Context probe = random_context(rng, kUserDim, kActionDim, 6, 10);
  std::vector<double> mine(6), theirs(6);
  policy.predict_rewards(probe, mine);
  reference.predict_rewards(probe, theirs);
  REQUIRE(mine == theirs);
}

TEST_CASE("softmax_linear reloads bit-identical", "[policies]") {
  LinearSoftmax policy({.temperature = 0.2, .ridge = 0.5}, kDim);
  testing::require_bit_identical_reload(policy, 14);
}

TEST_CASE("softmax_linear settings are read from a section with defaults and ranges",
          "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(LinearSoftmax::Config::from(empty) == LinearSoftmax::Config{});

  ConfigSection set("policy", "x.ini");
  set.set("temperature", "0.5");
  set.set("ridge", "4");
  REQUIRE(LinearSoftmax::Config::from(set) ==
          LinearSoftmax::Config{.temperature = 0.5, .ridge = 4.0});

  ConfigSection bad_temperature("policy", "x.ini");
  bad_temperature.set("temperature", "-1");
  REQUIRE_THROWS_WITH(LinearSoftmax::Config::from(bad_temperature),
                      Contains("temperature") && Contains("'-1'") && Contains("(0, inf)"));
  ConfigSection bad_ridge("policy", "x.ini");
  bad_ridge.set("ridge", "0");
  REQUIRE_THROWS_WITH(LinearSoftmax::Config::from(bad_ridge),
                      Contains("ridge") && Contains("'0'") && Contains("(0, inf)"));
  ConfigSection typo("policy", "x.ini");
  typo.set("epsilon", "0.1");
  REQUIRE_THROWS_WITH(make_policy("softmax_linear", typo, kDim), Contains("epsilon"));
}

TEST_CASE("softmax_linear rejects bad constructor arguments with their values", "[policies]") {
  REQUIRE_THROWS_WITH(LinearSoftmax({.temperature = 0.0}, kDim), Contains("temperature = 0"));
  REQUIRE_THROWS_WITH(LinearSoftmax({.ridge = -1.0}, kDim), Contains("ridge = -1"));
  REQUIRE_THROWS_AS(LinearSoftmax({}, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Regret on the linear world (bandit_fixtures.h), whose expected rewards are known.

namespace {

constexpr double kTemperature = 0.2;
constexpr int kSteps = 20000;

// The second half's regret over that of the softmax of the *true* expected
// rewards on the same contexts: sum_t sum_a softmax(mu_t / T)(a) (max mu_t - mu_t(a)).
double regret_over_limit(std::uint64_t seed) {
  LinearSoftmax policy({.temperature = kTemperature}, testing::LinearWorld::kDim);
  double limit = 0.0;
  const auto regret = testing::linear_regret(
      policy, seed, kSteps,
      [&limit](int t, const Context&, const std::vector<double>& mu, const std::vector<double>&) {
        if (t >= kSteps / 2) limit += testing::pmf_regret(softmax_pmf(mu, kTemperature), mu);
      });
  return (regret[kSteps - 1] - regret[kSteps / 2 - 1]) / limit;
}

}  // namespace

TEST_CASE("softmax_linear's regret approaches that of the softmax of the true rewards",
          "[policies][statistical]") {
  // With a fixed temperature the regret is linear, at the rate of the
  // Boltzmann pmf on the true expected rewards: that is the known limit.
  // What separates the learnt policy from it is the error of each item's
  // ridge prediction, about noise * sqrt(d / n) = 0.1 * sqrt(7 / n) for an
  // item played n times, i.e. a log-weight error of 0.13 (a 13% change of
  // its probability) for an item played only 1% of the time by T/2
  // (n = 100), and much less for the items that carry most of the mass; and
  // the ridge's shrinkage towards 0 of items played a handful of times. Both
  // push the ratio up or down by a few percent; the window [0.9, 1.15] is
  // several times that. Over seeds 1-100 (the [.sweep] test, by hand) the
  // ratio lay in [1.000, 1.067] (and at temperature 0.1, where the rarest
  // items are played almost never, in [0.70, 1.05]: hence 0.2 here).
  const double ratio = regret_over_limit(2024);
  INFO("second-half regret / limit = " << ratio);
  REQUIRE(ratio >= 0.9);
  REQUIRE(ratio <= 1.15);
}

TEST_CASE("softmax_linear regret matches its limit across seeds", "[.sweep]") {
  double lowest = 1e300, highest = 0.0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    const double ratio = regret_over_limit(seed);
    INFO("seed " << seed << ": ratio " << ratio);
    CHECK(ratio >= 0.9);
    CHECK(ratio <= 1.15);
    lowest = std::min(lowest, ratio);
    highest = std::max(highest, ratio);
  }
  WARN("softmax_linear, seeds 1-100: regret / limit in [" << lowest << ", " << highest << "]");
}
