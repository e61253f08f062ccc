// SPDX-License-Identifier: Apache-2.0
#include "evaluation/fitted_q.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/statistics.h"

namespace recloop {
namespace {

constexpr Eigen::Index kBlockRows = 512;  // rows per block of the normal equations' products

std::string where(const std::vector<Trajectory>& trajectories, std::size_t i, std::size_t t) {
  // An unnamed session is named by its index: "#i".
  std::string session = trajectories[i].session;
  if (session.empty()) session.append("#").append(std::to_string(i));
  return "fitted Q evaluation: session '" + session + "' step " + std::to_string(t);
}

// phi(s, a) with x_a replaced by `x` (the layout of StateActionFeatures:
// [1; u; x; vec(x u')], column j of x u' at 1 + U + A + j A).
void write_features(const Eigen::VectorXd& u, const Eigen::Ref<const Eigen::VectorXd>& x,
                    Eigen::Ref<Eigen::RowVectorXd, 0, Eigen::InnerStride<>> out) {
  const Eigen::Index U = u.size(), A = x.size();
  out[0] = 1.0;
  out.segment(1, U) = u.transpose();
  out.segment(1 + U, A) = x.transpose();
  for (Eigen::Index j = 0; j < U; ++j) out.segment(1 + U + A + j * A, A) = u[j] * x.transpose();
}

// The sufficient statistics of one fit: X'X + λD, X'X̄', X'r and the sum of
// the first states' expected features, each row counted counts[i] times.
struct NormalEquations {
  Eigen::MatrixXd gram, cross;
  Eigen::VectorXd rewards, start;
  double starts = 0.0;  // Σ counts over trajectories with a first step
  std::size_t rows = 0;
};

NormalEquations accumulate(const std::vector<Trajectory>& trajectories, const TargetPmfs& target_pmfs,
                           const StateActionFeatures& features, const std::vector<double>& counts,
                           double lambda) {
  const Eigen::Index d = features.dim();
  NormalEquations eq;
  eq.gram.setZero(d, d);
  eq.cross.setZero(d, d);
  eq.rewards.setZero(d);
  eq.start.setZero(d);
  Eigen::MatrixXd X(kBlockRows, d), next(kBlockRows, d);
  Eigen::VectorXd r(kBlockRows), c(kBlockRows);
  Eigen::VectorXd x_row(d);
  Eigen::RowVectorXd expected(d);
  Eigen::Index filled = 0;
  const auto flush = [&] {
    if (filled == 0) return;
    // X' diag(c) X as the symmetric rank update of sqrt(c) X (half the
    // flops of a general product; only the lower triangle is accumulated).
    const Eigen::VectorXd root = c.head(filled).cwiseSqrt();
    const Eigen::MatrixXd scaled = root.asDiagonal() * X.topRows(filled);
    eq.gram.selfadjointView<Eigen::Lower>().rankUpdate(scaled.transpose());
    eq.cross.noalias() += scaled.transpose() * (root.asDiagonal() * next.topRows(filled));
    eq.rewards.noalias() += scaled.transpose() * (root.cwiseProduct(r.head(filled)));
    filled = 0;
  };
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    const double count = counts[i];
    const auto& steps = trajectories[i].steps;
    if (count == 0.0 || steps.empty()) continue;
    {
      const Context& s0 = steps[0].context;
      const auto& pmf = target_pmfs[i][0];
      const Eigen::VectorXd x_bar =
          s0.actions * Eigen::Map<const Eigen::VectorXd>(pmf.data(), static_cast<Eigen::Index>(pmf.size()));
      write_features(s0.user, x_bar, expected);
      eq.start += count * expected.transpose();
      eq.starts += count;
    }
    for (std::size_t t = 0; t < steps.size(); ++t) {
      const bool last = t + 1 == steps.size();
      if (last && !trajectories[i].terminated) break;  // no observed successor
      features.write(steps[t].context, steps[t].action, x_row);
      X.row(filled) = x_row.transpose();
      if (last) {
        next.row(filled).setZero();
      } else {
        const Context& successor = steps[t + 1].context;
        const auto& pmf = target_pmfs[i][t + 1];
        const Eigen::VectorXd x_bar =
            successor.actions *
            Eigen::Map<const Eigen::VectorXd>(pmf.data(), static_cast<Eigen::Index>(pmf.size()));
        write_features(successor.user, x_bar, next.row(filled));
      }
      r[filled] = steps[t].reward;
      c[filled] = count;
      ++eq.rows;
      if (++filled == kBlockRows) flush();
    }
  }
  flush();
  eq.gram.triangularView<Eigen::StrictlyUpper>() = eq.gram.transpose();
  eq.gram.diagonal().tail(d - 1).array() += lambda;
  return eq;
}

// K iterations of θ <- (X'X + λD)^{-1} (X'r + γ X'X̄' θ) from θ = 0.
Eigen::VectorXd iterate(const NormalEquations& eq, const FittedQConfig& config, double* last_change) {
  const Eigen::LDLT<Eigen::MatrixXd> solver(eq.gram);
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(eq.gram.rows());
  double change = 0.0;
  for (int k = 0; k < config.iterations; ++k) {
    Eigen::VectorXd updated = solver.solve(eq.rewards + config.gamma * (eq.cross * theta));
    change = (updated - theta).cwiseAbs().maxCoeff();
    theta = std::move(updated);
  }
  if (last_change != nullptr) *last_change = change;
  return theta;
}

double start_value(const NormalEquations& eq, const Eigen::VectorXd& theta) {
  return eq.starts > 0.0 ? eq.start.dot(theta) / eq.starts : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

LinearActionValueModel::LinearActionValueModel(int user_dim, int action_dim, Eigen::VectorXd theta)
    : features_(user_dim, action_dim), theta_(std::move(theta)) {
  if (theta_.size() != features_.dim()) {
    throw std::invalid_argument("linear action-value model: theta has " +
                                std::to_string(theta_.size()) + " weights, phi has " +
                                std::to_string(features_.dim()));
  }
}

void LinearActionValueModel::values(const Context& state, std::span<double> out) const {
  const Eigen::Index U = features_.user_dim(), A = features_.action_dim();
  assert(state.user.size() == U && state.actions.rows() == A);
  assert(out.size() == state.size());
  // phi(s, a)'θ = θ_0 + θ_u'u + x_a'(θ_x + Θ u), Θ the A x U block of vec(x u').
  const Eigen::Map<const Eigen::MatrixXd> outer(theta_.data() + 1 + U + A, A, U);
  const Eigen::VectorXd item_weights = theta_.segment(1 + U, A) + outer * state.user;
  const double shared = theta_[0] + theta_.segment(1, U).dot(state.user);
  Eigen::Map<Eigen::VectorXd>(out.data(), static_cast<Eigen::Index>(out.size())) =
      (state.actions.transpose() * item_weights).array() + shared;
}

double LinearActionValueModel::value(const Context& state, ActionId action) const {
  return features_(state, action).dot(theta_);
}

namespace {

// Checks the configuration and the trajectories; returns the feature map of
// the first step's dimensions.
StateActionFeatures check_input(const std::vector<Trajectory>& trajectories,
                                const TargetPmfs& target_pmfs, const FittedQConfig& config) {
  if (config.iterations < 1) {
    throw std::invalid_argument("fitted Q evaluation: iterations = " +
                                std::to_string(config.iterations) + " must be >= 1");
  }
  if (!(config.lambda > 0.0 && std::isfinite(config.lambda))) {
    throw std::invalid_argument("fitted Q evaluation: lambda = " + std::to_string(config.lambda) +
                                " must be > 0");
  }
  if (!(config.gamma >= 0.0 && config.gamma <= 1.0)) {
    throw std::invalid_argument("fitted Q evaluation: gamma = " + std::to_string(config.gamma) +
                                " must lie in [0, 1]");
  }
  if (!(config.alpha > 0.0 && config.alpha < 1.0)) {
    throw std::invalid_argument("fitted Q evaluation: alpha = " + std::to_string(config.alpha) +
                                " must lie in (0, 1)");
  }
  if (config.bootstrap_replicates == 1) {
    throw std::invalid_argument("fitted Q evaluation: bootstrap_replicates = 1 must be 0 or >= 2");
  }
  check_trajectories(trajectories, target_pmfs, false);
  const Context* first = nullptr;
  for (const auto& trajectory : trajectories) {
    if (!trajectory.steps.empty()) {
      first = &trajectory.steps.front().context;
      break;
    }
  }
  if (first == nullptr) throw std::invalid_argument("fitted Q evaluation: no steps to fit");
  const auto user_dim = static_cast<int>(first->user.size());
  const auto action_dim = static_cast<int>(first->actions.rows());
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    for (std::size_t t = 0; t < trajectories[i].steps.size(); ++t) {
      const Context& context = trajectories[i].steps[t].context;
      if (context.user.size() != user_dim || context.actions.rows() != action_dim) {
        throw std::invalid_argument(where(trajectories, i, t) + ": state has " +
                                    std::to_string(context.user.size()) + " user and " +
                                    std::to_string(context.actions.rows()) +
                                    " item features, the first step " + std::to_string(user_dim) +
                                    " and " + std::to_string(action_dim));
      }
    }
  }
  return StateActionFeatures(user_dim, action_dim);
}

}  // namespace

FittedQResult fitted_q_evaluation(const std::vector<Trajectory>& trajectories,
                                  const TargetPmfs& target_pmfs, const FittedQConfig& config) {
  const StateActionFeatures features = check_input(trajectories, target_pmfs, config);
  const int user_dim = features.user_dim(), action_dim = features.action_dim();
  const std::vector<double> ones(trajectories.size(), 1.0);
  const NormalEquations eq = accumulate(trajectories, target_pmfs, features, ones, config.lambda);
  double last_change = 0.0;
  Eigen::VectorXd theta = iterate(eq, config, &last_change);
  const double value = start_value(eq, theta);

  SequentialEstimate estimate;
  estimate.trajectories = trajectories.size();
  estimate.transitions = transition_count(trajectories);
  for (const auto& trajectory : trajectories) {
    if (!trajectory.terminated) ++estimate.truncated_trajectories;
  }
  estimate.value = value;
  estimate.std_error = std::numeric_limits<double>::infinity();
  if (config.bootstrap_replicates >= 2) {
    // Efron 1979: refit on trajectories resampled with replacement.
    Rng rng(config.seed);
    RunningMoments replicates;
    std::vector<double> counts(trajectories.size());
    for (std::size_t b = 0; b < config.bootstrap_replicates; ++b) {
      std::fill(counts.begin(), counts.end(), 0.0);
      for (std::size_t k = 0; k < counts.size(); ++k) counts[uniform_index(rng, counts.size())] += 1.0;
      const NormalEquations resampled =
          accumulate(trajectories, target_pmfs, features, counts, config.lambda);
      replicates.add(start_value(resampled, iterate(resampled, config, nullptr)));
    }
    estimate.std_error = std::sqrt(replicates.sample_variance());
  }
  const Estimate interval = normal_interval(value, estimate.std_error, trajectories.size(), config.alpha);
  estimate.lower = interval.lower;
  estimate.upper = interval.upper;

  FittedQResult result{LinearActionValueModel(user_dim, action_dim, std::move(theta)), estimate,
                       eq.rows, last_change};
  return result;
}

CrossFittedQ cross_fitted_q_evaluation(const std::vector<Trajectory>& trajectories,
                                       const TargetPmfs& target_pmfs, const FittedQConfig& config,
                                       std::size_t folds) {
  if (folds < 2 || folds > trajectories.size()) {
    throw std::invalid_argument("fitted Q evaluation: " + std::to_string(folds) +
                                " folds for " + std::to_string(trajectories.size()) +
                                " trajectories (need 2 <= folds <= trajectories)");
  }
  const StateActionFeatures features = check_input(trajectories, target_pmfs, config);
  CrossFittedQ out;
  std::vector<double> counts(trajectories.size());
  for (std::size_t k = 0; k < folds; ++k) {
    // Fold k's model: every trajectory outside fold k, counted once.
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = i % folds == k ? 0.0 : 1.0;
    const NormalEquations eq = accumulate(trajectories, target_pmfs, features, counts, config.lambda);
    out.fold_models.push_back(std::make_shared<const LinearActionValueModel>(
        features.user_dim(), features.action_dim(), iterate(eq, config, nullptr)));
  }
  out.models.resize(trajectories.size());
  for (std::size_t i = 0; i < trajectories.size(); ++i) out.models[i] = out.fold_models[i % folds].get();
  return out;
}

}  // namespace recloop
