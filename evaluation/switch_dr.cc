// SPDX-License-Identifier: Apache-2.0
#include "evaluation/switch_dr.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "evaluation/dr_terms.h"

namespace recloop {

SwitchDrEstimator::SwitchDrEstimator(std::shared_ptr<const RewardModel> model,
                                     const Config& config)
    : model_(std::move(model)), config_(config) {
  if (!model_) throw std::invalid_argument("switch_dr: the reward model must not be null");
  if (!(config.tau >= 0.0)) {
    throw std::invalid_argument("switch_dr: tau = " + std::to_string(config.tau) +
                                " must be >= 0");
  }
}

void SwitchDrEstimator::add(const Interaction& logged, std::span<const double> target_pmf) {
  const DrTerms t = dr_terms(*model_, logged, target_pmf);
  // Wang, Agarwal & Dudík 2017, "Optimal and adaptive off-policy evaluation in
  // contextual bandits" (ICML), Sec. 4, SWITCH with DR in place of IPS on the
  // small-weight region:
  //   term_i = Σ_a π(a|x_i) r̂(x_i, a) + 1{w_i <= τ} · w_i (r_i - r̂(x_i, a_i)).
  // Where w_i > τ only the model speaks for the logged action.
  double term = t.direct;
  if (t.weight <= config_.tau) {
    term += t.weight * t.residual;
  } else {
    ++switched_;
  }
  terms_.add(term);
}

Estimate SwitchDrEstimator::estimate(double alpha) const { return mean_estimate(terms_, alpha); }

}  // namespace recloop
