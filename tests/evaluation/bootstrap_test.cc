// SPDX-License-Identifier: Apache-2.0
#include "evaluation/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>
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

namespace {

// An OBD-like click log: K = 10 actions, a uniform logger (μ = 0.1), a fixed
// target pmf (so the weights take K values) and Bernoulli clicks with known
// click rates, so V(target) = Σ_a π(a) ρ(a) exactly.
constexpr int kActions = 10;
constexpr double kTargetPmf[kActions] = {0.3, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.04, 0.03, 0.03};
constexpr double kClickRate[kActions] = {0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.1, 0.05};

double click_log_value() {
  double v = 0.0;
  for (int a = 0; a < kActions; ++a) v += kTargetPmf[a] * kClickRate[a];
  return v;
}

// IPS (denominator 1) or SNIPS (denominator w) rows of n logged clicks.
std::vector<BootstrapRow> click_log_rows(std::size_t n, std::uint64_t seed, bool self_normalised) {
  Rng rng(seed);
  std::vector<BootstrapRow> rows(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = static_cast<int>(uniform_index(rng, kActions));
    const double w = kTargetPmf[a] / 0.1;
    const double r = bernoulli(rng, kClickRate[a]);
    rows[i] = {splitmix64(seed * 1000003 + i), w * r, self_normalised ? w : 1.0};
  }
  return rows;
}

}  // namespace

TEST_CASE("the poisson inverse cdf has the poisson frequencies", "[evaluation][statistical]") {
  // 400,000 draws per mean. The count of each k with expected count >= 50 is
  // Binomial(N, p_k); |count - N p_k| <= 5 sd fails by chance with prob ~6e-7
  // per cell (a few dozen cells in all). Sample mean within 5 SE of λ.
  constexpr int kDraws = 400000;
  for (const double mean : {1.0, 3.0, 47.0, 10000.0}) {
    const PoissonInverseCdf poisson(mean);
    std::vector<int> counts;
    double total = 0.0;
    for (int i = 0; i < kDraws; ++i) {
      const unsigned k =
          poisson.draw(static_cast<std::uint32_t>(splitmix64(static_cast<std::uint64_t>(i) * 7919 + 5)));
      if (k >= counts.size()) counts.resize(k + 1, 0);
      ++counts[k];
      total += k;
    }
    INFO("mean " << mean);
    REQUIRE(std::abs(total / kDraws - mean) <= 5.0 * std::sqrt(mean / kDraws));
    // p_k from the log-pmf, independent of the recurrence the sampler uses.
    for (std::size_t k = 0; k < counts.size(); ++k) {
      const double kk = static_cast<double>(k);
      const double p = std::exp(-mean + kk * std::log(mean) - std::lgamma(kk + 1.0));
      if (kDraws * p < 50.0) continue;
      const double sd = std::sqrt(kDraws * p * (1 - p));
      INFO("k = " << k << ": " << counts[k] << " vs " << kDraws * p);
      REQUIRE(std::abs(counts[k] - kDraws * p) <= 5.0 * sd);
    }
  }
}

