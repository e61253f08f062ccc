// SPDX-License-Identifier: Apache-2.0
#include "policies/bagging.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
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

Interaction random_interaction(Rng& rng) {
  const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
  const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
  const double reward = context.user[0] * static_cast<double>(context.items[action] % 3) +
                        context.actions(1, action) + 0.1 * standard_normal(rng);
  return make_interaction(context, action, reward, 0.2);
}

}  // namespace

TEST_CASE("bootstrap weights follow the Poisson(1) distribution", "[policies][statistical]") {
  // n = 200,000 weights over updates and members. Each frequency of k is a
  // binomial proportion with standard error sqrt(p (1 - p) / n) and the mean
  // has standard error 1 / sqrt(n) (the Poisson(1) variance is 1); all are
  // required within 4.5 standard errors (two-sided 7e-6 each, 6 checks).
  constexpr int kUpdates = 40000;
  constexpr int kMembers = 5;
  constexpr double n = kUpdates * kMembers;
  std::vector<double> count(8, 0.0);
  double total = 0.0;
  for (int t = 0; t < kUpdates; ++t) {
    for (int m = 0; m < kMembers; ++m) {
      const unsigned k = Bagging::bootstrap_weight(99, t, m);
      total += k;
      count[std::min<unsigned>(k, 7)] += 1.0;
    }
  }
  REQUIRE(std::abs(total / n - 1.0) <= 4.5 / std::sqrt(n));
  double p = std::exp(-1.0);  // P(k = 0)
  for (int k = 0; k < 5; ++k) {
    if (k > 0) p /= k;
    INFO("k = " << k);
    REQUIRE(std::abs(count[k] / n - p) <= 4.5 * std::sqrt(p * (1.0 - p) / n));
  }
}

TEST_CASE("bootstrap weights depend only on seed, update and member", "[policies]") {
  REQUIRE(Bagging::bootstrap_weight(1, 17, 3) == Bagging::bootstrap_weight(1, 17, 3));
  // Different seeds give different weight sequences: 64 draws all equal has
  // probability below 0.4^64.
  int differ = 0;
  for (int t = 0; t < 64; ++t) {
    differ += Bagging::bootstrap_weight(1, t, 0) != Bagging::bootstrap_weight(2, t, 0);
  }
  REQUIRE(differ > 0);
}

TEST_CASE("each bagging member is a ridge regression with the bootstrap weights", "[policies]") {
  // Member m's statistics: A = ridge I + sum_t w_t x x', b = sum_t w_t r x,
  // with w_t = bootstrap_weight(seed, t, m); theta = A^-1 b, solved directly.
  Rng rng(1);
  Bagging policy({.members = 3, .ridge = 0.5, .seed = 42}, kDim);
  std::vector<std::map<ItemId, std::pair<Eigen::MatrixXd, Eigen::VectorXd>>> direct(3);
  for (int t = 0; t < 200; ++t) {
    const auto interaction = random_interaction(rng);
    Eigen::VectorXd x(kDim);
    joint_features(interaction.context, interaction.action, x);
    const ItemId item = interaction.context.items[interaction.action];
    for (int m = 0; m < 3; ++m) {
      auto [it, inserted] = direct[m].try_emplace(item);
      if (inserted) {
        it->second = {0.5 * Eigen::MatrixXd::Identity(kDim, kDim), Eigen::VectorXd::Zero(kDim)};
      }
      const double w = Bagging::bootstrap_weight(42, t, m);
      it->second.first += w * x * x.transpose();
      it->second.second += w * interaction.reward * x;
    }
    policy.update(interaction);
  }
  for (int m = 0; m < 3; ++m) {
    for (const auto& [item, ab] : direct[m]) {
      const Eigen::VectorXd theta = ab.first.ldlt().solve(ab.second);
      const auto state = policy.members()[m].state(item);
      if (!state) {
        // Never drawn a positive weight on this item: no state, prior theta = 0.
        REQUIRE(ab.second.norm() == 0.0);
        continue;
      }
      for (int i = 0; i < kDim; ++i) REQUIRE(state->theta[i] == Approx(theta[i]).margin(1e-9));
    }
  }
}

