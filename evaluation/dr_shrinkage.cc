// SPDX-License-Identifier: Apache-2.0
#include "evaluation/dr_shrinkage.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "evaluation/dr_terms.h"

namespace recloop {

DrShrinkageEstimator::DrShrinkageEstimator(std::shared_ptr<const RewardModel> model,
                                           const Config& config)
    : model_(std::move(model)), config_(config) {
  if (!model_) throw std::invalid_argument("dros: the reward model must not be null");
  if (!(config.lambda >= 0.0)) {
    throw std::invalid_argument("dros: lambda = " + std::to_string(config.lambda) +
                                " must be >= 0");
  }
}

double DrShrinkageEstimator::shrink(double weight, double lambda) {
  // Su, Dimakopoulou, Krishnamurthy & Dudík 2020, "Doubly robust off-policy
  // evaluation with shrinkage" (ICML), Sec. 4, optimistic shrinkage:
  //   ŵ_λ = λ w / (w² + λ),
  // the weight minimising a bound on the MSE when the model's error is taken
  // optimistically small. As λ → ∞, ŵ → w.
  if (std::isinf(lambda)) return weight;
  if (weight == 0.0) return 0.0;
  return lambda * weight / (weight * weight + lambda);
}

void DrShrinkageEstimator::add(const Interaction& logged, std::span<const double> target_pmf) {
  const DrTerms t = dr_terms(*model_, logged, target_pmf);
  // term_i = Σ_a π(a|x_i) r̂(x_i, a) + ŵ_λ(w_i) (r_i - r̂(x_i, a_i)).
  terms_.add(t.direct + shrink(t.weight, config_.lambda) * t.residual);
}

Estimate DrShrinkageEstimator::estimate(double alpha) const {
  return mean_estimate(terms_, alpha);
}

}  // namespace recloop
