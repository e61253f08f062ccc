// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/slateq.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "core/sampling.h"
#include "tests/policies/small_mdp_rl.h"

using namespace recloop;
using recloop::testing::SmallMdp;
using recloop::testing::tabulate;

namespace {

Context one_feature_context(double user, std::vector<double> items) {
  Context c;
  c.user = Eigen::VectorXd::Constant(1, user);
  c.actions = Eigen::Map<const Eigen::MatrixXd>(items.data(), 1, static_cast<Eigen::Index>(items.size()));
  for (std::size_t i = 0; i < items.size(); ++i) c.items.push_back(10 + i);
  return c;
}

// U = A = 1, phi = [1, u, x, x u]: Qbar(s, x) = 0.5 + u + 2 x - 0.5 x u and
// v(s, x) = x with no-click score 0.
SlateQModel hand_model() {
  Eigen::VectorXd theta(4), psi(4);
  theta << 0.5, 1.0, 2.0, -0.5;
  psi << 0.0, 0.0, 1.0, 0.0;
  return SlateQModel(LinearQ(1, 1, theta), SlateChoiceModel{LinearQ(1, 1, psi), 0.0});
}

// s: u = 1, candidates x = (1, 3), shows x = 1, reward 1.
// s': u = 2, candidates x = (0.5, 2), logged next action 0 (x = 0.5), reward 0; then the end.
Trajectory hand_trajectory() {
  Trajectory t;
  t.terminated = true;
  TrajectoryStep first;
  first.context = one_feature_context(1.0, {1.0, 3.0});
  first.action = 0;
  first.reward = 1.0;
  TrajectoryStep second;
  second.context = one_feature_context(2.0, {0.5, 2.0});
  second.action = 0;
  second.reward = 0.0;
  t.steps = {first, second};
  return t;
}

}  // namespace

// At s' (u = 2): Qbar(s', x) = 0.5 + 2 + 2x - x = 2.5 + x, Qbar(s', none) = 2.5;
// the items x = 0.5, 2 have Qbar 3.0 and 4.5 and P(click | s', {i}) = sigmoid(x):
//   Q(s', {0}) = 2.5 + sigmoid(0.5) 0.5 = 2.8112296656,
//   Q(s', {1}) = 2.5 + sigmoid(2) 2.0   = 4.2615941560,
//   Q(s', {0, 1}) = (e^0.5 3 + e^2 4.5 + 1 2.5) / (e^0.5 + e^2 + 1) = 4.0543752624.
// With gamma = 0.9 and r = 1: SARSA (logged x = 0.5) y = 1 + 0.9 Q(s', {0}) =
// 3.5301066990; Q-learning, slates of 1: 1 + 0.9 Q(s', {1}) = 4.8354347404;
// slates of 2: 1 + 0.9 Q(s', {0, 1}) = 4.6489377362. Had s (u = 1) been used,
// Qbar(s, x) = 1.5 + 1.5 x and the targets would differ.
TEST_CASE("SlateQ's SARSA and Q-learning targets of a transition match the hand-computed values") {
  const SlateQModel model = hand_model();
  const Trajectory trajectory = hand_trajectory();
  SlateQOptions options;
  options.gamma = 0.9;
  options.target = SlateQTarget::kSarsa;
  auto y = slateq_targets(trajectory, model, options);
  REQUIRE(y.size() == 2);
  CHECK(y[0] == Approx(3.5301066990).margin(1e-9));
  CHECK(y[1] == 0.0);  // the last step of a terminated session: r alone
  options.target = SlateQTarget::kQLearning;
  options.slate_size = 1;
  CHECK(slateq_targets(trajectory, model, options)[0] == Approx(4.8354347404).margin(1e-9));
  options.slate_size = 2;
  for (auto optimizer : {SlateOptimizer::kGreedy, SlateOptimizer::kTopK}) {
    options.optimizer = optimizer;
    CHECK(slateq_targets(trajectory, model, options)[0] == Approx(4.6489377362).margin(1e-9));
  }
}

