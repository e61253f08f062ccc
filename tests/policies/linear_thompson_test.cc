// SPDX-License-Identifier: Apache-2.0
#include "policies/linear_thompson.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/epsilon_greedy.h"
#include "policies/registry.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/reload_checks.h"
#include "tests/policies/thompson_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::make_interaction;
using recloop::testing::random_context;
using recloop::testing::require_bit_identical_reload;

namespace {

constexpr int kUserDim = 3;
constexpr int kActionDim = 2;
constexpr int kDim = kUserDim + kActionDim;
using Model = LinearThompson::Model;

// Bayesian ridge computed from scratch: B = ridge I + sum x x', f = sum r x.
struct DirectRidge {
  double ridge;
  Eigen::MatrixXd B = Eigen::MatrixXd::Identity(kDim, kDim) * ridge;
  Eigen::VectorXd f = Eigen::VectorXd::Zero(kDim);
  void add(const Context& context, ActionId action, double reward) {
    Eigen::VectorXd x(kDim);
    joint_features(context, action, x);
    B += x * x.transpose();
    f += reward * x;
  }
};

double reward_of(const Context& context, ActionId action) {
  return context.user[0] * context.actions(0, action) - 0.5 * context.actions(1, action) +
         0.2 * static_cast<double>(context.items[action] % 3);
}

// A world whose expected reward is one linear function of the joint features,
// with fresh random candidate features on every request (the setting of
// Agrawal & Goyal 2013): x = [user; item features], E[r] = x'theta*, K = 10,
// E|x|^2 = 1, |theta*| = 1.
class SharedLinearWorld {
 public:
  explicit SharedLinearWorld(Rng& rng) : theta_(kDim) {
    for (auto& v : theta_) v = standard_normal(rng);
    theta_.normalize();
  }
  Context next_context(Rng& rng) const {
    Context context = random_context(rng, kUserDim, kActionDim, 10, 1000);
    context.user /= std::sqrt(2.0 * kUserDim);
    context.actions /= std::sqrt(2.0 * kActionDim);
    return context;
  }
  std::vector<double> expected_rewards(const Context& context) const {
    std::vector<double> mu(context.size());
    Eigen::VectorXd x(kDim);
    for (std::size_t a = 0; a < context.size(); ++a) {
      joint_features(context, static_cast<ActionId>(a), x);
      mu[a] = x.dot(theta_);
    }
    return mu;
  }

 private:
  Eigen::VectorXd theta_;
};

using testing::Regret;
using testing::thompson_part;

struct Run {
  Regret policy;     // the pmf played
  Regret baseline;   // the comparison policy
  Regret uniform;    // uniform play on the same contexts
  Regret thompson;   // Thompson sampling proper (thompson_part)
};

// Pseudo-regret of `policy`, of a comparison policy and of uniform play on
// the same contexts and noise.
template <typename World>
Run run(const World& world, Policy& policy, Policy& baseline, int draws, std::uint64_t seed,
        int steps) {
  Rng context_rng(stream_seed(seed, 1));
  Rng noise_rng(stream_seed(seed, 2));
  Policy* policies[2] = {&policy, &baseline};
  Run out;
  Regret* curves[3] = {&out.policy, &out.baseline, &out.uniform};
  double regret[3] = {0.0, 0.0, 0.0};
  for (int t = 0; t < steps; ++t) {
    const Context context = world.next_context(context_rng);
    const auto mu = world.expected_rewards(context);
    const std::string id = std::to_string(t);
    for (int p = 0; p < 2; ++p) {
      const auto decision = policies[p]->choose(context, id, seed);
      regret[p] += testing::pmf_regret(decision.pmf, mu);
      const double reward = mu[decision.action] + 0.1 * standard_normal(noise_rng);
      policies[p]->update(make_interaction(context, decision.action, reward, decision.probability));
    }
    regret[2] += testing::pmf_regret(std::vector<double>(mu.size(), 1.0 / mu.size()), mu);
    for (int p = 0; p < 3; ++p) {
      if (t + 1 == steps / 4) curves[p]->at_quarter = regret[p];
      curves[p]->at_end = regret[p];
    }
  }
  out.thompson = thompson_part(out.policy, out.uniform, draws);
  return out;
}

constexpr int kRegretDraws = 100;

// The exact Bayesian posterior for both worlds: noise sd 0.1 = v, and weights
// of variance about 1/d = 1/7 per coordinate, i.e. prior precision
// ridge / v^2 = 1 / (1/7): ridge = 0.01 * 7 = 0.07.
constexpr LinearThompson::Config kBayesConfig{.v = 0.1, .ridge = 0.07, .draws = kRegretDraws};

// Disjoint linear_ts against epsilon-greedy (0.1) on the per-item linear world.
Run disjoint_regret(std::uint64_t seed, int steps) {
  Rng world_rng(stream_seed(seed, 0));
  const testing::LinearWorld world(world_rng);
  LinearThompson::Config config = kBayesConfig;
  config.seed = seed;
  LinearThompson policy(config, testing::LinearWorld::kDim);
  EpsilonGreedy baseline({.epsilon = 0.1}, testing::LinearWorld::kDim);
  return run(world, policy, baseline, kRegretDraws, seed, steps);
}

// Shared linear_ts against epsilon-greedy (0.1) on the shared linear world.
Run shared_regret(std::uint64_t seed, int steps) {
  Rng world_rng(stream_seed(seed, 0));
  const SharedLinearWorld world(world_rng);
  LinearThompson::Config config = kBayesConfig;
  config.model = Model::kShared;
  config.seed = seed;
  LinearThompson policy(config, kDim);
  EpsilonGreedy baseline({.epsilon = 0.1}, kDim);
  return run(world, policy, baseline, kRegretDraws, seed, steps);
}

}  // namespace

