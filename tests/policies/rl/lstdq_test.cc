// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/lstdq.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "core/state_action_features.h"
#include "tests/policies/small_mdp_rl.h"

using namespace recloop;
using recloop::testing::SmallMdp;
using recloop::testing::tabulate;

namespace {

// The target policy pi(a|s) of the MDP's states as a TargetPmf.
TargetPmf table_policy(const Eigen::MatrixXd& pi) {
  return [pi](const Context& c) {
    const int s = SmallMdp::state_of(c);
    return std::vector<double>{pi(s, 0), pi(s, 1)};
  };
}

Eigen::VectorXd lstdq_table(const std::vector<Trajectory>& log, const Eigen::MatrixXd& pi,
                            double ridge) {
  const Eigen::VectorXd theta = lstdq(log, table_policy(pi), {0.9, ridge});
  const LinearQ q(SmallMdp::kStates, SmallMdp::kActions, theta);
  return tabulate([&q](const Context& c) {
    Eigen::VectorXd v;
    q.values(c, v);
    return v;
  });
}

}  // namespace

TEST_CASE("LinearQ values equal theta' phi of the state-action feature map") {
  Rng rng(3);
  const int u = 3, a = 4;
  Eigen::VectorXd theta(1 + u + a + u * a);
  for (auto& v : theta) v = standard_normal(rng);
  const LinearQ q(u, a, theta);
  Context c;
  c.user = Eigen::VectorXd::Random(u);
  c.actions = Eigen::MatrixXd::Random(a, 5);
  c.items = {1, 2, 3, 4, 5};
  Eigen::VectorXd values;
  q.values(c, values);
  const StateActionFeatures phi(u, a);
  for (ActionId i = 0; i < 5; ++i) {
    CHECK(values[i] == Approx(theta.dot(phi(c, i))).margin(1e-12));
    Eigen::VectorXd written(phi.dim());
    write_state_action(c.user, c.actions.col(i), written);
    CHECK(written == phi(c, i));
  }
}

TEST_CASE("LSTD-Q recovers the closed-form Q of a stochastic policy from an exact-proportion log") {
  const SmallMdp mdp;
  Eigen::MatrixXd pi(3, 2);
  pi << 0.25, 0.75, 0.5, 0.5, 1.0, 0.0;
  const Eigen::VectorXd truth = mdp.q_pi(pi);
  // With the transitions in exact proportion and tabular features, LSTD-Q's
  // fixed point is Q^pi itself; the only error is the ridge's bias, of order
  // ridge / (transitions per pair (1 - gamma)) = 1e-9 / (8 0.1), and rounding.
  const Eigen::VectorXd q = lstdq_table(mdp.exact_log(2), pi, 1e-9);
  for (int i = 0; i < 6; ++i) CHECK(q[i] == Approx(truth[i]).margin(1e-6));
  // Not a trivial table: the values differ by pair.
  CHECK(truth.maxCoeff() - truth.minCoeff() > 0.5);
}

TEST_CASE("LSTD-Q uses the next state's target pmf, not the logged next action") {
  const SmallMdp mdp;
  Eigen::MatrixXd pi(3, 2);
  pi << 0.0, 1.0, 0.0, 1.0, 0.0, 1.0;  // always a1; the log's next steps all show a0
  const Eigen::VectorXd q = lstdq_table(mdp.exact_log(1), pi, 1e-9);
  const Eigen::VectorXd truth = mdp.q_pi(pi);
  for (int i = 0; i < 6; ++i) CHECK(q[i] == Approx(truth[i]).margin(1e-6));
}

