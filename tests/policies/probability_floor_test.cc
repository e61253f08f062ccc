// SPDX-License-Identifier: Apache-2.0
#include "policies/probability_floor.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "policies/lin_ucb.h"
#include "policies/model_file.h"
#include "policies/registry.h"
#include "policies/uniform_random.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::make_interaction;
using recloop::testing::random_context;

namespace {

constexpr int kUserDim = 2;
constexpr int kActionDim = 2;
constexpr int kFeatureDim = kUserDim + kActionDim;

std::unique_ptr<Policy> make_floored(const std::string& name, const std::string& floor) {
  ConfigSection section(name, "x.ini");
  section.set("probability_floor", floor);
  return make_policy(name, section, kFeatureDim);
}

}  // namespace

TEST_CASE("a floor mixes the pmf with uniform: (1 - K f) p + f", "[policies]") {
  // Untrained LinUCB is a point mass on the candidate of largest feature norm.
  auto inner = std::make_unique<LinUcb>(LinUcb::Config{}, kFeatureDim);
  Rng rng(1);
  const Context context = random_context(rng, kUserDim, kActionDim, 10, 50);
  const std::vector<double> p = inner->probabilities(context);
  REQUIRE(std::count(p.begin(), p.end(), 1.0) == 1);
  const ProbabilityFloor floored(std::move(inner), 0.02);
  const std::vector<double> q = floored.probabilities(context);
  testing::require_valid_pmf(q, context.size());
  for (std::size_t a = 0; a < q.size(); ++a) {
    // 1 - 10 * 0.02 = 0.8 of the inner pmf, plus the floor.
    REQUIRE(q[a] == Approx(p[a] == 1.0 ? 0.82 : 0.02).epsilon(1e-15));
    REQUIRE(q[a] >= 0.02);
  }
}

TEST_CASE("a floor of at least 1/K makes the pmf exactly uniform", "[policies]") {
  // 1/49 is the classic case where K * (1/K) rounds below 1 in doubles.
  const ProbabilityFloor floored(std::make_unique<LinUcb>(LinUcb::Config{}, kFeatureDim), 1.0 / 49);
  Rng rng(2);
  for (const std::size_t k : {49, 50, 120}) {
    const Context context = random_context(rng, kUserDim, kActionDim, k, 200);
    REQUIRE(floored.probabilities(context) == std::vector<double>(k, 1.0 / static_cast<double>(k)));
  }
  const Context few = random_context(rng, kUserDim, kActionDim, 7, 200);
  const auto q = floored.probabilities(few);
  REQUIRE(*std::min_element(q.begin(), q.end()) >= 1.0 / 49);
  REQUIRE(*std::max_element(q.begin(), q.end()) == Approx(1.0 - 6.0 / 49));
}

TEST_CASE("every policy with a floor keeps the contract and gives each candidate min(f, 1/K)",
          "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto policy = make_floored(name, "0.03");
      REQUIRE(dynamic_cast<ProbabilityFloor*>(policy.get()) != nullptr);
      REQUIRE(policy->name() == name);
      Rng rng(3);
      for (int i = 0; i < 120; ++i) {
        const std::size_t k = 1 + static_cast<std::size_t>(i % 40);
        const Context context = random_context(rng, kUserDim, kActionDim, k, 60);
        const auto decision = policy->choose(context, testing::event_id("f", i), 9);
        testing::require_decision_contract(decision, context);
        const double floor = std::min(0.03, 1.0 / static_cast<double>(k));
        for (const double p : decision.pmf) REQUIRE(p >= floor);
        policy->update(make_interaction(context, decision.action,
                                        decision.item % 3 == 0 ? 1.0 : 0.0, decision.probability));
      }
      REQUIRE(policy->model_version() == 120);
    }
  }
}

