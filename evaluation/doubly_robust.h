// SPDX-License-Identifier: Apache-2.0
// The doubly robust estimator: the direct method's value plus an importance-
// weighted correction by the model's residual on the logged action. Unbiased
// when the logging probabilities are right and cover the target's actions,
// whatever the reward model, provided the model was not fit on the log being
// evaluated and no weight is clipped; and the better the model, the smaller the
// variance compared with IPS. Not thread-safe.
#pragma once

#include <limits>
#include <memory>
#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"
#include "evaluation/statistics.h"

namespace recloop {

class DoublyRobustEstimator final : public Estimator {
 public:
  // `model` must not be null, and weights above `max_weight` are clipped to it
  // (> 0; infinity = no clipping); otherwise std::invalid_argument. The model
  // is shared, not copied: it must not change while interactions are added.
  explicit DoublyRobustEstimator(std::shared_ptr<const RewardModel> model,
                                 double max_weight = std::numeric_limits<double>::infinity());

  // Throws std::invalid_argument, naming the event, on a malformed
  // interaction (see check_logged in evaluation/importance_weight.h).
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  // Mean of the per-interaction terms, with the standard error from their
  // sample variance.
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "dr"; }

 private:
  std::shared_ptr<const RewardModel> model_;
  double max_weight_;
  ExactMoments terms_;  // exact sums: the estimate does not depend on row order
};

}  // namespace recloop