TEST_CASE("a fresh bagging ensemble is uniform", "[policies]") {
  Rng rng(2);
  Bagging policy({}, kDim);
  const Context context = random_context(rng, kUserDim, kActionDim, 9, 1'000'000);
  for (double p : policy.probabilities(context)) REQUIRE(p == Approx(1.0 / 9));
}

TEST_CASE("bagging's pmf is the share of members voting for each candidate", "[policies]") {
  Rng rng(3);
  Bagging policy({.members = 7, .seed = 3}, kDim);
  for (int t = 0; t < 300; ++t) policy.update(random_interaction(rng));
  for (int i = 0; i < 30; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    std::vector<double> votes(context.size(), 0.0);
    std::vector<double> means(context.size());
    for (const auto& member : policy.members()) {
      member.means(context, means);
      const double best = *std::max_element(means.begin(), means.end());
      const double ties = static_cast<double>(std::count(means.begin(), means.end(), best));
      for (std::size_t a = 0; a < means.size(); ++a) votes[a] += (means[a] == best) / ties / 7.0;
    }
    const auto pmf = policy.probabilities(context);
    testing::require_valid_pmf(pmf, context.size());
    for (std::size_t a = 0; a < pmf.size(); ++a) REQUIRE(pmf[a] == Approx(votes[a]));
  }
}

TEST_CASE("bagging with epsilon one is uniform, and epsilon mixes uniform into the votes",
          "[policies]") {
  Rng rng(4);
  Bagging uniform({.members = 4, .epsilon = 1.0}, kDim);
  Bagging votes_only({.members = 4}, kDim);
  Bagging mixed({.members = 4, .epsilon = 0.2}, kDim);
  for (int t = 0; t < 200; ++t) {
    const auto interaction = random_interaction(rng);
    uniform.update(interaction);
    votes_only.update(interaction);
    mixed.update(interaction);
  }
  const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
  const auto v = votes_only.probabilities(context);
  const auto q = mixed.probabilities(context);
  for (std::size_t a = 0; a < 5; ++a) {
    REQUIRE(uniform.probabilities(context)[a] == Approx(0.2));
    REQUIRE(q[a] == Approx(0.8 * v[a] + 0.2 / 5));
  }
}

TEST_CASE("one greedified member is greedy ridge regression, bit for bit", "[policies]") {
  Rng rng(5);
  Bagging bagging({.members = 1, .ridge = 2.0, .greedify = true}, kDim);
  EpsilonGreedy greedy({.epsilon = 0.0, .ridge = 2.0}, kDim);
  for (int t = 0; t < 300; ++t) {
    const auto interaction = random_interaction(rng);
    bagging.update(interaction);
    greedy.update(interaction);
  }
  for (int i = 0; i < 30; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 6, 12);
    REQUIRE(bagging.probabilities(context) == greedy.probabilities(context));
  }
}

TEST_CASE("an optimistic initial value makes every bagging member try a new item",
          "[policies]") {
  // Rewards below the initial value 1 pull an item's prediction under 1 in
  // every member that saw it; members that did not still predict exactly 1
  // for it, as for the never-seen items, and split their vote among those.
  const testing::BernoulliArms arms({0.0, 0.0, 0.0});
  Context context = arms.context();
  context.user = Eigen::VectorXd::Ones(1);  // one constant feature: a per-item mean
  Bagging policy({.members = 10, .initial_value = 1.0, .greedify = true}, 1);
  policy.update(make_interaction(context, 0, 0.5));
  const auto pmf = policy.probabilities(context);
  // Member 0 (weight 1) votes for items 1 and 2 only; the others either did
  // the same or did not see item 0 at all.
  REQUIRE(pmf[1] == pmf[2]);
  REQUIRE(pmf[1] >= 0.05 + 0.9 / 3.0);
  REQUIRE(pmf[0] <= 0.9 / 3.0);
}

