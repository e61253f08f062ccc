// SPDX-License-Identifier: Apache-2.0
#include "policies/square_cb.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/epsilon_greedy.h"
#include "policies/registry.h"
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

void train(Policy& policy, Rng& rng, int steps) {
  for (int t = 0; t < steps; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const double reward = context.user[0] * static_cast<double>(context.items[action] % 3) +
                          context.actions(1, action) + 0.1 * standard_normal(rng);
    policy.update(make_interaction(context, action, reward, 0.2));
  }
}

}  // namespace

TEST_CASE("inverse gap weighting gives 1 / (K + gamma gap) to each candidate and the rest to "
          "the best", "[policies]") {
  // K = 3, gamma = 2, best 1.0: gaps 1 and 0.5 -> 1/5 and 1/4, remainder 0.55.
  const std::vector<double> predicted{0.0, 1.0, 0.5};
  const auto pmf = inverse_gap_pmf(predicted, 2.0);
  REQUIRE(pmf[0] == Approx(0.2));
  REQUIRE(pmf[2] == Approx(0.25));
  REQUIRE(pmf[1] == Approx(0.55));
  testing::require_valid_pmf(pmf, 3);
}

TEST_CASE("inverse gap weighting with gamma zero is uniform", "[policies]") {
  const std::vector<double> predicted{3.0, -1.0, 0.25, 7.0, 7.0};
  for (double p : inverse_gap_pmf(predicted, 0.0)) REQUIRE(p == Approx(0.2));
}

TEST_CASE("inverse gap weighting shares the remainder equally between tied best candidates",
          "[policies]") {
  // K = 4, gamma = 6: the two others get 1/(4 + 6) and 1/(4 + 3); the tied
  // best share 1 - 0.1 - 1/7 equally. That equals the average of the pmfs of
  // the paper's rule over both ways of breaking the tie (where the other best
  // candidate has gap 0 and gets 1/K).
  const std::vector<double> predicted{1.0, 0.0, 1.0, 0.5};
  const auto pmf = inverse_gap_pmf(predicted, 6.0);
  const double shared = (1.0 - 0.1 - 1.0 / 7.0) / 2.0;
  REQUIRE(pmf[0] == Approx(shared));
  REQUIRE(pmf[2] == pmf[0]);
  const double tie_broken_best = 1.0 - 0.1 - 1.0 / 7.0 - 0.25;
  REQUIRE(shared == Approx((tie_broken_best + 0.25) / 2.0));
}

TEST_CASE("inverse gap weighting tends to greedy as gamma grows, the best keeping at least 1/K",
          "[policies]") {
  const std::vector<double> predicted{0.2, 0.9, 0.4, 0.8};
  double previous = 0.0;
  for (double gamma : {0.0, 1.0, 10.0, 1e3, 1e9}) {
    const auto pmf = inverse_gap_pmf(predicted, gamma);
    testing::require_valid_pmf(pmf, 4);
    REQUIRE(pmf[1] >= 0.25);
    REQUIRE(pmf[1] >= previous);
    previous = pmf[1];
  }
  REQUIRE(previous == Approx(1.0).margin(1e-8));
}