TEST_CASE("the poisson inverse cdf rejects a mean that is not positive and finite",
          "[evaluation]") {
  REQUIRE_THROWS_AS(PoissonInverseCdf(0.0), std::invalid_argument);
  REQUIRE_THROWS_AS(PoissonInverseCdf(-1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(PoissonInverseCdf(std::numeric_limits<double>::infinity()),
                    std::invalid_argument);
}

TEST_CASE("the grouped and per-row bootstraps agree in distribution", "[evaluation][statistical]") {
  // Both draw replicates of the same distribution (a sum of m Poisson(1)
  // counts is Poisson(m)) with independent randomness. With B = 4000 each, a
  // percentile endpoint at q = 0.025 has Monte Carlo sd sqrt(q(1-q)/B)/φ(1.96)·σ
  // ≈ 0.042σ (σ the replicates' sd; n = 5000 rows makes them near-normal), so
  // the two endpoints differ by sd ≈ 0.06σ; 5 sd = 0.3σ. The replicate sd has
  // Monte Carlo sd σ/sqrt(2B) ≈ 0.011σ, the difference 0.016σ; 5 sd = 0.08σ.
  for (const bool self_normalised : {false, true}) {
    const auto rows = click_log_rows(5000, 17, self_normalised);
    const Estimate grouped =
        bootstrap_interval(rows, {.replicates = 4000, .seed = 1}, 0.05, BootstrapMethod::grouped);
    const Estimate per_row =
        bootstrap_interval(rows, {.replicates = 4000, .seed = 2}, 0.05, BootstrapMethod::per_row);
    const double sigma = per_row.std_error;
    INFO((self_normalised ? "snips" : "ips") << ": grouped [" << grouped.lower << ", "
         << grouped.upper << "] sd " << grouped.std_error << "; per row [" << per_row.lower
         << ", " << per_row.upper << "] sd " << per_row.std_error);
    REQUIRE(grouped.value == per_row.value);
    REQUIRE(std::abs(grouped.lower - per_row.lower) <= 0.3 * sigma);
    REQUIRE(std::abs(grouped.upper - per_row.upper) <= 0.3 * sigma);
    REQUIRE(std::abs(grouped.std_error - per_row.std_error) <= 0.08 * sigma);
  }
}

TEST_CASE("the grouped bootstrap makes no more groups than distinct term pairs", "[evaluation]") {
  const auto rows = click_log_rows(3000, 5, true);
  GroupedPoissonBootstrap grouped({.replicates = 10, .seed = 0});
  for (const auto& row : rows) grouped.add(row.numerator, row.denominator);
  // 10 weights, each with reward 0 or 1.
  REQUIRE(grouped.groups() <= 20);
  REQUIRE(grouped.rows() == 3000);
  grouped.add(-0.0, 1.5);
  grouped.add(0.0, 1.5);
  REQUIRE(grouped.groups() <= 21);
}

TEST_CASE("bootstrap intervals are bit-identical for every order of the rows", "[evaluation]") {
  for (const auto method : {BootstrapMethod::grouped, BootstrapMethod::per_row}) {
    auto rows = click_log_rows(2000, 9, true);
    // Continuous numerators, so that the per-row sums would round differently
    // in another order.
    for (auto& row : rows) row.numerator *= 1.0 + 1e-3 * std::sin(static_cast<double>(row.key));
    const Estimate a = bootstrap_interval(rows, {.replicates = 300, .seed = 4}, 0.1, method);
    Rng rng(3);
    for (std::size_t i = rows.size() - 1; i > 0; --i) {
      std::swap(rows[i], rows[uniform_index(rng, i + 1)]);
    }
    const Estimate b = bootstrap_interval(rows, {.replicates = 300, .seed = 4}, 0.1, method);
    REQUIRE(a.value == b.value);
    REQUIRE(a.lower == b.lower);
    REQUIRE(a.upper == b.upper);
    REQUIRE(a.std_error == b.std_error);
  }
}

TEST_CASE("blocked per-row bootstrap sums match row-by-row sums", "[evaluation]") {
  const auto rows = click_log_rows(1003, 21, true);
  PoissonBootstrap blocked({.replicates = 101, .seed = 0});
  PoissonBootstrap single({.replicates = 101, .seed = 0});
  blocked.add_rows(rows);
  for (const auto& row : rows) single.add_keyed(row.key, row.numerator, row.denominator);
  const Estimate a = blocked.interval();
  const Estimate b = single.interval();
  REQUIRE(blocked.rows() == single.rows());
  REQUIRE(a.value == b.value);
  // The same weights summed in another grouping: equal to rounding.
  REQUIRE(a.lower == Approx(b.lower).epsilon(1e-12));
  REQUIRE(a.upper == Approx(b.upper).epsilon(1e-12));
}

TEST_CASE("grouped and per-row bootstrap intervals cover the true value like the normal interval",
          "[evaluation][statistical]") {
  // 300 click logs of 2000 rows, IPS and SNIPS, 95% intervals. Each interval
  // misses V(target) with probability ~0.05, so the misses of 300 logs are
  // ~Binomial(300, 0.05): mean 15, sd 3.8. More than 15 + 4·3.8 ≈ 30 has
  // chance < 1e-4 for a valid interval; fewer than 3 (too wide an interval)
  // has chance ~4e-5. The normal interval is checked against the same bounds.
  const double truth = click_log_value();
  int misses_grouped = 0, misses_per_row = 0, misses_normal = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    const bool self_normalised = seed % 2 == 1;
    const auto rows = click_log_rows(2000, 1000 + seed, self_normalised);
    const Estimate grouped = bootstrap_interval(rows, {.replicates = 400, .seed = seed}, 0.05,
                                                BootstrapMethod::grouped);
    const Estimate per_row = bootstrap_interval(rows, {.replicates = 400, .seed = seed}, 0.05,
                                                BootstrapMethod::per_row);
    misses_grouped += !(grouped.lower <= truth && truth <= grouped.upper);
    misses_per_row += !(per_row.lower <= truth && truth <= per_row.upper);
    // The normal interval of IPS, or SNIPS's delta-method interval.
    ExactMoments terms;
    double sum_a = 0.0, sum_b = 0.0;
    for (const auto& row : rows) {
      sum_a += row.numerator;
      sum_b += row.denominator;
    }
    const double ratio = sum_a / sum_b;
    for (const auto& row : rows) terms.add(row.numerator - ratio * row.denominator);
    const double mean_b = sum_b / static_cast<double>(rows.size());
    const double se = std::sqrt(terms.sample_variance() / static_cast<double>(rows.size())) / mean_b;
    misses_normal += std::abs(ratio - truth) > 1.959964 * se;
  }
  INFO("misses: grouped " << misses_grouped << ", per row " << misses_per_row << ", normal "
                          << misses_normal);
  for (const int misses : {misses_grouped, misses_per_row, misses_normal}) {
    REQUIRE(misses <= 30);
    REQUIRE(misses >= 3);
  }
}

TEST_CASE("bootstrap intervals are bit-identical for any number of threads", "[evaluation]") {
  // 2000 rows with continuous numerators (2000 groups) and B = 1001 (odd, so
  // the last replicate stands alone): 2·10^6 draws, enough for every thread
  // count below to start all its threads.
  auto rows = click_log_rows(2000, 13, true);
  for (auto& row : rows) row.numerator += 1e-3 * std::sin(static_cast<double>(row.key));
  for (const auto method : {BootstrapMethod::grouped, BootstrapMethod::per_row}) {
    const Estimate one =
        bootstrap_interval(rows, {.replicates = 1001, .seed = 8, .threads = 1}, 0.1, method);
    for (const std::size_t threads : {2, 3, 7, 0}) {
      const Estimate many =
          bootstrap_interval(rows, {.replicates = 1001, .seed = 8, .threads = threads}, 0.1, method);
      INFO((method == BootstrapMethod::grouped ? "grouped" : "per row") << ", " << threads
                                                                          << " threads");
      REQUIRE(many.value == one.value);
      REQUIRE(many.lower == one.lower);
      REQUIRE(many.upper == one.upper);
      REQUIRE(many.std_error == one.std_error);
    }
  }
  // The per-row replicate sums themselves, not only the interval's order statistics.
  PoissonBootstrap serial({.replicates = 1001, .seed = 8, .threads = 1});
  PoissonBootstrap parallel({.replicates = 1001, .seed = 8, .threads = 2});
  serial.add_rows(rows);
  parallel.add_rows(rows);
  REQUIRE(parallel.rows() == serial.rows());
  REQUIRE(parallel.interval(0.5).lower == serial.interval(0.5).lower);
  REQUIRE(parallel.interval(0.5).upper == serial.interval(0.5).upper);
}
