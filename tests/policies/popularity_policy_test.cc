// SPDX-License-Identifier: Apache-2.0
#include "policies/popularity_policy.h"

#include <cmath>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/error.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {

// Three candidates with popularity 1/2, 1/4, 1/4 in row 1 (as logs).
Context three_items() {
  Context context;
  context.user = Eigen::VectorXd::Zero(2);
  context.actions = Eigen::MatrixXd::Zero(2, 3);
  context.actions.row(1) << std::log(0.5), std::log(0.25), std::log(0.25);
  context.items = {7, 8, 9};
  return context;
}

}  // namespace

TEST_CASE("popularity logging weights each candidate by popularity to the power beta",
          "[policies]") {
  // beta = 2: weights 1/4, 1/16, 1/16, total 3/8.
  const PopularityPolicy policy({.beta = 2.0, .popularity_row = 1});
  const auto pmf = policy.probabilities(three_items());
  REQUIRE(pmf[0] == Approx(2.0 / 3.0));
  REQUIRE(pmf[1] == Approx(1.0 / 6.0));
  REQUIRE(pmf[2] == Approx(1.0 / 6.0));
}

TEST_CASE("popularity logging with beta zero is uniform", "[policies]") {
  const PopularityPolicy policy({.beta = 0.0, .popularity_row = 1});
  for (double p : policy.probabilities(three_items())) REQUIRE(p == Approx(1.0 / 3.0));
}

TEST_CASE("popularity logging rejects a context without its popularity row", "[policies]") {
  const PopularityPolicy policy({.beta = 1.0, .popularity_row = 2});
  REQUIRE_THROWS_WITH(policy.probabilities(three_items()),
                      Contains("popularity_row = 2") && Contains("2 feature rows"));
  REQUIRE_THROWS_AS(PopularityPolicy({.beta = -1.0}), std::invalid_argument);
  ConfigSection section("popularity", "x.ini");
  section.set("beta", "80");
  REQUIRE_THROWS_AS(PopularityPolicy::Config::from(section), ConfigError);
}