TEST_CASE("a floor applies among the available candidates only", "[policies]") {
  auto policy = make_floored("lin_ucb", "0.1");
  Rng rng(4);
  Context context = random_context(rng, kUserDim, kActionDim, 6, 20);
  context.available = {1, 0, 1, 1, 0, 1};
  const auto pmf = policy->pmf(context);
  testing::require_valid_pmf(pmf, 6);
  REQUIRE(pmf[1] == 0.0);
  REQUIRE(pmf[4] == 0.0);
  for (const std::size_t a : {0, 2, 3, 5}) REQUIRE(pmf[a] >= 0.1);
}

TEST_CASE("probability_floor is read from the policy's section with its range", "[policies]") {
  SECTION("absent or zero: no wrapper") {
    ConfigSection section("lin_ucb", "x.ini");
    REQUIRE(dynamic_cast<LinUcb*>(make_policy("lin_ucb", section, kFeatureDim).get()) != nullptr);
    // Unset, it is not one of the section's documented keys (a scenario file
    // that spells out every key need not mention it).
    for (const auto& doc : section.described()) REQUIRE(doc.key != "probability_floor");
    REQUIRE(dynamic_cast<LinUcb*>(make_floored("lin_ucb", "0").get()) != nullptr);
  }
  SECTION("documented with the policy's keys when set") {
    ConfigSection section("epsilon_greedy", "x.ini");
    section.set("probability_floor", "0.01");
    make_policy("epsilon_greedy", section, kFeatureDim);
    const auto& keys = section.described();
    const auto it = std::find_if(keys.begin(), keys.end(),
                                 [](const KeyDoc& d) { return d.key == "probability_floor"; });
    REQUIRE(it != keys.end());
    REQUIRE(it->default_value == "0");
    REQUIRE(it->range == "[0, 1]");
  }
  SECTION("out of range") {
    REQUIRE_THROWS_WITH(make_floored("epsilon_greedy", "1.5"),
                        Contains("x.ini: [epsilon_greedy] probability_floor = '1.5'") &&
                            Contains("[0, 1]"));
    REQUIRE_THROWS_AS(make_floored("epsilon_greedy", "-0.1"), ConfigError);
  }
}

TEST_CASE("the floor's constructor rejects a missing policy and a floor outside [0, 1]",
          "[policies]") {
  REQUIRE_THROWS_AS(ProbabilityFloor(nullptr, 0.1), std::invalid_argument);
  REQUIRE_THROWS_WITH(ProbabilityFloor(std::make_unique<UniformRandom>(), 1.5),
                      Contains("probability_floor = 1.5") && Contains("[0, 1]"));
}

TEST_CASE("a floored policy saves and loads through the wrapper", "[policies]") {
  auto policy = make_floored("epsilon_greedy", "0.05");
  Rng rng(5);
  for (int t = 0; t < 200; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 8, 20);
    const auto decision = policy->choose(context, testing::event_id("s", t), 1);
    policy->update(make_interaction(context, decision.action, context.user[0] > 0 ? 1.0 : 0.0,
                                    decision.probability));
  }
  const std::string bytes = serialize_policy(*policy);
  const auto reloaded = deserialize_policy(bytes, "memory");
  const auto* floor = dynamic_cast<const ProbabilityFloor*>(reloaded.get());
  REQUIRE(floor != nullptr);
  REQUIRE(floor->floor() == 0.05);
  REQUIRE(floor->inner().name() == "epsilon_greedy");
  REQUIRE(serialize_policy(*reloaded) == bytes);
  for (int i = 0; i < 50; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 8, 20);
    REQUIRE(reloaded->probabilities(context) == policy->probabilities(context));
  }
}

TEST_CASE("a cloned floor learns independently of the original", "[policies]") {
  auto policy = make_floored("lin_ucb", "0.01");
  auto copy = policy->clone();
  Rng rng(6);
  const Context context = random_context(rng, kUserDim, kActionDim, 5, 20);
  copy->update(make_interaction(context, 0, 1.0));
  REQUIRE(copy->model_version() == 1);
  REQUIRE(policy->model_version() == 0);
  REQUIRE(dynamic_cast<ProbabilityFloor*>(copy.get())->floor() == 0.01);
}
