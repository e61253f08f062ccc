// SPDX-License-Identifier: Apache-2.0
#include "evaluation/logistic_reward_model.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/check.h"

namespace recloop {
namespace {

double sigmoid(double z) {
  return z >= 0.0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
}

}  // namespace

LogisticRewardModel::LogisticRewardModel(const Config& config, int feature_dim)
    : config_(config), feature_dim_(feature_dim) {
  if (!(config.lambda > 0.0) || std::isinf(config.lambda)) {
    throw std::invalid_argument("logistic reward model: lambda = " +
                                std::to_string(config.lambda) + " must be finite and > 0");
  }
  if (config.max_iterations < 1) {
    throw std::invalid_argument("logistic reward model: max_iterations must be >= 1");
  }
  if (!(config.tolerance > 0.0)) {
    throw std::invalid_argument("logistic reward model: tolerance must be > 0");
  }
  if (feature_dim < 1) {
    throw std::invalid_argument("logistic reward model: feature_dim = " +
                                std::to_string(feature_dim) + " must be >= 1");
  }
  theta_ = Eigen::VectorXd::Zero(feature_dim_ + 1);
}

void LogisticRewardModel::add(const Interaction& interaction) {
  const Context& context = interaction.context;
  if (interaction.action >= context.size() || context.feature_dim() != feature_dim_ ||
      !(interaction.reward >= 0.0 && interaction.reward <= 1.0)) {
    std::ostringstream message;
    message << "logistic reward model: event '" << interaction.event_id << "': action "
            << interaction.action << " of " << context.size() << " candidates, feature_dim "
            << context.feature_dim() << " (model: " << feature_dim_ << "), reward "
            << interaction.reward << " (must be in [0, 1])";
    throw std::invalid_argument(message.str());
  }
  const std::size_t start = rows_.size();
  rows_.resize(start + feature_dim_ + 1);
  Eigen::Map<Eigen::VectorXd> x(rows_.data() + start, feature_dim_ + 1);
  joint_features(context, interaction.action, x.head(feature_dim_));
  x[feature_dim_] = 1.0;
  targets_.push_back(interaction.reward);
}

void LogisticRewardModel::fit() {
  const int d = feature_dim_ + 1;
  const auto n = static_cast<Eigen::Index>(targets_.size());
  theta_ = Eigen::VectorXd::Zero(d);
  iterations_ = 0;
  fitted_ = true;
  if (n == 0) return;
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>
      x(rows_.data(), n, d);
  const Eigen::Map<const Eigen::VectorXd> y(targets_.data(), n);
  Eigen::VectorXd penalty = Eigen::VectorXd::Constant(d, config_.lambda);
  penalty[d - 1] = 0.0;  // the intercept is not shrunk
  // Newton's method on the penalised log-likelihood (IRLS; McCullagh & Nelder
  // 1989, "Generalized linear models", Sec. 4.4; ridge as in le Cessie & van
  // Houwelingen 1992, Appl. Statist. 41(1)):
  //   g = X'(p - y) + λ D θ,  H = X' diag(p(1-p)) X + λ D,  θ ← θ - H⁻¹ g.
  // The loss is strictly convex (λ > 0 on all but the intercept, and the
  // intercept's curvature Σ p(1-p) > 0), so Newton converges from θ = 0.
  for (int it = 0; it < config_.max_iterations; ++it) {
    const Eigen::VectorXd z = x * theta_;
    const Eigen::VectorXd p = z.unaryExpr([](double v) { return sigmoid(v); });
    const Eigen::VectorXd s = (p.array() * (1.0 - p.array())).max(1e-12).matrix();
    Eigen::VectorXd gradient = x.transpose() * (p - y);
    gradient.array() += penalty.array() * theta_.array();
    Eigen::MatrixXd hessian = x.transpose() * s.asDiagonal() * x;
    hessian.diagonal() += penalty;
    const Eigen::LDLT<Eigen::MatrixXd> ldlt(hessian);
    RECLOOP_CHECK(ldlt.info() == Eigen::Success, "logistic Hessian is not positive definite");
    const Eigen::VectorXd step = ldlt.solve(gradient);
    theta_ -= step;
    iterations_ = it + 1;
    if (step.cwiseAbs().maxCoeff() < config_.tolerance) break;
  }
}

double LogisticRewardModel::predict(const Context& context, ActionId action) const {
  RECLOOP_CHECK(fitted_, "LogisticRewardModel::predict called before fit()");
  RECLOOP_CHECK(context.feature_dim() == feature_dim_,
                "context feature_dim " + std::to_string(context.feature_dim()) +
                    " differs from the model's " + std::to_string(feature_dim_));
  RECLOOP_CHECK(action < context.size(), "action is not a candidate of the context");
  const auto user_dim = context.user.size();
  const double z = theta_.head(user_dim).dot(context.user) +
                   theta_.segment(user_dim, context.actions.rows()).dot(context.actions.col(action)) +
                   theta_[feature_dim_];
  return sigmoid(z);
}

}  // namespace recloop
