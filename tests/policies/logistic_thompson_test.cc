// SPDX-License-Identifier: Apache-2.0
#include "policies/logistic_thompson.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Dense>

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
using Model = LogisticThompson::Model;

double sigmoid(double s) { return 1.0 / (1.0 + std::exp(-s)); }

// Alg. 3's objective for one observation, minimised by Newton's method in all
// d coordinates at once (the policy reduces it to one dimension).
Eigen::VectorXd direct_minimiser(const Eigen::VectorXd& m, const Eigen::VectorXd& q,
                                 const Eigen::VectorXd& x, double r) {
  Eigen::VectorXd w = m;
  for (int i = 0; i < 100; ++i) {
    const double p = sigmoid(w.dot(x));
    const Eigen::VectorXd gradient = q.cwiseProduct(w - m) + (p - r) * x;
    Eigen::MatrixXd hessian = q.asDiagonal();
    hessian += p * (1.0 - p) * x * x.transpose();
    w -= hessian.ldlt().solve(gradient);
  }
  return w;
}

// 10 items, per-item weights over x = [1, user (2-d); embedding_i (2-d)] (the
// constant user feature is an intercept); click probability sigmoid(x'theta_i).
class ClickWorld {
 public:
  static constexpr int kItems = 10;

  explicit ClickWorld(Rng& rng) : embeddings_(kActionDim, kItems) {
    for (auto& v : embeddings_.reshaped()) v = standard_normal(rng);
    for (int i = 0; i < kItems; ++i) {
      Eigen::VectorXd theta(kDim);
      for (auto& v : theta) v = standard_normal(rng);
      theta[0] -= 1.5;  // click rates mostly below one half
      theta_.push_back(theta);
    }
  }
  Context next_context(Rng& rng) const {
    Context context;
    context.user.resize(kUserDim);
    context.user[0] = 1.0;
    for (int i = 1; i < kUserDim; ++i) context.user[i] = standard_normal(rng);
    context.actions = embeddings_;
    for (int i = 0; i < kItems; ++i) context.items.push_back(static_cast<ItemId>(i));
    return context;
  }
  std::vector<double> click_rates(const Context& context) const {
    std::vector<double> p(kItems);
    Eigen::VectorXd x(kDim);
    for (int i = 0; i < kItems; ++i) {
      joint_features(context, static_cast<ActionId>(i), x);
      p[i] = sigmoid(x.dot(theta_[i]));
    }
    return p;
  }

 private:
  Eigen::MatrixXd embeddings_;
  std::vector<Eigen::VectorXd> theta_;
};

struct ClickRun {
  testing::Regret policy, baseline, uniform, thompson;
};

constexpr int kRegretDraws = 100;

// Disjoint logistic_ts and epsilon-greedy (0.1, ridge on clicks) on the same
// contexts and clicks; regret is the pseudo-regret of the pmf played.
ClickRun click_regret(std::uint64_t seed, int steps) {
  Rng world_rng(stream_seed(seed, 0));
  const ClickWorld world(world_rng);
  LogisticThompson policy({.draws = kRegretDraws, .seed = seed}, kDim);
  EpsilonGreedy baseline({.epsilon = 0.1}, kDim);
  Policy* policies[2] = {&policy, &baseline};
  Rng context_rng(stream_seed(seed, 1));
  Rng click_rng(stream_seed(seed, 2));
  ClickRun out;
  testing::Regret* curves[3] = {&out.policy, &out.baseline, &out.uniform};
  double regret[3] = {0.0, 0.0, 0.0};
  for (int t = 0; t < steps; ++t) {
    const Context context = world.next_context(context_rng);
    const auto mu = world.click_rates(context);
    for (int p = 0; p < 2; ++p) {
      const auto decision = policies[p]->choose(context, std::to_string(t), seed);
      regret[p] += testing::pmf_regret(decision.pmf, mu);
      policies[p]->update(make_interaction(context, decision.action,
                                           bernoulli(click_rng, mu[decision.action]),
                                           decision.probability));
    }
    regret[2] += testing::pmf_regret(std::vector<double>(mu.size(), 1.0 / mu.size()), mu);
    for (int p = 0; p < 3; ++p) {
      if (t + 1 == steps / 4) curves[p]->at_quarter = regret[p];
      curves[p]->at_end = regret[p];
    }
  }
  out.thompson = testing::thompson_part(out.policy, out.uniform, kRegretDraws);
  return out;
}

}  // namespace

