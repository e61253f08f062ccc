// SPDX-License-Identifier: Apache-2.0
#include "policies/lin_ucb.h"

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
#include "tests/policies/linear_world.h"
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

// The upper confidence bounds of Li et al. 2010, Alg. 1, computed from scratch:
// A_a and b_a accumulated from the raw interactions and A_a inverted directly.
struct DirectLinUcb {
  double alpha;
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
  double ucb(const Context& context, ActionId action) const {
    Eigen::VectorXd x(context.feature_dim());
    joint_features(context, action, x);
    Eigen::MatrixXd A = ridge * Eigen::MatrixXd::Identity(x.size(), x.size());
    Eigen::VectorXd b = Eigen::VectorXd::Zero(x.size());
    if (const auto it = data.find(context.items[action]); it != data.end()) {
      A = it->second.first;
      b = it->second.second;
    }
    const Eigen::MatrixXd A_inv = A.inverse();
    return x.dot(A_inv * b) + alpha * std::sqrt(x.dot(A_inv * x));
  }
  // How far the policy's score may be from ucb() because its widths come
  // from single-precision copies of A^-1 (quadratic_form.h): each stored
  // entry is rounded once, so q~ = x'A^-1x differs from q by at most
  // e = 2^-24 x'|A^-1|x, plus the double kernel's (d + 2) 2^-53 x'|A^-1|x,
  // here < 2^-48 x'|A^-1|x; e = 2^-23 x'|A^-1|x covers both with room for
  // this direct inverse's own error. Then |sqrt(q~) - sqrt(q)| <=
  // e / (sqrt(q~) + sqrt(q)) <= e / sqrt(q), times alpha. The ridge mean is
  // computed in double as before, so the rest of the difference is the
  // 1e-9 relative of the double computation.
  double ucb_width_error(const Context& context, ActionId action) const {
    Eigen::VectorXd x(context.feature_dim());
    joint_features(context, action, x);
    Eigen::MatrixXd A = ridge * Eigen::MatrixXd::Identity(x.size(), x.size());
    if (const auto it = data.find(context.items[action]); it != data.end()) A = it->second.first;
    const Eigen::MatrixXd A_inv = A.inverse();
    const double e = 0x1.0p-23 * x.cwiseAbs().dot(A_inv.cwiseAbs() * x.cwiseAbs());
    return alpha * e / std::sqrt(x.dot(A_inv * x));
  }
};

void train_both(LinUcb& policy, DirectLinUcb& direct, Rng& rng, int steps) {
  for (int t = 0; t < steps; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 12);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const double reward = context.user[1] * static_cast<double>(context.items[action] % 4) -
                          context.actions(0, action) + 0.1 * standard_normal(rng);
    policy.update(make_interaction(context, action, reward, 0.2));
    direct.add(context, action, reward);
  }
}

}  // namespace

TEST_CASE("lin_ucb scores are the ridge mean plus alpha times the width", "[policies]") {
  Rng rng(31);
  LinUcb policy({.alpha = 0.7, .ridge = 2.0}, kDim);
  DirectLinUcb direct{0.7, 2.0, {}};
  train_both(policy, direct, rng, 400);
  for (int i = 0; i < 20; ++i) {
    // Catalogue of 15 > 12 trained items: some candidates use the prior.
    const Context context = random_context(rng, kUserDim, kActionDim, 6, 15);
    const auto scores = policy.scores(context);
    for (ActionId a = 0; a < context.size(); ++a) {
      const double expected = direct.ucb(context, a);
      REQUIRE(std::abs(scores[a] - expected) <=
              1e-9 * std::abs(expected) + direct.ucb_width_error(context, a));
    }
  }
}

