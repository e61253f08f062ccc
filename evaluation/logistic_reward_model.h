// SPDX-License-Identifier: Apache-2.0
// A reward model for clicks (rewards in [0, 1]): ridge-penalised logistic
// regression of the reward on [joint_features(context, action); 1], one model
// pooled over all items, fit in batch by Newton's method (IRLS).
//
// Use: add() every training interaction (rows are stored: 8·(feature_dim+2)
// bytes each), fit() once, then predict(). Not thread-safe while fitting;
// predict() is const.
#pragma once

#include <cstddef>
#include <vector>

#include <Eigen/Dense>

#include "core/types.h"
#include "evaluation/estimator.h"

namespace recloop {

class LogisticRewardModel final : public RewardModel {
 public:
  struct Config {
    double lambda = 1.0;            // ridge penalty on every weight but the intercept, > 0
    int max_iterations = 50;        // Newton steps, >= 1
    double tolerance = 1e-10;       // stop when the step's max-norm is below this, > 0
  };
  // feature_dim = Context::feature_dim() of every context, >= 1. Throws
  // std::invalid_argument for an out-of-range argument.
  LogisticRewardModel(const Config& config, int feature_dim);

  // Throws std::invalid_argument naming the event if the action is not a
  // candidate, the feature dimension differs or the reward is outside [0, 1].
  void add(const Interaction& interaction);
  // Fits θ by Newton's method from θ = 0. With no rows every prediction is 1/2.
  void fit();
  // σ(θ'[x; 1]). Throws std::logic_error before fit() or for another feature dimension.
  double predict(const Context& context, ActionId action) const override;

  const Eigen::VectorXd& coefficients() const { return theta_; }  // intercept last
  int iterations() const { return iterations_; }                   // Newton steps of the last fit

 private:
  Config config_;
  int feature_dim_;
  std::vector<double> rows_;  // row-major: feature_dim_ + 1 entries per row (intercept last)
  std::vector<double> targets_;
  Eigen::VectorXd theta_;
  bool fitted_ = false;
  int iterations_ = 0;
};

}  // namespace recloop
