// SPDX-License-Identifier: Apache-2.0
#include "policies/uniform_random.h"

#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/rng.h"
#include "tests/policies/policy_fixtures.h"

using namespace recloop;
using recloop::testing::make_interaction;
using recloop::testing::random_context;

TEST_CASE("the uniform policy gives every candidate 1 / K", "[policies]") {
  Rng rng(41);
  UniformRandom policy;
  for (std::size_t k : {1u, 2u, 7u, 100u}) {
    const Context context = random_context(rng, 2, 3, k, 1000);
    const auto pmf = policy.probabilities(context);
    REQUIRE(pmf.size() == k);
    for (double p : pmf) REQUIRE(p == 1.0 / static_cast<double>(k));
  }
}

TEST_CASE("the uniform policy only counts its updates", "[policies]") {
  Rng rng(42);
  UniformRandom policy;
  const Context context = random_context(rng, 2, 3, 4, 10);
  const auto before = policy.probabilities(context);
  for (int i = 0; i < 5; ++i) policy.update(make_interaction(context, 1, 10.0));
  REQUIRE(policy.model_version() == 5);
  REQUIRE(policy.probabilities(context) == before);
}

TEST_CASE("the uniform policy has no settings", "[policies]") {
  ConfigSection section("policy", "x.ini");
  REQUIRE(UniformRandom::Config::from(section) == UniformRandom::Config{});
  REQUIRE(section.described().empty());
}
