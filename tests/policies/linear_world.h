// SPDX-License-Identifier: Apache-2.0
// The standard linear bandit world of the policy tests, and the exact
// pseudo-regret of a pmf in it. Shared by every regret test.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "core/rng.h"
#include "core/sampling.h"
#include "core/types.h"

namespace recloop::testing {

// 10 items, each with a fixed 2-d embedding and its own weights theta_i over
// x = [user (5-d); embedding_i]. Expected reward x' theta_i, observed with
// Gaussian noise of standard deviation 0.1. Every request offers all items.
// Scaled as in the analyses of linear bandits: E|x|^2 = 1, E|theta|^2 = 1.
class LinearWorld {
 public:
  static constexpr int kItems = 10;
  static constexpr int kUser = 5;
  static constexpr int kEmbedding = 2;
  static constexpr int kDim = kUser + kEmbedding;
  static constexpr double kNoise = 0.1;

  explicit LinearWorld(Rng& rng) : embeddings_(kEmbedding, kItems) {
    for (auto& v : embeddings_.reshaped()) v = standard_normal(rng) / std::sqrt(2.0 * kEmbedding);
    for (int i = 0; i < kItems; ++i) {
      Eigen::VectorXd theta(kDim);
      for (auto& v : theta) v = standard_normal(rng) / std::sqrt(double{kDim});
      theta_.push_back(theta);
    }
  }
  Context next_context(Rng& rng) const {
    Context context;
    context.user.resize(kUser);
    for (auto& v : context.user) v = standard_normal(rng) / std::sqrt(2.0 * kUser);
    context.actions = embeddings_;
    for (int i = 0; i < kItems; ++i) context.items.push_back(static_cast<ItemId>(i));
    return context;
  }
  std::vector<double> expected_rewards(const Context& context) const {
    std::vector<double> mu(kItems);
    Eigen::VectorXd x(kDim);
    for (int i = 0; i < kItems; ++i) {
      joint_features(context, static_cast<ActionId>(i), x);
      mu[i] = x.dot(theta_[i]);
    }
    return mu;
  }

 private:
  Eigen::MatrixXd embeddings_;
  std::vector<Eigen::VectorXd> theta_;
};

// Pseudo-regret of one step: sum_a pmf_a (max mu - mu_a), the exact expected
// shortfall of the distribution played.
inline double pmf_regret(std::span<const double> pmf, std::span<const double> mu) {
  const double best = *std::max_element(mu.begin(), mu.end());
  double regret = 0.0;
  for (std::size_t a = 0; a < mu.size(); ++a) regret += pmf[a] * (best - mu[a]);
  return regret;
}

}  // namespace recloop::testing
