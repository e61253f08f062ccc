// SPDX-License-Identifier: Apache-2.0
#include "evaluation/diagnostics.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/evaluation/click_world.h"

using namespace recloop;
using namespace recloop::testing;
using Catch::Matchers::Contains;

TEST_CASE("weight diagnostics of four hand-made interactions", "[evaluation]") {
  // Logged probability 0.5 each; target mass on the logged action 1, 0, 0.25,
  // 0.75 → weights 2, 0, 0.5, 1.5. Σw = 4, Σw² = 4 + 0.25 + 2.25 = 6.5, so
  // ESS = 16/6.5. Sorted weights 0, 0.5, 1.5, 2: nearest-rank p50 is the 2nd
  // (0.5), p90 and p99 the 4th (2). One of four logged actions has π = 0.
  // Logged pmfs are given for the last two rows: the logger puts 0 on
  // candidate 2, where the target puts 0.25 and 0 → mean deficiency 0.125.
  WeightDiagnostics d;
  d.add(hand_interaction(0.5, 1.0, 3, 0, "a"), std::vector<double>{1.0, 0.0, 0.0});
  d.add(hand_interaction(0.5, 1.0, 3, 0, "b"), std::vector<double>{0.0, 1.0, 0.0});
  d.add(hand_interaction(0.5, 1.0, 3, 0, "c"), std::vector<double>{0.25, 0.5, 0.25},
        std::vector<double>{0.5, 0.5, 0.0});
  d.add(hand_interaction(0.5, 1.0, 3, 0, "d"), std::vector<double>{0.75, 0.25, 0.0},
        std::vector<double>{0.5, 0.5, 0.0});
  const WeightReport r = d.report();
  REQUIRE(r.n == 4);
  REQUIRE(r.effective_sample_size == Approx(16.0 / 6.5).epsilon(1e-15));
  REQUIRE(r.mean_weight == 1.0);
  REQUIRE(r.max_weight == 2.0);
  REQUIRE(r.p50 == 0.5);
  REQUIRE(r.p90 == 2.0);
  REQUIRE(r.p99 == 2.0);
  REQUIRE(r.share_target_never_takes == 0.25);
  REQUIRE(r.n_with_logged_pmf == 2);
  REQUIRE(r.target_mass_outside_logger == 0.125);
}

TEST_CASE("a logged pmf of the wrong size is rejected naming the event", "[evaluation]") {
  WeightDiagnostics d;
  REQUIRE_THROWS_WITH(d.add(hand_interaction(0.5, 1.0, 2, 0, "odd"), std::vector<double>{1.0, 0.0},
                            std::vector<double>{1.0}),
                      Contains("odd"));
}

TEST_CASE("warnings name a small effective sample size and support deficiency", "[evaluation]") {
  WeightReport r;
  r.n = 10000;
  r.effective_sample_size = 37.0;
  r.mean_weight = 1.0;
  r.max_weight = 3.0;
  r.n_with_logged_pmf = 10000;
  r.target_mass_outside_logger = 0.12;
  const auto w = warnings(r);
  REQUIRE(w.size() == 2);
  REQUIRE_THAT(w[0], Contains("effective sample size 37 of 10000"));
  REQUIRE_THAT(w[1], Contains("12") && Contains("never takes"));
}

TEST_CASE("a healthy uniform-log report has no warnings", "[evaluation]") {
  const ClickWorld world;
  WeightDiagnostics d;
  for (const auto& i : draw_log(world, uniform_pmf, 2000, 3)) {
    const auto target = softmax_on_truth(world, 1.0)(i.context);
    d.add(i, target, uniform_pmf(i.context));
  }
  const auto w = warnings(d.report());
  INFO((w.empty() ? std::string() : w.front()));
  REQUIRE(w.empty());
}

TEST_CASE("one dominating weight is warned about", "[evaluation]") {
  WeightDiagnostics d;
  for (int i = 0; i < 200; ++i) {
    d.add(hand_interaction(0.5, 1.0, 2, 0, std::to_string(i)), std::vector<double>{0.5, 0.5});
  }
  d.add(hand_interaction(0.001, 1.0, 2, 0, "heavy"), std::vector<double>{1.0, 0.0});
  const auto w = warnings(d.report());
  REQUIRE_FALSE(w.empty());
  bool named = false;
  for (const auto& line : w) named |= line.find("largest weight") != std::string::npos;
  REQUIRE(named);
}
