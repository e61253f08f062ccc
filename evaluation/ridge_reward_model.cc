// SPDX-License-Identifier: Apache-2.0
#include "evaluation/ridge_reward_model.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/check.h"

namespace recloop {

RidgeRewardModel::RidgeRewardModel(const Config& config, int feature_dim)
    : config_(config), feature_dim_(feature_dim) {
  if (!(config.lambda > 0.0) || std::isinf(config.lambda)) {
    throw std::invalid_argument("ridge reward model: lambda = " + std::to_string(config.lambda) +
                                " must be finite and > 0");
  }
  if (config.min_item_observations < 1) {
    throw std::invalid_argument("ridge reward model: min_item_observations must be >= 1");
  }
  if (feature_dim < 1) {
    throw std::invalid_argument("ridge reward model: feature_dim = " +
                                std::to_string(feature_dim) + " must be >= 1");
  }
  x_.resize(feature_dim_ + 1);
  pooled_ = make_ridge();
}

RidgeRewardModel::Ridge RidgeRewardModel::make_ridge() const {
  Ridge ridge;
  ridge.xtx = Eigen::MatrixXd::Zero(feature_dim_ + 1, feature_dim_ + 1);
  ridge.xty = Eigen::VectorXd::Zero(feature_dim_ + 1);
  return ridge;
}

void RidgeRewardModel::add(const Interaction& interaction) {
  const Context& context = interaction.context;
  if (interaction.action >= context.size() || context.feature_dim() != feature_dim_ ||
      !std::isfinite(interaction.reward)) {
    std::ostringstream message;
    message << "ridge reward model: event '" << interaction.event_id << "': action "
            << interaction.action << " of " << context.size() << " candidates, feature_dim "
            << context.feature_dim() << " (model: " << feature_dim_ << "), reward "
            << interaction.reward;
    throw std::invalid_argument(message.str());
  }
  joint_features(context, interaction.action, x_.head(feature_dim_));
  x_[feature_dim_] = 1.0;
  const double y = interaction.reward;
  auto accumulate = [&](Ridge& ridge) {
    // Only the lower triangle is read by LDLT; selfadjointView's rank update
    // halves the work of the full outer product.
    ridge.xtx.selfadjointView<Eigen::Lower>().rankUpdate(x_);
    ridge.xty.noalias() += y * x_;
    ++ridge.count;
  };
  accumulate(pooled_);
  auto [it, inserted] = items_.try_emplace(context.items[interaction.action]);
  if (inserted) it->second = make_ridge();
  accumulate(it->second);
}

void RidgeRewardModel::solve(Ridge& ridge) const {
  if (ridge.count == 0) {
    ridge.theta = Eigen::VectorXd::Zero(feature_dim_ + 1);
    return;
  }
  // Ridge regression (Hoerl & Kennard 1970, Technometrics 12(1)):
  //   θ̂ = (X'X + λ D)⁻¹ X'y,  D = diag(1, ..., 1, 0),
  // leaving the intercept (last coordinate) unpenalised so that shrinkage pulls
  // the prediction towards the mean reward rather than towards 0. X'X + λD is
  // positive definite once there is one row (the intercept column is all ones),
  // so LDLT (Eigen's robust Cholesky) solves it.
  Eigen::MatrixXd a = ridge.xtx;
  a.diagonal().head(feature_dim_).array() += config_.lambda;
  Eigen::LDLT<Eigen::MatrixXd, Eigen::Lower> ldlt(a);  // reads the lower triangle only
  RECLOOP_CHECK(ldlt.info() == Eigen::Success, "ridge normal equations are not positive definite");
  ridge.theta = ldlt.solve(ridge.xty);
}

void RidgeRewardModel::fit() {
  solve(pooled_);
  for (auto& [item, ridge] : items_) {
    if (ridge.count >= config_.min_item_observations) {
      solve(ridge);
    } else {
      ridge.theta.resize(0);
    }
  }
  fitted_ = true;
}

double RidgeRewardModel::predict_with(const Eigen::VectorXd& theta, const Context& context,
                                      ActionId action) const {
  // θ'[user; item features; 1], read in place: no temporary feature vector.
  const auto user_dim = context.user.size();
  return theta.head(user_dim).dot(context.user) +
         theta.segment(user_dim, context.actions.rows()).dot(context.actions.col(action)) +
         theta[feature_dim_];
}

double RidgeRewardModel::predict(const Context& context, ActionId action) const {
  RECLOOP_CHECK(fitted_, "RidgeRewardModel::predict called before fit()");
  RECLOOP_CHECK(context.feature_dim() == feature_dim_,
                "context feature_dim " + std::to_string(context.feature_dim()) +
                    " differs from the model's " + std::to_string(feature_dim_));
  RECLOOP_CHECK(action < context.size(), "action is not a candidate of the context");
  const auto it = items_.find(context.items[action]);
  if (it != items_.end() && it->second.theta.size() != 0) {
    return predict_with(it->second.theta, context, action);
  }
  return predict_with(pooled_.theta, context, action);
}

std::size_t RidgeRewardModel::observations(ItemId item) const {
  const auto it = items_.find(item);
  return it == items_.end() ? 0 : it->second.count;
}

bool RidgeRewardModel::has_item_model(ItemId item) const {
  const auto it = items_.find(item);
  return it != items_.end() && it->second.theta.size() != 0;
}

}  // namespace recloop