TEST_CASE("lin_ucb puts all mass on the highest upper confidence bound", "[policies]") {
  Rng rng(32);
  LinUcb policy({}, kDim);
  DirectLinUcb direct{1.0, 1.0, {}};
  train_both(policy, direct, rng, 200);
  for (int i = 0; i < 30; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 8, 15);
    std::vector<double> ucb;
    for (ActionId a = 0; a < context.size(); ++a) ucb.push_back(direct.ucb(context, a));
    const auto best = std::max_element(ucb.begin(), ucb.end()) - ucb.begin();
    const auto pmf = policy.probabilities(context);
    testing::require_valid_pmf(pmf, context.size());
    REQUIRE(pmf[best] == 1.0);
  }
}

TEST_CASE("a fresh lin_ucb prefers the candidate whose features it is least sure of",
          "[policies]") {
  // Prior: theta = 0 and A^-1 = I / ridge, so the score is alpha |x| / sqrt(ridge).
  Context context;
  context.user = Eigen::VectorXd::Ones(kUserDim);
  context.actions = Eigen::MatrixXd::Zero(kActionDim, 3);
  context.actions(0, 1) = 2.0;
  context.actions(1, 2) = -1.0;
  context.items = {10, 11, 12};
  LinUcb policy({.alpha = 1.0, .ridge = 4.0}, kDim);
  REQUIRE(policy.scores(context)[1] == Approx(std::sqrt((3.0 + 4.0) / 4.0)));
  REQUIRE(policy.probabilities(context) == std::vector<double>{0.0, 1.0, 0.0});
}

TEST_CASE("a fresh lin_ucb with alpha zero ties every candidate and is uniform", "[policies]") {
  Rng rng(33);
  LinUcb policy({.alpha = 0.0}, kDim);
  const Context context = random_context(rng, kUserDim, kActionDim, 9, 100);
  for (double p : policy.probabilities(context)) REQUIRE(p == Approx(1.0 / 9));
}

TEST_CASE("lin_ucb holds state only for items it was updated on", "[policies]") {
  Rng rng(34);
  LinUcb policy({}, kDim);
  const Context context = random_context(rng, kUserDim, kActionDim, 100, 1000);
  for (ActionId a : {3u, 50u, 99u, 3u}) {
    policy.update(make_interaction(context, a, 1.0));
    policy.probabilities(context);
  }
  REQUIRE(policy.arm_count() == 3);
  REQUIRE(policy.model_version() == 4);
  REQUIRE_FALSE(policy.model().has_state(context.items[0]));
}

TEST_CASE("lin_ucb settings are read from a section with defaults and ranges", "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(LinUcb::Config::from(empty) == LinUcb::Config{});

  ConfigSection set("policy", "x.ini");
  set.set("alpha", "0.5");
  set.set("ridge", "0.1");
  REQUIRE(LinUcb::Config::from(set) == LinUcb::Config{.alpha = 0.5, .ridge = 0.1});

  ConfigSection bad_alpha("policy", "x.ini");
  bad_alpha.set("alpha", "-1");
  REQUIRE_THROWS_WITH(LinUcb::Config::from(bad_alpha),
                      Contains("alpha") && Contains("'-1'") && Contains("[0, inf)"));
  ConfigSection bad_ridge("policy", "x.ini");
  bad_ridge.set("ridge", "-2");
  REQUIRE_THROWS_WITH(LinUcb::Config::from(bad_ridge),
                      Contains("ridge") && Contains("'-2'") && Contains("(0, inf)"));
}

