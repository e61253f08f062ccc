// SPDX-License-Identifier: Apache-2.0
// The small amount of statistics every estimator shares: the standard normal
// quantile, a streaming mean/variance, and the normal-approximation interval
// that turns a mean and its variance into an Estimate.
#pragma once

#include <cstddef>

#include "evaluation/estimator.h"

namespace recloop {

// Quantile of the standard normal distribution: the z with P(Z <= z) = p.
// Accurate to about 1e-16 relative over (0, 1). p = 0 and p = 1 give -inf and
// +inf; p outside [0, 1] or NaN throws std::invalid_argument.
double normal_quantile(double p);

// Streaming mean and sample variance of a sequence of finite values, stable
// for long runs of nearly equal values. Not thread-safe.
class RunningMoments {
 public:
  void add(double x);
  std::size_t count() const { return count_; }
  // Mean of the values added; 0 when none were.
  double mean() const { return mean_; }
  // Unbiased sample variance (denominator count() - 1); 0 when count() < 2.
  double sample_variance() const;

 private:
  std::size_t count_ = 0;
  double mean_ = 0.0;
  double sum_squared_deviations_ = 0.0;
};

// The Estimate of a quantity estimated by `value` with standard error
// `std_error` from n interactions: the two-sided (1 - alpha) interval
// value ± z_{1-alpha/2}·std_error. alpha must lie in (0, 1), else
// std::invalid_argument. An infinite std_error gives the interval (-inf, inf).
Estimate normal_interval(double value, double std_error, std::size_t n, double alpha);

// The Estimate of a population mean from the sample mean of n i.i.d. terms
// and their sample variance: std_error = sqrt(sample_variance / n). With n < 2
// the standard error is infinite; with n = 0 the value is NaN (nothing seen).
Estimate mean_estimate(double mean, double sample_variance, std::size_t n, double alpha);

// mean_estimate() of the terms accumulated in `moments`.
Estimate mean_estimate(const RunningMoments& moments, double alpha);

}  // namespace recloop
