// SPDX-License-Identifier: Apache-2.0
#include "evaluation/bootstrap.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "core/rng.h"
#include "evaluation/statistics.h"

namespace recloop {
namespace {

// Poisson(1) by inverse CDF on a 32-bit uniform u: k = #{j : u >= T_j} with
// T_j = floor(2³² · P(K <= j)). The probabilities are exact to 2⁻³²; the
// table stops where P(K > j) < 2⁻³² (j = 12).
constexpr int kThresholds = 13;
constexpr std::array<std::uint32_t, kThresholds> poisson_thresholds() {
  std::array<std::uint32_t, kThresholds> t{};
  // e⁻¹ to 17 digits; P(K = j) = e⁻¹ / j!.
  double term = 0.36787944117144233;
  double cdf = 0.0;
  for (int j = 0; j < kThresholds; ++j) {
    cdf += term;
    term /= (j + 1);
    const double scaled = cdf * 4294967296.0;
    t[j] = scaled >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(scaled);
  }
  return t;
}
constexpr std::array<std::uint32_t, kThresholds> kPoisson = poisson_thresholds();

unsigned poisson_by_search(std::uint32_t u) {
  unsigned k = 0;
  for (std::uint32_t t : kPoisson) k += u >= t ? 1u : 0u;
  return k;
}

// The same function by table: entry h is K for every u whose top 12 bits are
// h, or kStraddle for the 13 buckets that contain a threshold, where the full
// search decides (0.3% of draws). Equal to poisson_by_search for every u; one
// load per draw from a 4 KiB table that stays in L1.
constexpr std::uint8_t kStraddle = 0xFF;
constexpr int kTableBits = 12;
struct PoissonTable {
  std::array<std::uint8_t, 1u << kTableBits> k{};
  PoissonTable() {
    constexpr std::uint32_t kLowMask = (1u << (32 - kTableBits)) - 1;
    for (std::uint32_t h = 0; h < k.size(); ++h) {
      const unsigned low = poisson_by_search(h << (32 - kTableBits));
      const unsigned high = poisson_by_search((h << (32 - kTableBits)) | kLowMask);
      k[h] = low == high ? static_cast<std::uint8_t>(low) : kStraddle;
    }
  }
};

const PoissonTable& poisson_table() {
  static const PoissonTable table;  // immutable after its thread-safe initialisation
  return table;
}

inline unsigned poisson_from_bits(const PoissonTable& table, std::uint32_t u) {
  const std::uint8_t k = table.k[u >> (32 - kTableBits)];
  return k != kStraddle ? k : poisson_by_search(u);
}

// Draws a thread must have before it is worth starting (~0.3 ms of work
// against ~0.05 ms to start and join a thread).
constexpr double kMinDrawsPerThread = 262144.0;

// Threads for `draws` draws over `replicates` replicates (see Config::threads).
std::size_t thread_count(std::size_t requested, std::size_t replicates, double draws) {
  std::size_t threads = requested;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, static_cast<std::size_t>(draws / kMinDrawsPerThread));
  return std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(1, replicates / 2));
}

// Calls f(begin, end) for `threads` contiguous ranges covering [0, replicates),
// each starting at an even replicate (a pair of replicates shares one 64-bit
// output); all but the first on threads of their own. Returns when all are done.
template <class F>
void for_replicate_ranges(std::size_t replicates, std::size_t threads, const F& f) {
  const std::size_t pairs = (replicates + 1) / 2;
  auto bound = [&](std::size_t t) { return std::min(replicates, 2 * (pairs * t / threads)); };
  std::vector<std::jthread> workers;  // joined when they leave scope, also on an exception
  workers.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(f, bound(t), bound(t + 1));
  f(bound(0), bound(1));
}

}  // namespace

PoissonBootstrap::PoissonBootstrap(const Config& config) : config_(config) {
  if (config.replicates < 10) {
    throw std::invalid_argument("bootstrap: replicates = " + std::to_string(config.replicates) +
                                " must be >= 10");
  }
  numerators_.assign(config.replicates, 0.0);
  denominators_.assign(config.replicates, 0.0);
}

std::uint64_t PoissonBootstrap::row_key(std::string_view event_id) const {
  return decision_seed(config_.seed, event_id);
}

unsigned PoissonBootstrap::poisson_weight(std::uint64_t key, std::uint64_t b) {
  // Two replicates per 64-bit splitmix64 output: b's pair is b / 2, half b % 2.
  const std::uint64_t bits = splitmix64(key + (b >> 1));
  return poisson_from_bits(poisson_table(), static_cast<std::uint32_t>((b & 1) ? bits >> 32 : bits));
}

