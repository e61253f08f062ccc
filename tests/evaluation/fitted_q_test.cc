// SPDX-License-Identifier: Apache-2.0
#include "evaluation/fitted_q.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "core/sampling.h"
#include "tests/evaluation/small_mdp.h"

using namespace recloop;
using namespace recloop::testing;

namespace {

// A step in state `s` of `states` one-hot states, with one candidate whose
// item feature is 1.
TrajectoryStep chain_step(int s, int states, double reward) {
  TrajectoryStep step;
  step.context.user = Eigen::VectorXd::Zero(states);
  step.context.user[s] = 1.0;
  step.context.actions = Eigen::MatrixXd::Ones(1, 1);
  step.context.items = {0};
  step.probability = 1.0;
  step.reward = reward;
  return step;
}

TargetPmfs single_candidate_pmfs(const std::vector<Trajectory>& trajectories) {
  TargetPmfs pmfs(trajectories.size());
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    pmfs[i].assign(trajectories[i].steps.size(), std::vector<double>{1.0});
  }
  return pmfs;
}

FittedQConfig exact_config(double gamma) {
  FittedQConfig config;
  config.gamma = gamma;
  config.lambda = 1e-9;
  config.iterations = 200;
  config.bootstrap_replicates = 0;
  return config;
}

}  // namespace

TEST_CASE("a linear action-value model gives phi(s, a)'theta for every candidate", "[evaluation]") {
  Rng rng(4);
  const StateActionFeatures features(3, 2);
  Eigen::VectorXd theta(features.dim());
  for (auto& v : theta) v = standard_normal(rng);
  Context context;
  context.user = Eigen::Vector3d(0.5, -1.0, 2.0);
  context.actions = Eigen::MatrixXd(2, 4);
  for (Eigen::Index k = 0; k < context.actions.size(); ++k) context.actions.data()[k] = standard_normal(rng);
  context.items = {1, 2, 3, 4};
  const LinearActionValueModel model(3, 2, theta);
  std::vector<double> out(4);
  model.values(context, out);
  for (ActionId a = 0; a < 4; ++a) {
    REQUIRE(out[a] == Approx(features(context, a).dot(theta)).epsilon(1e-12));
    REQUIRE(model.value(context, a) == Approx(out[a]).epsilon(1e-12));
  }
  REQUIRE_THROWS_AS(LinearActionValueModel(3, 2, Eigen::VectorXd::Zero(5)), std::invalid_argument);
}

TEST_CASE("fqe of a two-step session with one candidate is its discounted return", "[evaluation]") {
  // States 0 -> 1 -> end, rewards 1 and 2, γ = 1/2: Q(1) = 2, Q(0) = 1 + 0.5·2 = 2.
  // Two rows, independent features: the ridge fit is exact as λ -> 0 (error O(λ)).
  std::vector<Trajectory> trajectories(1);
  trajectories[0].steps = {chain_step(0, 2, 1.0), chain_step(1, 2, 2.0)};
  const FittedQResult result =
      fitted_q_evaluation(trajectories, single_candidate_pmfs(trajectories), exact_config(0.5));
  REQUIRE(result.rows == 2);
  REQUIRE(result.estimate.value == Approx(2.0).epsilon(1e-6));
  REQUIRE(result.model.value(trajectories[0].steps[1].context, 0) == Approx(2.0).epsilon(1e-6));
  REQUIRE(result.last_change < 1e-9);
}

TEST_CASE("fqe needs no behaviour probabilities", "[evaluation]") {
  // Same session as above with the probabilities unknown (0): FQE never reads them.
  std::vector<Trajectory> trajectories(1);
  trajectories[0].steps = {chain_step(0, 2, 1.0), chain_step(1, 2, 2.0)};
  for (auto& step : trajectories[0].steps) step.probability = 0.0;
  const FittedQResult result =
      fitted_q_evaluation(trajectories, single_candidate_pmfs(trajectories), exact_config(0.5));
  REQUIRE(result.estimate.value == Approx(2.0).epsilon(1e-6));
}

