// SPDX-License-Identifier: Apache-2.0
#include "evaluation/direct_method.h"

#include <stdexcept>
#include <utility>

#include "evaluation/importance_weight.h"

namespace recloop {

DirectMethodEstimator::DirectMethodEstimator(std::shared_ptr<const RewardModel> model)
    : model_(std::move(model)) {
  if (!model_) throw std::invalid_argument("dm: the reward model must not be null");
}

void DirectMethodEstimator::add(const Interaction& logged, std::span<const double> target_pmf) {
  check_logged(logged, target_pmf);
  // Direct method, Dudík, Langford & Li 2011, Sec. 2: V̂_DM = (1/n) Σ_i r̂(x_i, π(x_i)),
  // in its form for a stochastic target: term_i = Σ_a π(a|x_i) r̂(x_i, a).
  // Candidates the target never picks are skipped: their model call is wasted work.
  double term = 0.0;
  for (ActionId a = 0; a < target_pmf.size(); ++a) {
    if (target_pmf[a] != 0.0) term += target_pmf[a] * model_->predict(logged.context, a);
  }
  terms_.add(term);
}

Estimate DirectMethodEstimator::estimate(double alpha) const {
  return mean_estimate(terms_, alpha);
}

}  // namespace recloop
