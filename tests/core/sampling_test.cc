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

TEST_CASE("FastRng is xoshiro256++: outputs computed by hand from a small state", "[core]") {
  // State (1, 2, 3, 4). Output 1: rotl(s0 + s3, 23) + s0 = 5 * 2^23 + 1.
  // Step: t = s1 << 17 = 2^18; s2 ^= s0 -> 2; s3 ^= s1 -> 6; s1 ^= s2 -> 0;
  // s0 ^= s3 -> 7; s2 ^= t -> 2^18 + 2; s3 = rotl(6, 45) = 3 * 2^46.
  // Output 2: rotl(7 + 3 * 2^46, 23) + 7 = 7 * 2^23 + 3 * 2^(69 - 64) + 7.
  FastRng rng = FastRng::from_state({1, 2, 3, 4});
  REQUIRE(rng() == 5ULL * (1ULL << 23) + 1);
  REQUIRE(rng() == 7ULL * (1ULL << 23) + 3ULL * 32 + 7);
}

TEST_CASE("FastRng seeds from splitmix64 and replays from its seed", "[core]") {
  // Its state is the first four outputs of the splitmix64 generator at the
  // seed, so the first output is rotl(s0 + s3, 23) + s0 of those.
  const std::uint64_t s0 = splitmix64(0);
  const std::uint64_t s3 = splitmix64(3 * 0x9E3779B97F4A7C15ULL);
  const std::uint64_t sum = s0 + s3;
  FastRng zero(0);
  REQUIRE(zero() == ((sum << 23) | (sum >> 41)) + s0);
  FastRng a(12345), b(12345), c(12346);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t x = a();
    REQUIRE(x == b());
    differs = differs || x != c();
  }
  REQUIRE(differs);
}

TEST_CASE("FastRng outputs have uniform bits and uniform, uncorrelated unit draws",
          "[core][statistical]") {
  // n = 400,000 outputs. Each bit is 1 with frequency 1/2: se = 0.5 / sqrt(n)
  // = 7.9e-4. u = uniform01(output): mean 1/2 with se sqrt(1/12 / n) =
  // 4.6e-4; variance 1/12 with se sqrt((mu4 - sigma^4) / n), mu4 = 1/80,
  // = 1.1e-4; lag-one correlation 0 with se 1/sqrt(n) = 1.6e-3. Bounds at
  // 5 se (false failure < 1e-6 each; 67 checks).
  constexpr int kN = 400000;
  FastRng rng(2024);
  std::vector<double> ones(64, 0.0);
  double sum = 0.0, sum_sq = 0.0, sum_lag = 0.0, previous = 0.5;
  for (int i = 0; i < kN; ++i) {
    const std::uint64_t bits = rng();
    for (int b = 0; b < 64; ++b) ones[b] += static_cast<double>((bits >> b) & 1);
    const double u = uniform01(bits);
    sum += u;
    sum_sq += u * u;
    sum_lag += (u - 0.5) * (previous - 0.5);
    previous = u;
  }
  for (int b = 0; b < 64; ++b) {
    INFO("bit " << b);
    REQUIRE(std::abs(ones[b] / kN - 0.5) < 5.0 * 0.5 / std::sqrt(kN));
  }
  const double mean = sum / kN;
  const double variance = sum_sq / kN - mean * mean;
  REQUIRE(std::abs(mean - 0.5) < 5.0 * std::sqrt(1.0 / 12.0 / kN));
  REQUIRE(std::abs(variance - 1.0 / 12.0) < 5.0 * std::sqrt((1.0 / 80.0 - 1.0 / 144.0) / kN));
  // Correlation = E[(u - 1/2)(u' - 1/2)] / (1/12).
  REQUIRE(std::abs(sum_lag / kN * 12.0) < 5.0 / std::sqrt(kN));
}
