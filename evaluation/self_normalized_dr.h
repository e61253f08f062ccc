// SPDX-License-Identifier: Apache-2.0
// Self-normalised doubly robust: the direct method's value plus the weighted
// mean of the model's residuals, Σ w (r - r̂) / Σ w, instead of their plain
// importance-weighted average. Like SNIPS it is slightly biased (O(1/n)) but
// the correction is bounded by the range of the residuals. Sums are exact, so
// the estimate does not depend on the order of add() calls. Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

class SelfNormalizedDrEstimator final : public Estimator {
 public:
  // `model` must not be null (std::invalid_argument); shared, must not change
  // while interactions are added.
  explicit SelfNormalizedDrEstimator(std::shared_ptr<const RewardModel> model);

  // Throws std::invalid_argument naming the event on a malformed interaction.
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  // Value with a delta-method standard error (see the source). While every
  // weight is zero the correction is taken as 0 (the value is the DM value).
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "sndr"; }

 private:
  std::shared_ptr<const RewardModel> model_;
  std::size_t count_ = 0;
  // Σ of d, d², w, w², g, g², g·w, d·g, d·w with d the direct term, w the
  // weight and g = w·(r - r̂): what the delta method needs, in one pass.
  std::array<ExactSum, 9> sums_;
};

}  // namespace recloop
