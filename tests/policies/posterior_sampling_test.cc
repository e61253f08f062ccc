// SPDX-License-Identifier: Apache-2.0
#include "policies/posterior_sampling.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <span>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "tests/policies/thompson_fixtures.h"

using namespace recloop;

namespace {

struct Moments {
  double mean = 0.0;
  double variance = 0.0;
};

template <typename Draw>
Moments moments(int n, Draw draw) {
  double sum = 0.0;
  double sum_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    const double x = draw();
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / n;
  return {mean, (sum_sq - n * mean * mean) / (n - 1)};
}

}  // namespace

TEST_CASE("the normal stream replays from the engine state", "[policies]") {
  Rng a(5);
  Rng b(5);
  NormalStream first(a);
  NormalStream second(b);
  for (int i = 0; i < 101; ++i) REQUIRE(first.next() == second.next());
}

TEST_CASE("the normal stream has mean 0, variance 1 and uncorrelated pairs",
          "[policies][statistical]") {
  // n = 200,000: se(mean) = 1/sqrt(n) = 0.0022, se(variance) = sqrt(2/n) =
  // 0.0032, se(correlation of consecutive draws) = 1/sqrt(n/2) = 0.0032 (a
  // layer index and a position taken from overlapping bits would correlate
  // them). Bounds at 5 se.
  constexpr int kN = 200000;
  Rng rng(17);
  NormalStream normals(rng);
  double sum = 0.0, sum_sq = 0.0, sum_pair = 0.0;
  for (int i = 0; i < kN / 2; ++i) {
    const double u = normals.next();
    const double v = normals.next();
    sum += u + v;
    sum_sq += u * u + v * v;
    sum_pair += u * v;
  }
  REQUIRE(std::abs(sum / kN) < 5.0 / std::sqrt(kN));
  REQUIRE(std::abs(sum_sq / kN - 1.0) < 5.0 * std::sqrt(2.0 / kN));
  REQUIRE(std::abs(sum_pair / (kN / 2)) < 5.0 / std::sqrt(kN / 2.0));
}

TEST_CASE("the normal stream follows the normal distribution function, tails included",
          "[policies][statistical]") {
  // P(Z <= t) at points in the ziggurat's core, its wedges and beyond its
  // tail start r = 3.44: each empirical frequency of n = 400,000 draws has
  // se = sqrt(p (1 - p) / n); bound 5 se (false failure 6e-7 per point).
  constexpr int kN = 400000;
  Rng rng(29);
  NormalStream normals(rng);
  std::vector<double> draws(kN);
  for (double& z : draws) z = normals.next();
  for (double t : {-4.0, -3.6, -2.5, -1.0, -0.1, 0.0, 0.3, 1.7, 3.0, 3.5, 4.2}) {
    const double p = testing::normal_cdf(t);
    double below = 0.0;
    for (double z : draws) below += z <= t;
    below /= kN;
    INFO("t = " << t << ": exact " << p << ", empirical " << below);
    REQUIRE(std::abs(below - p) < 5.0 * std::sqrt(p * (1.0 - p) / kN));
  }
}

TEST_CASE("gamma draws have mean and variance equal to the shape", "[policies][statistical]") {
  // Gamma(k, 1): mean k, variance k, central fourth moment 3k^2 + 6k, so with
  // n draws se(mean) = sqrt(k / n) and se(sample variance) ~= sqrt((2k^2 + 6k) / n).
  // Shapes below 1 use Marsaglia and Tsang's U^(1/k) boost. Bounds at 5 se.
  constexpr int kN = 100000;
  for (double shape : {0.2, 0.7, 1.0, 2.5, 30.0}) {
    Rng rng(static_cast<std::uint64_t>(shape * 1000));
    NormalStream normals(rng);
    const Moments m = moments(kN, [&] { return sample_gamma(normals, shape); });
    INFO("shape " << shape << ": mean " << m.mean << ", variance " << m.variance);
    REQUIRE(std::abs(m.mean - shape) < 5.0 * std::sqrt(shape / kN));
    REQUIRE(std::abs(m.variance - shape) < 5.0 * std::sqrt((2.0 * shape * shape + 6.0 * shape) / kN));
  }
}

TEST_CASE("beta draws have the Beta mean and variance", "[policies][statistical]") {
  // Beta(a, b): mean a/(a+b), variance ab/((a+b)^2 (a+b+1)). Draws lie in
  // [0, 1], so se(mean) = sd / sqrt(n) and se(sample variance) <= sqrt(mu4 / n)
  // with mu4 <= variance (|x - mean| <= 1): a loose but valid 5-se bound.
  constexpr int kN = 100000;
  const std::vector<std::pair<double, double>> shapes{{1, 1}, {3, 7}, {0.5, 0.5}, {0.05, 2}, {40, 2}};
  for (const auto& [a, b] : shapes) {
    Rng rng(static_cast<std::uint64_t>(100 * a + b));
    NormalStream normals(rng);
    bool in_range = true;
    const Moments m = moments(kN, [&] {
      const double x = sample_beta(normals, a, b);
      in_range = in_range && x >= 0.0 && x <= 1.0;
      return x;
    });
    const double mean = a / (a + b);
    const double variance = a * b / ((a + b) * (a + b) * (a + b + 1.0));
    INFO("Beta(" << a << ", " << b << "): mean " << m.mean << ", variance " << m.variance);
    REQUIRE(in_range);
    REQUIRE(std::abs(m.mean - mean) < 5.0 * std::sqrt(variance / kN));
    REQUIRE(std::abs(m.variance - variance) < 5.0 * std::sqrt(variance / kN));
  }
}