TEST_CASE("SlateQ's target depends on the next state and not on the current one") {
  const SlateQModel model = hand_model();
  SlateQOptions options;
  options.target = SlateQTarget::kQLearning;
  Trajectory trajectory = hand_trajectory();
  const double base = slateq_targets(trajectory, model, options)[0];
  trajectory.steps[0].context = one_feature_context(5.0, {-4.0, 7.0});
  CHECK(slateq_targets(trajectory, model, options)[0] == base);
  trajectory.steps[1].context.user[0] = 1.0;
  CHECK(slateq_targets(trajectory, model, options)[0] != Approx(base).margin(1e-3));
  trajectory.terminated = false;
  CHECK(std::isnan(slateq_targets(trajectory, model, options)[1]));
}

TEST_CASE("SlateQ with a sure click and tabular features converges to the optimal Q (Q-learning)") {
  const SmallMdp mdp;
  // psi = 0 and v0 = -40: P(click | s, {i}) = sigmoid(40) = 1 in double
  // precision, so Q(s, {i}) = Qbar(s, i) and SlateQ is fitted Q iteration:
  // with exact-proportion transitions its fixed point is Q*, reached at rate
  // gamma^n (400 sweeps: 0.9^400 ~ 5e-19 of the initial error).
  const SlateChoiceModel sure{LinearQ(SmallMdp::kStates, SmallMdp::kActions), -40.0};
  SlateQOptions options;
  options.gamma = 0.9;
  options.ridge = 1e-9;
  options.iterations = 400;
  options.tolerance = 0.0;
  const auto policy = train_slateq(mdp.exact_log(2), options, &sure);
  const Eigen::VectorXd q =
      tabulate([&](const Context& c) { return policy->model().single_values(c); });
  const Eigen::VectorXd truth = mdp.q_star();
  for (int i = 0; i < 6; ++i) CHECK(q[i] == Approx(truth[i]).margin(1e-6));
}

TEST_CASE("SlateQ SARSA with the logged next actions converges to the logger's Q") {
  const SmallMdp mdp;
  const auto next_action = [](int s) { return s % 2; };
  Eigen::MatrixXd pi = Eigen::MatrixXd::Zero(3, 2);
  for (int s = 0; s < 3; ++s) pi(s, next_action(s)) = 1.0;
  const SlateChoiceModel sure{LinearQ(SmallMdp::kStates, SmallMdp::kActions), -40.0};
  SlateQOptions options;
  options.target = SlateQTarget::kSarsa;
  options.ridge = 1e-9;
  options.iterations = 400;
  options.tolerance = 0.0;
  const auto policy = train_slateq(mdp.exact_log(2, next_action), options, &sure);
  const Eigen::VectorXd q =
      tabulate([&](const Context& c) { return policy->model().single_values(c); });
  const Eigen::VectorXd truth = mdp.q_pi(pi);
  for (int i = 0; i < 6; ++i) CHECK(q[i] == Approx(truth[i]).margin(1e-6));
  CHECK((truth - mdp.q_star()).cwiseAbs().maxCoeff() > 0.1);  // a different table
}