TEST_CASE("bagging learns per-candidate targets with the same weights as update", "[policies]") {
  Rng rng(6);
  Bagging policy({.members = 3, .initial_value = 0.5, .seed = 8}, kDim);
  Bagging reference({.members = 3, .initial_value = 0.5, .seed = 8}, kDim);
  const Context context = random_context(rng, kUserDim, kActionDim, 1, 12);  // one candidate
  const std::vector<double> target{1.25};
  for (int t = 0; t < 20; ++t) {
    policy.learn(context, target);
    reference.update(make_interaction(context, 0, 1.25));
  }
  REQUIRE(policy.model_version() == 20);
  std::vector<double> mine(1), theirs(1);
  policy.predict_rewards(context, mine);
  reference.predict_rewards(context, theirs);
  REQUIRE(mine == theirs);
  // The prediction is initial_value plus the members' average ridge mean.
  std::vector<double> mean(1);
  double average = 0.0;
  for (const auto& member : policy.members()) {
    member.means(context, mean);
    average += mean[0] / 3.0;
  }
  REQUIRE(mine[0] == Approx(0.5 + average));
}

TEST_CASE("bagging rejects a context of another feature dimension", "[policies]") {
  Rng rng(7);
  Bagging policy({}, kDim);
  const Context wrong = random_context(rng, kUserDim + 2, kActionDim, 4, 20);
  REQUIRE_THROWS_AS(policy.probabilities(wrong), std::logic_error);
  REQUIRE_THROWS_AS(policy.update(make_interaction(wrong, 0, 1.0)), std::logic_error);
  REQUIRE(policy.model_version() == 0);
}

TEST_CASE("bagging reloads bit-identical, and draws the same weights after the reload",
          "[policies]") {
  Bagging policy({.members = 4, .epsilon = 0.05, .ridge = 0.5, .initial_value = 0.25,
                  .greedify = true, .seed = 1234},
                 kDim);
  testing::require_bit_identical_reload(policy, 16);
}

TEST_CASE("bagging settings are read from a section with defaults and ranges", "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(Bagging::Config::from(empty) == Bagging::Config{});
  REQUIRE(Bagging::Config{}.members == 5);

  ConfigSection set("policy", "x.ini");
  set.set("members", "12");
  set.set("epsilon", "0.05");
  set.set("ridge", "2");
  set.set("initial_value", "1");
  set.set("greedify", "true");
  set.set("seed", "77");
  REQUIRE(Bagging::Config::from(set) == Bagging::Config{.members = 12,
                                                        .epsilon = 0.05,
                                                        .ridge = 2.0,
                                                        .initial_value = 1.0,
                                                        .greedify = true,
                                                        .seed = 77});

  ConfigSection bad_members("policy", "x.ini");
  bad_members.set("members", "0");
  REQUIRE_THROWS_WITH(Bagging::Config::from(bad_members),
                      Contains("members") && Contains("'0'") && Contains("[1, 1000]"));
  ConfigSection bad_epsilon("policy", "x.ini");
  bad_epsilon.set("epsilon", "2");
  REQUIRE_THROWS_WITH(Bagging::Config::from(bad_epsilon),
                      Contains("epsilon") && Contains("'2'") && Contains("[0, 1]"));
  ConfigSection bad_seed("policy", "x.ini");
  bad_seed.set("seed", "-1");
  REQUIRE_THROWS_WITH(Bagging::Config::from(bad_seed), Contains("seed") && Contains("'-1'"));
  ConfigSection typo("policy", "x.ini");
  typo.set("bag", "5");
  REQUIRE_THROWS_WITH(make_policy("bagging", typo, kDim), Contains("bag"));
}

