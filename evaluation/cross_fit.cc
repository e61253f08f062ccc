// SPDX-License-Identifier: Apache-2.0
#include "evaluation/cross_fit.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "core/check.h"
#include "core/rng.h"
#include "evaluation/dr_terms.h"

namespace recloop {

CrossFitRewardModel::CrossFitRewardModel(const Config& config, const RewardModelFitter& fit,
                                         std::span<const Interaction> log)
    : config_(config) {
  if (config.folds < 2) {
    throw std::invalid_argument("cross-fitting: folds = " + std::to_string(config.folds) +
                                " must be >= 2");
  }
  if (!fit) throw std::invalid_argument("cross-fitting: the fitter must not be empty");
  std::vector<std::size_t> row_fold(log.size());
  for (std::size_t i = 0; i < log.size(); ++i) row_fold[i] = fold(log[i].event_id);
  std::vector<const Interaction*> training;
  training.reserve(log.size());
  for (std::size_t k = 0; k < config.folds; ++k) {
    training.clear();
    for (std::size_t i = 0; i < log.size(); ++i) {
      if (row_fold[i] != k) training.push_back(&log[i]);
    }
    auto model = fit(training);
    RECLOOP_CHECK(model != nullptr, "cross-fitting: the fitter returned no model");
    models_.push_back(std::move(model));
  }
}

std::size_t CrossFitRewardModel::fold(const EventId& event_id) const {
  return static_cast<std::size_t>(decision_seed(config_.seed, event_id) % config_.folds);
}

double CrossFitRewardModel::predict_for(const Interaction& row, ActionId action) const {
  return models_[fold(row.event_id)]->predict(row.context, action);
}

CrossFitDoublyRobustEstimator::CrossFitDoublyRobustEstimator(
    std::shared_ptr<const CrossFitRewardModel> model)
    : model_(std::move(model)) {
  if (!model_) throw std::invalid_argument("dr_cross_fit: the model must not be null");
}

void CrossFitDoublyRobustEstimator::add(const Interaction& logged,
                                        std::span<const double> target_pmf) {
  // The row's fold model, looked up once, predicts every action of the row.
  const RewardModel& fold_model = model_->model(model_->fold(logged.event_id));
  const DrTerms t = dr_terms_with(
      [&](ActionId a) { return fold_model.predict(logged.context, a); }, logged, target_pmf);
  terms_.add(t.direct + t.weight * t.residual);
}

Estimate CrossFitDoublyRobustEstimator::estimate(double alpha) const {
  return mean_estimate(terms_, alpha);
}

}  // namespace recloop
