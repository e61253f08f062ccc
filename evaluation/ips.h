// SPDX-License-Identifier: Apache-2.0
// Inverse propensity scoring: reweights each logged reward by how much more
// (or less) often the target would have chosen the logged action. Unbiased
// whenever the logging policy gave every action the target can take a
// positive probability; its variance grows with the weights. Not thread-safe.
#pragma once

#include <limits>
#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"
#include "evaluation/statistics.h"

namespace recloop {

class IpsEstimator final : public Estimator {
 public:
  // Weights above `max_weight` are clipped to it (> 0; infinity = no clipping).
  // Clipping trades bias (towards lower values for non-negative rewards) for
  // variance. Throws std::invalid_argument for max_weight <= 0 or NaN.
  explicit IpsEstimator(double max_weight = std::numeric_limits<double>::infinity());

  // Throws std::invalid_argument, naming the event, on a malformed
  // interaction (see check_logged in evaluation/importance_weight.h).
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  // Mean of the per-interaction terms, with the standard error from their
  // sample variance.
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "ips"; }

 private:
  double max_weight_;
  ExactMoments terms_;  // exact sums: the estimate does not depend on row order
};

}  // namespace recloop
