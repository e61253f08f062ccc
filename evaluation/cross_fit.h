// SPDX-License-Identifier: Apache-2.0
// K-fold cross-fitting of a reward model, and the DR estimator that uses it.
//
// DR is unbiased for any fixed model, but a model fit on the very rows it
// corrects has residuals shrunk towards 0 there, which biases DR towards DM.
// Cross-fitting (Chernozhukov et al. 2018, "Double/debiased machine learning
// for treatment and structural parameters", Econometrics J. 21, Def. 3.1)
// removes this: rows are split into K folds, model k is fit on every fold but
// k, and a row is predicted only by the model that never saw it.
//
// Design: RewardModel::predict(context, action) does not know which row it
// is called for, so the cross-fitted model is not a RewardModel. It offers
// predict_for(row, action), and CrossFitDoublyRobustEstimator calls it. The
// fold of a row is decision_seed(seed, event_id) % K: a function of the event
// id, so folds (and the estimate) do not depend on row order, and a row
// outside the training log still gets a model (one fit without its fold).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

// Fits a reward model on the given rows (pointers into the training log).
using RewardModelFitter =
    std::function<std::shared_ptr<const RewardModel>(std::span<const Interaction* const> rows)>;

class CrossFitRewardModel {
 public:
  struct Config {
    std::size_t folds = 5;   // K, >= 2
    std::uint64_t seed = 0;  // with the event id, fixes each row's fold
  };
  // Fits K models with `fit`, model k on the rows of `log` outside fold k.
  // Throws std::invalid_argument for folds < 2 or a null fitter.
  CrossFitRewardModel(const Config& config, const RewardModelFitter& fit,
                      std::span<const Interaction> log);

  std::size_t fold(const EventId& event_id) const;
  // r̂(row.context, action) from the model not fit on row's fold.
  double predict_for(const Interaction& row, ActionId action) const;
  const RewardModel& model(std::size_t fold) const { return *models_.at(fold); }
  std::size_t folds() const { return models_.size(); }

 private:
  Config config_;
  std::vector<std::shared_ptr<const RewardModel>> models_;
};

// DR (Dudík, Langford & Li 2011, eq. 2) with cross-fitted predictions.
// Sums are exact, so the estimate does not depend on row order. Not thread-safe.
class CrossFitDoublyRobustEstimator final : public Estimator {
 public:
  // `model` must not be null (std::invalid_argument).
  explicit CrossFitDoublyRobustEstimator(std::shared_ptr<const CrossFitRewardModel> model);
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "dr_cross_fit"; }

 private:
  std::shared_ptr<const CrossFitRewardModel> model_;
  ExactMoments terms_;
};

}  // namespace recloop
