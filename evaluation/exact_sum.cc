// SPDX-License-Identifier: Apache-2.0
#include "evaluation/exact_sum.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "evaluation/statistics.h"

namespace recloop {

void ExactSum::add(double x) {
  assert(std::isfinite(x));
  // Shewchuk 1997, "Adaptive precision floating-point arithmetic and fast
  // robust geometric predicates" (Discrete Comput. Geom. 18), Grow-Expansion
  // with zero elimination: Fast-Two-Sum of x into each partial in turn keeps
  // hi + lo == x + y exactly, so the partials always represent the exact sum.
  std::size_t kept = 0;
  for (double y : partials_) {
    if (std::abs(x) < std::abs(y)) std::swap(x, y);
    const double hi = x + y;
    const double lo = y - (hi - x);
    if (lo != 0.0) partials_[kept++] = lo;
    x = hi;
  }
  partials_.resize(kept);
  partials_.push_back(x);
}

double ExactSum::value() const {
  // Round the expansion to the nearest double, from the largest partial down,
  // stopping at the first inexact addition; then the half-way correction (as
  // in Python's math.fsum) so that a sum exactly between two doubles rounds to
  // even whatever the partials look like. Correct rounding makes the result
  // unique, hence independent of the order of add() calls.
  std::size_t n = partials_.size();
  if (n == 0) return 0.0;
  double hi = partials_[--n];
  double lo = 0.0;
  while (n > 0) {
    const double x = hi;
    const double y = partials_[--n];
    hi = x + y;
    const double y_rounded = hi - x;
    lo = y - y_rounded;
    if (lo != 0.0) break;
  }
  if (n > 0 && ((lo < 0.0 && partials_[n - 1] < 0.0) || (lo > 0.0 && partials_[n - 1] > 0.0))) {
    const double y = lo * 2.0;
    const double x = hi + y;
    if (y == x - hi) hi = x;
  }
  return hi;
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
