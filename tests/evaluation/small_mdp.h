// SPDX-License-Identifier: Apache-2.0
// A small tabular Markov decision process with closed-form values, for the
// sequential off-policy estimators and FQE.
//
// S = 3 states, A = 2 actions in every state. In state s, action a gives a
// Bernoulli(R[s][a]) reward, then the session moves to s' with probability
// P[s][a][s'] or ends with probability 1 - Σ_s' P[s][a][s'] (>= 0.2 in every
// pair, so sessions last 4 steps on average and γ = 1 is well defined).
// First states are drawn from `initial`.
//
// Closed form: for a policy π (a pmf per state), P_π(s, s') = Σ_a π(a|s)
// P[s][a][s'] and r_π(s) = Σ_a π(a|s) R[s][a]; then
//   V^π = (I - γ P_π)^{-1} r_π,   Q^π(s, a) = R[s][a] + γ Σ_s' P[s][a][s'] V^π(s'),
// and the value from the first states is initial' V^π. I - γ P_π is
// invertible for every γ in [0, 1] because each row of P_π sums to <= 0.8.
//
// As contexts: the state is one-hot in context.user (length 3), the two
// candidates are the one-hot columns of the 2 x 2 identity, so phi(s, a)
// (core/state_action_features.h) holds the indicator of every (s, a) pair
// in its outer-product block and a linear Q̂ on phi is tabular.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "core/rng.h"
#include "core/sampling.h"
#include "core/trajectory.h"
#include "evaluation/sequential.h"

