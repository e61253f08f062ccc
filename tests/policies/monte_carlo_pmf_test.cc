// SPDX-License-Identifier: Apache-2.0
#include "policies/monte_carlo_pmf.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/config.h"
#include "tests/policies/thompson_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::expected_floored;
using recloop::testing::floored_standard_error;

TEST_CASE("the argmax counter gives each draw to its maximum and splits exact ties",
          "[policies]") {
  ArgmaxCounter counter(4);
  counter.add(std::vector<double>{1.0, 3.0, 2.0, 0.0});
  counter.add(std::vector<double>{5.0, 5.0, -1.0, 5.0});
  counter.add(std::vector<double>{0.0, 0.0, 0.0, 0.5}, 2.0);
  const auto wins = counter.wins();
  REQUIRE(wins[0] == Approx(1.0 / 3));
  REQUIRE(wins[1] == Approx(1.0 + 1.0 / 3));
  REQUIRE(wins[2] == 0.0);
  REQUIRE(wins[3] == Approx(2.0 + 1.0 / 3));
}

TEST_CASE("the Monte Carlo pmf mixes in one uniform pseudo-draw, so no candidate gets zero",
          "[policies]") {
  // Total weight M = 4 draws, K = 4: pmf_a = (wins_a + 1/4) / 5.
  ArgmaxCounter counter(4);
  for (int m = 0; m < 4; ++m) counter.add(std::vector<double>{0.0, 1.0, 0.0, 0.0});
  const auto pmf = counter.pmf();
  testing::require_valid_pmf(pmf, 4);
  REQUIRE(pmf[1] == Approx((4.0 + 0.25) / 5.0));
  for (int a : {0, 2, 3}) REQUIRE(pmf[a] == Approx(0.25 / 5.0));
}

TEST_CASE("the Monte Carlo seed depends on the policy seed, the model version and the items",
          "[policies]") {
  const std::vector<ItemId> items{4, 8, 15};
  const auto base = monte_carlo_seed(1, 10, items);
  REQUIRE(monte_carlo_seed(1, 10, items) == base);
  REQUIRE(monte_carlo_seed(2, 10, items) != base);
  REQUIRE(monte_carlo_seed(1, 11, items) != base);
  REQUIRE(monte_carlo_seed(1, 10, std::vector<ItemId>{4, 8, 16}) != base);
  REQUIRE(monte_carlo_seed(1, 10, std::vector<ItemId>{8, 4, 15}) != base);
}

TEST_CASE("independent normal scores with zero spread give the floored argmax exactly",
          "[policies]") {
  const std::vector<double> means{0.5, 2.0, 2.0, -1.0};
  const std::vector<double> sds(4, 0.0);
  const auto pmf = independent_normal_pmf(means, sds, 99, 7);
  // Every draw is the means: items 1 and 2 tie and share M = 99 draws.
  REQUIRE(pmf[1] == Approx((49.5 + 0.25) / 100.0));
  REQUIRE(pmf[2] == pmf[1]);
  REQUIRE(pmf[0] == Approx(0.25 / 100.0));
  REQUIRE(pmf[3] == pmf[0]);
}

TEST_CASE("the same seed gives the same Monte Carlo pmf bit for bit", "[policies]") {
  const std::vector<double> means{0.1, 0.0, 0.3};
  const std::vector<double> sds{1.0, 0.5, 2.0};
  REQUIRE(independent_normal_pmf(means, sds, 500, 3) == independent_normal_pmf(means, sds, 500, 3));
  REQUIRE(independent_normal_pmf(means, sds, 500, 3) != independent_normal_pmf(means, sds, 500, 4));
}

