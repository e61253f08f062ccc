// SPDX-License-Identifier: Apache-2.0
#include "evaluation/statistics.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

using namespace recloop;

namespace {

// Standard normal CDF from the C library's erfc, independent of our quantile.
double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("normal_quantile matches published percentage points", "[evaluation]") {
  // Percentage points from standard normal tables, to the 10 digits they print.
  REQUIRE(normal_quantile(0.5) == 0.0);
  REQUIRE(normal_quantile(0.975) == Approx(1.959963985).margin(1e-9));
  REQUIRE(normal_quantile(0.001) == Approx(-3.090232306).margin(1e-9));
  REQUIRE(normal_quantile(0.95) == Approx(1.644853627).margin(1e-9));
  REQUIRE(normal_quantile(0.995) == Approx(2.575829304).margin(1e-9));
  REQUIRE(normal_quantile(1e-10) == Approx(-6.361340902).margin(1e-8));
}

TEST_CASE("normal_quantile inverts the normal cdf across the whole range", "[evaluation]") {
  // Round trip through erfc: the relative error of p must be close to machine
  // precision in the centre and in both tails (all three AS 241 regions).
  for (double p : {1e-300, 1e-50, 1e-12, 1e-6, 0.01, 0.02425, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99}) {
    const double z = normal_quantile(p);
    REQUIRE(normal_cdf(z) == Approx(p).epsilon(1e-12));
    // Symmetry: Φ⁻¹(1 - p) = -Φ⁻¹(p) whenever 1 - p is exact.
    if (p >= 0.01) REQUIRE(normal_quantile(1.0 - p) == Approx(-z).epsilon(1e-14));
  }
}

TEST_CASE("normal_quantile gives infinities at 0 and 1 and rejects anything outside", "[evaluation]") {
  REQUIRE(normal_quantile(0.0) == -std::numeric_limits<double>::infinity());
  REQUIRE(normal_quantile(1.0) == std::numeric_limits<double>::infinity());
  REQUIRE_THROWS_AS(normal_quantile(-0.1), std::invalid_argument);
  REQUIRE_THROWS_AS(normal_quantile(1.5), std::invalid_argument);
  REQUIRE_THROWS_AS(normal_quantile(std::nan("")), std::invalid_argument);
}

TEST_CASE("running moments agree with the two-pass mean and sample variance", "[evaluation]") {
  // A large offset makes the one-pass sum-of-squares formula lose every digit;
  // Welford's update must not.
  const std::vector<double> xs{1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
  RunningMoments moments;
  for (double x : xs) moments.add(x);
  // Two-pass by hand: mean 1e9 + 10, deviations -6, -3, 3, 6, sum of squares 90.
  REQUIRE(moments.count() == 4);
  REQUIRE(moments.mean() == 1e9 + 10);
  REQUIRE(moments.sample_variance() == Approx(90.0 / 3.0).epsilon(1e-12));
}

TEST_CASE("running moments of fewer than two values have zero variance", "[evaluation]") {
  RunningMoments moments;
  REQUIRE(moments.sample_variance() == 0.0);
  moments.add(3.0);
  REQUIRE(moments.mean() == 3.0);
  REQUIRE(moments.sample_variance() == 0.0);
}

TEST_CASE("the 95% normal interval is the mean plus or minus 1.959964 standard errors", "[evaluation]") {
  // mean 2, sample variance 4, n = 100: SE = sqrt(4 / 100) = 0.2.
  const Estimate e = mean_estimate(2.0, 4.0, 100, 0.05);
  REQUIRE(e.value == 2.0);
  REQUIRE(e.std_error == Approx(0.2).epsilon(1e-15));
  REQUIRE(e.lower == Approx(2.0 - 1.959964 * 0.2).margin(1e-7));
  REQUIRE(e.upper == Approx(2.0 + 1.959964 * 0.2).margin(1e-7));
  REQUIRE(e.n == 100);
}

TEST_CASE("a smaller alpha gives a wider interval", "[evaluation]") {
  const Estimate wide = normal_interval(0.0, 1.0, 10, 0.01);
  const Estimate narrow = normal_interval(0.0, 1.0, 10, 0.10);
  REQUIRE(wide.upper == Approx(2.575829304).margin(1e-9));
  REQUIRE(narrow.upper == Approx(1.644853627).margin(1e-9));
}

TEST_CASE("an estimate from fewer than two terms has an infinite interval", "[evaluation]") {
  const Estimate none = mean_estimate(0.0, 0.0, 0, 0.05);
  REQUIRE(std::isnan(none.value));
  REQUIRE(std::isinf(none.std_error));
  const Estimate one = mean_estimate(0.7, 0.0, 1, 0.05);
  REQUIRE(one.value == 0.7);
  REQUIRE(one.lower == -std::numeric_limits<double>::infinity());
  REQUIRE(one.upper == std::numeric_limits<double>::infinity());
}

TEST_CASE("alpha outside the open unit interval is rejected", "[evaluation]") {
  REQUIRE_THROWS_AS(normal_interval(0.0, 1.0, 10, 0.0), std::invalid_argument);
  REQUIRE_THROWS_AS(normal_interval(0.0, 1.0, 10, 1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(normal_interval(0.0, 1.0, 10, std::nan("")), std::invalid_argument);
}
