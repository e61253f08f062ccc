// SPDX-License-Identifier: Apache-2.0
// Confidence intervals by the Poisson bootstrap, in one pass over the rows.
//
// An estimate of the form Σ_i a_i / Σ_i b_i covers IPS and DR (a = the row's
// term, b = 1) and SNIPS (a = w r, b = w). Each of B replicates gives row i a
// weight k_ib ~ Poisson(1) instead of resampling rows with replacement, so
// replicates are built as the rows stream by, with no second pass and no
// stored rows (Hanley & MacGibbon 2006, "Creating non-parametric bootstrap
// samples using Poisson frequencies", Comput. Methods Programs Biomed. 83;
// Chamandy, Muralidharan, Najmi & Naidu 2012, "Estimating uncertainty for
// massive data streams", Google).
//
// Order independence: k_ib is a function of (seed, event id, b) alone. The
// row's key is decision_seed(seed, event_id) (FNV-1a of the id mixed by
// splitmix64) and k_ib comes from splitmix64 of key + b, never from the row's
// position, so shuffling or splitting the rows gives every row the same
// weights. Replicate sums are plain double sums, so they agree across row
// orders up to rounding (relative ~1e-15), not bit for bit; the point value
// uses exact sums and is bit-identical. Event ids must be unique (a repeated
// id gets the same weights as its first occurrence, correlating them).
//
// Cost: B draws and 2B multiply-adds per row; 16·B bytes of state. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

class PoissonBootstrap {
 public:
  struct Config {
    std::size_t replicates = 1000;  // B, >= 10
    std::uint64_t seed = 0;         // with the event ids, fixes every replicate weight
  };
  // Throws std::invalid_argument for replicates < 10.
  explicit PoissonBootstrap(const Config& config);

  // One row's numerator and denominator terms (finite; asserted).
  void add(std::string_view event_id, double numerator, double denominator = 1.0);
  // Same, with the row key precomputed (row_key(event_id)): the hot loop.
  void add_keyed(std::uint64_t key, double numerator, double denominator);
  std::uint64_t row_key(std::string_view event_id) const;

  // Σa/Σb with the percentile interval of the replicate ratios: the alpha/2
  // and 1 - alpha/2 quantiles (nearest rank). std_error is the replicates'
  // standard deviation. Replicates with Σb = 0 are dropped. Needs n >= 2 rows,
  // else the interval is infinite. alpha in (0, 1), else std::invalid_argument.
  Estimate interval(double alpha = 0.05) const;

  std::size_t replicates() const { return numerators_.size(); }
  std::size_t rows() const { return rows_; }

  // The Poisson(1) weight of row `key` in replicate `b`: exposed for tests.
  static unsigned poisson_weight(std::uint64_t key, std::uint64_t b);

 private:
  Config config_;
  std::vector<double> numerators_, denominators_;
  ExactSum numerator_, denominator_;
  std::size_t rows_ = 0;
};

// Lower confidence bound on the mean of n i.i.d. terms known to lie in
// [0, range]: with probability at least 1 - delta, E[term] >= the bound.
// Empirical Bernstein (Maurer & Pontil 2009, Thm. 4). For IPS the terms w·r
// are bounded only if the weights are: pass range = max_weight · r_max with
// clipped weights, or the largest possible weight of the log (max over rows of
// 1/μ(a|x) times the target's probability bound). A term outside [0, range]
// throws std::invalid_argument; so do n < 2, delta outside (0, 1) or range <= 0.
double empirical_bernstein_lower_bound(std::span<const double> terms, double range, double delta);
// The same from the terms' count, mean and unbiased sample variance.
double empirical_bernstein_lower_bound(std::size_t n, double mean, double sample_variance,
                                       double range, double delta);

}  // namespace recloop