TEST_CASE("the Monte Carlo pmf of two Gaussian arms matches Phi of the standardised gap",
          "[policies][statistical]") {
  // P(S1 > S2) = Phi((mu1 - mu2) / sqrt(sd1^2 + sd2^2)) exactly. Each of 20
  // seeds gives an estimate with standard error se = sqrt(p (1 - p) / M)
  // (times M / (M + 1), the floor's shrinkage) around (M p + 1/2) / (M + 1).
  // Each must lie within 5 se (false failure 5.7e-7 per check), and their
  // mean within 5 se / sqrt(20) (catches a bias of a fraction of one se).
  const std::vector<double> means{0.3, 0.0};
  const std::vector<double> sds{1.0, 0.5};
  constexpr int kDraws = 1000;
  const double p = testing::normal_cdf(0.3 / std::sqrt(1.25));
  const double expected = expected_floored(p, kDraws, 2);
  const double se = floored_standard_error(p, kDraws);
  double total = 0.0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto pmf = independent_normal_pmf(means, sds, kDraws, seed);
    REQUIRE(pmf[0] + pmf[1] == Approx(1.0));
    REQUIRE(std::abs(pmf[0] - expected) < 5.0 * se);
    total += pmf[0];
  }
  REQUIRE(std::abs(total / 20.0 - expected) < 5.0 * se / std::sqrt(20.0));
}

TEST_CASE("the Monte Carlo pmf of several Gaussian arms matches numerical integration",
          "[policies][statistical]") {
  // Exact P(a = argmax) = integral of pdf_a prod_{b != a} CDF_b (trapezoid,
  // error ~1e-8 here). M = 4000 draws, one seed: each entry within 5 se.
  const std::vector<double> means{0.0, 0.4, 0.5, -0.3, 0.45};
  const std::vector<double> sds{1.0, 0.3, 0.6, 1.5, 0.1};
  std::vector<std::function<double(double)>> pdfs;
  for (std::size_t a = 0; a < means.size(); ++a) {
    pdfs.push_back([m = means[a], s = sds[a]](double t) { return testing::normal_pdf(t, m, s); });
  }
  const auto exact = testing::exact_argmax_pmf(pdfs, -12.0, 12.0, 100000);
  double total = 0.0;
  for (double p : exact) total += p;
  REQUIRE(total == Approx(1.0).margin(1e-6));
  constexpr int kDraws = 4000;
  const auto pmf = independent_normal_pmf(means, sds, kDraws, 11);
  testing::require_valid_pmf(pmf, means.size());
  for (std::size_t a = 0; a < means.size(); ++a) {
    INFO("candidate " << a << ": exact " << exact[a] << ", estimate " << pmf[a]);
    REQUIRE(std::abs(pmf[a] - expected_floored(exact[a], kDraws, means.size())) <
            5.0 * floored_standard_error(exact[a], kDraws) + 1e-6);
  }
}

TEST_CASE("a generic score draw is counted like the independent normal shortcut", "[policies]") {
  // The same normals in the same order give the same pmf, bit for bit.
  const std::vector<double> means{0.2, -0.1, 0.0};
  const std::vector<double> sds{0.5, 1.0, 0.7};
  const auto direct = independent_normal_pmf(means, sds, 300, 5);
  const auto generic = monte_carlo_pmf(3, 300, 5, [&](NormalStream& normals, std::span<double> s) {
    for (std::size_t a = 0; a < 3; ++a) s[a] = means[a] + sds[a] * normals.next();
  });
  REQUIRE(generic == direct);
}

TEST_CASE("the draws and seed keys have documented ranges", "[policies]") {
  ConfigSection section("policy", "x.ini");
  REQUIRE(read_monte_carlo_draws(section, 1000) == 1000);
  REQUIRE(read_monte_carlo_seed(section, 0) == 0);
  REQUIRE(section.described().size() == 2);
  ConfigSection bad("policy", "x.ini");
  bad.set("draws", "0");
  REQUIRE_THROWS_WITH(read_monte_carlo_draws(bad, 1000),
                      Contains("draws") && Contains("'0'") && Contains("[1, 1000000]"));
  REQUIRE_THROWS_AS(validate_monte_carlo_draws("X", 0), std::invalid_argument);
  REQUIRE_THROWS_WITH(validate_monte_carlo_draws("X", 2000000), Contains("2000000"));
}
