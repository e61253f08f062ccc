// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/bcq.h"

#include <catch2/catch.hpp>

#include <vector>

#include "policies/rl/lstdq.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/small_mdp_rl.h"

using namespace recloop;
using recloop::testing::SmallMdp;
using recloop::testing::tabulate;

namespace {

// One state (u = 1) and three candidates with item features [e_a; f_a],
// f = (0, 1, 10). The logger shows candidates 0 and 1 only (rewards 0 and 1);
// candidate 2 is a high-variance action (its reward would be +10 or -10 with
// equal odds) that the log never shows. Episodes of one step.
Context narrow_context() {
  Context c;
  c.user = Eigen::VectorXd::Ones(1);
  c.actions = Eigen::MatrixXd::Zero(4, 3);
  c.actions.topRows(3) = Eigen::MatrixXd::Identity(3, 3);
  c.actions(3, 0) = 0.0;
  c.actions(3, 1) = 1.0;
  c.actions(3, 2) = 10.0;
  c.items = {7, 8, 9};
  return c;
}

std::vector<Trajectory> narrow_log() {
  std::vector<Trajectory> log;
  for (int i = 0; i < 1000; ++i) {
    TrajectoryStep step;
    step.context = narrow_context();
    step.action = static_cast<ActionId>(i % 2);
    step.reward = i % 2 == 0 ? 0.0 : 1.0;
    step.probability = 0.5;
    Trajectory t;
    t.terminated = true;
    t.steps = {step};
    log.push_back(std::move(t));
  }
  return log;
}

}  // namespace

// The ridge fit of Q on the two logged feature vectors lies in their span;
// the unseen candidate's features overlap candidate 1's in the f rows, so Q
// extrapolates: solving theta = a phi_0 + b phi_1 with theta'phi_0 = 0 and
// theta'phi_1 = 1 (|phi_0|^2 = 4, phi_0'phi_1 = 2, |phi_1|^2 = 6) gives a =
// -0.1, b = 0.2 and Q(candidate 2) = -0.1 * 2 + 0.2 * 22 = 4.2 > 1.
TEST_CASE("BCQ never picks an action the logger never took, which greedy Q does") {
  const auto log = narrow_log();
  const Context c = narrow_context();
  LspiOptions lspi;
  lspi.lstdq = {0.9, 1e-6};
  const auto greedy = train_lspi(log, lspi).policy;
  CHECK(greedy->values(c)[2] == Approx(4.2).margin(1e-3));
  CHECK(greedy->probabilities(c)[2] == 1.0);

  BcqOptions options;
  options.lspi = lspi;
  options.lspi.rule.epsilon = 0.1;  // exploration stays among the eligible actions too
  options.threshold = 0.3;
  const auto bcq = train_bcq(log, options).policy;
  CHECK(bcq->name() == "bcq");
  const auto allowed = bcq->allowed(c);
  CHECK(allowed == std::vector<std::uint8_t>{1, 1, 0});
  const auto pmf = bcq->probabilities(c);
  CHECK(pmf[2] == 0.0);
  CHECK(pmf[1] == Approx(0.9 + 0.05));
  CHECK(pmf[0] == Approx(0.05));
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    CHECK(bcq->choose(c, recloop::testing::event_id("e", static_cast<long long>(seed)), seed).action != 2);
  }
}

TEST_CASE("BCQ on a log that covers every action recovers the optimal Q like LSPI") {
  const SmallMdp mdp;
  BcqOptions options;
  options.lspi.lstdq = {0.9, 1e-9};
  options.lspi.tolerance = 1e-10;
  options.threshold = 0.3;
  options.behaviour.epochs = 300;  // 84 logged steps: 3 batches an epoch
  // The logged next actions alternate, so every state shows both actions
  // about equally often (first steps: 8 each; next steps: 12 per state,
  // alternating): the behaviour model's MLE is near 1/2 for both actions, both
  // are eligible in every state, and the constrained max is the max.
  const auto result = train_bcq(mdp.exact_log(2, [n = 0](int) mutable { return n++ % 2; }), options);
  REQUIRE(result.converged);
  for (int s = 0; s < 3; ++s) {
    CHECK(result.policy->allowed(SmallMdp::context(s)) == std::vector<std::uint8_t>{1, 1});
  }
  const Eigen::VectorXd q = tabulate([&](const Context& c) { return result.policy->values(c); });
  const Eigen::VectorXd truth = mdp.q_star();
  for (int i = 0; i < 6; ++i) CHECK(q[i] == Approx(truth[i]).margin(1e-6));
}

TEST_CASE("BCQ refuses a threshold that is not a probability above zero") {
  BcqOptions options;
  options.threshold = 0.0;
  CHECK_THROWS_AS(train_bcq(narrow_log(), options), std::invalid_argument);
  options.threshold = 1.5;
  CHECK_THROWS_AS(train_bcq(narrow_log(), options), std::invalid_argument);
}
