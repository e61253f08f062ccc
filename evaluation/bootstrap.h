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
// Two ways to draw the same distribution of replicates:
//   PoissonBootstrap         per row: B draws of Poisson(1) per row. Cost
//                            O(n·B); for continuous terms (DR with a model).
//   GroupedPoissonBootstrap  rows with bit-identical (a, b) are one group of
//                            m rows; a sum of m independent Poisson(1) counts
//                            is Poisson(m), so each replicate draws one
//                            Poisson(m) count per group. The replicate sums
//                            have exactly the per-row distribution, at cost
//                            O(n + B·groups): for IPS and SNIPS on click logs
//                            (0/1 rewards, few distinct propensities) the
//                            groups number hundreds however long the log.
// bootstrap_interval() picks one from the rows' count of distinct pairs.
//
// Order independence: in PoissonBootstrap k_ib is a function of (seed, event
// id, b) alone. The row's key is decision_seed(seed, event_id) (FNV-1a of the
// id mixed by splitmix64) and k_ib from splitmix64 of key + ⌊b/2⌋ (32 bits
// per replicate), never from the row's position, so shuffling or splitting the rows gives every row
// the same weights; its replicate sums are plain double sums, equal across row
// orders up to rounding (relative ~1e-15). bootstrap_interval() sorts the rows
// by key first, and the grouped bootstrap draws per group (keyed by the pair's
// bits) in the groups' sorted order, so both give bit-identical intervals for
// any order of the same rows. Point values use exact sums. Event ids must be
// unique (a repeated id gets the same weights as its first occurrence,
// correlating them).
//
// Cost: per row, B draws and 2B multiply-adds (rows are taken eight at a time
// by add_rows, so the replicate sums are loaded and stored once per eight
// rows; with every denominator 1 the denominators are integer counts);
// 16·B bytes of state. A draw costs ~1 ns, so the per-row bootstrap handles at
// most ~1e9/B rows/s per core (1e5 at B = 10^4) whatever its code: exact
// per-row resampling of continuous terms cannot go faster.
//
// Threads: add_rows and GroupedPoissonBootstrap::interval split the B
// replicates into Config::threads contiguous ranges, one thread each. Every
// draw is a function of (seed, key, b) and each replicate's sum visits the
// rows (groups) in the same order in every range, so the result is
// bit-identical for any number of threads. The objects themselves are not
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

// One row of a ratio estimate: its key (PoissonBootstrap::row_key of its event
// id) and its numerator and denominator terms.
struct BootstrapRow {
  std::uint64_t key = 0;
  double numerator = 0.0;
  double denominator = 1.0;
};

class PoissonBootstrap {
 public:
  struct Config {
    std::size_t replicates = 1000;  // B, >= 10
    std::uint64_t seed = 0;         // with the event ids, fixes every replicate weight
    // Threads drawing replicates: 0 = one per hardware thread. Work under
    // ~2^18 draws per thread stays on the calling thread. Never changes a result.
    std::size_t threads = 0;
  };
  // Throws std::invalid_argument for replicates < 10.
  explicit PoissonBootstrap(const Config& config);

  // One row's numerator and denominator terms (finite; asserted).
  void add(std::string_view event_id, double numerator, double denominator = 1.0);
  // Same, with the row key precomputed (row_key(event_id)): the hot loop.
  void add_keyed(std::uint64_t key, double numerator, double denominator);
  // Many rows at once, eight per pass over the replicates: the fast path, on
  // Config::threads threads. The replicate sums equal those of add_keyed row
  // by row up to rounding, and are bit-identical for any thread count.
  void add_rows(std::span<const BootstrapRow> rows);
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
  // Adds the block's terms to the point sums; then accumulate() adds them to
  // replicates [begin, end) (begin even).
  template <std::size_t kBlock>
  void add_block(const BootstrapRow* rows);
  template <std::size_t kBlock>
  void accumulate(const BootstrapRow* rows, std::size_t begin, std::size_t end);