void PoissonBootstrap::add(std::string_view event_id, double numerator, double denominator) {
  add_keyed(row_key(event_id), numerator, denominator);
}

void PoissonBootstrap::add_keyed(std::uint64_t key, double numerator, double denominator) {
  const BootstrapRow row{key, numerator, denominator};
  add_block<1>(&row);
}

void PoissonBootstrap::add_rows(std::span<const BootstrapRow> rows) {
  constexpr std::size_t kBlock = 8;
  const std::size_t replicates = numerators_.size();
  const std::size_t threads = thread_count(
      config_.threads, replicates, static_cast<double>(rows.size()) * static_cast<double>(replicates));
  if (threads == 1) {
    std::size_t i = 0;
    for (; i + kBlock <= rows.size(); i += kBlock) add_block<kBlock>(rows.data() + i);
    for (; i < rows.size(); ++i) add_block<1>(rows.data() + i);
    return;
  }
  // The point sums first, then each thread adds every row to its replicates,
  // in the same blocks as above: the same sums, bit for bit.
  for (const BootstrapRow& row : rows) {
    assert(std::isfinite(row.numerator) && std::isfinite(row.denominator));
    numerator_.add(row.numerator);
    denominator_.add(row.denominator);
  }
  rows_ += rows.size();
  for_replicate_ranges(replicates, threads, [&](std::size_t begin, std::size_t end) {
    std::size_t i = 0;
    for (; i + kBlock <= rows.size(); i += kBlock) accumulate<kBlock>(rows.data() + i, begin, end);
    for (; i < rows.size(); ++i) accumulate<1>(rows.data() + i, begin, end);
  });
}

template <std::size_t kBlock>
void PoissonBootstrap::add_block(const BootstrapRow* rows) {
  for (std::size_t r = 0; r < kBlock; ++r) {
    assert(std::isfinite(rows[r].numerator) && std::isfinite(rows[r].denominator));
    numerator_.add(rows[r].numerator);
    denominator_.add(rows[r].denominator);
  }
  rows_ += kBlock;
  accumulate<kBlock>(rows, 0, numerators_.size());
}

template <std::size_t kBlock>
void PoissonBootstrap::accumulate(const BootstrapRow* rows, std::size_t begin, std::size_t end) {
  bool unit_denominators = true;
  for (std::size_t r = 0; r < kBlock; ++r) {
    unit_denominators = unit_denominators && rows[r].denominator == 1.0;
  }
  // Counter-based weights: replicate pair p (replicates 2p, 2p+1) uses the
  // low and high halves of splitmix64(key + p), the p-th output of a
  // SplitMix64 stream started at the row's key. The block's contributions to
  // a replicate are summed in registers
  // and added to the replicate's sums once, so the sums are loaded and stored
  // once per block. With every denominator 1 (IPS, DR) the denominator is
  // the integer Σk.
  double* num = numerators_.data();
  double* den = denominators_.data();
  const PoissonTable& table = poisson_table();
  std::size_t b = begin;
  for (; b + 1 < end; b += 2) {
    double n0 = 0.0, d0 = 0.0, n1 = 0.0, d1 = 0.0;
    unsigned c0 = 0, c1 = 0;
    for (std::size_t r = 0; r < kBlock; ++r) {
      const std::uint64_t bits = splitmix64(rows[r].key + (b >> 1));
      const unsigned k0 = poisson_from_bits(table, static_cast<std::uint32_t>(bits));
      const unsigned k1 = poisson_from_bits(table, static_cast<std::uint32_t>(bits >> 32));
      n0 += k0 * rows[r].numerator;
      n1 += k1 * rows[r].numerator;
      if (unit_denominators) {
        c0 += k0;
        c1 += k1;
      } else {
        d0 += k0 * rows[r].denominator;
        d1 += k1 * rows[r].denominator;
      }
    }
    num[b] += n0;
    den[b] += unit_denominators ? static_cast<double>(c0) : d0;
    num[b + 1] += n1;
    den[b + 1] += unit_denominators ? static_cast<double>(c1) : d1;
  }
  for (; b < end; ++b) {
    for (std::size_t r = 0; r < kBlock; ++r) {
      const double k = poisson_weight(rows[r].key, b);
      num[b] += k * rows[r].numerator;
      den[b] += k * rows[r].denominator;
    }
  }
}

