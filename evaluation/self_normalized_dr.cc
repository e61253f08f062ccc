// SPDX-License-Identifier: Apache-2.0
#include "evaluation/self_normalized_dr.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "evaluation/dr_terms.h"
#include "evaluation/statistics.h"

namespace recloop {
namespace {

enum Sum { kD, kD2, kW, kW2, kG, kG2, kGW, kDG, kDW };

}  // namespace

SelfNormalizedDrEstimator::SelfNormalizedDrEstimator(std::shared_ptr<const RewardModel> model)
    : model_(std::move(model)) {
  if (!model_) throw std::invalid_argument("sndr: the reward model must not be null");
}

void SelfNormalizedDrEstimator::add(const Interaction& logged,
                                    std::span<const double> target_pmf) {
  const DrTerms t = dr_terms(*model_, logged, target_pmf);
  const double d = t.direct;
  const double w = t.weight;
  const double g = w * t.residual;
  ++count_;
  sums_[kD].add(d);
  sums_[kD2].add(d * d);
  sums_[kW].add(w);
  sums_[kW2].add(w * w);
  sums_[kG].add(g);
  sums_[kG2].add(g * g);
  sums_[kGW].add(g * w);
  sums_[kDG].add(d * g);
  sums_[kDW].add(d * w);
}

Estimate SelfNormalizedDrEstimator::estimate(double alpha) const {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  if (count_ == 0) {
    return normal_interval(std::numeric_limits<double>::quiet_NaN(), kInfinity, 0, alpha);
  }
  const double n = static_cast<double>(count_);
  auto mean = [&](Sum s) { return sums_[s].value() / n; };
  // Self-normalised DR as in Kallus & Uehara 2019 ("Intrinsically efficient,
  // stable, and bounded off-policy evaluation for reinforcement learning",
  // NeurIPS) and Open Bandit Pipeline's SNDR (Saito et al. 2021): the DR
  // correction with the weights normalised as in SNIPS (Swaminathan &
  // Joachims 2015):
  //   V̂ = (1/n) Σ d_i + C,   C = Σ w_i (r_i - r̂_i) / Σ w_i.
  const double mean_d = mean(kD);
  const double mean_w = mean(kW);
  const double c = mean_w > 0.0 ? mean(kG) / mean_w : 0.0;
  const double value = mean_d + c;
  if (count_ < 2 || !(mean_w > 0.0)) return normal_interval(value, kInfinity, count_, alpha);
  // Delta method: the influence of row i is ψ_i = d_i + (g_i - C w_i)/w̄ with
  // g = w (r - r̂); mean(ψ) = d̄, and with u = g - C w (mean 0)
  //   Var(ψ) = Var(d) + mean(u²)/w̄² + 2 mean(d u)/w̄,
  //   mean(u²) = mean(g²) - 2C mean(g w) + C² mean(w²),  mean(d u) = mean(d g) - C mean(d w).
  // SE = sqrt(Var(ψ)/n), with n/(n-1) for the sample variance of d.
  const double var_d = std::max(0.0, (mean(kD2) - mean_d * mean_d) * n / (n - 1.0));
  const double mean_u2 = std::max(0.0, mean(kG2) - 2.0 * c * mean(kGW) + c * c * mean(kW2));
  const double mean_du = mean(kDG) - c * mean(kDW);
  const double variance =
      std::max(0.0, var_d + mean_u2 / (mean_w * mean_w) + 2.0 * mean_du / mean_w);
  return normal_interval(value, std::sqrt(variance / n), count_, alpha);
}

}  // namespace recloop
