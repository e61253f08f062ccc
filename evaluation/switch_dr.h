// SPDX-License-Identifier: Apache-2.0
// Switch-DR: doubly robust where the importance weight is moderate, the
// direct method alone where it exceeds a threshold τ. Large weights are where
// IPS and DR get their variance; switching them off trades that variance for
// the model's bias on those events. τ = infinity is DR, τ = 0 is DM (for
// actions whose weight is positive). Sums are exact (evaluation/exact_sum.h),
// so the estimate does not depend on the order of add() calls. Not thread-safe.
#pragma once

#include <limits>
#include <memory>
#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

class SwitchDrEstimator final : public Estimator {
 public:
  struct Config {
    // Weights above tau fall back to the direct method, >= 0; infinity = plain DR.
    double tau = std::numeric_limits<double>::infinity();
  };
  // `model` must not be null and tau must be >= 0 (not NaN): std::invalid_argument.
  // The model is shared and must not change while interactions are added.
  SwitchDrEstimator(std::shared_ptr<const RewardModel> model, const Config& config);

  // Throws std::invalid_argument naming the event on a malformed interaction.
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  // Mean of the per-interaction terms with the standard error from their sample variance.
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "switch_dr"; }

  // Interactions whose weight exceeded tau (the correction was switched off).
  std::size_t switched() const { return switched_; }

 private:
  std::shared_ptr<const RewardModel> model_;
  Config config_;
  ExactMoments terms_;
  std::size_t switched_ = 0;
};

}  // namespace recloop
