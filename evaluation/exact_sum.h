// SPDX-License-Identifier: Apache-2.0
// Order-independent summation. ExactSum keeps the exact sum of every value
// added (as a fixed-point integer spanning the whole double range) and rounds
// it once, to the nearest double, when asked. The result is therefore a
// function of the multiset of values alone: shuffling the rows of a log gives
// bit-identical sums, means and variances. That is how the estimators built
// on it guarantee estimates that do not depend on row order.
//
// Cost: add() is a dozen integer operations and no branch on the data
// (three 64-bit limb updates); value() costs O(limbs the values touched),
// tens of nanoseconds for values of similar magnitude. 560 bytes. Values must
// be finite (asserted), and so must the sum be. Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "evaluation/estimator.h"

namespace recloop {

class ExactSum {
 public:
  void add(double x);
  // The exact sum of the values added, correctly rounded (ties to even); 0 if none.
  double value() const;

  // Limb k holds a signed multiple of 2^(32k - 1074): every finite double is
  // an integer multiple of 2⁻¹⁰⁷⁴ below 2¹⁰²⁴, so 66 limbs of 32 bits (and two
  // for carries) hold any of them, and a 53-bit significand spans three.
  static constexpr int kLimbs = 68;

 private:
  std::array<std::int64_t, kLimbs> limbs_{};  // each |limb| < 2⁶³: carried every 2²⁸ adds
  int low_ = kLimbs;                          // lowest limb touched
  int high_ = -1;                             // highest limb touched
  std::uint32_t adds_since_carry_ = 0;
};

// Count, Σx and Σx² of a sequence, each summed exactly: mean and sample
// variance are deterministic functions of the multiset of values.
class ExactMoments {
 public:
  void add(double x) {
    ++count_;
    sum_.add(x);
    sum_squares_.add(x * x);
  }
  std::size_t count() const { return count_; }
  double sum() const { return sum_.value(); }
  // NaN when count() == 0.
  double mean() const;
  // Unbiased sample variance, clamped at 0 (the Σx² - (Σx)²/n form can round
  // below 0 for near-constant values); 0 when count() < 2.
  double sample_variance() const;

 private:
  std::size_t count_ = 0;
  ExactSum sum_;
  ExactSum sum_squares_;
};

// mean_estimate() (evaluation/statistics.h) of the values in `moments`.
Estimate mean_estimate(const ExactMoments& moments, double alpha);

}  // namespace recloop