namespace {

// Σa/Σb with the percentile interval of the replicate ratios (see
// PoissonBootstrap::interval).
Estimate ratio_interval(double numerator, double denominator, std::size_t rows,
                        const std::vector<double>& numerators,
                        const std::vector<double>& denominators, double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    throw std::invalid_argument("bootstrap: alpha = " + std::to_string(alpha) +
                                " is outside (0, 1)");
  }
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Estimate e;
  e.n = rows;
  e.value = denominator != 0.0 ? numerator / denominator
                               : std::numeric_limits<double>::quiet_NaN();
  std::vector<double> ratios;
  ratios.reserve(numerators.size());
  for (std::size_t b = 0; b < numerators.size(); ++b) {
    if (denominators[b] != 0.0) ratios.push_back(numerators[b] / denominators[b]);
  }
  if (rows < 2 || ratios.size() < 2) {
    e.std_error = kInfinity;
    e.lower = -kInfinity;
    e.upper = kInfinity;
    return e;
  }
  std::sort(ratios.begin(), ratios.end());
  // Percentile interval (Efron & Tibshirani 1993, "An introduction to the
  // bootstrap", Sec. 13.3), nearest-rank quantiles of the replicate values.
  const auto m = static_cast<double>(ratios.size());
  auto at = [&](double p) {
    auto rank = static_cast<std::size_t>(std::ceil(p * m));
    rank = std::clamp<std::size_t>(rank, 1, ratios.size());
    return ratios[rank - 1];
  };
  e.lower = at(alpha / 2.0);
  e.upper = at(1.0 - alpha / 2.0);
  // The replicates in sorted order: the same bits for any order they were made in.
  RunningMoments spread;
  for (double r : ratios) spread.add(r);
  e.std_error = std::sqrt(spread.sample_variance());
  return e;
}

}  // namespace

Estimate PoissonBootstrap::interval(double alpha) const {
  return ratio_interval(numerator_.value(), denominator_.value(), rows_, numerators_,
                        denominators_, alpha);
}

PoissonInverseCdf::PoissonInverseCdf(double mean) {
  if (!(mean > 0.0) || std::isinf(mean)) {
    throw std::invalid_argument("poisson: mean = " + std::to_string(mean) +
                                " must be finite and > 0");
  }
  // P(K = k) relative to the mode's, by the recurrence p(k+1) = p(k)·λ/(k+1)
  // outwards from the mode ⌊λ⌋ in extended precision, cut where a term falls
  // below 1e-13 of the mode's (the tails beyond are smaller still: the ratio of
  // successive terms keeps shrinking, and their total is far below the 2⁻³²
  // resolution of the thresholds), then normalised by the kept total. No
  // lgamma: the recurrence is accurate to ~1e-19 per step.
  using Real = long double;
  constexpr Real kCut = 1e-13L;
  const Real lambda = mean;
  const Real inverse_lambda = 1.0L / lambda;
  const auto mode = static_cast<unsigned>(std::floor(mean));
  std::vector<Real> left;  // p(mode - 1), p(mode - 2), ...
  for (Real p = 1.0L, k = mode; k > 0; k -= 1.0L) {
    p *= k * inverse_lambda;
    if (p < kCut) break;
    left.push_back(p);
  }
  std::vector<Real> pmf(left.rbegin(), left.rend());
  pmf.push_back(1.0L);
  for (Real p = 1.0L, k = static_cast<Real>(mode) + 1.0L;; k += 1.0L) {
    p *= lambda / k;
    if (p < kCut) break;
    pmf.push_back(p);
  }
  first_ = mode - static_cast<unsigned>(left.size());
  Real total = 0.0L;
  for (Real p : pmf) total += p;
  // T_k = ⌊2³²·cdf(k)⌋ - 1: u <= T_k exactly when u / 2³² < cdf(k).
  constexpr Real kTwo32 = 4294967296.0L;
  thresholds_.resize(pmf.size());
  Real cdf = 0.0L;
  for (std::size_t k = 0; k < pmf.size(); ++k) {
    cdf += pmf[k];
    const Real scaled = std::floor(cdf / total * kTwo32);
    thresholds_[k] = scaled >= kTwo32 ? 0xFFFFFFFFu
                     : scaled < 1.0L  ? 0
                                      : static_cast<std::uint32_t>(scaled) - 1;
  }
  thresholds_.back() = 0xFFFFFFFFu;
  // At least 8 buckets per count (up to 2²⁰ buckets): most buckets then
  // hold no threshold, and their draws need no search.
  unsigned bits = 1;
  while ((std::size_t{1} << bits) < 8 * pmf.size() && bits < 20) ++bits;
  guide_shift_ = 32 - bits;
  guide_.resize(std::size_t{1} << bits);
  std::size_t k = 0;
  for (std::size_t j = 0; j < guide_.size(); ++j) {
    const auto start = static_cast<std::uint32_t>(j << guide_shift_);
    const std::uint32_t end = start | ((std::uint32_t{1} << guide_shift_) - 1);
    while (thresholds_[k] < start) ++k;
    // Every u in [start, end] gives k exactly when end <= T_k.
    guide_[j] = end <= thresholds_[k] ? static_cast<std::uint32_t>(k)
                                      : kSearch | static_cast<std::uint32_t>(k);
  }
}

