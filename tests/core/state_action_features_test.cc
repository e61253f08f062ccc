// SPDX-License-Identifier: Apache-2.0
#include "core/state_action_features.h"

#include <catch2/catch.hpp>

namespace recloop {
namespace {

Context two_by_three() {
  Context c;
  c.user = Eigen::Vector2d(2.0, -1.0);
  c.actions.resize(3, 2);
  c.actions << 1, 4,  //
      0, 5,           //
      3, 6;
  c.items = {10, 11};
  return c;
}

TEST_CASE("State-action features stack a bias, the state, the item and their outer product") {
  const StateActionFeatures phi(2, 3);
  REQUIRE(phi.dim() == 1 + 2 + 3 + 6);
  const Eigen::VectorXd f = phi(two_by_three(), 1);
  Eigen::VectorXd expected(12);
  // x = (4, 5, 6), u = (2, -1): vec(x u^T) = (2x, -x).
  expected << 1, 2, -1, 4, 5, 6, 8, 10, 12, -4, -5, -6;
  CHECK(f.isApprox(expected));
}

TEST_CASE("State-action features refuse negative dimensions") {
  CHECK_THROWS_AS(StateActionFeatures(-1, 2), std::invalid_argument);
}

}  // namespace
}  // namespace recloop
