// SPDX-License-Identifier: Apache-2.0
#include "evaluation/columnar_dr.h"

#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "evaluation/doubly_robust.h"
#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;

TEST_CASE("columnar dr agrees with the streaming dr estimator", "[evaluation]") {
  const ClickWorld world;
  const auto log = draw_log(world, softmax_on_truth(world, -2.0), 1001, 12);
  const PmfFunction target = softmax_on_truth(world, 3.0);
  const auto model = std::make_shared<ConstantRewardModel>(0.35);
  DoublyRobustEstimator dr(model);
  std::vector<double> w, r, p, d;
  for (const auto& i : log) {
    const auto pmf = target(i.context);
    dr.add(i, pmf);
    w.push_back(pmf[i.action] / i.probability);
    r.push_back(i.reward);
    p.push_back(0.35);
    d.push_back(0.35);
  }
  const Estimate expected = dr.estimate();
  const Estimate got = columnar_doubly_robust({w, r, p, d});
  REQUIRE(got.n == expected.n);
  REQUIRE(got.value == Approx(expected.value).epsilon(1e-12));
  REQUIRE(got.std_error == Approx(expected.std_error).epsilon(1e-10));
  REQUIRE(got.lower == Approx(expected.lower).epsilon(1e-10));
}

TEST_CASE("columnar dr rejects columns of different lengths", "[evaluation]") {
  const std::vector<double> a(3, 1.0), b(2, 1.0);
  REQUIRE_THROWS_AS(columnar_doubly_robust({a, a, a, b}), std::invalid_argument);
}