namespace {

std::size_t slot_of(std::uint64_t numerator_bits, std::uint64_t denominator_bits,
                    std::size_t mask) {
  return static_cast<std::size_t>(
             splitmix64(numerator_bits ^ (denominator_bits * 0x9E3779B97F4A7C15ULL))) &
         mask;
}

}  // namespace

GroupedPoissonBootstrap::GroupedPoissonBootstrap(const PoissonBootstrap::Config& config)
    : config_(config), slots_(64) {
  if (config.replicates < 10) {
    throw std::invalid_argument("bootstrap: replicates = " + std::to_string(config.replicates) +
                                " must be >= 10");
  }
}

void GroupedPoissonBootstrap::add(double numerator, double denominator) {
  assert(std::isfinite(numerator) && std::isfinite(denominator));
  // +0.0 for -0.0, so that the two zeros are one group.
  const auto a = std::bit_cast<std::uint64_t>(numerator == 0.0 ? 0.0 : numerator);
  const auto b = std::bit_cast<std::uint64_t>(denominator == 0.0 ? 0.0 : denominator);
  ++rows_;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slot_of(a, b, mask);; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.count == 0) {
      slot = {a, b, 1};
      if (2 * ++groups_ > slots_.size()) grow();
      return;
    }
    if (slot.numerator_bits == a && slot.denominator_bits == b) {
      ++slot.count;
      return;
    }
  }
}

