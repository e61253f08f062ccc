// SPDX-License-Identifier: Apache-2.0
// DRos: doubly robust with optimistic shrinkage of the importance weights.
// Each weight w becomes λw/(w² + λ), which is close to w for small weights
// and decays like λ/w for large ones, so no single event dominates. λ =
// infinity is plain DR, λ = 0 the direct method. Sums are exact, so the
// estimate does not depend on the order of add() calls. Not thread-safe.
#pragma once

#include <limits>
#include <memory>
#include <span>
#include <string_view>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

class DrShrinkageEstimator final : public Estimator {
 public:
  struct Config {
    // Shrinkage strength, >= 0; infinity = no shrinkage (plain DR), 0 = DM.
    double lambda = std::numeric_limits<double>::infinity();
  };
  // `model` must not be null and lambda must be >= 0 (not NaN): std::invalid_argument.
  DrShrinkageEstimator(std::shared_ptr<const RewardModel> model, const Config& config);

  // Throws std::invalid_argument naming the event on a malformed interaction.
  void add(const Interaction& logged, std::span<const double> target_pmf) override;
  // Mean of the per-interaction terms with the standard error from their sample variance.
  Estimate estimate(double alpha = 0.05) const override;
  std::string_view name() const override { return "dros"; }

  // The shrunk weight λw/(w² + λ) (w itself for λ = infinity).
  static double shrink(double weight, double lambda);

 private:
  std::shared_ptr<const RewardModel> model_;
  Config config_;
  ExactMoments terms_;
};

}  // namespace recloop
