// SPDX-License-Identifier: Apache-2.0
#include "evaluation/naive.h"

#include "evaluation/importance_weight.h"

namespace recloop {

void NaiveEstimator::add(const Interaction& logged, std::span<const double> target_pmf) {
  check_logged(logged, target_pmf);
  rewards_.add(logged.reward);
}

Estimate NaiveEstimator::estimate(double alpha) const {
  // An unbiased estimate of E_μ[r], the logging policy's value, and of nothing
  // else: its interval covers V(target) only when the target equals the logger.
  return mean_estimate(rewards_, alpha);
}

}  // namespace recloop