TEST_CASE("disjoint linear_ts draws each score from N(x'mu_hat_a, v^2 x'B_a^-1 x)",
          "[policies][statistical]") {
  // Ridge state from scratch per item; exact argmax probabilities of the
  // independent normal scores by integration. M = 2000: each entry within 5
  // se of (M p + 1/K) / (M + 1) (false failure 5.7e-7 each).
  constexpr int kDraws = 2000;
  constexpr double kV = 0.8;
  Rng rng(5);
  LinearThompson policy({.v = kV, .ridge = 2.0, .draws = kDraws}, kDim);
  std::map<ItemId, DirectRidge> direct;
  for (int t = 0; t < 60; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 4, 6);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const double reward = reward_of(context, action) + 0.3 * standard_normal(rng);
    policy.update(make_interaction(context, action, reward));
    direct.try_emplace(context.items[action], DirectRidge{2.0}).first->second.add(context, action,
                                                                                  reward);
  }
  const Context context = random_context(rng, kUserDim, kActionDim, 4, 8);  // some items unseen
  std::vector<std::function<double(double)>> pdfs;
  Eigen::VectorXd x(kDim);
  for (ActionId a = 0; a < context.size(); ++a) {
    joint_features(context, a, x);
    const auto it = direct.find(context.items[a]);
    const DirectRidge arm = it == direct.end() ? DirectRidge{2.0} : it->second;
    const double mean = x.dot(arm.B.ldlt().solve(arm.f));
    const double sd = kV * std::sqrt(x.dot(arm.B.ldlt().solve(x)));
    pdfs.push_back([mean, sd](double s) { return testing::normal_pdf(s, mean, sd); });
  }
  const auto exact = testing::exact_argmax_pmf(pdfs, -30.0, 30.0, 200000);
  const auto pmf = policy.probabilities(context);
  testing::require_valid_pmf(pmf, context.size());
  for (std::size_t a = 0; a < context.size(); ++a) {
    INFO("candidate " << a << ": exact " << exact[a] << ", estimate " << pmf[a]);
    REQUIRE(std::abs(pmf[a] - testing::expected_floored(exact[a], kDraws, context.size())) <
            5.0 * testing::floored_standard_error(exact[a], kDraws) + 1e-6);
  }
}

TEST_CASE("shared linear_ts keeps mu_hat = B^-1 f and the Cholesky factor of B", "[policies]") {
  Rng rng(6);
  LinearThompson policy({.ridge = 0.5, .model = Model::kShared}, kDim);
  DirectRidge direct{0.5};
  for (int t = 0; t < 500; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 5, 50);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const double reward = reward_of(context, action) + 0.1 * standard_normal(rng);
    policy.update(make_interaction(context, action, reward));
    direct.add(context, action, reward);
  }
  const Eigen::MatrixXd& L = policy.shared_cholesky();
  REQUIRE(L.isLowerTriangular());
  REQUIRE((L * L.transpose() - direct.B).norm() / direct.B.norm() < 1e-12);
  const Eigen::VectorXd mu_hat = direct.B.ldlt().solve(direct.f);
  REQUIRE((policy.shared_mean() - mu_hat).norm() / mu_hat.norm() < 1e-10);
  REQUIRE(policy.disjoint_model().arm_count() == 0);
}

