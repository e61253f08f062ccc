// SPDX-License-Identifier: Apache-2.0
// How biased is a decision log? Per logging policy, BiasReportBuilder measures
// what the logger's choices did to the logged rewards:
//   - values: the naive mean reward next to the value under uniform exposure
//     (every candidate equally likely), estimated with IPS and SNIPS from the
//     logged probabilities. A uniform-random logger measures that value
//     directly, so when the log also holds one (Coat's random ratings, OBD's
//     random campaign) it is the reference, and the report says how far the
//     naive mean is from it and how much of that gap the weighting closes;
//   - reward by slot and the position bias it suggests (each slot's mean reward
//     over slot 0's), unconfounded only when the logger places items at random;
//   - exposure: coverage of the catalogue, Gini coefficient of the exposure
//     counts, and the popularity lift of the most-shown 10% of items;
//   - the logged probabilities: quantiles, histogram, and the diagnostics of
//     the uniform target's importance weights (effective sample size);
//   - for discrete rewards (at most 10 distinct integers: clicks, 1..5
//     ratings), the distribution of the reward, naive and weighted.
// Items are told apart by their ItemId across all of a policy's interactions:
// a log that mixes catalogues whose ids overlap (OBD's men and women campaigns
// both number their items from 0) merges them in the exposure figures, so
// such data is best imported one catalogue per log.
// Pure computation over interactions; the caller reads the log. Streaming:
// add() per interaction, report() any time. Memory: one double per
// interaction plus one counter per item, per policy. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/types.h"
#include "evaluation/diagnostics.h"
#include "evaluation/estimator.h"

namespace recloop {

// Mean reward of the interactions shown at one slot.
struct SlotRate {
  std::uint32_t slot = 0;
  std::size_t n = 0;
  double mean_reward = 0.0;
  double std_error = 0.0;        // sqrt(sample variance / n)
  double ratio_to_first = 0.0;   // mean_reward / slot 0's mean_reward (NaN if that is 0 or absent)
  double ratio_std_error = 0.0;  // delta method, slots taken as independent samples
};

// How a logger spread its choices over the catalogue.
struct ExposureSummary {
  std::size_t catalogue = 0;               // items that were ever a candidate
  std::size_t shown = 0;                   // of those, items chosen at least once
  double coverage = 0.0;                   // shown / catalogue
  double gini = 0.0;                       // of the per-item exposure counts: 0 = even
  std::size_t top_items = 0;               // ceil(10% of catalogue): the most-shown items
  double top_share = 0.0;                  // their share of all exposures
  double uniform_top_share = 0.0;          // top_items / catalogue: their share under even exposure
  double popularity_lift = 0.0;            // top_share / uniform_top_share (1 = no popularity bias)
  std::vector<std::size_t> sorted_counts;  // exposures per catalogue item, ascending
};

struct HistogramBin {
  double lower = 0.0, upper = 0.0;  // bin edges, as probabilities
  std::size_t count = 0;
};

// The logged probabilities μ(a|x).
struct PropensitySummary {
  std::size_t n = 0;
  double min = 0.0, p05 = 0.0, p25 = 0.0, p50 = 0.0, p75 = 0.0, p95 = 0.0, max = 0.0;
  // Kish's effective sample size of the weights 1/μ: (Σ 1/μ)² / Σ 1/μ².
  double effective_sample_size = 0.0;
  // 20 bins of equal width in log10(μ) from min to max (one bin when all are equal).
  std::vector<HistogramBin> histogram;
};

// Share of each reward value, naive and importance-weighted (uniform target,
// self-normalised: Σ_{r_i = v} w_i / Σ w_i).
struct RewardLevel {
  double reward = 0.0;
  std::size_t count = 0;
  double naive_share = 0.0;
  double weighted_share = 0.0;
};

struct PolicyBias {
  std::string policy;
  std::size_t n = 0;
  bool uniform_logger = false;        // every probability is 1 / (number of candidates)
  Estimate naive;                     // mean logged reward: the logger's own value
  Estimate ips, snips;                // value under uniform exposure
  WeightReport weights;               // of the uniform target's weights (1/K) / μ
  std::vector<std::string> warnings;  // a deterministic logger's, then warnings(weights)
  std::vector<SlotRate> slots;        // ascending slot
  ExposureSummary exposure;
  PropensitySummary propensities;
  std::vector<RewardLevel> levels;  // ascending reward; empty unless rewards are discrete
};

// One policy's estimates against the reference (uniform-random) logger's mean.
struct BiasGap {
  std::string policy;
  double reference_value = 0.0;
  double naive_gap = 0.0, ips_gap = 0.0, snips_gap = 0.0;  // estimate - reference
  double naive_gap_std_error = 0.0, ips_gap_std_error = 0.0, snips_gap_std_error = 0.0;
  // 1 - |gap| / |naive gap|: 1 = the weighting removes the bias, 0 = no better
  // than the naive mean, negative = worse. NaN when the naive gap is 0.
  double ips_closes = 0.0, snips_closes = 0.0;
};

struct BiasReport {
  std::vector<PolicyBias> policies;  // sorted by policy name
  std::string reference;             // the reference logger, or empty
  std::vector<BiasGap> gaps;         // every other policy against the reference
};

// Gini coefficient of non-negative values (Gini 1912, in the sorted form
// G = Σ_i (2i - n - 1) x_(i) / (n Σ x), i = 1..n over ascending x): 0 when all
// are equal, (n-1)/n when one value holds everything. 0 for an empty input or
// an all-zero one. Throws std::invalid_argument on a negative or non-finite value.
double gini(std::span<const double> values);

// Coverage, Gini and popularity lift of per-item exposure counts (one entry
// per catalogue item, zeros included). `top_fraction` in (0, 1]; else
// std::invalid_argument.
ExposureSummary summarize_exposure(std::vector<std::size_t> counts, double top_fraction = 0.1);

class BiasReportBuilder {
 public:
  BiasReportBuilder();
  ~BiasReportBuilder();
  BiasReportBuilder(const BiasReportBuilder&) = delete;
  BiasReportBuilder& operator=(const BiasReportBuilder&) = delete;

  // Throws std::invalid_argument naming the event on an interaction no
  // estimator could weight (see check_logged in evaluation/importance_weight.h).
  void add(const Interaction& logged);

  // Logging policies seen so far, sorted.
  std::vector<std::string> policies() const;

  // The report. `reference` names the policy whose mean reward is the ground
  // truth; empty = the one uniform logger when exactly one of several policies
  // is uniform, else none. A reference that was not seen throws
  // std::invalid_argument. `alpha`: confidence intervals are (1 - alpha).
  BiasReport report(const std::string& reference = {}, double alpha = 0.05) const;

 private:
  struct PolicyState;
  std::map<std::string, std::unique_ptr<PolicyState>> policies_;
};

}  // namespace recloop
