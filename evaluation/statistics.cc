// SPDX-License-Identifier: Apache-2.0
#include "evaluation/statistics.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace recloop {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Horner evaluation of c[0] + c[1] x + ... + c[7] x^7.
double polynomial(const double (&c)[8], double x) {
  double result = c[7];
  for (int i = 6; i >= 0; --i) result = result * x + c[i];
  return result;
}

// Coefficients of Wichura 1988, "Algorithm AS 241: The Percentage Points of the
// Normal Distribution", Applied Statistics 37(3), routine PPND16: three
// rational approximations of degree 7, each with relative error below 1e-16.
constexpr double kCentralNumerator[8] = {
    3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
    1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
    3.3430575583588128105e+4, 2.5090809287301226727e+3};
constexpr double kCentralDenominator[8] = {
    1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
    2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
    5.2264952788528545610e+3};
constexpr double kIntermediateNumerator[8] = {
    1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
    3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
    2.27238449892691845833e-2, 7.74545014278341407640e-4};
constexpr double kIntermediateDenominator[8] = {
    1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
    1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
    1.05075007164441684324e-9};
constexpr double kTailNumerator[8] = {
    6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
    2.71155556874348757815e-5, 2.01033439929228813265e-7};
constexpr double kTailDenominator[8] = {
    1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
    7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
    2.04426310338993978564e-15};

}  // namespace

double normal_quantile(double p) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw std::invalid_argument("normal_quantile: p = " + std::to_string(p) +
                                " is outside [0, 1]");
  }
  if (p == 0.0) return -kInfinity;
  if (p == 1.0) return kInfinity;
  // AS 241: q = p - 1/2. For |q| <= 0.425 a rational function of q^2 (the
  // central region); otherwise r = sqrt(-ln(min(p, 1-p))) and a rational
  // function of r - 1.6 (r <= 5) or r - 5 (the far tail), with the sign of q.
  const double q = p - 0.5;
  if (std::abs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * polynomial(kCentralNumerator, r) / polynomial(kCentralDenominator, r);
  }
  double r = std::sqrt(-std::log(q < 0.0 ? p : 1.0 - p));
  double z;
  if (r <= 5.0) {
    r -= 1.6;
    z = polynomial(kIntermediateNumerator, r) / polynomial(kIntermediateDenominator, r);
  } else {
    r -= 5.0;
    z = polynomial(kTailNumerator, r) / polynomial(kTailDenominator, r);
  }
  return q < 0.0 ? -z : z;
}

void RunningMoments::add(double x) {
  // Welford 1962, "Note on a method for calculating corrected sums of squares
  // and products", Technometrics 4(3): M_k = M_{k-1} + (x - M_{k-1})/k and
  // S_k = S_{k-1} + (x - M_{k-1})(x - M_k), which avoids the cancellation of
  // sum(x^2) - n·mean^2.
  ++count_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(count_);
  sum_squared_deviations_ += delta * (x - mean_);
}

double RunningMoments::sample_variance() const {
  if (count_ < 2) return 0.0;
  return sum_squared_deviations_ / static_cast<double>(count_ - 1);
}

Estimate normal_interval(double value, double std_error, std::size_t n, double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    throw std::invalid_argument("confidence level: alpha = " + std::to_string(alpha) +
                                " is outside (0, 1)");
  }
  // Wald interval from the central limit theorem: value ± z_{1-alpha/2}·SE.
  const double z = normal_quantile(1.0 - alpha / 2.0);
  Estimate estimate;
  estimate.value = value;
  estimate.std_error = std_error;
  estimate.n = n;
  if (std::isinf(std_error)) {
    estimate.lower = -kInfinity;
    estimate.upper = kInfinity;
  } else {
    estimate.lower = value - z * std_error;
    estimate.upper = value + z * std_error;
  }
  return estimate;
}

Estimate mean_estimate(double mean, double sample_variance, std::size_t n, double alpha) {
  const double value = n == 0 ? std::numeric_limits<double>::quiet_NaN() : mean;
  // SE of a mean of n i.i.d. terms: sd / sqrt(n), with the sample sd.
  const double std_error =
      n < 2 ? kInfinity : std::sqrt(sample_variance / static_cast<double>(n));
  return normal_interval(value, std_error, n, alpha);
}

Estimate mean_estimate(const RunningMoments& moments, double alpha) {
  return mean_estimate(moments.mean(), moments.sample_variance(), moments.count(), alpha);
}

}  // namespace recloop