TEST_CASE("lin_ucb rejects bad constructor arguments with their values", "[policies]") {
  REQUIRE_THROWS_WITH(LinUcb({.alpha = -0.25}, kDim), Contains("alpha") && Contains("-0.25"));
  REQUIRE_THROWS_WITH(LinUcb({.ridge = -3.0}, kDim), Contains("ridge") && Contains("-3"));
  REQUIRE_THROWS_AS(LinUcb({.alpha = std::nan("")}, kDim), std::invalid_argument);
  REQUIRE_THROWS_AS(LinUcb({}, -1), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Learning on a world with a known linear truth.

namespace {

using recloop::testing::LinearWorld;

// Cumulative pseudo-regret: sum over steps of max_a mu(x, a) - sum_a pmf(a) mu(x, a),
// the exact expected shortfall of the distribution played.
struct RegretCurve {
  double at_quarter = 0.0;
  double at_end = 0.0;
};

std::pair<RegretCurve, RegretCurve> run_lin_ucb_and_epsilon_greedy(std::uint64_t seed, int steps) {
  Rng world_rng(stream_seed(seed, 0));
  const LinearWorld world(world_rng);
  Rng context_rng(stream_seed(seed, 1));
  Rng noise_rng(stream_seed(seed, 2));
  LinUcb lin_ucb({.alpha = 1.0}, LinearWorld::kDim);
  EpsilonGreedy epsilon_greedy({.epsilon = 0.1}, LinearWorld::kDim);
  Policy* policies[2] = {&lin_ucb, &epsilon_greedy};
  RegretCurve curves[2];
  double regret[2] = {0.0, 0.0};
  for (int t = 0; t < steps; ++t) {
    const Context context = world.next_context(context_rng);  // same stream for both
    const auto mu = world.expected_rewards(context);
    const std::string id = std::to_string(t);
    for (int p = 0; p < 2; ++p) {
      const auto decision = policies[p]->choose(context, id, seed);
      regret[p] += recloop::testing::pmf_regret(decision.pmf, mu);
      const double reward = mu[decision.action] + LinearWorld::kNoise * standard_normal(noise_rng);
      policies[p]->update(make_interaction(context, decision.action, reward, decision.probability));
      if (t + 1 == steps / 4) curves[p].at_quarter = regret[p];
    }
  }
  curves[0].at_end = regret[0];
  curves[1].at_end = regret[1];
  return {curves[0], curves[1]};
}

}  // namespace

TEST_CASE("lin_ucb beats epsilon greedy and its regret grows sublinearly on a linear world",
          "[policies][statistical]") {
  // T = 20,000 steps, one fixed seed, pseudo-regret (no reward noise in the
  // measure itself). Epsilon-greedy with epsilon = 0.1 pays about
  // 0.1 * (mean gap) per step forever, so its regret is linear and
  // regret(T) / regret(T/4) tends to 4. LinUCB's regret is O(d sqrt(T) log T)
  // (Abbasi-Yadkori, Pal & Szepesvari 2011, for its optimistic form), giving a
  // ratio of about 2 * log(T) / log(T/4) = 2.3, and about 1 once every gap is
  // resolved (log T regret). The threshold 3 sits between sublinear (<= 2.3)
  // and linear (4). Over seeds 1-20 (the hidden [.sweep] test below, run by
  // hand) LinUCB's ratio lay in [1.37, 1.69] and its regret was 6.6-19 times
  // below epsilon-greedy's, whose ratio lay in [3.1, 3.7].
  const auto [lin_ucb, epsilon_greedy] = run_lin_ucb_and_epsilon_greedy(2024, 20000);
  INFO("lin_ucb regret " << lin_ucb.at_quarter << " at T/4, " << lin_ucb.at_end << " at T");
  INFO("epsilon_greedy regret " << epsilon_greedy.at_quarter << " at T/4, "
                                << epsilon_greedy.at_end << " at T");
  REQUIRE(lin_ucb.at_end < epsilon_greedy.at_end);
  REQUIRE(lin_ucb.at_end / lin_ucb.at_quarter < 3.0);
}

TEST_CASE("lin_ucb regret comparison holds across seeds", "[.sweep]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto [lin_ucb, epsilon_greedy] = run_lin_ucb_and_epsilon_greedy(seed, 20000);
    INFO("seed " << seed << ": lin_ucb " << lin_ucb.at_quarter << " -> " << lin_ucb.at_end
                 << ", epsilon_greedy " << epsilon_greedy.at_quarter << " -> "
                 << epsilon_greedy.at_end);
    CHECK(lin_ucb.at_end < epsilon_greedy.at_end);
    CHECK(lin_ucb.at_end / lin_ucb.at_quarter < 3.0);
  }
}