TEST_CASE("a logistic_ts update is Alg. 3's regularised minimiser for a batch of one",
          "[policies]") {
  // Chapelle & Li 2011, Alg. 3: w = argmin 1/2 sum q_i (w_i - m_i)^2 + log
  // loss, then m = w and q_i += x_i^2 p (1 - p) at the new w. Checked against
  // a d-dimensional Newton solve, for clicks, non-clicks and a soft label.
  Rng rng(3);
  LogisticThompson policy({.lambda = 2.0}, kDim);
  Eigen::VectorXd m = Eigen::VectorXd::Zero(kDim);
  Eigen::VectorXd q = Eigen::VectorXd::Constant(kDim, 2.0);
  for (int t = 0; t < 40; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 3, 5);
    const double r = t % 7 == 0 ? 0.3 : static_cast<double>(bernoulli(rng, 0.4));
    Eigen::VectorXd x(kDim);
    joint_features(context, 0, x);
    // Item 4 only, to follow one regression.
    Context single = context;
    single.items = {4, 100, 101};
    policy.update(make_interaction(single, 0, r));
    const Eigen::VectorXd w = direct_minimiser(m, q, x, r);
    const double p = sigmoid(w.dot(x));
    m = w;
    q += (x.array().square() * p * (1.0 - p)).matrix();
  }
  const auto posterior = policy.posterior(4);
  for (int i = 0; i < kDim; ++i) {
    REQUIRE(posterior.mean[i] == Approx(m[i]).epsilon(1e-9).margin(1e-12));
    REQUIRE(posterior.precision[i] == Approx(q[i]).epsilon(1e-9));
  }
  REQUIRE(policy.arm_count() == 1);
  const auto prior = policy.posterior(5);
  REQUIRE(prior.mean == std::vector<double>(kDim, 0.0));
  REQUIRE(prior.precision == std::vector<double>(kDim, 2.0));
}

TEST_CASE("logistic_ts clips rewards to [0, 1]", "[policies]") {
  Rng rng(4);
  const Context context = random_context(rng, kUserDim, kActionDim, 2, 5);
  LogisticThompson clipped({}, kDim);
  LogisticThompson plain({}, kDim);
  clipped.update(make_interaction(context, 0, 3.0));
  clipped.update(make_interaction(context, 1, -1.0));
  plain.update(make_interaction(context, 0, 1.0));
  plain.update(make_interaction(context, 1, 0.0));
  REQUIRE(clipped.posterior(context.items[0]).mean == plain.posterior(context.items[0]).mean);
  REQUIRE(clipped.posterior(context.items[1]).mean == plain.posterior(context.items[1]).mean);
  REQUIRE_THROWS_AS(clipped.update(make_interaction(context, 0, std::nan(""))), std::logic_error);
}

TEST_CASE("logistic_ts probabilities match exact Thompson probabilities in both models",
          "[policies][statistical]") {
  // Disjoint: x_a'w~_a ~ N(x_a'm_a, v^2 sum x_ai^2 / q_ai), independent, so the
  // exact pmf is an integral of normal densities and distribution functions.
  // Shared: for two candidates, (x1 - x2)'w~ ~ N(g'm, v^2 sum g_i^2 / q_i),
  // so P(1 wins) = Phi(g'm / (v sqrt(sum g_i^2 / q_i))), for 10 random pairs.
  // M = 2000 draws: within 5 se of (M p + 1/K) / (M + 1) (false failure
  // 5.7e-7 per entry).
  constexpr int kDraws = 2000;
  constexpr double kV = 0.8;
  Rng rng(5);
  for (Model model : {Model::kDisjoint, Model::kShared}) {
    LogisticThompson policy({.v = kV, .model = model, .draws = kDraws, .seed = 6}, kDim);
    for (int t = 0; t < 30; ++t) {
      const Context context = random_context(rng, kUserDim, kActionDim, 4, 5);
      policy.update(make_interaction(context, 0, bernoulli(rng, 0.3)));
    }
    Eigen::VectorXd x(kDim);
    if (model == Model::kDisjoint) {
      const Context context = random_context(rng, kUserDim, kActionDim, 4, 7);
      std::vector<std::function<double(double)>> pdfs;
      for (ActionId a = 0; a < context.size(); ++a) {
        joint_features(context, a, x);
        const auto post = policy.posterior(context.items[a]);
        double mean = 0.0, variance = 0.0;
        for (int i = 0; i < kDim; ++i) {
          mean += x[i] * post.mean[i];
          variance += x[i] * x[i] / post.precision[i];
        }
        const double sd = kV * std::sqrt(variance);
        pdfs.push_back([mean, sd](double s) { return testing::normal_pdf(s, mean, sd); });
      }
      const auto exact = testing::exact_argmax_pmf(pdfs, -40.0, 40.0, 200000);
      const auto pmf = policy.probabilities(context);
      testing::require_valid_pmf(pmf, context.size());
      for (std::size_t a = 0; a < context.size(); ++a) {
        INFO("disjoint, candidate " << a << ": exact " << exact[a] << ", estimate " << pmf[a]);
        REQUIRE(std::abs(pmf[a] - testing::expected_floored(exact[a], kDraws, context.size())) <
                5.0 * testing::floored_standard_error(exact[a], kDraws) + 1e-6);
      }
      continue;
    }
    const auto post = policy.posterior(0);
    for (int pair = 0; pair < 10; ++pair) {
      const Context context = random_context(rng, kUserDim, kActionDim, 2, 7);
      Eigen::VectorXd x2(kDim);
      joint_features(context, 0, x);
      joint_features(context, 1, x2);
      double mean = 0.0, variance = 0.0;
      for (int i = 0; i < kDim; ++i) {
        const double g = x[i] - x2[i];
        mean += g * post.mean[i];
        variance += g * g / post.precision[i];
      }
      const double p = testing::normal_cdf(mean / (kV * std::sqrt(variance)));
      const auto pmf = policy.probabilities(context);
      INFO("shared, pair " << pair << ": exact " << p << ", estimate " << pmf[0]);
      REQUIRE(std::abs(pmf[0] - testing::expected_floored(p, kDraws, 2)) <
              5.0 * testing::floored_standard_error(p, kDraws) + 1e-9);
    }
  }
}

