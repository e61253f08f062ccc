// SPDX-License-Identifier: Apache-2.0
// The direct method: the value of the target under a reward model, averaged
// over the logged contexts. It ignores the logged actions and rewards, so its
// accuracy is the reward model's: low variance, but biased whenever the model
// is. Not thread-safe.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"
#include "evaluation/statistics.h"

namespace recloop {

class DirectMethodEstimator final : public Estimator {
 public:
  // `model` must not be null (std::invalid_argument). It is shared, not
  // copied: it must not change while interactions are being added.
  explicit DirectMethodEstimator(std::shared_ptr<const RewardModel> model);

  // Throws std::invalid_argument, naming the event, on a malformed
  // interaction (see check_logged in evaluation/importance_weight.h).
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  // Mean of Σ_a π(a|x) r̂(x, a) over the contexts. The standard error reflects
  // only the variation between contexts: it does not include the reward
  // model's own error, so the interval is too narrow unless the model is exact.
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "dm"; }

 private:
  std::shared_ptr<const RewardModel> model_;
  ExactMoments terms_;  // exact sums: the estimate does not depend on row order
};

}  // namespace recloop
