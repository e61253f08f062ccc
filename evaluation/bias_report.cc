// SPDX-License-Identifier: Apache-2.0
#include "evaluation/bias_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "evaluation/exact_sum.h"
#include "evaluation/importance_weight.h"
#include "evaluation/ips.h"
#include "evaluation/naive.h"
#include "evaluation/snips.h"
#include "evaluation/statistics.h"

namespace recloop {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// A reward is "discrete" while it takes at most this many distinct integer values.
constexpr std::size_t kMaxLevels = 10;
constexpr std::size_t kHistogramBins = 20;
// Relative tolerance of "probability == 1/K" for a uniform logger: the
// probability went through a decimal text file (OBD) or a division (Coat).
constexpr double kUniformTolerance = 1e-9;

// Nearest-rank quantile (Hyndman & Fan 1996, definition 1) of sorted values.
double quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return kNaN;
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

double ratio_std_error(double a, double se_a, double b, double se_b) {
  // Delta method for a/b with independent a and b:
  // Var(a/b) ≈ (a/b)² ((se_a/a)² + (se_b/b)²); written without dividing by a
  // so that a = 0 is fine: (se_a/b)² + (a se_b / b²)².
  return std::sqrt(std::pow(se_a / b, 2) + std::pow(a * se_b / (b * b), 2));
}

PropensitySummary summarize_propensities(std::vector<double> p, double ess) {
  PropensitySummary s;
  s.n = p.size();
  s.effective_sample_size = ess;
  if (p.empty()) return s;
  std::sort(p.begin(), p.end());
  s.min = p.front();
  s.max = p.back();
  s.p05 = quantile(p, 0.05);
  s.p25 = quantile(p, 0.25);
  s.p50 = quantile(p, 0.50);
  s.p75 = quantile(p, 0.75);
  s.p95 = quantile(p, 0.95);
  if (s.min == s.max) {
    s.histogram.push_back(HistogramBin{s.min, s.max, s.n});
    return s;
  }
  const double lo = std::log10(s.min), hi = std::log10(s.max);
  const double width = (hi - lo) / static_cast<double>(kHistogramBins);
  for (std::size_t b = 0; b < kHistogramBins; ++b) {
    s.histogram.push_back(HistogramBin{std::pow(10.0, lo + width * static_cast<double>(b)),
                                       std::pow(10.0, lo + width * static_cast<double>(b + 1)), 0});
  }
  for (const double x : p) {
    auto b = static_cast<std::size_t>(std::floor((std::log10(x) - lo) / width));
    ++s.histogram[std::min(b, kHistogramBins - 1)].count;
  }
  return s;
}

}  // namespace

double gini(std::span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  for (const double x : sorted) {
    if (!(x >= 0.0) || !std::isfinite(x)) {
      throw std::invalid_argument("gini: value " + std::to_string(x) +
                                  " is negative or not finite");
    }
  }
  if (sorted.empty()) return 0.0;
  std::sort(sorted.begin(), sorted.end());
  // Gini 1912 ("Variabilità e mutabilità"), mean absolute difference over
  // twice the mean, in its sorted-sample form G = Σ_i (2i - n - 1) x_(i) / (n Σ_i x_i).
  const double n = static_cast<double>(sorted.size());
  ExactSum numerator, total;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    numerator.add((2.0 * static_cast<double>(i + 1) - n - 1.0) * sorted[i]);
    total.add(sorted[i]);
  }
  if (total.value() == 0.0) return 0.0;
  return numerator.value() / (n * total.value());
}

