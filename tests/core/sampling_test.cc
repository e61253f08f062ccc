// SPDX-License-Identifier: Apache-2.0
#include "core/sampling.h"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"

using namespace recloop;

TEST_CASE("splitmix64 matches its published reference output", "[core]") {
  // First output of the reference splitmix64 generator seeded with 0
  // (Vigna's splitmix64.c: state += golden gamma, then the finaliser).
  REQUIRE(splitmix64(0) == 0xE220A8397B1DCDAFULL);
}

TEST_CASE("fnv1a64 matches the published test vectors", "[core]") {
  REQUIRE(fnv1a64("") == 0xCBF29CE484222325ULL);
  REQUIRE(fnv1a64("a") == 0xAF63DC4C8601EC8CULL);
  REQUIRE(fnv1a64("foobar") == 0x85944171F73967E8ULL);
}

TEST_CASE("the same run seed and event id give the same decision seed", "[core]") {
  REQUIRE(decision_seed(7, "event-1") == decision_seed(7, "event-1"));
  REQUIRE(decision_seed(7, "event-1") != decision_seed(7, "event-2"));
  REQUIRE(decision_seed(7, "event-1") != decision_seed(8, "event-1"));
}

TEST_CASE("uniform01 stays in the half-open unit interval", "[core]") {
  REQUIRE(uniform01(std::uint64_t{0}) == 0.0);
  REQUIRE(uniform01(~std::uint64_t{0}) < 1.0);
  REQUIRE(uniform01(~std::uint64_t{0}) == Approx(1.0).margin(1e-15));
}

TEST_CASE("sample_index never returns an entry with zero mass", "[core]") {
  const std::vector<double> pmf{0.0, 0.5, 0.0, 0.5, 0.0};
  for (double u : {0.0, 0.25, 0.4999999, 0.5, 0.75, 0.999999999, 1.0}) {
    const auto i = sample_index(pmf, u);
    REQUIRE(pmf[i] > 0.0);
  }
}

TEST_CASE("sample_index inverts the cumulative distribution", "[core]") {
  const std::vector<double> pmf{0.2, 0.3, 0.5};
  REQUIRE(sample_index(pmf, 0.0) == 0);
  REQUIRE(sample_index(pmf, 0.1999) == 0);
  REQUIRE(sample_index(pmf, 0.2) == 1);
  REQUIRE(sample_index(pmf, 0.4999) == 1);
  REQUIRE(sample_index(pmf, 0.5) == 2);
}

TEST_CASE("seeded draws follow the pmf", "[core][statistical]") {
  // n = 200,000 draws; each frequency has SD sqrt(p(1-p)/n) <= 0.0012, so a
  // 5 SD tolerance (0.006) fails by chance with probability < 1e-6 per entry.
  const std::vector<double> pmf{0.1, 0.2, 0.3, 0.4};
  const int n = 200000;
  std::vector<int> counts(pmf.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[sample_index(pmf, decision_seed(42, std::to_string(i)))];
  for (std::size_t a = 0; a < pmf.size(); ++a) {
    REQUIRE(static_cast<double>(counts[a]) / n == Approx(pmf[a]).margin(0.006));
  }
}

TEST_CASE("uniform_index is unbiased over a small range", "[core][statistical]") {
  // n = 300,000 over 3 values: SD of a frequency = sqrt(2/9/n) = 0.00086; 5 SD = 0.0043.
  Rng rng(1);
  std::vector<int> counts(3, 0);
  const int n = 300000;
  for (int i = 0; i < n; ++i) ++counts[uniform_index(rng, 3)];
  for (int c : counts) REQUIRE(static_cast<double>(c) / n == Approx(1.0 / 3).margin(0.0043));
}

TEST_CASE("standard_normal has mean zero and unit variance", "[core][statistical]") {
  // n = 200,000: SE of the mean = 0.0022, SE of the variance = sqrt(2/n) = 0.0032; 5 SE margins.
  Rng rng(3);
  const int n = 200000;
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    const double z = standard_normal(rng);
    sum += z;
    sum_sq += z * z;
  }
  const double mean = sum / n;
  REQUIRE(mean == Approx(0.0).margin(0.011));
  REQUIRE(sum_sq / n - mean * mean == Approx(1.0).margin(0.016));
}
