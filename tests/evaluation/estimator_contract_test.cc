// SPDX-License-Identifier: Apache-2.0
// Checks every estimator applies to its input: a malformed log is an error
// that names the event, never a silently skipped or mis-weighted row.
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "evaluation/registry.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;
using Catch::Matchers::Contains;

namespace {

// Requires that every registered estimator rejects (logged, pmf) with
// std::invalid_argument naming the event, and counts nothing.
void require_every_estimator_rejects(const Interaction& logged, const std::vector<double>& pmf) {
  const auto model = std::make_shared<ConstantRewardModel>(0.5);
  for (const auto& name : estimator_names()) {
    CAPTURE(name);
    auto estimator = make_estimator(name, model);
    REQUIRE_THROWS_AS(estimator->add(logged, pmf), std::invalid_argument);
    REQUIRE_THROWS_WITH(estimator->add(logged, pmf), Contains(logged.event_id));
    REQUIRE(estimator->estimate().n == 0);
  }
}

}  // namespace

TEST_CASE("a logged probability of zero or less is rejected", "[evaluation]") {
  const std::vector<double> pmf{0.5, 0.5};
  require_every_estimator_rejects(hand_interaction(0.0, 1.0, 2, 0, "evt-zero"), pmf);
  require_every_estimator_rejects(hand_interaction(-0.2, 1.0, 2, 0, "evt-negative"), pmf);
}

TEST_CASE("a logged probability that is not finite or above one is rejected", "[evaluation]") {
  const std::vector<double> pmf{0.5, 0.5};
  require_every_estimator_rejects(
      hand_interaction(std::numeric_limits<double>::quiet_NaN(), 1.0, 2, 0, "evt-nan"), pmf);
  require_every_estimator_rejects(
      hand_interaction(std::numeric_limits<double>::infinity(), 1.0, 2, 0, "evt-inf"), pmf);
  require_every_estimator_rejects(hand_interaction(1.5, 1.0, 2, 0, "evt-above"), pmf);
}

TEST_CASE("a target pmf whose size differs from the context is rejected", "[evaluation]") {
  require_every_estimator_rejects(hand_interaction(0.5, 1.0, 2, 0, "evt-short"),
                                  std::vector<double>{1.0});
  require_every_estimator_rejects(hand_interaction(0.5, 1.0, 2, 0, "evt-long"),
                                  std::vector<double>{0.5, 0.25, 0.25});
}

TEST_CASE("a target pmf that is not a distribution is rejected", "[evaluation]") {
  require_every_estimator_rejects(hand_interaction(0.5, 1.0, 2, 0, "evt-sum"),
                                  std::vector<double>{0.5, 0.4});
  require_every_estimator_rejects(hand_interaction(0.5, 1.0, 2, 0, "evt-negative-entry"),
                                  std::vector<double>{1.5, -0.5});
}

TEST_CASE("a logged action outside the candidates is rejected", "[evaluation]") {
  require_every_estimator_rejects(hand_interaction(0.5, 1.0, 2, 2, "evt-action"),
                                  std::vector<double>{0.5, 0.5});
}

TEST_CASE("a reward that is not finite is rejected", "[evaluation]") {
  require_every_estimator_rejects(
      hand_interaction(0.5, std::numeric_limits<double>::quiet_NaN(), 2, 0, "evt-reward"),
      std::vector<double>{0.5, 0.5});
}
