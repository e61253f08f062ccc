// SPDX-License-Identifier: Apache-2.0
#include "evaluation/columnar_dr.h"

#include <cstddef>
#include <stdexcept>

#include "evaluation/statistics.h"

namespace recloop {

Estimate columnar_doubly_robust(const DrColumns& c, double alpha) {
  const std::size_t n = c.weight.size();
  if (c.reward.size() != n || c.logged_prediction.size() != n || c.direct.size() != n) {
    throw std::invalid_argument("columnar dr: the columns differ in length");
  }
  if (n == 0) return mean_estimate(0.0, 0.0, 0, alpha);
  const double* w = c.weight.data();
  const double* r = c.reward.data();
  const double* p = c.logged_prediction.data();
  const double* d = c.direct.data();
  // Terms are shifted by the first one before squaring, so Σ(t-s)² - (Σ(t-s))²/n
  // does not cancel catastrophically when the mean is large against the sd.
  const double shift = d[0] + w[0] * (r[0] - p[0]);
  // kLanes independent accumulators: the adds of one lane never wait on
  // another's, and the fixed lane layout lets the compiler keep them in
  // vector registers without reassociating anything (no -ffast-math).
  constexpr std::size_t kLanes = 8;
  double sum[kLanes] = {};
  double squares[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double t = d[i + l] + w[i + l] * (r[i + l] - p[i + l]) - shift;
      sum[l] += t;
      squares[l] += t * t;
    }
  }
  for (std::size_t l = 0; i < n; ++i, ++l) {
    const double t = d[i] + w[i] * (r[i] - p[i]) - shift;
    sum[l] += t;
    squares[l] += t * t;
  }
  double total = 0.0;
  double total_squares = 0.0;
  for (std::size_t l = 0; l < kLanes; ++l) {
    total += sum[l];
    total_squares += squares[l];
  }
  const double count = static_cast<double>(n);
  const double mean_shifted = total / count;
  const double variance =
      n < 2 ? 0.0 : (total_squares - total * mean_shifted) / (count - 1.0);
  return mean_estimate(shift + mean_shifted, variance < 0.0 ? 0.0 : variance, n, alpha);
}

}  // namespace recloop
