// SPDX-License-Identifier: Apache-2.0
// Known truths for the Thompson-sampling and hybrid LinUCB tests: exact
// argmax probabilities of independent scores by numerical integration, and
// small worlds whose expected rewards are known exactly.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <numbers>
#include <vector>

#include <Eigen/Dense>

#include "core/rng.h"
#include "core/sampling.h"
#include "core/types.h"

#include "tests/policies/linear_world.h"

namespace recloop::testing {

inline double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

inline double normal_pdf(double x, double mean, double sd) {
  const double z = (x - mean) / sd;
  return std::exp(-0.5 * z * z) / (sd * std::sqrt(2.0 * std::numbers::pi));
}

inline double beta_pdf(double x, double a, double b) {
  if (x <= 0.0 || x >= 1.0) return 0.0;
  return std::exp((a - 1.0) * std::log(x) + (b - 1.0) * std::log1p(-x) + std::lgamma(a + b) -
                  std::lgamma(a) - std::lgamma(b));
}

// Density of location + scale * T, T Student t with `dof` degrees of freedom.
inline double student_t_pdf(double x, double location, double scale, double dof) {
  const double z = (x - location) / scale;
  return std::exp(std::lgamma(0.5 * (dof + 1.0)) - std::lgamma(0.5 * dof) -
                  0.5 * std::log(dof * std::numbers::pi) -
                  0.5 * (dof + 1.0) * std::log1p(z * z / dof)) /
         scale;
}

// P(a = argmax_b S_b) for independent scores with densities pdfs[b] on
// [lo, hi] (mass outside negligible): the integral of pdf_a(t) prod_{b != a}
// CDF_b(t), with the CDFs accumulated by the trapezoid rule on n intervals.
// The error is O(((hi - lo)/n)^2) for smooth densities.
inline std::vector<double> exact_argmax_pmf(const std::vector<std::function<double(double)>>& pdfs,
                                            double lo, double hi, int n = 200000) {
  const std::size_t k = pdfs.size();
  const double h = (hi - lo) / n;
  std::vector<double> previous_pdf(k), cdf(k, 0.0), result(k, 0.0), previous_integrand(k, 0.0);
  for (std::size_t b = 0; b < k; ++b) previous_pdf[b] = pdfs[b](lo);
  for (int i = 1; i <= n; ++i) {
    const double t = lo + h * i;
    std::vector<double> pdf(k);
    for (std::size_t b = 0; b < k; ++b) {
      pdf[b] = pdfs[b](t);
      cdf[b] += 0.5 * h * (previous_pdf[b] + pdf[b]);
    }
    for (std::size_t a = 0; a < k; ++a) {
      double integrand = pdf[a];
      for (std::size_t b = 0; b < k; ++b) {
        if (b != a) integrand *= cdf[b];
      }
      result[a] += 0.5 * h * (previous_integrand[a] + integrand);
      previous_integrand[a] = integrand;
    }
    previous_pdf = pdf;
  }
  return result;
}

// What the floored Monte Carlo estimate of monte_carlo_pmf.h has for
// expectation when the exact argmax probability is p: (M p + 1/K) / (M + 1).
inline double expected_floored(double p, int draws, std::size_t k) {
  return (draws * p + 1.0 / static_cast<double>(k)) / (draws + 1.0);
}

// Standard error of that estimate: sqrt(p (1 - p) / M) * M / (M + 1).
inline double floored_standard_error(double p, int draws) {
  return std::sqrt(p * (1.0 - p) / draws) * draws / (draws + 1.0);
}

// Cumulative pseudo-regret at T/4 and at T.
struct Regret {
  double at_quarter = 0.0;
  double at_end = 0.0;
};

// The pmf played mixes the Monte Carlo frequencies f with one uniform
// pseudo-draw, pmf = (M f + 1/K) / (M + 1) (monte_carlo_pmf.h), so its regret
// is (M R_f + R_uniform) / (M + 1). This returns R_f, the regret of Thompson
// sampling proper; the floor adds R_uniform / (M + 1), linear in T by design.
inline Regret thompson_part(const Regret& played, const Regret& uniform, int draws) {
  const double m = draws;
  return {((m + 1.0) * played.at_quarter - uniform.at_quarter) / m,
          ((m + 1.0) * played.at_end - uniform.at_end) / m};
}

}  // namespace recloop::testing
