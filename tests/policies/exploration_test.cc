// SPDX-License-Identifier: Apache-2.0
#include "policies/exploration.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "tests/support/pmf_checks.h"

using namespace recloop;

TEST_CASE("a unique best score gets 1 - epsilon plus its share of epsilon", "[policies]") {
  const std::vector<double> scores{0.3, 2.0, -1.0, 1.5};
  const auto pmf = epsilon_greedy_pmf(scores, 0.2);
  testing::require_valid_pmf(pmf, scores.size());
  REQUIRE(pmf[1] == Approx(0.8 + 0.2 / 4));
  for (int i : {0, 2, 3}) REQUIRE(pmf[i] == Approx(0.2 / 4));
}

TEST_CASE("exactly tied best scores share the greedy mass equally", "[policies]") {
  const std::vector<double> scores{1.0, 3.0, 3.0, 0.0, 3.0};
  const auto pmf = epsilon_greedy_pmf(scores, 0.5);
  testing::require_valid_pmf(pmf, scores.size());
  for (int i : {1, 2, 4}) REQUIRE(pmf[i] == Approx(0.1 + 0.5 / 3));
  for (int i : {0, 3}) REQUIRE(pmf[i] == Approx(0.1));
}

TEST_CASE("epsilon of one is uniform whatever the scores", "[policies]") {
  const std::vector<double> scores{5.0, -2.0, 7.5, 7.5, 0.0, 1e9};
  const auto pmf = epsilon_greedy_pmf(scores, 1.0);
  for (double p : pmf) REQUIRE(p == Approx(1.0 / 6));
}

TEST_CASE("epsilon of zero puts all mass on the best score", "[policies]") {
  const std::vector<double> scores{0.1, 0.2, 0.7, 0.6999999999};
  const auto pmf = epsilon_greedy_pmf(scores, 0.0);
  REQUIRE(pmf == std::vector<double>{0.0, 0.0, 1.0, 0.0});
}

TEST_CASE("equal scores give a uniform pmf for any epsilon", "[policies]") {
  const std::vector<double> scores(7, 0.0);
  for (double epsilon : {0.0, 0.3, 1.0}) {
    for (double p : epsilon_greedy_pmf(scores, epsilon)) REQUIRE(p == Approx(1.0 / 7));
  }
}

TEST_CASE("empty scores, non-finite scores and epsilon outside [0, 1] are rejected",
          "[policies]") {
  REQUIRE_THROWS_AS(epsilon_greedy_pmf({}, 0.1), std::invalid_argument);
  const std::vector<double> scores{1.0, 2.0};
  REQUIRE_THROWS_AS(epsilon_greedy_pmf(scores, -0.01), std::invalid_argument);
  REQUIRE_THROWS_AS(epsilon_greedy_pmf(scores, 1.01), std::invalid_argument);
  REQUIRE_THROWS_AS(epsilon_greedy_pmf(scores, std::nan("")), std::invalid_argument);
  const std::vector<double> bad{1.0, std::numeric_limits<double>::quiet_NaN()};
  REQUIRE_THROWS_AS(epsilon_greedy_pmf(bad, 0.1), std::invalid_argument);
}
