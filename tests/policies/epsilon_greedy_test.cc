// SPDX-License-Identifier: Apache-2.0
#include "policies/epsilon_greedy.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/sampling.h"
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

// A ridge regression per item computed from scratch, to check the policy against.
struct DirectRidge {
  double ridge;
  std::map<ItemId, std::pair<Eigen::MatrixXd, Eigen::VectorXd>> data;  // item -> (A, b)

  void add(const Context& context, ActionId action, double reward) {
    Eigen::VectorXd x(context.feature_dim());
    joint_features(context, action, x);
    auto [it, inserted] = data.try_emplace(context.items[action]);
    if (inserted) {
      it->second.first = ridge * Eigen::MatrixXd::Identity(x.size(), x.size());
      it->second.second = Eigen::VectorXd::Zero(x.size());
    }
    it->second.first += x * x.transpose();
    it->second.second += reward * x;
  }
  double mean(const Context& context, ActionId action) const {
    const auto it = data.find(context.items[action]);
    if (it == data.end()) return 0.0;
    Eigen::VectorXd x(context.feature_dim());
    joint_features(context, action, x);
    return x.dot(it->second.first.ldlt().solve(it->second.second));
  }
};

// Trains `policy` and `direct` on the same uniformly chosen interactions.
void train_both(EpsilonGreedy& policy, DirectRidge& direct, Rng& rng, int steps) {
  for (int t = 0; t < steps; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const double reward = context.user[0] * static_cast<double>(context.items[action] % 3) +
                          context.actions(1, action) + 0.1 * standard_normal(rng);
    policy.update(make_interaction(context, action, reward, 0.2));
    direct.add(context, action, reward);
  }
}

}  // namespace

TEST_CASE("a fresh epsilon greedy policy is uniform for any epsilon", "[policies]") {
  // Every item predicts 0 exactly, so all candidates tie for the greedy mass.
  Rng rng(4);
  for (double epsilon : {0.0, 0.1, 1.0}) {
    EpsilonGreedy policy({.epsilon = epsilon}, kDim);
    const Context context = random_context(rng, kUserDim, kActionDim, 7, 50);
    for (double p : policy.probabilities(context)) REQUIRE(p == Approx(1.0 / 7));
  }
}

TEST_CASE("epsilon of one is uniform even after learning", "[policies]") {
  Rng rng(6);
  EpsilonGreedy policy({.epsilon = 1.0}, kDim);
  DirectRidge direct{1.0, {}};
  train_both(policy, direct, rng, 200);
  for (int i = 0; i < 20; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    for (double p : policy.probabilities(context)) REQUIRE(p == Approx(1.0 / 5));
  }
}

TEST_CASE("epsilon of zero puts all mass on the highest ridge prediction", "[policies]") {
  Rng rng(9);
  EpsilonGreedy policy({.epsilon = 0.0, .ridge = 0.5}, kDim);
  DirectRidge direct{0.5, {}};
  train_both(policy, direct, rng, 300);
  for (int i = 0; i < 50; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    std::vector<double> means;
    for (ActionId a = 0; a < context.size(); ++a) means.push_back(direct.mean(context, a));
    const auto best = std::max_element(means.begin(), means.end()) - means.begin();
    const auto pmf = policy.probabilities(context);
    testing::require_valid_pmf(pmf, context.size());
    REQUIRE(pmf[best] == 1.0);
    REQUIRE(policy.choose(context, testing::event_id("e", i), 3).action == best);
  }
}

TEST_CASE("epsilon greedy gives epsilon / K to each candidate and the rest to the best",
          "[policies]") {
  Rng rng(10);
  EpsilonGreedy policy({.epsilon = 0.3}, kDim);
  DirectRidge direct{1.0, {}};
  train_both(policy, direct, rng, 300);
  const Context context = random_context(rng, kUserDim, kActionDim, 6, 12);
  auto pmf = policy.probabilities(context);
  std::sort(pmf.begin(), pmf.end());
  REQUIRE(pmf.back() == Approx(0.7 + 0.3 / 6));
  for (int i = 0; i < 5; ++i) REQUIRE(pmf[i] == Approx(0.3 / 6));
}

TEST_CASE("epsilon greedy ignores the logging probability when it learns", "[policies]") {
  Rng rng(12);
  const Context context = random_context(rng, kUserDim, kActionDim, 4, 12);
  EpsilonGreedy a({}, kDim);
  EpsilonGreedy b({}, kDim);
  a.update(make_interaction(context, 2, 1.5, 0.01));
  b.update(make_interaction(context, 2, 1.5, 1.0));
  REQUIRE(a.model().state(context.items[2])->theta == b.model().state(context.items[2])->theta);
}

TEST_CASE("epsilon greedy holds state only for items it was updated on", "[policies]") {
  Rng rng(13);
  EpsilonGreedy policy({}, kDim);
  for (int i = 0; i < 20; ++i) {
    policy.probabilities(random_context(rng, kUserDim, kActionDim, 50, 1000));
  }
  REQUIRE(policy.arm_count() == 0);
  const Context context = random_context(rng, kUserDim, kActionDim, 50, 1000);
  policy.update(make_interaction(context, 4, 1.0));
  policy.update(make_interaction(context, 9, 0.0));
  policy.update(make_interaction(context, 4, 1.0));
  REQUIRE(policy.arm_count() == 2);
  REQUIRE(policy.model().state(context.items[4])->updates == 2);
  REQUIRE_FALSE(policy.model().has_state(context.items[0]));
}

TEST_CASE("epsilon greedy settings are read from a section with defaults and ranges",
          "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(EpsilonGreedy::Config::from(empty) == EpsilonGreedy::Config{});

  ConfigSection set("policy", "x.ini");
  set.set("epsilon", "0.25");
  set.set("ridge", "3");
  REQUIRE(EpsilonGreedy::Config::from(set) == EpsilonGreedy::Config{.epsilon = 0.25, .ridge = 3.0});

  ConfigSection bad_epsilon("policy", "x.ini");
  bad_epsilon.set("epsilon", "1.5");
  REQUIRE_THROWS_WITH(EpsilonGreedy::Config::from(bad_epsilon),
                      Contains("epsilon") && Contains("1.5") && Contains("[0, 1]"));
  ConfigSection bad_ridge("policy", "x.ini");
  bad_ridge.set("ridge", "0");
  REQUIRE_THROWS_WITH(EpsilonGreedy::Config::from(bad_ridge),
                      Contains("ridge") && Contains("'0'") && Contains("(0, inf)"));
}

TEST_CASE("epsilon greedy rejects bad constructor arguments with their values", "[policies]") {
  REQUIRE_THROWS_WITH(EpsilonGreedy({.epsilon = -0.5}, kDim),
                      Contains("epsilon") && Contains("-0.5"));
  REQUIRE_THROWS_WITH(EpsilonGreedy({.epsilon = 1.5}, kDim), Contains("1.5"));
  REQUIRE_THROWS_AS(EpsilonGreedy({.ridge = 0.0}, kDim), std::invalid_argument);
  REQUIRE_THROWS_AS(EpsilonGreedy({}, 0), std::invalid_argument);
}
