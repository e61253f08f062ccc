// SPDX-License-Identifier: Apache-2.0
// Self-normalised inverse propensity scoring: the weighted mean of logged
// rewards, Σ w r / Σ w. Slightly biased (O(1/n)) but equivariant to shifting
// the reward and bounded by the range of the rewards, which makes it far more
// stable than IPS when weights are large. Not thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

class SnipsEstimator final : public Estimator {
 public:
  // Throws std::invalid_argument, naming the event, on a malformed
  // interaction (see check_logged in evaluation/importance_weight.h).
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  // Σ w r / Σ w with a delta-method standard error (see snips.cc). While every
  // weight seen is zero (the target never chose a logged action) the value is
  // NaN and the standard error infinite.
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "snips"; }

 private:
  std::size_t count_ = 0;
  // Sums of w, w·r, w², w²·r and w²·r²: enough to evaluate the delta
  // method's mean((w(r - V̂))²) for the final V̂ without a second pass. Exact
  // sums, so the estimate does not depend on row order.
  ExactSum sum_w_, sum_wr_, sum_w2_, sum_w2r_, sum_w2r2_;
};

}  // namespace recloop