TEST_CASE("SlateQ's slate of one is exact and its slates of K are distinct and no better than the best") {
  Rng rng(17);
  for (int trial = 0; trial < 20; ++trial) {
    Eigen::VectorXd theta(1 + 2 + 3 + 6), psi(12);
    for (auto& v : theta) v = standard_normal(rng);
    for (auto& v : psi) v = standard_normal(rng);
    const SlateQModel model(LinearQ(2, 3, theta), SlateChoiceModel{LinearQ(2, 3, psi), 0.3});
    Context c;
    c.user = Eigen::Vector2d(standard_normal(rng), standard_normal(rng));
    c.actions.resize(3, 5);
    for (auto& v : c.actions.reshaped()) v = standard_normal(rng);
    c.items = {1, 2, 3, 4, 5};
    const Eigen::VectorXd single = model.single_values(c);
    Eigen::Index best = 0;
    single.maxCoeff(&best);
    for (auto optimizer : {SlateOptimizer::kGreedy, SlateOptimizer::kTopK}) {
      const auto one = model.best_slate(c, 1, optimizer);
      REQUIRE(one.size() == 1);
      CHECK(one[0] == static_cast<ActionId>(best));
      const ActionId slate[] = {one[0]};
      CHECK(model.slate_value(c, slate) == Approx(single[best]).margin(1e-12));
    }
    double exhaustive = -1e300;
    for (ActionId a = 0; a < 5; ++a) {
      for (ActionId b = a + 1; b < 5; ++b) {
        const ActionId pair[] = {a, b};
        exhaustive = std::max(exhaustive, model.slate_value(c, pair));
      }
    }
    for (auto optimizer : {SlateOptimizer::kGreedy, SlateOptimizer::kTopK}) {
      const auto two = model.best_slate(c, 2, optimizer);
      REQUIRE(two.size() == 2);
      CHECK(two[0] != two[1]);
      CHECK(model.slate_value(c, two) <= exhaustive + 1e-12);
    }
    const ActionId all[] = {0, 1, 2, 3, 4};
    CHECK(model.choice().choice(c, all).sum() == Approx(1.0).margin(1e-12));
  }
}

TEST_CASE("SlateQ's fitted choice model recovers the click probabilities of a single-slot log",
          "[statistical]") {
  // One state, candidates x = -1 and +1 shown uniformly at random, a click
  // (reward 1) with probability sigmoid(0.5 + x): 0.3775 and 0.8176. phi =
  // [1, 1, x, x] makes the logit v = a + b x saturated on the two values, so
  // the maximum-likelihood fit is the empirical click rate at each x.
  Rng rng(77);
  std::vector<Trajectory> log;
  double shown[2] = {0, 0}, clicks[2] = {0, 0};
  for (int i = 0; i < 20000; ++i) {
    TrajectoryStep step;
    step.context = one_feature_context(1.0, {-1.0, 1.0});
    step.action = static_cast<ActionId>(uniform_index(rng, 2));
    const double x = step.action == 0 ? -1.0 : 1.0;
    step.reward = bernoulli(rng, 1.0 / (1.0 + std::exp(-(0.5 + x))));
    step.probability = 0.5;
    shown[step.action] += 1;
    clicks[step.action] += step.reward;
    Trajectory t;
    t.steps = {step};
    log.push_back(std::move(t));
  }
  ChoiceFitOptions options;
  options.epochs = 10;
  options.learning_rate = 0.01;
  const SlateChoiceModel choice = fit_choice_model(log, options);
  const Context c = one_feature_context(1.0, {-1.0, 1.0});
  for (ActionId a = 0; a < 2; ++a) {
    const ActionId slate[] = {a};
    const double fitted = choice.choice(c, slate)[0];
    const double empirical = clicks[a] / shown[a];
    const double truth = 1.0 / (1.0 + std::exp(-(0.5 + (a == 0 ? -1.0 : 1.0))));
    // Optimisation: 6,250 Adam steps of about 0.01 in each weight, averaged
    // over the last epoch; the averaged iterate's wobble is far below one
    // step, and one step moves P by at most 4 weights x 0.01 x dP/dv (<= 1/4)
    // = 0.01.
    CHECK(fitted == Approx(empirical).margin(0.01));
    // Sampling: the empirical rate has sd sqrt(p (1 - p) / n), n ~ 10,000
    // (0.0049 at p = 0.38, 0.0039 at 0.82); 4.5 sd fails with probability
    // < 2 * 6.8e-6.
    CHECK(empirical == Approx(truth).margin(4.5 * std::sqrt(truth * (1 - truth) / shown[a])));
    CHECK(fitted == Approx(truth).margin(0.01 + 4.5 * std::sqrt(truth * (1 - truth) / shown[a])));
  }
}
