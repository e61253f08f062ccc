// SPDX-License-Identifier: Apache-2.0
// The probability contract, checked for every policy the registry can make.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/registry.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using recloop::testing::make_interaction;
using recloop::testing::random_context;

namespace {

constexpr int kUserDim = 3;
constexpr int kActionDim = 2;
constexpr int kFeatureDim = kUserDim + kActionDim;

std::unique_ptr<Policy> make_default(const std::string& name) {
  ConfigSection section(name);
  return make_policy(name, section, kFeatureDim);
}

// Feeds `policy` its own decisions on `steps` random contexts, with rewards
// that favour low item ids, so the linear models learn non-trivial state.
void train(Policy& policy, Rng& rng, int steps) {
  for (int t = 0; t < steps; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 6, 20);
    const auto decision = policy.choose(context, testing::event_id("train-", t), 99);
    const double reward = 1.0 / (1.0 + static_cast<double>(decision.item)) + 0.1 * context.user[0];
    policy.update(make_interaction(context, decision.action, reward, decision.probability));
  }
}

}  // namespace

TEST_CASE("every policy's decisions keep the probability contract, before and after updates",
          "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto policy = make_default(name);
      Rng rng(3);
      for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 50; ++i) {
          const Context context = random_context(rng, kUserDim, kActionDim, 1 + i % 9, 20);
          const auto decision = policy->choose(context, testing::event_id("e", i), 17);
          testing::require_decision_contract(decision, context);
          REQUIRE(decision.policy == name);
          REQUIRE(decision.pmf == policy->probabilities(context));
          REQUIRE(decision.model_version == policy->model_version());
        }
        train(*policy, rng, 40);
      }
    }
  }
}

TEST_CASE("every policy's decision replays from run seed, event id and model state",
          "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto policy = make_default(name);
      Rng rng(8);
      train(*policy, rng, 30);
      for (int i = 0; i < 30; ++i) {
        const Context context = random_context(rng, kUserDim, kActionDim, 8, 20);
        const std::string id = testing::event_id("replay-", i);
        const auto first = policy->choose(context, id, 12345);
        const auto again = policy->choose(context, id, 12345);
        REQUIRE(again.action == first.action);
        REQUIRE(again.pmf == first.pmf);
        REQUIRE(again.probability == first.probability);
      }
    }
  }
}

TEST_CASE("the uniform policy draws differently for different event ids", "[policies]") {
  // Guards the test above against a sampler that ignores its seed: with 8
  // candidates, 40 ids all landing on one action has probability 8^-39.
  auto policy = make_default("uniform");
  Rng rng(1);
  const Context context = random_context(rng, kUserDim, kActionDim, 8, 20);
  const auto first = policy->choose(context, "id-0", 7).action;
  bool differs = false;
  for (int i = 1; i < 40 && !differs; ++i) {
    differs = policy->choose(context, testing::event_id("id-", i), 7).action != first;
  }
  REQUIRE(differs);
}

TEST_CASE("a cloned policy decides like the original and learns independently", "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto original = make_default(name);
      Rng rng(21);
      train(*original, rng, 50);
      auto copy = original->clone();
      REQUIRE(copy->name() == original->name());
      REQUIRE(copy->model_version() == original->model_version());
      const Context probe = random_context(rng, kUserDim, kActionDim, 10, 20);
      const auto before = original->probabilities(probe);
      REQUIRE(copy->probabilities(probe) == before);
      train(*copy, rng, 200);  // must leave the original untouched
      REQUIRE(original->probabilities(probe) == before);
      REQUIRE(original->model_version() == 50);
      REQUIRE(copy->model_version() == 250);
    }
  }
}

TEST_CASE("the learning policies reject a context of another feature dimension", "[policies]") {
  for (const auto& name : {"epsilon_greedy", "lin_ucb"}) {
    SECTION(name) {
      auto policy = make_default(name);
      Rng rng(2);
      const Context wrong = random_context(rng, kUserDim + 1, kActionDim, 4, 20);
      REQUIRE_THROWS_AS(policy->probabilities(wrong), std::logic_error);
      REQUIRE_THROWS_AS(policy->update(make_interaction(wrong, 0, 1.0)), std::logic_error);
      REQUIRE(policy->model_version() == 0);
    }
  }
}