namespace recloop::testing {

constexpr int kMdpStates = 3;
constexpr int kMdpActions = 2;

using TabularPolicy = std::array<std::array<double, kMdpActions>, kMdpStates>;

struct SmallMdp {
  std::array<std::array<double, kMdpActions>, kMdpStates> reward = {{{0.2, 0.8}, {0.5, 0.1}, {0.9, 0.3}}};
  std::array<std::array<std::array<double, kMdpStates>, kMdpActions>, kMdpStates> transition = {{
      {{{0.5, 0.2, 0.1}, {0.1, 0.3, 0.3}}},
      {{{0.2, 0.4, 0.2}, {0.3, 0.1, 0.3}}},
      {{{0.1, 0.1, 0.5}, {0.4, 0.2, 0.2}}},
  }};
  std::array<double, kMdpStates> initial = {0.5, 0.3, 0.2};
};

// The behaviour policy of the logs and the target policy evaluated.
inline constexpr TabularPolicy kMdpBehaviour = {{{0.5, 0.5}, {0.6, 0.4}, {0.3, 0.7}}};
// Per-step weights lie in [0.7, 1.5] and E_μ[ρ²] <= 1.11 in every state, so with
// a continuation probability <= 0.8 the weight products have finite variance
// with room to spare (E[w²] grows by <= 0.89 per step).
inline constexpr TabularPolicy kMdpTarget = {{{0.35, 0.65}, {0.7, 0.3}, {0.45, 0.55}}};

inline Context mdp_state(int s) {
  Context context;
  context.user = Eigen::VectorXd::Zero(kMdpStates);
  context.user[s] = 1.0;
  context.actions = Eigen::MatrixXd::Identity(kMdpActions, kMdpActions);
  context.items = {0, 1};
  return context;
}

inline int mdp_state_of(const Context& context) {
  Eigen::Index s = 0;
  context.user.maxCoeff(&s);
  return static_cast<int>(s);
}

// V^π by the closed form above (a vector over the states).
inline Eigen::VectorXd mdp_state_values(const SmallMdp& mdp, const TabularPolicy& policy, double gamma) {
  Eigen::MatrixXd p_pi = Eigen::MatrixXd::Zero(kMdpStates, kMdpStates);
  Eigen::VectorXd r_pi = Eigen::VectorXd::Zero(kMdpStates);
  for (int s = 0; s < kMdpStates; ++s) {
    for (int a = 0; a < kMdpActions; ++a) {
      r_pi[s] += policy[s][a] * mdp.reward[s][a];
      for (int n = 0; n < kMdpStates; ++n) p_pi(s, n) += policy[s][a] * mdp.transition[s][a][n];
    }
  }
  const Eigen::MatrixXd system = Eigen::MatrixXd::Identity(kMdpStates, kMdpStates) - gamma * p_pi;
  return system.partialPivLu().solve(r_pi);
}

// Q^π(s, a) as a kMdpStates x kMdpActions matrix.
inline Eigen::MatrixXd mdp_action_values(const SmallMdp& mdp, const TabularPolicy& policy, double gamma) {
  const Eigen::VectorXd v = mdp_state_values(mdp, policy, gamma);
  Eigen::MatrixXd q(kMdpStates, kMdpActions);
  for (int s = 0; s < kMdpStates; ++s) {
    for (int a = 0; a < kMdpActions; ++a) {
      double next = 0.0;
      for (int n = 0; n < kMdpStates; ++n) next += mdp.transition[s][a][n] * v[n];
      q(s, a) = mdp.reward[s][a] + gamma * next;
    }
  }
  return q;
}

// initial' V^π: the value every estimator targets.
inline double mdp_value(const SmallMdp& mdp, const TabularPolicy& policy, double gamma) {
  const Eigen::VectorXd v = mdp_state_values(mdp, policy, gamma);
  double value = 0.0;
  for (int s = 0; s < kMdpStates; ++s) value += mdp.initial[s] * v[s];
  return value;
}

// n sessions run with `behaviour`, each logged with its probabilities, pmf,
// Bernoulli reward and expected reward. A session reaching max_steps is cut
// there (terminated false).
inline std::vector<Trajectory> mdp_trajectories(const SmallMdp& mdp, const TabularPolicy& behaviour,
                                                std::size_t n, std::uint64_t seed,
                                                std::size_t max_steps = 1000) {
  Rng rng(seed);
  std::vector<Trajectory> trajectories(n);
  for (std::size_t i = 0; i < n; ++i) {
    Trajectory& trajectory = trajectories[i];
    trajectory.session = std::to_string(i);
    auto s = static_cast<int>(sample_index(mdp.initial, uniform01(rng)));
    for (std::size_t t = 0;; ++t) {
      if (t == max_steps) {
        trajectory.terminated = false;
        break;
      }
      TrajectoryStep step;
      step.context = mdp_state(s);
      step.pmf.assign(behaviour[s].begin(), behaviour[s].end());
      step.action = static_cast<ActionId>(sample_index(step.pmf, uniform01(rng)));
      step.probability = step.pmf[step.action];
      step.expected_reward = mdp.reward[s][step.action];
      step.reward = bernoulli(rng, step.expected_reward);
      const auto& next = mdp.transition[s][step.action];
      std::array<double, kMdpStates + 1> outcomes{};
      double stay = 0.0;
      for (int k = 0; k < kMdpStates; ++k) stay += outcomes[k] = next[k];
      outcomes[kMdpStates] = 1.0 - stay;  // the session ends
      trajectory.steps.push_back(std::move(step));
      s = static_cast<int>(sample_index(outcomes, uniform01(rng)));
      if (s == kMdpStates) break;
    }
  }
  return trajectories;
}

// The tabular policy's pmf at every step of the trajectories.
inline TargetPmfs mdp_target_pmfs(const std::vector<Trajectory>& trajectories,
                                  const TabularPolicy& policy) {
  TargetPmfs pmfs(trajectories.size());
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    for (const auto& step : trajectories[i].steps) {
      const auto& p = policy[mdp_state_of(step.context)];
      pmfs[i].emplace_back(p.begin(), p.end());
    }
  }
  return pmfs;
}

// A model that knows Q (e.g. the exact Q^π).
class TabularActionValues final : public ActionValueModel {
 public:
  explicit TabularActionValues(Eigen::MatrixXd q) : q_(std::move(q)) {}
  void values(const Context& state, std::span<double> out) const override {
    const int s = mdp_state_of(state);
    for (std::size_t a = 0; a < out.size(); ++a) out[a] = q_(s, static_cast<Eigen::Index>(a));
  }

 private:
  Eigen::MatrixXd q_;
};

}  // namespace recloop::testing
