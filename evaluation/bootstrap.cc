// SPDX-License-Identifier: Apache-2.0
#include "evaluation/bootstrap.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

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

// The same function by table: entry h is K for every u whose top 16 bits are
// h, or kStraddle for the 13 buckets that contain a threshold, where the full
// search decides. Equal to poisson_by_search for every u; one load per draw.
constexpr std::uint8_t kStraddle = 0xFF;
struct PoissonTable {
  std::array<std::uint8_t, 65536> k{};
  PoissonTable() {
    for (std::uint32_t h = 0; h < 65536; ++h) {
      const unsigned low = poisson_by_search(h << 16);
      const unsigned high = poisson_by_search((h << 16) | 0xFFFFu);
      k[h] = low == high ? static_cast<std::uint8_t>(low) : kStraddle;
    }
  }
};

const PoissonTable& poisson_table() {
  static const PoissonTable table;  // immutable after its thread-safe initialisation
  return table;
}

inline unsigned poisson_from_bits(const PoissonTable& table, std::uint32_t u) {
  const std::uint8_t k = table.k[u >> 16];
  return k != kStraddle ? k : poisson_by_search(u);
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
  // Two replicates per 64-bit splitmix64 output: b's pair is (b / 2), half b % 2.
  const std::uint64_t bits = splitmix64(key + (b >> 1));
  return poisson_from_bits(poisson_table(), static_cast<std::uint32_t>((b & 1) ? bits >> 32 : bits));
}

void PoissonBootstrap::add(std::string_view event_id, double numerator, double denominator) {
  add_keyed(row_key(event_id), numerator, denominator);
}

void PoissonBootstrap::add_keyed(std::uint64_t key, double numerator, double denominator) {
  assert(std::isfinite(numerator) && std::isfinite(denominator));
  ++rows_;
  numerator_.add(numerator);
  denominator_.add(denominator);
  // Counter-based weights: replicate pair p uses splitmix64(key + p), the
  // p-th output of a SplitMix64 stream started at the row's key.
  const std::size_t replicates = numerators_.size();
  double* num = numerators_.data();
  double* den = denominators_.data();
  const PoissonTable& table = poisson_table();
  std::size_t b = 0;
  for (; b + 1 < replicates; b += 2) {
    const std::uint64_t bits = splitmix64(key + (b >> 1));
    const double k0 = poisson_from_bits(table, static_cast<std::uint32_t>(bits));
    const double k1 = poisson_from_bits(table, static_cast<std::uint32_t>(bits >> 32));
    num[b] += k0 * numerator;
    den[b] += k0 * denominator;
    num[b + 1] += k1 * numerator;
    den[b + 1] += k1 * denominator;
  }
  if (b < replicates) {
    const double k = poisson_weight(key, b);
    num[b] += k * numerator;
    den[b] += k * denominator;
  }
}

Estimate PoissonBootstrap::interval(double alpha) const {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    throw std::invalid_argument("bootstrap: alpha = " + std::to_string(alpha) +
                                " is outside (0, 1)");
  }
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  Estimate e;
  e.n = rows_;
  const double total_den = denominator_.value();
  e.value = total_den != 0.0 ? numerator_.value() / total_den
                             : std::numeric_limits<double>::quiet_NaN();
  std::vector<double> ratios;
  ratios.reserve(numerators_.size());
  for (std::size_t b = 0; b < numerators_.size(); ++b) {
    if (denominators_[b] != 0.0) ratios.push_back(numerators_[b] / denominators_[b]);
  }
  if (rows_ < 2 || ratios.size() < 2) {
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
  RunningMoments spread;
  for (double r : ratios) spread.add(r);
  e.std_error = std::sqrt(spread.sample_variance());
  return e;
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
