// SPDX-License-Identifier: Apache-2.0
#include "simulator/linear_click_world.h"

#include <cmath>
#include <set>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "simulator/registry.h"

using namespace recloop;
using Catch::Matchers::Contains;

TEST_CASE("the same seeds replay the same requests and clicks", "[simulator]") {
  LinearClickWorld a({}), b({});
  Rng rng_a(5), rng_b(5);
  for (int t = 0; t < 50; ++t) {
    const Context ca = a.next_context(rng_a);
    const Context cb = b.next_context(rng_b);
    REQUIRE(ca.items == cb.items);
    REQUIRE(ca.user == cb.user);
    REQUIRE(ca.actions == cb.actions);
    REQUIRE(a.draw_reward(ca, 0, rng_a) == b.draw_reward(cb, 0, rng_b));
  }
}

TEST_CASE("a request offers distinct catalogue items with their features", "[simulator]") {
  LinearClickWorld world({.n_items = 20, .candidates = 20});
  Rng rng(1);
  for (int t = 0; t < 20; ++t) {
    const Context c = world.next_context(rng);
    REQUIRE(c.size() == 20);
    REQUIRE(std::set<ItemId>(c.items.begin(), c.items.end()).size() == 20);
    REQUIRE(c.feature_dim() == world.feature_dim());
  }
}

TEST_CASE("expected reward is the logistic click probability", "[simulator]") {
  LinearClickWorld world({.signal = 0.0, .bias_mean = 0.0, .bias_sd = 0.0});
  Rng rng(2);
  const Context c = world.next_context(rng);
  // With no signal and no bias every logit is 0, so every item is a coin flip.
  for (ActionId a = 0; a < c.size(); ++a) REQUIRE(world.expected_reward(c, a) == 0.5);
}

TEST_CASE("click frequencies match the exact expected reward", "[simulator][statistical]") {
  // 100,000 Bernoulli(p) draws: SE = sqrt(p(1-p)/n) <= 0.0016; 5 SE = 0.008
  // fails by chance with probability 6e-7 per action.
  LinearClickWorld world({});
  Rng rng(3);
  const Context c = world.next_context(rng);
  for (ActionId a = 0; a < 3; ++a) {
    const double p = world.expected_reward(c, a);
    const int n = 100000;
    double clicks = 0.0;
    for (int i = 0; i < n; ++i) clicks += world.draw_reward(c, a, rng);
    REQUIRE(clicks / n == Approx(p).margin(5 * std::sqrt(p * (1 - p) / n)));
  }
}

TEST_CASE("more candidates than items is rejected with the key named", "[simulator]") {
  ConfigSection section("simulator", "x.ini");
  section.set("n_items", "5");
  section.set("candidates", "6");
  REQUIRE_THROWS_WITH(make_simulator(section), Contains("candidates") && Contains("n_items"));
}

TEST_CASE("an unknown simulator key is rejected", "[simulator]") {
  ConfigSection section("simulator", "x.ini");
  section.set("n_itemz", "5");
  REQUIRE_THROWS_WITH(make_simulator(section), Contains("unknown key 'n_itemz'"));
}

TEST_CASE("an unknown world is rejected with the known ones listed", "[simulator]") {
  ConfigSection section("simulator", "x.ini");
  section.set("world", "mars");
  REQUIRE_THROWS_WITH(make_simulator(section), Contains("linear_click"));
}

TEST_CASE("a request depends only on the rng, not on earlier requests", "[simulator]") {
  LinearClickWorld world({});
  Rng warm(11);
  for (int t = 0; t < 10; ++t) world.next_context(warm);
  LinearClickWorld fresh({});
  Rng a(12), b(12);
  REQUIRE(world.next_context(a).items == fresh.next_context(b).items);
}
