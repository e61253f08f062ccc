// SPDX-License-Identifier: Apache-2.0
#include "evaluation/exact_sum.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "evaluation/statistics.h"

namespace recloop {

namespace {

// Adds the exact value x to the expansion partials[0 .. n) (Shewchuk 1997,
// "Adaptive precision floating-point arithmetic and fast robust geometric
// predicates", Discrete Comput. Geom. 18, Grow-Expansion with zero
// elimination): Fast-Two-Sum of x into each partial in turn keeps
// hi + lo == x + y exactly, so the partials always represent the exact sum.
void grow_expansion(double* partials, std::size_t& n, double x) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double y = partials[i];
    if (std::abs(x) < std::abs(y)) std::swap(x, y);
    const double hi = x + y;
    const double lo = y - (hi - x);
    if (lo != 0.0) partials[kept++] = lo;
    x = hi;
  }
  partials[kept++] = x;
  n = kept;
}

// The expansion rounded to the nearest double, from the largest partial down,
// stopping at the first inexact addition; then the half-way correction (as in
// Python's math.fsum) so that a sum exactly between two doubles rounds to even
// whatever the partials look like.
double round_expansion(const double* partials, std::size_t n) {
  if (n == 0) return 0.0;
  double hi = partials[--n];
  double lo = 0.0;
  while (n > 0) {
    const double x = hi;
    const double y = partials[--n];
    hi = x + y;
    const double y_rounded = hi - x;
    lo = y - y_rounded;
    if (lo != 0.0) break;
  }
  if (n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0))) {
    const double y = lo * 2.0;
    const double x = hi + y;
    if (y == x - hi) hi = x;
  }
  return hi;
}

// Moves each limb's bits above 32 into the next limb, from `low` up to and
// excluding `top`: limbs low .. top-1 end in [0, 2³²), `top` keeps the sign.
// Arithmetic shifts (C++20) make the carry the floor of limb / 2³².
void carry(std::int64_t* limbs, int low, int top) {
  for (int k = low; k < top; ++k) {
    const std::int64_t c = limbs[k] >> 32;
    limbs[k] -= c * (std::int64_t{1} << 32);
    limbs[k + 1] += c;
  }
}

constexpr std::uint64_t kLow32 = 0xFFFFFFFFu;
constexpr std::uint32_t kAddsPerCarry = 1u << 28;

}  // namespace

void ExactSum::add(double x) {
  assert(std::isfinite(x));
  // x = ±m·2^(e-1075) with m = 2⁵² + fraction (normal, e >= 1) or m = the
  // fraction (subnormal, e = 0, scale 2⁻¹⁰⁷⁴ as for e = 1): m·2^pos in units
  // of 2⁻¹⁰⁷⁴, pos = max(e - 1, 0) in [0, 2045]. Split m·2^s (s = pos % 32)
  // over limbs pos/32 .. pos/32 + 2 in 32-bit pieces, each < 2³⁴.
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const int e = static_cast<int>((bits >> 52) & 0x7FF);
  const std::uint64_t m = (bits & ((std::uint64_t{1} << 52) - 1)) | (e ? std::uint64_t{1} << 52 : 0);
  const int pos = e ? e - 1 : 0;
  const int k = pos >> 5;
  const int s = pos & 31;
  const std::uint64_t low = (m & kLow32) << s;  // < 2⁶³
  const std::uint64_t high = (m >> 32) << s;    // < 2⁵²
  // Negation without a branch: (v ^ sign) - sign with sign = 0 or -1.
  const auto sign = -static_cast<std::int64_t>(bits >> 63);
  auto signed_piece = [sign](std::uint64_t v) {
    return (static_cast<std::int64_t>(v) ^ sign) - sign;
  };
  limbs_[k] += signed_piece(low & kLow32);
  limbs_[k + 1] += signed_piece((low >> 32) + (high & kLow32));
  limbs_[k + 2] += signed_piece(high >> 32);
  low_ = std::min(low_, k);
  high_ = std::max(high_, k + 2);
  // Each add moves a limb by < 2³⁴, so 2²⁸ adds stay far below 2⁶³.
  if (++adds_since_carry_ == kAddsPerCarry) {
    carry(limbs_.data(), low_, kLimbs - 1);
    high_ = kLimbs - 1;
    adds_since_carry_ = 0;
  }
}

double ExactSum::value() const {
  if (high_ < 0) return 0.0;
  // The limbs low_ .. top: carried up to `top`, which then holds the sign of
  // the whole sum (the values touched limbs up to high_, so two limbs above
  // it take every carry).
  const int top = std::min(high_ + 2, kLimbs - 1);
  std::array<std::int64_t, kLimbs> limbs = limbs_;
  carry(limbs.data(), low_, top);
  const bool negative = limbs[top] < 0;
  if (negative) {
    // Carry the negated limbs instead: the magnitude, all limbs >= 0.
    for (int k = low_; k <= top; ++k) limbs[k] = -limbs_[k];
    carry(limbs.data(), low_, top);
  }
  // Each limb times 2^(32k - 1074) is a double exactly (< 2³² significant
  // bits, an exponent that is a multiple of 2⁻¹⁰⁷⁴); their exact sum, an
  // expansion of a few doubles, is rounded once.
  std::array<double, kLimbs> partials;
  std::size_t n = 0;
  for (int k = low_; k <= top; ++k) {
    if (limbs[k] != 0) {
      grow_expansion(partials.data(), n,
                     std::ldexp(static_cast<double>(limbs[k]), 32 * k - 1074));
    }
  }
  const double sum = round_expansion(partials.data(), n);
  return negative ? -sum : sum;
}

double ExactMoments::mean() const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  return sum_.value() / static_cast<double>(count_);
}

double ExactMoments::sample_variance() const {
  if (count_ < 2) return 0.0;
  const double n = static_cast<double>(count_);
  const double sum = sum_.value();
  return std::max(0.0, (sum_squares_.value() - sum * sum / n) / (n - 1.0));
}

Estimate mean_estimate(const ExactMoments& moments, double alpha) {
  return mean_estimate(moments.count() == 0 ? 0.0 : moments.mean(), moments.sample_variance(),
                       moments.count(), alpha);
}

}  // namespace recloop
