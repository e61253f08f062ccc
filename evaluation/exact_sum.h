// SPDX-License-Identifier: Apache-2.0
// Order-independent summation. ExactSum keeps the exact sum of every value
// added (as a short list of non-overlapping doubles) and rounds it once, to
// the nearest double, when asked. The result is therefore a function of the
// multiset of values alone: shuffling the rows of a log gives bit-identical
// sums, means and variances. That is how the estimators built on it
// guarantee estimates that do not depend on row order.
//
// Cost: a few floating-point operations per add() (the list stays at 1-3
// entries for ordinary data). Values must be finite (asserted). Not thread-safe.
#pragma once

#include <cstddef>
#include <vector>

#include "evaluation/estimator.h"

namespace recloop {

class ExactSum {
 public:
  void add(double x);
  // The exact sum of the values added, correctly rounded (ties to even); 0 if none.
  double value() const;

 private:
  std::vector<double> partials_;  // non-overlapping, increasing magnitude
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