TEST_CASE("inverse gap weighting rejects bad input", "[policies]") {
  const std::vector<double> ok{0.0, 1.0};
  const std::vector<double> inf_value{0.0, std::numeric_limits<double>::infinity()};
  REQUIRE_THROWS_AS(inverse_gap_pmf({}, 1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(inverse_gap_pmf(inf_value, 1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(inverse_gap_pmf(ok, -1.0), std::invalid_argument);
}

TEST_CASE("square_cb applies inverse gap weighting to the ridge predictions with gamma_t = "
          "gamma_scale sqrt(K t)", "[policies]") {
  Rng rng(1);
  SquareCb policy({.gamma_scale = 0.7, .ridge = 2.0}, kDim);
  EpsilonGreedy greedy({.epsilon = 0.0, .ridge = 2.0}, kDim);  // the same ridge, checked elsewhere
  for (int t = 0; t < 300; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const auto interaction = make_interaction(context, action, standard_normal(rng));
    policy.update(interaction);
    greedy.update(interaction);
  }
  REQUIRE(policy.gamma(6) == Approx(0.7 * std::sqrt(6.0 * 300.0)));
  for (int i = 0; i < 20; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 6, 15);
    std::vector<double> predicted(context.size());
    greedy.predict_rewards(context, predicted);
    REQUIRE(policy.probabilities(context) == inverse_gap_pmf(predicted, policy.gamma(6)));
  }
}

TEST_CASE("square_cb with gamma_scale zero is uniform even after learning", "[policies]") {
  Rng rng(2);
  SquareCb policy({.gamma_scale = 0.0}, kDim);
  train(policy, rng, 200);
  const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
  for (double p : policy.probabilities(context)) REQUIRE(p == Approx(0.2));
}

TEST_CASE("a fresh square_cb policy is uniform", "[policies]") {
  Rng rng(3);
  SquareCb policy({.gamma_scale = 1e6}, kDim);  // gamma_0 = 0 whatever the scale
  const Context context = random_context(rng, kUserDim, kActionDim, 7, 1'000'000);
  for (double p : policy.probabilities(context)) REQUIRE(p == Approx(1.0 / 7));
}

TEST_CASE("square_cb's regret at every step is within Foster and Rakhlin's inverse gap bound",
          "[policies]") {
  // The lemma behind SquareCB's guarantee (Foster & Rakhlin 2020, sec. 4),
  // in the form derived here for rewards: for the IGW pmf p over predictions
  // y with learning rate gamma, and any true means mu,
  //   sum_a p(a) (max mu - mu(a)) <= 2K / gamma + (gamma / 2) sum_a p(a) (y(a) - mu(a))^2.
  // (Split max mu - mu(a) into prediction errors and prediction gaps; the
  // gaps cost sum_{a != b} gap / (K + gamma gap) <= (K - 1) / gamma; each
  // error term u is at most gamma p u^2 / 4 + 1 / (gamma p) by AM-GM, and
  // 1 / p(a*) = K + gamma gap(a*) cancels the gap of the true best.)
  // It holds exactly at every step, whatever the predictions, so any
  // departure of the pmf from inverse gap weighting that gives the true best
  // too little mass shows up as a violation.
  SquareCb policy({}, testing::LinearWorld::kDim);
  int checked = 0;
  testing::linear_regret(
      policy, 7, 3000,
      [&](int t, const Context& context, const std::vector<double>& mu,
          const std::vector<double>& pmf) {
        if (t == 0) return;  // gamma_0 = 0: the bound is infinite
        const double k = static_cast<double>(context.size());
        const double gamma = policy.gamma(context.size());
        std::vector<double> predicted(context.size());
        policy.predict_rewards(context, predicted);
        double squared_error = 0.0;
        for (std::size_t a = 0; a < mu.size(); ++a) {
          squared_error += pmf[a] * (predicted[a] - mu[a]) * (predicted[a] - mu[a]);
        }
        const double regret = testing::pmf_regret(pmf, mu);
        REQUIRE(regret <= 2.0 * k / gamma + gamma / 2.0 * squared_error + 1e-12);
        ++checked;
      });
  REQUIRE(checked == 2999);
}

TEST_CASE("square_cb holds state only for items it was updated on", "[policies]") {
  Rng rng(4);
  SquareCb policy({}, kDim);
  const Context context = random_context(rng, kUserDim, kActionDim, 100, 1'000'000);
  policy.probabilities(context);
  REQUIRE(policy.arm_count() == 0);
  policy.update(make_interaction(context, 9, 1.0));
  REQUIRE(policy.arm_count() == 1);
}

TEST_CASE("square_cb rejects a context of another feature dimension", "[policies]") {
  Rng rng(5);
  SquareCb policy({}, kDim);
  const Context wrong = random_context(rng, kUserDim, kActionDim + 1, 4, 20);
  REQUIRE_THROWS_AS(policy.probabilities(wrong), std::logic_error);
  REQUIRE_THROWS_AS(policy.update(make_interaction(wrong, 0, 1.0)), std::logic_error);
}

TEST_CASE("square_cb reloads bit-identical", "[policies]") {
  SquareCb policy({.gamma_scale = 2.0, .ridge = 0.5}, kDim);
  testing::require_bit_identical_reload(policy, 15);
}

TEST_CASE("square_cb settings are read from a section with defaults and ranges", "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(SquareCb::Config::from(empty) == SquareCb::Config{});

  ConfigSection set("policy", "x.ini");
  set.set("gamma_scale", "10");
  set.set("ridge", "0.5");
  REQUIRE(SquareCb::Config::from(set) == SquareCb::Config{.gamma_scale = 10.0, .ridge = 0.5});

  ConfigSection bad("policy", "x.ini");
  bad.set("gamma_scale", "-3");
  REQUIRE_THROWS_WITH(SquareCb::Config::from(bad),
                      Contains("gamma_scale") && Contains("'-3'") && Contains("[0, inf)"));
  ConfigSection typo("policy", "x.ini");
  typo.set("gamma", "3");
  REQUIRE_THROWS_WITH(make_policy("square_cb", typo, kDim), Contains("gamma"));
}

TEST_CASE("square_cb rejects bad constructor arguments with their values", "[policies]") {
  REQUIRE_THROWS_WITH(SquareCb({.gamma_scale = -1.5}, kDim), Contains("gamma_scale = -1.5"));
  REQUIRE_THROWS_WITH(SquareCb({.ridge = 0.0}, kDim), Contains("ridge = 0"));
  REQUIRE_THROWS_AS(SquareCb({}, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Regret on the linear world (bandit_fixtures.h), whose expected rewards are known.

namespace {

constexpr int kSteps = 20000;

struct Regrets {
  double square_cb_quarter, square_cb_end, epsilon_greedy_end;
};

Regrets run(std::uint64_t seed) {
  SquareCb square_cb({}, testing::LinearWorld::kDim);
  EpsilonGreedy epsilon_greedy({.epsilon = 0.1}, testing::LinearWorld::kDim);
  const auto mine = testing::linear_regret(square_cb, seed, kSteps);
  const auto theirs = testing::linear_regret(epsilon_greedy, seed, kSteps);
  return {mine[kSteps / 4 - 1], mine[kSteps - 1], theirs[kSteps - 1]};
}

}  // namespace

TEST_CASE("square_cb beats epsilon greedy and its regret grows like sqrt(T) on a linear world",
          "[policies][statistical]") {
  // Foster & Rakhlin 2020, Theorem 1: regret O(sqrt(K T Reg_Sq(T))), and the
  // ridge oracle of a well-specified linear model has Reg_Sq(T) = O(K d log T),
  // so regret(T) / regret(T/4) tends to 2 (to 2 sqrt(log T / log(T/4)) = 2.2
  // at T = 20,000); the per-step bound of the lemma test above,
  // 2K / gamma_t ~ 1 / sqrt(t), says the same once the oracle is accurate.
  // Epsilon-greedy's regret is linear (ratio about 4, 3.5 with its early
  // learning). The threshold 3 separates the two; over seeds 1-50 (the
  // [.sweep] test, by hand) square_cb's ratio lay in [1.67, 1.98] (and below
  // 2.10 over 300 seeds) and its regret was 2.8-7.7 times below
  // epsilon-greedy's.
  const auto r = run(2024);
  INFO("square_cb " << r.square_cb_quarter << " at T/4, " << r.square_cb_end
                    << " at T; epsilon_greedy " << r.epsilon_greedy_end << " at T");
  REQUIRE(r.square_cb_end < r.epsilon_greedy_end);
  REQUIRE(r.square_cb_end / r.square_cb_quarter < 3.0);
}

TEST_CASE("square_cb regret comparison holds across seeds", "[.sweep]") {
  double lowest = 1e300, highest = 0.0, least_gain = 1e300, most_gain = 0.0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const auto r = run(seed);
    INFO("seed " << seed << ": square_cb " << r.square_cb_quarter << " -> " << r.square_cb_end
                 << ", epsilon_greedy " << r.epsilon_greedy_end);
    CHECK(r.square_cb_end < r.epsilon_greedy_end);
    CHECK(r.square_cb_end / r.square_cb_quarter < 3.0);
    lowest = std::min(lowest, r.square_cb_end / r.square_cb_quarter);
    highest = std::max(highest, r.square_cb_end / r.square_cb_quarter);
    least_gain = std::min(least_gain, r.epsilon_greedy_end / r.square_cb_end);
    most_gain = std::max(most_gain, r.epsilon_greedy_end / r.square_cb_end);
  }
  WARN("square_cb, seeds 1-50: R(T)/R(T/4) in [" << lowest << ", " << highest
                                               << "], epsilon_greedy / square_cb in ["
                                               << least_gain << ", " << most_gain << "]");
}
