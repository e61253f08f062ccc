// SPDX-License-Identifier: Apache-2.0
#include "evaluation/slate_ips.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "evaluation/exact_sum.h"
#include "evaluation/statistics.h"

namespace recloop {
namespace {

// Checks what the estimator of `kind` reads: the logged conditionals for the
// standard and reward-interaction kinds, the logged marginals for the
// independent one (so rankings logged without conditionals can still be
// scored by it).
void check_slate(const SlateInteraction& slate, SlateIpsEstimator::Kind kind) {
  auto reject = [&](std::size_t k, const std::string& what) {
    throw std::invalid_argument("slate '" + slate.event_id + "' slot " + std::to_string(k) +
                                ": " + what);
  };
  if (slate.slots.empty()) {
    throw std::invalid_argument("slate '" + slate.event_id + "' has no slots");
  }
  for (std::size_t k = 0; k < slate.slots.size(); ++k) {
    const SlateSlot& s = slate.slots[k];
    auto logged_ok = [](double p) { return std::isfinite(p) && p > 0.0 && p <= 1.0 + 1e-9; };
    auto target_ok = [](double p) { return std::isfinite(p) && p >= 0.0 && p <= 1.0 + 1e-9; };
    const bool independent = kind == SlateIpsEstimator::Kind::independent;
    if (!logged_ok(independent ? s.logged_marginal : s.logged_conditional)) {
      reject(k, independent ? "logged marginal must be in (0, 1]"
                            : "logged conditional must be in (0, 1]");
    }
    if (!target_ok(s.target_conditional) || !target_ok(s.target_marginal)) {
      reject(k, "target probabilities must be in [0, 1]");
    }
    if (!std::isfinite(s.reward)) reject(k, "reward is not finite");
  }
}

std::string name_of(const SlateIpsEstimator::Config& config) {
  const bool sn = config.self_normalized;
  switch (config.kind) {
    case SlateIpsEstimator::Kind::standard: return sn ? "slate_snips" : "slate_ips";
    case SlateIpsEstimator::Kind::independent: return sn ? "independent_snips" : "independent_ips";
    case SlateIpsEstimator::Kind::reward_interaction: return sn ? "snrips" : "rips";
  }
  return "";
}

}  // namespace

SlateIpsEstimator::SlateIpsEstimator(const Config& config)
    : config_(config), name_(name_of(config)) {}

void SlateIpsEstimator::add(const SlateInteraction& slate) {
  check_slate(slate, config_.kind);
  const std::size_t slots = slate.slots.size();
  const std::size_t columns = config_.kind == Kind::standard ? 1 : slots;
  if (rows_ == 0) {
    columns_ = columns;
  } else if (columns != columns_ && config_.kind != Kind::standard) {
    throw std::invalid_argument("slate '" + slate.event_id + "' has " + std::to_string(slots) +
                                " slots, earlier rankings had " + std::to_string(columns_));
  }
  ++rows_;
  switch (config_.kind) {
    case Kind::standard: {
      // Swaminathan et al. 2017, "Off-policy evaluation for slate
      // recommendation" (NeurIPS), the IPS baseline of Sec. 3 (also Li et al.
      // 2015, "Counterfactual estimation and optimization of click metrics in
      // search engines", WWW): V̂ = (1/n) Σ_i [π(s_i|x_i)/μ(s_i|x_i)] Σ_k r_ik,
      // the ranking probability being the product of the slot conditionals.
      double weight = 1.0;
      double total = 0.0;
      for (const SlateSlot& s : slate.slots) {
        weight *= s.target_conditional / s.logged_conditional;
        total += s.reward;
      }
      numerators_.push_back(weight * total);
      weights_.push_back(weight);
      break;
    }
    case Kind::independent:
      // Li, Abbasi-Yadkori, Kveton, Muthukrishnan, Vinay & Wen 2018, "Offline
      // evaluation of ranking policies with click models" (KDD), item-position
      // model estimator: V̂ = Σ_k (1/n) Σ_i [π(a_ik at k)/μ(a_ik at k)] r_ik.
      for (const SlateSlot& s : slate.slots) {
        const double w = s.target_marginal / s.logged_marginal;
        numerators_.push_back(w * s.reward);
        weights_.push_back(w);
      }
      break;
    case Kind::reward_interaction: {
      // McInerney, Brost, Chandar, Mehrotra & Carterette 2020, "Counterfactual
      // evaluation of slate recommendations with sequential reward
      // interactions" (KDD), RIPS under the cascade assumption:
      //   V̂ = Σ_k (1/n) Σ_i [Π_{j<=k} π(a_ij|a_i,<j)/μ(a_ij|a_i,<j)] r_ik.
      double weight = 1.0;
      for (const SlateSlot& s : slate.slots) {
        weight *= s.target_conditional / s.logged_conditional;
        numerators_.push_back(weight * s.reward);
        weights_.push_back(weight);
      }
      break;
    }
  }
}

Estimate SlateIpsEstimator::estimate(double alpha) const {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (rows_ == 0) return normal_interval(kNaN, kInfinity, 0, alpha);
  const double n = static_cast<double>(rows_);
  // Column means of a and (self-normalised) of b, summed exactly.
  std::vector<double> ratio(columns_), mean_b(columns_);
  double value = 0.0;
  for (std::size_t c = 0; c < columns_; ++c) {
    ExactSum a, b;
    for (std::size_t i = 0; i < rows_; ++i) {
      a.add(numerators_[i * columns_ + c]);
      b.add(weights_[i * columns_ + c]);
    }
    mean_b[c] = config_.self_normalized ? b.value() / n : 1.0;
    if (!(mean_b[c] > 0.0)) return normal_interval(kNaN, kInfinity, rows_, alpha);
    ratio[c] = a.value() / n / mean_b[c];
    value += ratio[c];
  }
  if (rows_ < 2) return normal_interval(value, kInfinity, rows_, alpha);
  // Influence of row i: ψ_i = Σ_c (a_ic - V_c b_ic)/b̄_c for the
  // self-normalised ratios (delta method, as for SNIPS), and ψ_i = Σ_c a_ic
  // for the plain means. SE = sd(ψ)/sqrt(n).
  ExactMoments psi;
  for (std::size_t i = 0; i < rows_; ++i) {
    double row = 0.0;
    for (std::size_t c = 0; c < columns_; ++c) {
      const double a = numerators_[i * columns_ + c];
      row += config_.self_normalized ? (a - ratio[c] * weights_[i * columns_ + c]) / mean_b[c] : a;
    }
    psi.add(row);
  }
  return normal_interval(value, std::sqrt(psi.sample_variance() / n), rows_, alpha);
}

}  // namespace recloop
