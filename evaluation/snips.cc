// SPDX-License-Identifier: Apache-2.0
#include "evaluation/snips.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "evaluation/importance_weight.h"
#include "evaluation/statistics.h"

namespace recloop {

void SnipsEstimator::add(const Interaction& logged, std::span<const double> target_pmf) {
  check_logged(logged, target_pmf);
  const double w = importance_weight(logged, target_pmf);
  const double r = logged.reward;
  ++count_;
  sum_w_.add(w);
  sum_wr_.add(w * r);
  sum_w2_.add(w * w);
  sum_w2r_.add(w * w * r);
  sum_w2r2_.add(w * w * r * r);
}

Estimate SnipsEstimator::estimate(double alpha) const {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const double sum_w = sum_w_.value();
  if (count_ == 0 || sum_w <= 0.0) return normal_interval(kNaN, kInfinity, count_, alpha);
  // Swaminathan & Joachims 2015, "The Self-Normalized Estimator for
  // Counterfactual Learning" (NeurIPS): V̂_SN = Σ_i w_i r_i / Σ_i w_i.
  const double value = sum_wr_.value() / sum_w;
  if (count_ < 2) return normal_interval(value, kInfinity, count_, alpha);
  // Delta method for a ratio of means V̂ = mean(w r) / mean(w) (as for
  // self-normalised importance sampling in Owen 2013, "Monte Carlo theory,
  // methods and examples", Ch. 9): linearising around
  // (E[w r], E[w]) gives
  //   Var(V̂) ≈ (1/n) · E[(w (r - V))²] / E[w]²,
  // estimated by plugging in V̂ and the sample means:
  //   (1/n) · mean((w (r - V̂))²) / mean(w)².
  // mean((w (r - V̂))²) is expanded as mean(w²r²) - 2 V̂ mean(w²r) + V̂² mean(w²).
  const double n = static_cast<double>(count_);
  const double mean_squared_residual =
      std::max(0.0, (sum_w2r2_.value() - 2.0 * value * sum_w2r_.value() +
                      value * value * sum_w2_.value()) / n);
  const double mean_w = sum_w / n;
  const double std_error = std::sqrt(mean_squared_residual / n) / mean_w;
  return normal_interval(value, std_error, count_, alpha);
}

}  // namespace recloop