TEST_CASE("LSTD-Q recovers Q^pi from sampled episodes within the sampling tolerance",
          "[statistical]") {
  const SmallMdp mdp;
  Rng rng(20261204);
  const auto log = mdp.sampled_log(20000, 200, rng);
  Eigen::MatrixXd pi(3, 2);
  pi << 0.25, 0.75, 0.5, 0.5, 1.0, 0.0;
  const Eigen::VectorXd truth = mdp.q_pi(pi);
  const Eigen::VectorXd q = lstdq_table(log, pi, 1e-9);
  // With tabular features LSTD-Q is the certainty-equivalence estimate: Q^pi
  // of the empirical transition probabilities (rewards are deterministic), so
  // to first order
  //   Qhat - Q = M delta,  M = gamma (I - gamma P Pi)^{-1},  delta_j = (Phat - P)(. | j) V,
  // for pair j with n_j transitions, delta_j is a mean of n_j i.i.d. terms
  // V(s') - E V(s') (V = 0 at the end), variance sigma_j^2 / n_j with
  // sigma_j^2 = Var_{s' ~ P(.|j)} V(s'), independent across pairs. So
  //   sd(Qhat_i - Q_i) = sqrt(sum_j M_ij^2 sigma_j^2 / n_j),
  // and 4.5 sd per pair fails with probability < 6 * 6.8e-6 (normal tails,
  // union over the 6 pairs); the second-order term is O(1/n), negligible.
  std::vector<double> n(6, 0.0);
  for (const auto& t : log) {
    for (std::size_t i = 0; i < t.steps.size(); ++i) {
      if (i + 1 == t.steps.size() && !t.terminated) break;
      n[SmallMdp::index(SmallMdp::state_of(t.steps[i].context), static_cast<int>(t.steps[i].action))] += 1;
    }
  }
  Eigen::VectorXd v(3);
  for (int s = 0; s < 3; ++s) v[s] = pi(s, 0) * truth[2 * s] + pi(s, 1) * truth[2 * s + 1];
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(6, 6);
  Eigen::VectorXd variance(6);
  for (int s = 0; s < 3; ++s) {
    for (int a = 0; a < 2; ++a) {
      double mean = 0.0, square = 0.0;
      for (int s2 = 0; s2 < 3; ++s2) {
        mean += mdp.next[s][a][s2] * v[s2];
        square += mdp.next[s][a][s2] * v[s2] * v[s2];
        for (int a2 = 0; a2 < 2; ++a2) {
          m(SmallMdp::index(s, a), SmallMdp::index(s2, a2)) -= mdp.gamma * mdp.next[s][a][s2] * pi(s2, a2);
        }
      }
      variance[SmallMdp::index(s, a)] = square - mean * mean;
    }
  }
  const Eigen::MatrixXd gain = mdp.gamma * m.inverse();
  for (int i = 0; i < 6; ++i) {
    REQUIRE(n[i] > 10000);
    double var = 0.0;
    for (int j = 0; j < 6; ++j) var += gain(i, j) * gain(i, j) * variance[j] / n[j];
    const double tolerance = 4.5 * std::sqrt(var);
    INFO("pair " << i << " tolerance " << tolerance);
    CHECK(q[i] == Approx(truth[i]).margin(tolerance));
    CHECK(tolerance < 0.1);  // tight against the values' spread (> 0.5)
  }
}

TEST_CASE("LSPI converges to the optimal Q and the optimal greedy policy") {
  const SmallMdp mdp;
  LspiOptions options;
  options.lstdq = {0.9, 1e-9};
  options.tolerance = 1e-10;
  const LspiResult result = train_lspi(mdp.exact_log(2), options);
  REQUIRE(result.converged);
  CHECK(result.iterations <= 10);
  const Eigen::VectorXd truth = mdp.q_star();
  const Eigen::VectorXd q = tabulate([&](const Context& c) { return result.policy->values(c); });
  for (int i = 0; i < 6; ++i) CHECK(q[i] == Approx(truth[i]).margin(1e-6));
  const Eigen::MatrixXd best = SmallMdp::greedy(truth);
  for (int s = 0; s < 3; ++s) {
    const auto pmf = result.policy->probabilities(SmallMdp::context(s));
    CHECK(pmf[0] == best(s, 0));
    CHECK(pmf[1] == best(s, 1));
  }
  CHECK(result.policy->name() == "lspi");
  // One transition per logged (s, a): 8 copies of each of the 6 pairs.
  CHECK(result.policy->model_version() == 48);
}

TEST_CASE("a greedy linear-Q policy shares its mass between tied candidates and spreads epsilon") {
  const int u = 1, a = 1;
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(4);
  theta[2] = 1.0;  // Q = x
  const LinearQPolicy greedy(LinearQ(u, a, theta), ScoreRule{0.2, 0.0}, 0);
  Context c;
  c.user = Eigen::VectorXd::Ones(1);
  c.actions.resize(1, 4);
  c.actions << 1.0, 3.0, 3.0, 2.0;
  c.items = {1, 2, 3, 4};
  const auto pmf = greedy.probabilities(c);
  CHECK(pmf[0] == Approx(0.05));
  CHECK(pmf[1] == Approx(0.05 + 0.4));
  CHECK(pmf[2] == Approx(0.05 + 0.4));
  CHECK(pmf[3] == Approx(0.05));
  const LinearQPolicy soft(LinearQ(u, a, theta), ScoreRule{0.0, 1.0}, 0);
  const auto p = soft.probabilities(c);
  CHECK(p[1] / p[0] == Approx(std::exp(2.0)));
}

TEST_CASE("LSTD-Q refuses bad options and a log of mixed dimensions") {
  const SmallMdp mdp;
  auto log = mdp.exact_log(1);
  const auto uniform = [](const Context& c) { return std::vector<double>(c.size(), 0.5); };
  CHECK_THROWS_AS(lstdq(log, uniform, {1.0, 0.0}), std::invalid_argument);
  CHECK_THROWS_AS(lstdq(log, uniform, {0.5, -1.0}), std::invalid_argument);
  CHECK_THROWS_AS(lstdq({}, uniform, {0.5, 0.0}), std::invalid_argument);
  log[3].steps[0].context.user = Eigen::VectorXd::Zero(5);
  CHECK_THROWS_WITH(lstdq(log, uniform, {0.5, 0.0}),
                    Catch::Contains("trajectory 3") && Catch::Contains("5 state"));
}
