// SPDX-License-Identifier: Apache-2.0
#include "evaluation/diagnostics.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "evaluation/importance_weight.h"

namespace recloop {
namespace {

// Nearest-rank quantile (Hyndman & Fan 1996, definition 1) of sorted values.
double quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string percent(double share) {
  std::ostringstream out;
  out.precision(share < 0.1 ? 2 : 3);
  out << 100.0 * share << "%";
  return out.str();
}

}  // namespace

void WeightDiagnostics::add(const Interaction& logged, std::span<const double> target_pmf,
                            std::span<const double> logged_pmf) {
  check_logged(logged, target_pmf);
  if (!logged_pmf.empty() && logged_pmf.size() != target_pmf.size()) {
    throw std::invalid_argument("event '" + logged.event_id + "': logged pmf has " +
                                std::to_string(logged_pmf.size()) + " entries, target pmf " +
                                std::to_string(target_pmf.size()));
  }
  const double w = importance_weight(logged, target_pmf);
  weights_.push_back(w);
  sum_w_.add(w);
  sum_w2_.add(w * w);
  if (target_pmf[logged.action] == 0.0) ++never_takes_;
  if (!logged_pmf.empty()) {
    ++with_logged_pmf_;
    // Sachdeva, Su & Joachims 2020, "Off-policy bandits with deficient
    // support" (KDD): the mass the target puts where μ(a|x) = 0 is invisible
    // to IPS and DR's correction, which then estimate the value with those
    // actions' rewards replaced by 0 (IPS) or by the model (DR).
    double mass = 0.0;
    for (std::size_t a = 0; a < logged_pmf.size(); ++a) {
      if (logged_pmf[a] == 0.0) mass += target_pmf[a];
    }
    deficient_mass_.add(mass);
  }
}

WeightReport WeightDiagnostics::report() const {
  WeightReport r;
  r.n = weights_.size();
  if (r.n == 0) return r;
  const double n = static_cast<double>(r.n);
  const double sum_w = sum_w_.value();
  const double sum_w2 = sum_w2_.value();
  // Kish 1965 effective sample size, as used for importance sampling in Owen
  // 2013 ("Monte Carlo theory, methods and examples", Sec. 9.3): n_e = (Σw)²/Σw².
  r.effective_sample_size = sum_w2 > 0.0 ? sum_w * sum_w / sum_w2 : 0.0;
  r.mean_weight = sum_w / n;
  std::vector<double> sorted = weights_;
  std::sort(sorted.begin(), sorted.end());
  r.max_weight = sorted.back();
  r.p50 = quantile(sorted, 0.50);
  r.p90 = quantile(sorted, 0.90);
  r.p99 = quantile(sorted, 0.99);
  r.share_target_never_takes = static_cast<double>(never_takes_) / n;
  r.n_with_logged_pmf = with_logged_pmf_;
  if (with_logged_pmf_ > 0) {
    r.target_mass_outside_logger = deficient_mass_.value() / static_cast<double>(with_logged_pmf_);
  }
  return r;
}

std::vector<std::string> warnings(const WeightReport& r, const WarningThresholds& t) {
  std::vector<std::string> out;
  if (r.n == 0) {
    out.push_back("no interactions: there is nothing to estimate from");
    return out;
  }
  const double n = static_cast<double>(r.n);
  if (r.effective_sample_size < t.min_ess_share * n || r.effective_sample_size < t.min_ess) {
    std::ostringstream s;
    s << "effective sample size " << std::llround(r.effective_sample_size) << " of " << r.n
      << ": the estimate rests on a few events";
    out.push_back(s.str());
  }
  const double sum_w = r.mean_weight * n;
  if (sum_w > 0.0 && r.max_weight > t.max_weight_share * sum_w) {
    std::ostringstream s;
    s << "the largest weight (" << r.max_weight << ") is " << percent(r.max_weight / sum_w)
      << " of all weight: one event can move the estimate; consider clipping, SNIPS or DR";
    out.push_back(s.str());
  }
  if (r.share_target_never_takes > t.max_never_takes) {
    out.push_back("the target never takes " + percent(r.share_target_never_takes) +
                  " of the logged actions: almost no logged reward informs the estimate");
  }
  if (r.n_with_logged_pmf > 0 && r.target_mass_outside_logger > t.max_deficient_mass) {
    out.push_back(percent(r.target_mass_outside_logger) +
                  " of the target's mass is on actions the logger never takes: IPS/DR are "
                  "biased (towards 0 for IPS with non-negative rewards, towards the model for DR)");
  }
  if (r.n >= 1000 && std::abs(r.mean_weight - 1.0) > t.mean_weight_tolerance) {
    std::ostringstream s;
    s << "the mean weight is " << r.mean_weight
      << " (expected about 1): the logged probabilities may be wrong or the target is "
         "outside the logger's support";
    out.push_back(s.str());
  }
  return out;
}

}  // namespace recloop