ExposureSummary summarize_exposure(std::vector<std::size_t> counts, double top_fraction) {
  if (!(top_fraction > 0.0 && top_fraction <= 1.0)) {
    throw std::invalid_argument("summarize_exposure: top_fraction " + std::to_string(top_fraction) +
                                " must be in (0, 1]");
  }
  ExposureSummary s;
  std::sort(counts.begin(), counts.end());
  s.catalogue = counts.size();
  if (counts.empty()) return s;
  std::vector<double> values(counts.begin(), counts.end());
  s.gini = gini(values);
  double total = 0.0;
  for (const std::size_t c : counts) {
    if (c > 0) ++s.shown;
    total += static_cast<double>(c);
  }
  const double catalogue = static_cast<double>(s.catalogue);
  s.coverage = static_cast<double>(s.shown) / catalogue;
  // Popularity lift: the exposure share of the most-shown items over the share
  // they would have under even exposure. The 1e-9 keeps 10% of 30 at 3, not 4.
  s.top_items = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::ceil(top_fraction * catalogue - 1e-9)));
  double top = 0.0;
  for (std::size_t i = 0; i < s.top_items; ++i) {
    top += static_cast<double>(counts[counts.size() - 1 - i]);
  }
  s.uniform_top_share = static_cast<double>(s.top_items) / catalogue;
  s.top_share = total > 0.0 ? top / total : kNaN;
  s.popularity_lift = s.top_share / s.uniform_top_share;
  s.sorted_counts = std::move(counts);
  return s;
}

struct BiasReportBuilder::PolicyState {
  std::size_t n = 0;
  NaiveEstimator naive;
  IpsEstimator ips;
  SnipsEstimator snips;
  WeightDiagnostics weights;
  std::vector<double> probabilities;
  ExactSum inverse, inverse_squared;  // Σ 1/μ, Σ 1/μ²
  std::map<std::uint32_t, RunningMoments> slots;
  std::map<ItemId, std::size_t> exposure;  // every candidate seen, with its times chosen
  std::vector<ItemId> last_items;          // candidates of the previous interaction
  bool uniform = true;
  bool discrete = true;
  std::map<double, std::pair<std::size_t, ExactSum>> levels;  // reward -> count, Σ w
  std::vector<double> uniform_pmf;
};

BiasReportBuilder::BiasReportBuilder() = default;
BiasReportBuilder::~BiasReportBuilder() = default;

void BiasReportBuilder::add(const Interaction& logged) {
  // The target is uniform exposure: π(a|x) = 1/K for each of the K candidates.
  const std::size_t k = logged.context.size();
  const double uniform = k ? 1.0 / static_cast<double>(k) : 0.0;
  auto found = policies_.find(logged.policy);
  if (found == policies_.end()) {
    check_logged(logged, std::vector<double>(k, uniform));  // a bad first event adds no policy
    found = policies_.emplace(logged.policy, std::make_unique<PolicyState>()).first;
  }
  PolicyState& s = *found->second;
  if (s.uniform_pmf.size() != k) s.uniform_pmf.assign(k, uniform);
  check_logged(logged, s.uniform_pmf);
  s.naive.add(logged, s.uniform_pmf);
  s.ips.add(logged, s.uniform_pmf);
  s.snips.add(logged, s.uniform_pmf);
  s.weights.add(logged, s.uniform_pmf);
  ++s.n;

  const double p = logged.probability;
  s.probabilities.push_back(p);
  s.inverse.add(1.0 / p);
  s.inverse_squared.add(1.0 / (p * p));
  if (std::abs(p * static_cast<double>(k) - 1.0) > kUniformTolerance) s.uniform = false;
  s.slots[logged.slot].add(logged.reward);

  if (logged.context.items != s.last_items) {
    for (const ItemId item : logged.context.items) s.exposure.emplace(item, 0);
    s.last_items = logged.context.items;
  }
  ++s.exposure[logged.context.items[logged.action]];

  if (s.discrete) {
    const double r = logged.reward;
    if (r != std::floor(r) || std::abs(r) > 1e9) {
      s.discrete = false;
    } else {
      auto& level = s.levels[r];
      ++level.first;
      level.second.add(importance_weight(logged, s.uniform_pmf));
      if (s.levels.size() > kMaxLevels) s.discrete = false;
    }
    if (!s.discrete) s.levels.clear();
  }
}

std::vector<std::string> BiasReportBuilder::policies() const {
  std::vector<std::string> names;
  for (const auto& [name, state] : policies_) names.push_back(name);
  return names;
}

