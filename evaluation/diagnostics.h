// SPDX-License-Identifier: Apache-2.0
// Diagnostics of the importance weights behind an off-policy estimate: how
// many events effectively carry it, how heavy the heaviest weights are, and
// whether the logger covers the target's actions. warnings() turns them into
// plain-language sentences for reports.
//
// Streaming: add() per interaction, report() any time. The weights are kept
// (8 bytes per interaction) so the quantiles are exact; sums are exact, so the
// report does not depend on the order of add() calls. Not thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/types.h"
#include "evaluation/exact_sum.h"

namespace recloop {

struct WeightReport {
  std::size_t n = 0;
  double effective_sample_size = 0.0;  // (Σw)² / Σw²; 0 when every weight is 0
  double mean_weight = 0.0;            // ≈ 1 when the probabilities are right and cover the target
  double max_weight = 0.0;
  double p50 = 0.0, p90 = 0.0, p99 = 0.0;  // weight quantiles (nearest rank)
  // Share of interactions whose logged action the target never takes (π(a_logged|x) = 0).
  double share_target_never_takes = 0.0;
  // Mean over interactions with a logged pmf of Σ_a π(a|x) 1{μ(a|x) = 0}: the
  // target's mass on actions the logger never takes (support deficiency).
  double target_mass_outside_logger = 0.0;
  std::size_t n_with_logged_pmf = 0;  // interactions the previous line is computed on
};

class WeightDiagnostics {
 public:
  // `logged_pmf` is the logging policy's whole pmf when known (empty when
  // not: support deficiency is then not measured for this interaction).
  // Throws std::invalid_argument naming the event on a malformed interaction
  // (check_logged) or a logged pmf of the wrong size.
  void add(const Interaction& logged, std::span<const double> target_pmf,
           std::span<const double> logged_pmf = {});

  WeightReport report() const;

 private:
  std::vector<double> weights_;
  ExactSum sum_w_, sum_w2_, deficient_mass_;
  std::size_t never_takes_ = 0;
  std::size_t with_logged_pmf_ = 0;
};

// Thresholds of warnings(); the defaults are rules of thumb, not theorems.
struct WarningThresholds {
  double min_ess_share = 0.01;      // warn if ESS < this share of n
  double min_ess = 100.0;           // ... or below this absolute count
  double max_weight_share = 0.05;   // warn if the largest weight is more than this share of Σw
  double max_deficient_mass = 0.01; // warn if the target's mass outside the logger's support exceeds this
  double max_never_takes = 0.99;    // warn if the target avoids almost every logged action
  double mean_weight_tolerance = 0.1;  // warn if |mean weight - 1| exceeds this (n >= 1000)
};

// Plain-language warnings about `report`, empty when nothing is suspicious.
std::vector<std::string> warnings(const WeightReport& report,
                                  const WarningThresholds& thresholds = {});

}  // namespace recloop