TEST_CASE("logistic_ts regret on clicks grows sublinearly and beats epsilon greedy",
          "[policies][statistical]") {
  // Per-item logistic click model, 10 items, T = 6000, M = 100, one fixed
  // seed, pseudo-regret in clicks. Thompson sampling with a Laplace posterior
  // has no finite-time bound we can quote, but behaves like the Bayesian
  // optimum's logarithmic or sqrt(T) regret in Chapelle & Li's experiments;
  // either gives regret(T) / regret(T/4) <= 2, linear regret 4. Checked, for
  // Thompson sampling proper (without the floor's linear uniform share,
  // thompson_fixtures.h): ratio < 3; and the regret of the pmf played, floor
  // included, below that of epsilon-greedy (0.1) on ridge-regressed clicks.
  // Over seeds 1-20 (the hidden [.sweep] test below, run by hand) the ratio
  // lay in [1.29, 1.77] and the played regret was 0.29-0.76 times
  // epsilon-greedy's.
  const ClickRun r = click_regret(2024, 6000);
  INFO("played " << r.policy.at_end << ", Thompson part " << r.thompson.at_quarter << " -> "
                 << r.thompson.at_end << "; epsilon-greedy " << r.baseline.at_end
                 << "; uniform " << r.uniform.at_end);
  REQUIRE(r.thompson.at_end / r.thompson.at_quarter < 3.0);
  REQUIRE(r.policy.at_end < r.baseline.at_end);
}

TEST_CASE("logistic_ts regret bounds hold across seeds", "[.sweep]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const ClickRun r = click_regret(seed, 6000);
    INFO("seed " << seed << ": played " << r.policy.at_end << ", Thompson part "
                 << r.thompson.at_quarter << " -> " << r.thompson.at_end << ", eps-greedy "
                 << r.baseline.at_end);
    CHECK(r.thompson.at_end / r.thompson.at_quarter < 3.0);
    CHECK(r.policy.at_end < r.baseline.at_end);
  }
}

TEST_CASE("logistic_ts reloads bit-identical in both models", "[policies]") {
  Rng rng(10);
  for (Model model : {Model::kDisjoint, Model::kShared}) {
    LogisticThompson policy({.lambda = 0.5, .model = model, .draws = 200, .seed = 3}, kDim);
    for (int t = 0; t < 50; ++t) {
      const Context context = random_context(rng, kUserDim, kActionDim, 4, 10);
      policy.update(make_interaction(context, 1, bernoulli(rng, 0.4)));
    }
    require_bit_identical_reload(policy, "logistic_ts", rng, kUserDim, kActionDim, 1.0);
  }
}

TEST_CASE("logistic_ts settings are read with defaults and ranges", "[policies]") {
  ConfigSection empty("policy", "x.ini");
  REQUIRE(LogisticThompson::Config::from(empty) == LogisticThompson::Config{});
  ConfigSection set("policy", "x.ini");
  set.set("lambda", "0.5");
  set.set("v", "0.25");
  set.set("model", "shared");
  set.set("seed", "4");
  REQUIRE(LogisticThompson::Config::from(set) ==
          LogisticThompson::Config{.lambda = 0.5, .v = 0.25, .model = Model::kShared, .seed = 4});
  ConfigSection bad_lambda("policy", "x.ini");
  bad_lambda.set("lambda", "0");
  REQUIRE_THROWS_WITH(LogisticThompson::Config::from(bad_lambda),
                      Contains("lambda") && Contains("'0'") && Contains("(0, inf)"));
}

TEST_CASE("logistic_ts rejects bad constructor arguments and contexts", "[policies]") {
  REQUIRE_THROWS_WITH(LogisticThompson({.lambda = -1.0}, kDim), Contains("lambda = -1"));
  REQUIRE_THROWS_WITH(LogisticThompson({.v = std::nan("")}, kDim), Contains("v = "));
  REQUIRE_THROWS_WITH(LogisticThompson({.draws = 0}, kDim), Contains("draws = 0"));
  REQUIRE_THROWS_AS(LogisticThompson({}, 0), std::invalid_argument);
  LogisticThompson policy({}, kDim);
  Rng rng(11);
  const Context wrong = random_context(rng, kUserDim, kActionDim + 1, 3, 10);
  REQUIRE_THROWS_AS(policy.probabilities(wrong), std::logic_error);
  REQUIRE_THROWS_AS(policy.update(make_interaction(wrong, 0, 1.0)), std::logic_error);
}