TEST_CASE("fqe bootstraps past the end of a truncated session with its model", "[evaluation]") {
  // Session 1: state 0 (r = 1) -> state 1 (r = 5), then cut: the state-1 row
  // has no successor and is left out. Session 2: state 1 (r = 3), then ends.
  // So Q(1) = 3 (from session 2 alone) and Q(0) = 1 + 0.5·3 = 2.5; the value
  // is the mean over first states: (2.5 + 3) / 2.
  std::vector<Trajectory> trajectories(2);
  trajectories[0].steps = {chain_step(0, 2, 1.0), chain_step(1, 2, 5.0)};
  trajectories[0].terminated = false;
  trajectories[1].steps = {chain_step(1, 2, 3.0)};
  const FittedQResult result =
      fitted_q_evaluation(trajectories, single_candidate_pmfs(trajectories), exact_config(0.5));
  REQUIRE(result.rows == 2);
  REQUIRE(result.estimate.value == Approx(2.75).epsilon(1e-6));
  REQUIRE(result.estimate.truncated_trajectories == 1);
}

TEST_CASE("fqe on tabular features equals the values of the logged empirical mdp", "[evaluation]") {
  // Certainty equivalence: with P̂(s'|s,a), R̂(s,a) counted from the log
  // (termination where a terminated session ends), Q̂ = R̂ + γ P̂ Π Q̂, i.e.
  // (I - γ P̂ Π) Q̂ = R̂ over the 6 (s, a) pairs. Tabular FQE with λ -> 0
  // converges to it (the spectral radius of γ P̂ Π is at most ~0.8 here, so
  // 200 iterations leave < 0.8^200).
  const SmallMdp mdp;
  const double gamma = GENERATE(1.0, 0.9);
  const auto trajectories = mdp_trajectories(mdp, kMdpBehaviour, 3000, 8);
  const TargetPmfs pmfs = mdp_target_pmfs(trajectories, kMdpTarget);
  constexpr int kPairs = kMdpStates * kMdpActions;
  Eigen::VectorXd count = Eigen::VectorXd::Zero(kPairs), reward = Eigen::VectorXd::Zero(kPairs);
  Eigen::MatrixXd move = Eigen::MatrixXd::Zero(kPairs, kMdpStates);
  for (const auto& trajectory : trajectories) {
    for (std::size_t t = 0; t < trajectory.steps.size(); ++t) {
      const auto& step = trajectory.steps[t];
      const int pair = mdp_state_of(step.context) * kMdpActions + static_cast<int>(step.action);
      count[pair] += 1.0;
      reward[pair] += step.reward;
      if (t + 1 < trajectory.steps.size()) move(pair, mdp_state_of(trajectory.steps[t + 1].context)) += 1.0;
    }
  }
  Eigen::MatrixXd system = Eigen::MatrixXd::Identity(kPairs, kPairs);
  for (int pair = 0; pair < kPairs; ++pair) {
    REQUIRE(count[pair] > 0.0);
    reward[pair] /= count[pair];
    for (int next = 0; next < kMdpStates; ++next) {
      for (int a = 0; a < kMdpActions; ++a) {
        system(pair, next * kMdpActions + a) -= gamma * move(pair, next) / count[pair] * kMdpTarget[next][a];
      }
    }
  }
  const Eigen::VectorXd q = system.partialPivLu().solve(reward);
  const FittedQResult result = fitted_q_evaluation(trajectories, pmfs, exact_config(gamma));
  for (int s = 0; s < kMdpStates; ++s) {
    for (ActionId a = 0; a < kMdpActions; ++a) {
      REQUIRE(result.model.value(mdp_state(s), a) == Approx(q[s * kMdpActions + a]).epsilon(1e-6));
    }
  }
}