BiasReport BiasReportBuilder::report(const std::string& reference, double alpha) const {
  BiasReport out;
  for (const auto& [name, state] : policies_) {
    const PolicyState& s = *state;
    PolicyBias& b = out.policies.emplace_back();
    b.policy = name;
    b.n = s.n;
    b.uniform_logger = s.uniform;
    b.naive = s.naive.estimate(alpha);
    b.ips = s.ips.estimate(alpha);
    b.snips = s.snips.estimate(alpha);
    b.weights = s.weights.report();
    b.warnings = warnings(b.weights);
    if (!s.probabilities.empty() &&
        *std::min_element(s.probabilities.begin(), s.probabilities.end()) == 1.0) {
      b.warnings.insert(b.warnings.begin(),
                        "every logged probability is 1: the logger is deterministic, so no "
                        "weighting can recover what it never showed");
    }

    for (const auto& [slot, moments] : s.slots) {
      SlotRate& r = b.slots.emplace_back();
      r.slot = slot;
      r.n = moments.count();
      r.mean_reward = moments.mean();
      r.std_error =
          r.n > 1 ? std::sqrt(moments.sample_variance() / static_cast<double>(r.n)) : kNaN;
    }
    if (!b.slots.empty() && b.slots.front().slot == 0 && b.slots.front().mean_reward != 0.0) {
      const SlotRate first = b.slots.front();
      for (SlotRate& r : b.slots) {
        r.ratio_to_first = r.mean_reward / first.mean_reward;
        r.ratio_std_error = r.slot == 0 ? 0.0
                                        : ratio_std_error(r.mean_reward, r.std_error,
                                                          first.mean_reward, first.std_error);
      }
    } else {
      for (SlotRate& r : b.slots) r.ratio_to_first = r.ratio_std_error = kNaN;
    }

    std::vector<std::size_t> counts;
    counts.reserve(s.exposure.size());
    for (const auto& [item, count] : s.exposure) counts.push_back(count);
    b.exposure = summarize_exposure(std::move(counts));

    const double sum_inverse = s.inverse.value(), sum_inverse_squared = s.inverse_squared.value();
    // Kish 1965 effective sample size of the weights 1/μ.
    b.propensities = summarize_propensities(
        s.probabilities,
        sum_inverse_squared > 0.0 ? sum_inverse * sum_inverse / sum_inverse_squared : 0.0);

    if (s.discrete) {
      double total_weight = 0.0;
      for (const auto& [value, level] : s.levels) total_weight += level.second.value();
      for (const auto& [value, level] : s.levels) {
        const double weight = level.second.value();
        b.levels.push_back(RewardLevel{value, level.first,
                                       static_cast<double>(level.first) / static_cast<double>(s.n),
                                       total_weight > 0.0 ? weight / total_weight : kNaN});
      }
    }
  }

  if (!reference.empty()) {
    if (!policies_.count(reference)) {
      throw std::invalid_argument("reference policy '" + reference + "' is not in the log");
    }
    out.reference = reference;
  } else if (out.policies.size() > 1) {
    std::size_t uniform = 0;
    for (const auto& b : out.policies) {
      if (b.uniform_logger) {
        ++uniform;
        out.reference = b.policy;
      }
    }
    if (uniform != 1) out.reference.clear();
  }
  if (out.reference.empty()) return out;
  const PolicyBias* ref = nullptr;
  for (const auto& b : out.policies) {
    if (b.policy == out.reference) ref = &b;
  }
  for (const auto& b : out.policies) {
    if (b.policy == out.reference) continue;
    BiasGap& g = out.gaps.emplace_back();
    g.policy = b.policy;
    // The reference's mean reward is an unbiased estimate of the value under
    // uniform exposure; the two logs are independent samples, so the standard
    // error of a difference is the root of the sum of the squared ones.
    const Estimate truth = ref->naive;
    g.reference_value = truth.value;
    auto gap_se = [&](const Estimate& e) { return std::hypot(e.std_error, truth.std_error); };
    g.naive_gap = b.naive.value - truth.value;
    g.ips_gap = b.ips.value - truth.value;
    g.snips_gap = b.snips.value - truth.value;
    g.naive_gap_std_error = gap_se(b.naive);
    g.ips_gap_std_error = gap_se(b.ips);
    g.snips_gap_std_error = gap_se(b.snips);
    const double naive = std::abs(g.naive_gap);
    g.ips_closes = naive > 0.0 ? 1.0 - std::abs(g.ips_gap) / naive : kNaN;
    g.snips_closes = naive > 0.0 ? 1.0 - std::abs(g.snips_gap) / naive : kNaN;
  }
  return out;
}

}  // namespace recloop