TEST_CASE("shared linear_ts draws mu~ from N(mu_hat, v^2 B^-1) through the Cholesky factor",
          "[policies][statistical]") {
  // For two candidates, x1'mu~ - x2'mu~ ~ N(g'mu_hat, v^2 g'B^-1 g) with
  // g = x1 - x2, so P(1 wins) = Phi(g'mu_hat / (v sqrt(g'B^-1 g))) exactly.
  // 12 random pairs probe the covariance in 12 directions; M = 1000 draws
  // each, within 5 se of (M p + 1/2) / (M + 1) (false failure 7e-6 in all).
  constexpr int kDraws = 1000;
  constexpr double kV = 0.7;
  Rng rng(7);
  LinearThompson policy({.v = kV, .model = Model::kShared, .draws = kDraws}, kDim);
  DirectRidge direct{1.0};
  for (int t = 0; t < 15; ++t) {  // few updates: a wide, skewed posterior
    const Context context = random_context(rng, kUserDim, kActionDim, 3, 50);
    const double reward = reward_of(context, 0) + 0.5 * standard_normal(rng);
    policy.update(make_interaction(context, 0, reward));
    direct.add(context, 0, reward);
  }
  const Eigen::VectorXd mu_hat = direct.B.ldlt().solve(direct.f);
  for (int pair = 0; pair < 12; ++pair) {
    const Context context = random_context(rng, kUserDim, kActionDim, 2, 50);
    Eigen::VectorXd x1(kDim), x2(kDim);
    joint_features(context, 0, x1);
    joint_features(context, 1, x2);
    const Eigen::VectorXd g = x1 - x2;
    const double p = testing::normal_cdf(g.dot(mu_hat) / (kV * std::sqrt(g.dot(direct.B.ldlt().solve(g)))));
    const auto pmf = policy.probabilities(context);
    INFO("pair " << pair << ": exact " << p << ", estimate " << pmf[0]);
    REQUIRE(std::abs(pmf[0] - testing::expected_floored(p, kDraws, 2)) <
            5.0 * testing::floored_standard_error(p, kDraws) + 1e-9);
  }
}

TEST_CASE("linear_ts with v = 0 plays the ridge estimate greedily, up to the floor",
          "[policies]") {
  Rng rng(8);
  for (Model model : {Model::kDisjoint, Model::kShared}) {
    LinearThompson policy({.v = 0.0, .model = model, .draws = 50}, kDim);
    for (int t = 0; t < 100; ++t) {
      const Context context = random_context(rng, kUserDim, kActionDim, 5, 10);
      policy.update(make_interaction(context, 0, reward_of(context, 0)));
    }
    const Context context = random_context(rng, kUserDim, kActionDim, 6, 10);
    std::vector<double> means(context.size());
    policy.predict_rewards(context, means);
    const auto best = std::max_element(means.begin(), means.end()) - means.begin();
    const auto pmf = policy.probabilities(context);
    REQUIRE(pmf[best] == Approx((50.0 + 1.0 / 6) / 51.0));
    for (std::size_t a = 0; a < pmf.size(); ++a) {
      if (static_cast<long>(a) != best) REQUIRE(pmf[a] == Approx((1.0 / 6) / 51.0));
    }
  }
}

TEST_CASE("linear_ts learns targets for every candidate as one version", "[policies]") {
  Rng rng(9);
  for (Model model : {Model::kDisjoint, Model::kShared}) {
    LinearThompson policy({.model = model}, kDim);
    DirectRidge direct{1.0};
    const Context context = random_context(rng, kUserDim, kActionDim, 3, 10);
    const std::vector<double> targets{1.0, -2.0, 0.5};
    policy.learn(context, targets);
    REQUIRE(policy.model_version() == 1);
    std::vector<double> predicted(3);
    policy.predict_rewards(context, predicted);
    if (model == Model::kShared) {
      for (ActionId a = 0; a < 3; ++a) direct.add(context, a, targets[a]);
      const Eigen::VectorXd mu_hat = direct.B.ldlt().solve(direct.f);
      Eigen::VectorXd x(kDim);
      for (ActionId a = 0; a < 3; ++a) {
        joint_features(context, a, x);
        REQUIRE(predicted[a] == Approx(x.dot(mu_hat)).epsilon(1e-10));
      }
    } else {
      // One observation per item: x'(I + x x')^-1 x r = |x|^2 r / (1 + |x|^2).
      Eigen::VectorXd x(kDim);
      for (ActionId a = 0; a < 3; ++a) {
        joint_features(context, a, x);
        const double n = x.squaredNorm();
        REQUIRE(predicted[a] == Approx(n * targets[a] / (1.0 + n)).epsilon(1e-10));
      }
    }
  }
}