TEST_CASE("beta draws follow the Beta distribution function", "[policies][statistical]") {
  // P(X <= t) at the quartiles of the exact distribution (from the
  // density integrated numerically): each empirical frequency of n = 50,000
  // draws has se = sqrt(q (1 - q) / n); bound 5 se. Checks the shape, not
  // only the first two moments.
  constexpr int kN = 50000;
  const double a = 2.5;
  const double b = 0.8;
  Rng rng(23);
  NormalStream normals(rng);
  std::vector<double> draws(kN);
  for (double& x : draws) x = sample_beta(normals, a, b);
  for (double t : {0.3, 0.6, 0.9, 0.99}) {
    // CDF(t) by the trapezoid rule on the density (integrable singularity at 1 is beyond t).
    const int steps = 200000;
    double cdf = 0.0;
    for (int i = 0; i < steps; ++i) {
      const double x0 = t * i / steps;
      const double x1 = t * (i + 1) / steps;
      cdf += 0.5 * (x1 - x0) * (testing::beta_pdf(x0, a, b) + testing::beta_pdf(x1, a, b));
    }
    double below = 0.0;
    for (double x : draws) below += x <= t;
    below /= kN;
    INFO("t = " << t << ": exact " << cdf << ", empirical " << below);
    REQUIRE(std::abs(below - cdf) < 5.0 * std::sqrt(cdf * (1.0 - cdf) / kN) + 1e-6);
  }
}

TEST_CASE("a normal stream replays from its seed, and from an engine's output", "[policies]") {
  NormalStream a(99);
  NormalStream b(99);
  for (int i = 0; i < 1000; ++i) REQUIRE(a.next() == b.next());
  Rng engine(4);
  const std::uint64_t first = Rng(4)();
  NormalStream from_engine(engine);
  NormalStream from_seed(first);
  for (int i = 0; i < 100; ++i) REQUIRE(from_engine.next() == from_seed.next());
}

TEST_CASE("a gamma sampler reused for many draws gives the draws of one-off sampling",
          "[policies]") {
  // The sampler only holds Marsaglia and Tsang's constants of the shape: the
  // same stream must give the same draws whichever way they are taken.
  for (double shape : {0.3, 1.0, 6.0}) {
    NormalStream a(7);
    NormalStream b(7);
    const GammaSampler sampler(shape);
    for (int i = 0; i < 500; ++i) REQUIRE(sampler(a) == sample_gamma(b, shape));
    const BetaSampler beta(shape, 2.0);
    for (int i = 0; i < 500; ++i) REQUIRE(beta(a) == sample_beta(b, shape, 2.0));
  }
}

TEST_CASE("a reused beta sampler has the Beta mean and variance", "[policies][statistical]") {
  // The posteriors of Bernoulli Thompson sampling: Beta(1 + S, 1 + F). With
  // n draws, se(mean) = sd / sqrt(n), and since |x - mean| <= 1 the fourth
  // central moment is <= the variance, so se(sample variance) <=
  // sqrt(variance / n). Bounds at 5 se.
  constexpr int kN = 100000;
  for (const auto& [a, b] : std::vector<std::pair<double, double>>{{1, 6}, {2, 5}, {12, 30}}) {
    NormalStream normals(static_cast<std::uint64_t>(a * 100 + b));
    const BetaSampler sampler(a, b);
    const Moments m = moments(kN, [&] { return sampler(normals); });
    const double mean = a / (a + b);
    const double variance = a * b / ((a + b) * (a + b) * (a + b + 1.0));
    INFO("Beta(" << a << ", " << b << "): mean " << m.mean << ", variance " << m.variance);
    REQUIRE(std::abs(m.mean - mean) < 5.0 * std::sqrt(variance / kN));
    REQUIRE(std::abs(m.variance - variance) < 5.0 * std::sqrt(variance / kN));
  }
}

TEST_CASE("a batch of normals is the same as as many single draws", "[policies]") {
  // 20,000 draws reach the wedges and the tail (about 1.2% of draws leave
  // the ziggurat's core), where fill() hands over to the member engine.
  NormalStream batch(31);
  NormalStream single(31);
  std::vector<double> out(20000);
  batch.fill(std::span<double>(out.data(), 7));  // an odd start, then the rest
  batch.fill(std::span<double>(out.data() + 7, out.size() - 7));
  for (const double z : out) REQUIRE(z == single.next());
  REQUIRE(batch.next() == single.next());  // and the engines agree afterwards
}
