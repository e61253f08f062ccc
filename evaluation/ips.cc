// SPDX-License-Identifier: Apache-2.0
#include "evaluation/ips.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "evaluation/importance_weight.h"

namespace recloop {

IpsEstimator::IpsEstimator(double max_weight) : max_weight_(max_weight) {
  if (!(max_weight > 0.0)) {
    throw std::invalid_argument("ips: max_weight = " + std::to_string(max_weight) +
                                " must be > 0");
  }
}

void IpsEstimator::add(const Interaction& logged, std::span<const double> target_pmf) {
  check_logged(logged, target_pmf);
  // Horvitz & Thompson 1952 (JASA 47(260)), as applied to contextual bandits in
  // Dudík, Langford & Li 2011, Sec. 2: V̂_IPS = (1/n) Σ_i w_i r_i with
  // w_i = π(a_i|x_i) / μ(a_i|x_i). Clipping replaces w_i by min(w_i, max_weight)
  // (Bottou et al. 2013, "Counterfactual reasoning and learning systems", JMLR 14).
  const double weight = std::min(importance_weight(logged, target_pmf), max_weight_);
  terms_.add(weight * logged.reward);
}

Estimate IpsEstimator::estimate(double alpha) const {
  // The terms are i.i.d. given i.i.d. requests, so the SE is sd(terms)/sqrt(n).
  return mean_estimate(terms_, alpha);
}

}  // namespace recloop