TEST_CASE("linear_ts regret grows as sqrt(T) or slower in both models", "[policies][statistical]") {
  // T = 8000, M = 100 draws, one fixed seed, pseudo-regret, with the exact
  // Bayesian posterior of each world (kBayesConfig). Linear Thompson sampling
  // has regret O~(d^(3/2) sqrt(T)) (Agrawal & Goyal 2013, Theorem 1), and
  // O(sqrt(T)) growth gives regret(T) / regret(T/4) <= sqrt(4) = 2, less once
  // the estimate settles; linear growth gives 4. The ratio is taken for
  // Thompson sampling proper, without the floor's uniform share (thompson_part
  // in thompson_fixtures.h), which is linear by design: 1/(M + 1) of uniform
  // play's regret. Checked on the per-item world of lin_ucb_test.cc
  // (disjoint) and on one linear reward function with fresh candidate
  // features per request (shared): ratio < 2, and the regret of the pmf
  // played, floor included, below half of epsilon-greedy's (0.1; linear).
  // Over seeds 1-20 (the hidden [.sweep] test below, run by hand) the ratio
  // lay in [1.09, 1.23] (disjoint) and [1.01, 1.15] (shared), and the played
  // regret was 0.12-0.21 (disjoint) and 0.016-0.022 (shared) times
  // epsilon-greedy's.
  for (const bool shared : {false, true}) {
    const Run r = shared ? shared_regret(2024, 8000) : disjoint_regret(2024, 8000);
    INFO((shared ? "shared" : "disjoint")
         << ": played " << r.policy.at_quarter << " -> " << r.policy.at_end << ", Thompson part "
         << r.thompson.at_quarter << " -> " << r.thompson.at_end << "; epsilon-greedy "
         << r.baseline.at_end << "; uniform " << r.uniform.at_end);
    REQUIRE(r.thompson.at_end / r.thompson.at_quarter < 2.0);
    REQUIRE(r.policy.at_end < 0.5 * r.baseline.at_end);
  }
}

TEST_CASE("linear_ts regret bounds hold across seeds", "[.sweep]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    for (const bool shared : {false, true}) {
      const Run r = shared ? shared_regret(seed, 8000) : disjoint_regret(seed, 8000);
      INFO("seed " << seed << (shared ? " shared" : " disjoint") << ": played "
                   << r.policy.at_end << ", Thompson part " << r.thompson.at_quarter << " -> "
                   << r.thompson.at_end << ", eps-greedy " << r.baseline.at_end);
      CHECK(r.thompson.at_end / r.thompson.at_quarter < 2.0);
      CHECK(r.policy.at_end < 0.5 * r.baseline.at_end);
    }
  }
}

TEST_CASE("linear_ts reloads bit-identical in both models", "[policies]") {
  Rng rng(10);
  for (Model model : {Model::kDisjoint, Model::kShared}) {
    LinearThompson policy({.v = 0.5, .model = model, .draws = 200, .seed = 3}, kDim);
    for (int t = 0; t < 50; ++t) {
      const Context context = random_context(rng, kUserDim, kActionDim, 4, 10);
      policy.update(make_interaction(context, 1, reward_of(context, 1)));
    }
    require_bit_identical_reload(policy, "linear_ts", rng, kUserDim, kActionDim, 0.3);
  }
}

TEST_CASE("linear_ts settings are read with defaults and ranges", "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(LinearThompson::Config::from(empty) == LinearThompson::Config{});
  ConfigSection set("policy", "x.ini");
  set.set("v", "0.25");
  set.set("model", "shared");
  set.set("draws", "10");
  REQUIRE(LinearThompson::Config::from(set) ==
          LinearThompson::Config{.v = 0.25, .model = Model::kShared, .draws = 10});
  ConfigSection bad_v("policy", "x.ini");
  bad_v.set("v", "-0.1");
  REQUIRE_THROWS_WITH(LinearThompson::Config::from(bad_v),
                      Contains("v = '-0.1'") && Contains("[0, inf)"));
  ConfigSection bad_model("policy", "x.ini");
  bad_model.set("model", "hybrid");
  REQUIRE_THROWS_WITH(LinearThompson::Config::from(bad_model),
                      Contains("model") && Contains("disjoint, shared"));
}

TEST_CASE("linear_ts rejects bad constructor arguments and contexts", "[policies]") {
  REQUIRE_THROWS_WITH(LinearThompson({.v = -1.0}, kDim), Contains("v = -1"));
  REQUIRE_THROWS_WITH(LinearThompson({.ridge = 0.0}, kDim), Contains("ridge"));
  REQUIRE_THROWS_WITH(LinearThompson({.draws = 0}, kDim), Contains("draws = 0"));
  REQUIRE_THROWS_AS(LinearThompson({}, 0), std::invalid_argument);
  LinearThompson policy({.model = Model::kShared}, kDim);
  Rng rng(11);
  const Context wrong = random_context(rng, kUserDim + 1, kActionDim, 3, 10);
  REQUIRE_THROWS_AS(policy.probabilities(wrong), std::logic_error);
  REQUIRE_THROWS_AS(policy.update(make_interaction(wrong, 0, 1.0)), std::logic_error);
}
