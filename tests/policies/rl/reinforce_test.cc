// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/reinforce.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "core/sampling.h"
#include "tests/policies/policy_fixtures.h"

using namespace recloop;

namespace {

// One state (u = 1), two candidates (x = e_0, e_1) with rewards 0.5 and 1. The
// logger shows candidate 0 nine times in ten: 900 and 100 steps of each
// block of 1000, in exact proportion; probability logged or 0 (unknown).
std::vector<Trajectory> bandit_log(bool propensities) {
  std::vector<Trajectory> log;
  for (int i = 0; i < 1000; ++i) {
    TrajectoryStep step;
    step.context.user = Eigen::VectorXd::Ones(1);
    step.context.actions = Eigen::MatrixXd::Identity(2, 2);
    step.context.items = {1, 2};
    step.action = i % 10 == 0 ? 1 : 0;
    step.reward = step.action == 1 ? 1.0 : 0.5;
    step.probability = propensities ? (step.action == 1 ? 0.1 : 0.9) : 0.0;
    Trajectory t;
    t.steps = {step};
    log.push_back(std::move(t));
  }
  return log;
}

ReinforceOptions bandit_options() {
  ReinforceOptions options;
  options.epochs = 20;
  options.learning_rate = 0.02;
  options.cap = 100.0;
  options.behaviour.epochs = 20;
  options.behaviour.learning_rate = 0.02;
  options.behaviour.l2 = 0.0;
  return options;
}

}  // namespace

TEST_CASE("the top-K multiplier is K (1 - pi)^(K - 1)") {
  CHECK(top_k_multiplier(0.3, 1) == 1.0);
  CHECK(top_k_multiplier(0.25, 2) == Approx(1.5));
  CHECK(top_k_multiplier(0.5, 3) == Approx(0.75));
  CHECK(top_k_multiplier(1.0, 4) == 0.0);
}

TEST_CASE("the bilinear softmax's log-probability gradient matches finite differences") {
  Rng rng(5);
  BilinearSoftmax model(3, 4);
  for (auto& v : model.parameters()) v = 0.5 * standard_normal(rng);
  const Context c = recloop::testing::random_context(rng, 3, 4, 6, 20);
  Eigen::VectorXd pmf;
  model.pmf(c, pmf);
  Eigen::VectorXd gradient = Eigen::VectorXd::Zero(model.parameter_count());
  model.add_log_gradient(c, 2, pmf, 1.0, gradient);
  const double h = 1e-6;
  for (Eigen::Index i = 0; i < model.parameter_count(); ++i) {
    BilinearSoftmax plus = model, minus = model;
    plus.parameters()[i] += h;
    minus.parameters()[i] -= h;
    Eigen::VectorXd p_plus, p_minus;
    plus.pmf(c, p_plus);
    minus.pmf(c, p_minus);
    const double numeric = (std::log(p_plus[2]) - std::log(p_minus[2])) / (2 * h);
    CHECK(gradient[i] == Approx(numeric).margin(1e-6));
  }
}

TEST_CASE("training the behaviour head leaves the policy's parameters untouched") {
  Rng rng(8);
  TopKReinforceTrainer trainer(3, 4, ReinforceOptions{});
  const Context c = recloop::testing::random_context(rng, 3, 4, 5, 20);
  trainer.policy_step(c, 1, 0.2, 1.0);  // a non-zero pi to compare
  const Eigen::VectorXd pi_before = trainer.policy_model().parameters();
  const Eigen::VectorXd beta_before = trainer.behaviour_model().parameters();
  for (int i = 0; i < 50; ++i) {
    const Context ci = recloop::testing::random_context(rng, 3, 4, 5, 20);
    trainer.behaviour_step(ci, static_cast<ActionId>(i % 5));
  }
  CHECK(trainer.policy_model().parameters() == pi_before);  // bit for bit
  CHECK(trainer.behaviour_model().parameters() != beta_before);
  // And the other way round.
  const Eigen::VectorXd beta_after = trainer.behaviour_model().parameters();
  trainer.policy_step(c, 3, 0.2, 1.0);
  CHECK(trainer.behaviour_model().parameters() == beta_after);
}

TEST_CASE("the REINFORCE step's weight is the capped ratio times the top-K multiplier") {
  Context c;
  c.user = Eigen::VectorXd::Ones(1);
  c.actions = Eigen::MatrixXd::Identity(2, 2);
  c.items = {1, 2};
  ReinforceOptions options;
  options.top_k = 3;
  options.cap = 4.0;
  // At zero parameters pi = (1/2, 1/2): lambda_3 = 3 (1/2)^2 = 0.75.
  {
    TopKReinforceTrainer trainer(1, 2, options);
    CHECK(trainer.policy_step(c, 0, 0.25, 1.0) == Approx(2.0 * 0.75));  // pi/beta = 2
  }
  {
    TopKReinforceTrainer trainer(1, 2, options);
    CHECK(trainer.policy_step(c, 0, 0.05, 1.0) == Approx(4.0 * 0.75));  // 10, capped at 4
  }
  options.importance_weights = false;
  TopKReinforceTrainer trainer(1, 2, options);
  CHECK(trainer.policy_step(c, 0, 0.05, 1.0) == Approx(0.75));
}