void GroupedPoissonBootstrap::grow() {
  std::vector<Slot> old(2 * slots_.size());
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.count == 0) continue;
    std::size_t i = slot_of(slot.numerator_bits, slot.denominator_bits, mask);
    while (slots_[i].count != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

Estimate GroupedPoissonBootstrap::interval(double alpha) const {
  struct Group {
    double numerator, denominator;
    std::uint64_t rows, key;
  };
  std::vector<Group> groups;
  groups.reserve(groups_);
  const std::uint64_t seed_key = splitmix64(config_.seed ^ 0x6A09E667F3BCC908ULL);
  for (const Slot& slot : slots_) {
    if (slot.count == 0) continue;
    groups.push_back({std::bit_cast<double>(slot.numerator_bits),
                      std::bit_cast<double>(slot.denominator_bits), slot.count,
                      splitmix64(seed_key ^ splitmix64(slot.numerator_bits) ^
                                 splitmix64(slot.denominator_bits + 0x9E3779B97F4A7C15ULL))});
  }
  // The hash table's order depends on the insertion history; the pairs' order does not.
  std::sort(groups.begin(), groups.end(), [](const Group& x, const Group& y) {
    return std::tuple(x.numerator, x.denominator) < std::tuple(y.numerator, y.denominator);
  });
  ExactSum numerator, denominator;
  for (const Group& g : groups) {
    // Σ of the group's m terms, exactly: m·a is exact in the expansion as
    // m copies of a would be (m < 2⁵³, a product of two doubles is split).
    const double m = static_cast<double>(g.rows);
    const double num_hi = m * g.numerator;
    numerator.add(num_hi);
    numerator.add(std::fma(m, g.numerator, -num_hi));
    const double den_hi = m * g.denominator;
    denominator.add(den_hi);
    denominator.add(std::fma(m, g.denominator, -den_hi));
  }
  const std::size_t replicates = config_.replicates;
  std::vector<double> numerators(replicates, 0.0), denominators(replicates, 0.0);
  double* num = numerators.data();
  double* den = denominators.data();
  // Each thread takes every group, in sorted order, for its replicates
  // [begin, end): a replicate's sums add the same terms in the same order
  // whichever thread draws it. One group at a time keeps its guide table in L1.
  auto draw_range = [&](std::size_t begin, std::size_t end) {
    for (const Group& g : groups) {
      // Replicate b's count of the group: Poisson(m), from the low (b even) or
      // high (b odd) half of the (b/2)-th output of a SplitMix64 stream started
      // at the group's key. A group whose numerator (or denominator) is 0 adds
      // nothing to it: click logs have many.
      const PoissonInverseCdf poisson(static_cast<double>(g.rows));
      const double a = g.numerator;
      const double d = g.denominator;
      auto draw_all = [&](auto add) {
        std::size_t b = begin;
        for (; b + 1 < end; b += 2) {
          const std::uint64_t bits = splitmix64(g.key + (b >> 1));
          add(b, poisson.draw(static_cast<std::uint32_t>(bits)));
          add(b + 1, poisson.draw(static_cast<std::uint32_t>(bits >> 32)));
        }
        if (b < end) add(b, poisson.draw(static_cast<std::uint32_t>(splitmix64(g.key + (b >> 1)))));
      };
      if (a == 0.0) {
        draw_all([&](std::size_t b, unsigned k) { den[b] += k * d; });
      } else if (d == 0.0) {
        draw_all([&](std::size_t b, unsigned k) { num[b] += k * a; });
      } else {
        draw_all([&](std::size_t b, unsigned k) {
          num[b] += k * a;
          den[b] += k * d;
        });
      }
    }
  };
  const std::size_t threads = thread_count(
      config_.threads, replicates, static_cast<double>(groups.size()) * static_cast<double>(replicates));
  for_replicate_ranges(replicates, threads, draw_range);
  return ratio_interval(numerator.value(), denominator.value(), rows_, numerators, denominators,
                        alpha);
}

Estimate bootstrap_interval(std::vector<BootstrapRow> rows, const PoissonBootstrap::Config& config,
                            double alpha, BootstrapMethod method) {
  if (method != BootstrapMethod::per_row) {
    GroupedPoissonBootstrap grouped(config);
    for (const BootstrapRow& row : rows) grouped.add(row.numerator, row.denominator);
    // A grouped draw costs about twice a per-row one (a full 64-bit output
    // and a guide-table lookup per count), so grouping pays from half.
    if (method == BootstrapMethod::grouped || 2 * grouped.groups() <= rows.size()) {
      return grouped.interval(alpha);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const BootstrapRow& x, const BootstrapRow& y) {
    return std::tuple(x.key, x.numerator, x.denominator) <
           std::tuple(y.key, y.numerator, y.denominator);
  });
  PoissonBootstrap bootstrap(config);
  bootstrap.add_rows(rows);
  return bootstrap.interval(alpha);
}

double empirical_bernstein_lower_bound(std::size_t n, double mean, double sample_variance,
                                       double range, double delta) {
  if (n < 2) throw std::invalid_argument("empirical Bernstein bound: needs n >= 2 terms");
  if (!(delta > 0.0 && delta < 1.0)) {
    throw std::invalid_argument("empirical Bernstein bound: delta = " + std::to_string(delta) +
                                " is outside (0, 1)");
  }
  if (!(range > 0.0) || std::isinf(range)) {
    throw std::invalid_argument("empirical Bernstein bound: range = " + std::to_string(range) +
                                " must be finite and > 0");
  }
  // Maurer & Pontil 2009, "Empirical Bernstein bounds and sample variance
  // penalization" (COLT), Thm. 4, for X_i in [0, 1] and V_n the unbiased
  // sample variance: with probability >= 1 - δ,
  //   E X >= mean - sqrt(2 V_n ln(2/δ) / n) - 7 ln(2/δ) / (3 (n - 1)).
  // For terms in [0, b], apply it to X/b and multiply back by b.
  const double nn = static_cast<double>(n);
  const double log_term = std::log(2.0 / delta);
  return mean - std::sqrt(2.0 * std::max(0.0, sample_variance) * log_term / nn) -
         7.0 * range * log_term / (3.0 * (nn - 1.0));
}

double empirical_bernstein_lower_bound(std::span<const double> terms, double range,
                                       double delta) {
  ExactMoments moments;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (!(terms[i] >= 0.0 && terms[i] <= range)) {
      throw std::invalid_argument("empirical Bernstein bound: term " + std::to_string(i) +
                                  " = " + std::to_string(terms[i]) + " is outside [0, " +
                                  std::to_string(range) + "]");
    }
    moments.add(terms[i]);
  }
  return empirical_bernstein_lower_bound(terms.size(), moments.mean(), moments.sample_variance(),
                                         range, delta);
}

}  // namespace recloop