TEST_CASE("bagging rejects bad constructor arguments with their values", "[policies]") {
  REQUIRE_THROWS_WITH(Bagging({.members = 0}, kDim), Contains("members = 0"));
  REQUIRE_THROWS_WITH(Bagging({.members = 1001}, kDim), Contains("members = 1001"));
  REQUIRE_THROWS_WITH(Bagging({.epsilon = -0.5}, kDim), Contains("epsilon = -0.5"));
  REQUIRE_THROWS_WITH(Bagging({.ridge = 0.0}, kDim), Contains("ridge = 0"));
  REQUIRE_THROWS_WITH(Bagging({.initial_value = std::nan("")}, kDim), Contains("initial_value"));
  REQUIRE_THROWS_AS(Bagging({}, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Regret on the linear world (bandit_fixtures.h), whose expected rewards are known.

namespace {

constexpr int kSteps = 20000;

struct Regrets {
  double bagging_quarter, bagging_end, epsilon_greedy_end;
};

Regrets run(std::uint64_t seed) {
  // The default ensemble of 5, with an optimistic prior: the world's rewards
  // are of order +-0.5, so an unseen item at 1 looks better than any seen one.
  Bagging bagging({.initial_value = 1.0, .seed = seed}, testing::LinearWorld::kDim);
  EpsilonGreedy epsilon_greedy({.epsilon = 0.1}, testing::LinearWorld::kDim);
  const auto mine = testing::linear_regret(bagging, seed, kSteps);
  const auto theirs = testing::linear_regret(epsilon_greedy, seed, kSteps);
  return {mine[kSteps / 4 - 1], mine[kSteps - 1], theirs[kSteps - 1]};
}

}  // namespace

TEST_CASE("bagging beats epsilon greedy and its regret grows sublinearly on a linear world",
          "[policies][statistical]") {
  // No regret bound is proven for bootstrap ensembles; what is tested is the
  // behaviour that makes them useful (Bietti et al. 2021; Eckles & Kaptein
  // 2014 for the non-contextual case): the members' disagreement explores
  // where data are scarce and vanishes where they are plentiful, so regret
  // grows sublinearly: regret(T) / regret(T/4) well below the 4 of linear
  // regret (epsilon-greedy's ratio is about 3.5 here), under the threshold 3
  // that also separates LinUCB and SquareCB from epsilon-greedy. Over seeds
  // 1-50 (the [.sweep] test, by hand) bagging's ratio lay in [1.08, 2.51]
  // (the same maximum over 300 seeds) and its regret was 1.6-19 times below
  // epsilon-greedy's. Without the optimistic prior (initial_value = 0) the
  // ensemble locked onto suboptimal items in most seeds (ratio up to 4.1),
  // which is why the header recommends it.
  const auto r = run(2024);
  INFO("bagging " << r.bagging_quarter << " at T/4, " << r.bagging_end << " at T; epsilon_greedy "
                  << r.epsilon_greedy_end << " at T");
  REQUIRE(r.bagging_end < r.epsilon_greedy_end);
  REQUIRE(r.bagging_end / r.bagging_quarter < 3.0);
}

TEST_CASE("bagging regret comparison holds across seeds", "[.sweep]") {
  double lowest = 1e300, highest = 0.0, least_gain = 1e300, most_gain = 0.0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const auto r = run(seed);
    INFO("seed " << seed << ": bagging " << r.bagging_quarter << " -> " << r.bagging_end
                 << ", epsilon_greedy " << r.epsilon_greedy_end);
    CHECK(r.bagging_end < r.epsilon_greedy_end);
    CHECK(r.bagging_end / r.bagging_quarter < 3.0);
    lowest = std::min(lowest, r.bagging_end / r.bagging_quarter);
    highest = std::max(highest, r.bagging_end / r.bagging_quarter);
    least_gain = std::min(least_gain, r.epsilon_greedy_end / r.bagging_end);
    most_gain = std::max(most_gain, r.epsilon_greedy_end / r.bagging_end);
  }
  WARN("bagging, seeds 1-50: R(T)/R(T/4) in [" << lowest << ", " << highest
                                             << "], epsilon_greedy / bagging in [" << least_gain
                                             << ", " << most_gain << "]");
}