// Without correction, REINFORCE on the logger's actions has its fixed point at
// pi_a proportional to beta_a r_a (the expected update sum_a beta_a r_a (e_a -
// pi) vanishes there): pi_0 = 0.45 / 0.55 = 0.82, the worse candidate. With
// w = pi / beta the expected update is sum_a pi_a r_a (e_a - pi), the on-policy
// gradient, which only grows pi_1. The log holds the actions in exact
// proportion and training is seeded, so the outcome is deterministic; the
// margins (0.8 vs the limits 1 and 0.18) leave room for the finite training.
TEST_CASE("importance weights let REINFORCE prefer the better action the logger rarely took") {
  const auto corrected = train_reinforce_topk(bandit_log(true), bandit_options());
  const Context c = bandit_log(true)[0].steps[0].context;
  CHECK(corrected->probabilities(c)[1] > 0.8);
  auto options = bandit_options();
  options.importance_weights = false;
  const auto naive = train_reinforce_topk(bandit_log(true), options);
  CHECK(naive->probabilities(c)[0] == Approx(0.45 / 0.55).margin(0.05));
}

TEST_CASE("with propensities missing the behaviour head estimates them and REINFORCE still corrects") {
  TopKReinforceTrainer trainer(1, 2, bandit_options());
  const auto log = bandit_log(false);
  trainer.train(log);
  // The behaviour head's MLE is the logged frequency of candidate 0, 0.9 (log[1]
  // shows candidate 0); 20 epochs of 32-step batches are 640 Adam steps of
  // about 0.02 each, enough to move the logit gap to its MLE log 9 = 2.2.
  CHECK(trainer.behaviour_probability(log[1].steps[0]) == Approx(0.9).margin(0.02));
  CHECK(trainer.behaviour_probability(log[1].steps[0]) != 0.9);  // estimated, not logged
  const auto policy = trainer.policy(1000);
  CHECK(policy->probabilities(log[1].steps[0].context)[1] > 0.8);
}

TEST_CASE("REINFORCE refuses bad options") {
  ReinforceOptions options;
  options.top_k = 0;
  CHECK_THROWS_AS(train_reinforce_topk(bandit_log(true), options), std::invalid_argument);
  options = ReinforceOptions{};
  options.cap = 0.0;
  CHECK_THROWS_AS(train_reinforce_topk(bandit_log(true), options), std::invalid_argument);
  options = ReinforceOptions{};
  options.learning_rate = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(train_reinforce_topk(bandit_log(true), options), std::invalid_argument);
}

// Chen et al. 2019, sec. 4.3: lambda_K -> 0 as pi(a|s) -> 1, so with K > 1 the
// update stops pushing an item that is already near-certain to be in the
// top K and the mass stays spread over the good items. Rewards 1, 0.9, 0,
// uniform logging in exact proportion, seeded training: deterministic.
TEST_CASE("the top-K correction spreads the policy over the good items instead of the best one") {
  std::vector<Trajectory> log;
  for (int i = 0; i < 900; ++i) {
    TrajectoryStep step;
    step.context.user = Eigen::VectorXd::Ones(1);
    step.context.actions = Eigen::MatrixXd::Identity(3, 3);
    step.context.items = {1, 2, 3};
    step.action = static_cast<ActionId>(i % 3);
    step.reward = step.action == 0 ? 1.0 : step.action == 1 ? 0.9 : 0.0;
    step.probability = 1.0 / 3.0;
    Trajectory t;
    t.steps = {step};
    log.push_back(std::move(t));
  }
  ReinforceOptions options;
  options.epochs = 30;
  options.learning_rate = 0.02;
  options.cap = 100.0;
  const Context c = log[0].steps[0].context;
  const auto top1 = train_reinforce_topk(log, options)->probabilities(c);
  options.top_k = 2;  // slates of two: the two good items
  const auto top2 = train_reinforce_topk(log, options)->probabilities(c);
  INFO("K = 1: " << top1[0] << " " << top1[1] << " " << top1[2] << "; K = 2: " << top2[0] << " "
                 << top2[1] << " " << top2[2]);
  CHECK(top1[0] > 0.99);  // K = 1 concentrates on the best item
  CHECK(top2[0] < 0.9);   // K = 2 keeps the second-best item in play
  CHECK(top2[1] > 0.1);
  CHECK(top2[2] < 0.05);  // and still leaves the bad item out
}
