// SPDX-License-Identifier: Apache-2.0
#include "evaluation/doubly_robust.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "evaluation/importance_weight.h"

namespace recloop {

DoublyRobustEstimator::DoublyRobustEstimator(std::shared_ptr<const RewardModel> model,
                                             double max_weight)
    : model_(std::move(model)), max_weight_(max_weight) {
  if (!model_) throw std::invalid_argument("dr: the reward model must not be null");
  if (!(max_weight > 0.0)) {
    throw std::invalid_argument("dr: max_weight = " + std::to_string(max_weight) +
                                " must be > 0");
  }
}

void DoublyRobustEstimator::add(const Interaction& logged, std::span<const double> target_pmf) {
  check_logged(logged, target_pmf);
  // Dudík, Langford & Li 2011, eq. 2, for a stochastic target:
  //   term_i = Σ_a π(a|x_i) r̂(x_i, a) + w_i (r_i - r̂(x_i, a_i)),  w_i = π(a_i|x_i)/μ(a_i|x_i).
  // The first part is the direct method; the correction has mean zero given x_i
  // when r̂ is exact, and otherwise removes the model's bias in expectation.
  double direct = 0.0;
  double logged_prediction = 0.0;
  bool logged_predicted = false;
  for (ActionId a = 0; a < target_pmf.size(); ++a) {
    if (target_pmf[a] == 0.0) continue;
    const double prediction = model_->predict(logged.context, a);
    direct += target_pmf[a] * prediction;
    if (a == logged.action) {
      logged_prediction = prediction;
      logged_predicted = true;
    }
  }
  // The correction needs r̂ of the logged action only when its weight is
  // non-zero, i.e. exactly when the loop above has already computed it.
  double correction = 0.0;
  if (logged_predicted) {
    const double weight = std::min(importance_weight(logged, target_pmf), max_weight_);
    correction = weight * (logged.reward - logged_prediction);
  }
  terms_.add(direct + correction);
}

Estimate DoublyRobustEstimator::estimate(double alpha) const {
  return mean_estimate(terms_, alpha);
}

}  // namespace recloop
