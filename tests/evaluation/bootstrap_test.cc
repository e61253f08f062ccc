// SPDX-License-Identifier: Apache-2.0
#include "evaluation/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/exact_sum.h"
#include "evaluation/ips.h"
#include "evaluation/statistics.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

TEST_CASE("poisson bootstrap weights have the poisson(1) frequencies", "[evaluation][statistical]") {
  // 200,000 draws. For each k in 0..3, the count is Binomial(N, p_k) with
  // p_k = e⁻¹/k!; |count - N p_k| <= 5 sd fails by chance with prob ~6e-7 each.
  constexpr int kDraws = 200000;
  std::vector<int> counts(20, 0);
  for (int i = 0; i < kDraws; ++i) {
    ++counts[PoissonBootstrap::poisson_weight(splitmix64(i), static_cast<std::uint64_t>(i % 37))];
  }
  double p = std::exp(-1.0);
  for (int k = 0; k < 4; ++k) {
    if (k > 0) p /= k;
    const double sd = std::sqrt(kDraws * p * (1 - p));
    INFO("k = " << k << ": " << counts[k] << " vs " << kDraws * p);
    REQUIRE(std::abs(counts[k] - kDraws * p) <= 5.0 * sd);
  }
}

TEST_CASE("bootstrap weights depend on the event id, not on the row order", "[evaluation]") {
  const ClickWorld world;
  const auto log = draw_log(world, uniform_pmf, 400, 6);
  PoissonBootstrap forward({.replicates = 200, .seed = 3});
  PoissonBootstrap backward({.replicates = 200, .seed = 3});
  for (const auto& i : log) forward.add(i.event_id, i.reward);
  for (auto it = log.rbegin(); it != log.rend(); ++it) backward.add(it->event_id, it->reward);
  const Estimate a = forward.interval();
  const Estimate b = backward.interval();
  // Point values use exact sums: identical. Replicate sums are plain double
  // sums in a different order: equal to rounding (values <= 400, ~1e-13).
  REQUIRE(a.value == b.value);
  REQUIRE(a.lower == Approx(b.lower).epsilon(1e-12));
  REQUIRE(a.upper == Approx(b.upper).epsilon(1e-12));
  // A different seed gives different replicates.
  PoissonBootstrap other({.replicates = 200, .seed = 4});
  for (const auto& i : log) other.add(i.event_id, i.reward);
  REQUIRE(other.interval().lower != a.lower);
}

TEST_CASE("on a large log the bootstrap interval of ips is close to the normal interval",
          "[evaluation][statistical]") {
  // n = 20,000 IPS terms: the sampling distribution is nearly normal. Each
  // percentile endpoint from B = 2000 replicates has Monte Carlo sd about
  // sqrt(0.025·0.975/B)/φ(1.96)·σ ≈ 0.06σ, i.e. 3% of the half-width 1.96σ;
  // 15% of the half-width is 5 such sd, leaving room for the O(n^-1/2) skew.
  const ClickWorld world;
  const auto log = draw_log(world, softmax_on_truth(world, -1.0), 20000, 7);
  const PmfFunction target = softmax_on_truth(world, 2.0);
  IpsEstimator ips;
  PoissonBootstrap bootstrap({.replicates = 2000, .seed = 11});
  for (const auto& i : log) {
    const auto pmf = target(i.context);
    ips.add(i, pmf);
    bootstrap.add(i.event_id, pmf[i.action] / i.probability * i.reward);
  }
  const Estimate normal = ips.estimate();
  const Estimate boot = bootstrap.interval();
  const double half_width = normal.upper - normal.value;
  REQUIRE(boot.value == Approx(normal.value).epsilon(1e-12));
  REQUIRE(std::abs(boot.lower - normal.lower) <= 0.15 * half_width);
  REQUIRE(std::abs(boot.upper - normal.upper) <= 0.15 * half_width);
  REQUIRE(boot.std_error == Approx(normal.std_error).epsilon(0.1));
}

TEST_CASE("the self-normalised bootstrap ratio of a constant reward is that constant",
          "[evaluation]") {
  PoissonBootstrap bootstrap({.replicates = 100, .seed = 1});
  for (int i = 0; i < 50; ++i) {
    const double w = 0.5 + (i % 7);
    bootstrap.add(std::string("e") + std::to_string(i), w * 0.25, w);
  }
  const Estimate e = bootstrap.interval();
  REQUIRE(e.value == Approx(0.25).epsilon(1e-15));
  REQUIRE(e.lower == Approx(0.25).epsilon(1e-14));
  REQUIRE(e.upper == Approx(0.25).epsilon(1e-14));
}

TEST_CASE("the empirical bernstein bound matches its formula", "[evaluation]") {
  // Terms {0, 1, 0, 1} in [0, 1]: mean 0.5, sample variance 1/3, n = 4, δ = 0.1:
  // 0.5 - sqrt(2 (1/3) ln 20 / 4) - 7 ln 20 / 9.
  const std::vector<double> terms = {0.0, 1.0, 0.0, 1.0};
  const double expected =
      0.5 - std::sqrt(2.0 / 3.0 * std::log(20.0) / 4.0) - 7.0 * std::log(20.0) / 9.0;
  REQUIRE(empirical_bernstein_lower_bound(terms, 1.0, 0.1) == Approx(expected).epsilon(1e-14));
  REQUIRE_THROWS_AS(empirical_bernstein_lower_bound(terms, 0.5, 0.1), std::invalid_argument);
}

TEST_CASE("the empirical bernstein bound of clipped ips lies below the truth at its rate",
          "[evaluation][statistical]") {
  // 200 logs of 2000 rows; IPS terms w·r with w clipped at 10 lie in [0, 10].
  // Clipping only lowers the terms, so E[clipped term] <= V(target): a bound on
  // the former bounds the latter. The bound fails with probability <= δ = 0.05
  // per log; failures ~ Binomial(200, <= 0.05): mean <= 10, sd 3.1, so more
  // than 10 + 4·3.1 ≈ 23 failures has chance < 1e-4.
  const ClickWorld world;
  const PmfFunction logging = softmax_on_truth(world, -1.0);
  const PmfFunction target = softmax_on_truth(world, 2.0);
  int failures = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const auto log = draw_log(world, logging, 2000, 900 + seed);
    std::vector<double> terms;
    RunningMoments exact;
    for (const auto& i : log) {
      const auto pmf = target(i.context);
      terms.push_back(std::min(pmf[i.action] / i.probability, 10.0) * i.reward);
      double v = 0.0;
      for (std::size_t a = 0; a < pmf.size(); ++a) v += pmf[a] * i.truth[a];
      exact.add(v);
    }
    failures += empirical_bernstein_lower_bound(terms, 10.0, 0.05) > exact.mean();
  }
  REQUIRE(failures <= 23);
}