  Config config_;
  std::vector<double> numerators_, denominators_;
  ExactSum numerator_, denominator_;
  std::size_t rows_ = 0;
};

// Poisson(mean) by inversion of its cdf on a 32-bit uniform, with a guide
// table (Chen & Asau 1974, "On generating random variates from an empirical
// distribution", AIIE Trans. 6) of at least 8 buckets per count: a bucket
// that holds no cdf step gives its count directly (7 draws in 8 or more),
// the others start the search at the right place, so a draw costs one table
// load and a well-predicted branch. The cdf is computed in extended precision
// and cut where a term is below 1e-13 of the mode's, then rounded to multiples
// of 2⁻³² (the resolution of the per-row Poisson(1) table too). Setup costs
// O(sqrt(mean) + 1) time and memory. Immutable.
class PoissonInverseCdf {
 public:
  // mean > 0 and finite, else std::invalid_argument.
  explicit PoissonInverseCdf(double mean);
  // The count whose cdf interval holds u / 2³².
  unsigned draw(std::uint32_t u) const {
    const std::uint32_t entry = guide_[u >> guide_shift_];
    if (!(entry & kSearch)) return first_ + entry;
    std::size_t k = entry & ~kSearch;
    while (u > thresholds_[k]) ++k;
    return first_ + static_cast<unsigned>(k);
  }

 private:
  static constexpr std::uint32_t kSearch = 0x80000000u;  // the bucket holds a cdf step
  unsigned first_ = 0;                     // smallest count with a cdf step
  std::vector<std::uint32_t> thresholds_;  // ⌊2³²·P(K <= first_ + k)⌋ - 1; last = 2³² - 1
  // Per bucket of u: the count k (relative to first_) of every u in it, or
  // kSearch | the first k whose threshold is >= the bucket's start.
  std::vector<std::uint32_t> guide_;
  unsigned guide_shift_ = 0;
};

// The grouped Poisson bootstrap (see the top of this file): same Config,
// same interval(), same distribution of replicates as PoissonBootstrap, but
// rows need no event id and cost O(1) each (a hash-table update); the B
// replicates are drawn in interval(), one Poisson(m) count per group of m
// rows with bit-identical (numerator, denominator). Group g's count in
// replicate b is a function of (seed, the pair's bits, m, b), and interval()
// visits the groups in the pairs' sorted order, so the result is bit-identical
// for every order of the same multiset of rows and any Config::threads.
// interval() costs O(B·groups + groups·log groups), spread over the threads.
// Not thread-safe.
class GroupedPoissonBootstrap {
 public:
  // Throws std::invalid_argument for replicates < 10.
  explicit GroupedPoissonBootstrap(const PoissonBootstrap::Config& config);

  // One row's terms (finite; asserted).
  void add(double numerator, double denominator = 1.0);
  Estimate interval(double alpha = 0.05) const;

  std::size_t rows() const { return rows_; }
  std::size_t groups() const { return groups_; }

 private:
  // An open-addressing table of the groups (linear probing, power-of-2
  // capacity, at most half full): a row costs a hash and about one probe.
  struct Slot {
    std::uint64_t numerator_bits = 0, denominator_bits = 0;
    std::uint64_t count = 0;  // 0 = empty slot
  };
  void grow();

  PoissonBootstrap::Config config_;
  std::vector<Slot> slots_;
  std::size_t groups_ = 0;
  std::size_t rows_ = 0;
};

enum class BootstrapMethod {
  automatic,  // grouped when the distinct (a, b) pairs number at most half the rows
  grouped,
  per_row,
};

// The bootstrap interval of Σa/Σb over `rows`, bit-identical for every order
// of the same rows (per row: rows sorted by (key, a, b) first; grouped: see
// GroupedPoissonBootstrap). Throws as PoissonBootstrap does.
Estimate bootstrap_interval(std::vector<BootstrapRow> rows, const PoissonBootstrap::Config& config,
                            double alpha = 0.05, BootstrapMethod method = BootstrapMethod::automatic);

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