TEST_CASE("fqe recovers the closed-form q of the small mdp", "[evaluation][statistical]") {
  // FQE here is the certainty-equivalent Q̂ (test above), and
  //   Q̂ - Q = (I - γ P̂ Π)^{-1} e,  e(s,a) = mean over the N_sa visits of
  //   (r + γ V^π(s') - Q^π(s,a)), a mean of i.i.d. zero-mean terms with sd at
  //   most 0.5 (the Bernoulli reward) + max V^π / 2 (V^π(s') in [0, max V]).
  // Rows of γ P̂ Π sum to at most 0.8 + O(1/sqrt N), so the inverse has
  // infinity norm <= 1 / (1 - 0.81) < 5.3. With 4 sd per cell (all 6 cells
  // within except with probability < 4e-4): |Q̂ - Q| <= 5.3 · 4 · sd / sqrt(min N_sa).
  const SmallMdp mdp;
  const double gamma = 1.0;
  const Eigen::MatrixXd truth = mdp_action_values(mdp, kMdpTarget, gamma);
  const auto trajectories = mdp_trajectories(mdp, kMdpBehaviour, 50000, 21);
  const TargetPmfs pmfs = mdp_target_pmfs(trajectories, kMdpTarget);
  std::vector<double> visits(kMdpStates * kMdpActions, 0.0);
  for (const auto& trajectory : trajectories) {
    for (const auto& step : trajectory.steps) {
      visits[mdp_state_of(step.context) * kMdpActions + step.action] += 1.0;
    }
  }
  const double fewest = *std::min_element(visits.begin(), visits.end());
  const double sd = 0.5 + mdp_state_values(mdp, kMdpTarget, gamma).maxCoeff() / 2.0;
  const double tolerance = 5.3 * 4.0 * sd / std::sqrt(fewest);
  FittedQConfig config = exact_config(gamma);
  config.lambda = 1e-6;
  config.bootstrap_replicates = 30;
  config.seed = 2;
  const FittedQResult result = fitted_q_evaluation(trajectories, pmfs, config);
  for (int s = 0; s < kMdpStates; ++s) {
    for (ActionId a = 0; a < kMdpActions; ++a) {
      REQUIRE(std::abs(result.model.value(mdp_state(s), a) - truth(s, a)) < tolerance);
    }
  }
  // The value from the first states, against its bootstrap standard error
  // (B = 30: the SE itself is known to about ±13%, so 4 SE is >= 3.4 true SE).
  const double value = mdp_value(mdp, kMdpTarget, gamma);
  REQUIRE(std::abs(result.estimate.value - value) < 4.0 * result.estimate.std_error);
  REQUIRE(result.estimate.lower < result.estimate.upper);
}

TEST_CASE("cross-fitted fqe scores each trajectory with the model fit on the other folds",
          "[evaluation]") {
  // Fold k of 3 holds trajectories i with i mod 3 == k; its model must equal
  // FQE fit on exactly the trajectories outside it.
  const SmallMdp mdp;
  const auto trajectories = mdp_trajectories(mdp, kMdpBehaviour, 300, 12);
  const TargetPmfs pmfs = mdp_target_pmfs(trajectories, kMdpTarget);
  const FittedQConfig config = exact_config(0.9);
  const CrossFittedQ cross = cross_fitted_q_evaluation(trajectories, pmfs, config, 3);
  REQUIRE(cross.fold_models.size() == 3);
  REQUIRE(cross.models.size() == trajectories.size());
  std::vector<Trajectory> outside;
  TargetPmfs outside_pmfs;
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    REQUIRE(cross.models[i] == cross.fold_models[i % 3].get());
    if (i % 3 != 1) {
      outside.push_back(trajectories[i]);
      outside_pmfs.push_back(pmfs[i]);
    }
  }
  const FittedQResult fold = fitted_q_evaluation(outside, outside_pmfs, config);
  REQUIRE((cross.fold_models[1]->theta() - fold.model.theta()).cwiseAbs().maxCoeff() < 1e-9);
  REQUIRE_THROWS_AS(cross_fitted_q_evaluation(trajectories, pmfs, config, 1), std::invalid_argument);
}

TEST_CASE("fqe rejects states of another dimension naming the session and step", "[evaluation]") {
  std::vector<Trajectory> trajectories(1);
  trajectories[0].session = std::string("x");
  trajectories[0].steps = {chain_step(0, 2, 1.0), chain_step(1, 3, 2.0)};
  REQUIRE_THROWS_WITH(
      fitted_q_evaluation(trajectories, single_candidate_pmfs(trajectories), exact_config(0.5)),
      Catch::Contains("session 'x' step 1"));
}

TEST_CASE("fqe rejects an out-of-range configuration and an empty log", "[evaluation]") {
  std::vector<Trajectory> trajectories(1);
  trajectories[0].steps = {chain_step(0, 2, 1.0)};
  FittedQConfig config = exact_config(0.5);
  config.iterations = 0;
  REQUIRE_THROWS_WITH(fitted_q_evaluation(trajectories, single_candidate_pmfs(trajectories), config),
                      Catch::Contains("iterations"));
  config = exact_config(0.5);
  config.lambda = 0.0;
  REQUIRE_THROWS_WITH(fitted_q_evaluation(trajectories, single_candidate_pmfs(trajectories), config),
                      Catch::Contains("lambda"));
  REQUIRE_THROWS_WITH(fitted_q_evaluation({}, {}, exact_config(0.5)), Catch::Contains("no steps"));
}
