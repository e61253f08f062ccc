// SPDX-License-Identifier: Apache-2.0
// The trained reinforcement-learning policies as policies: the probability
// contract, bit-identical model files, the registry's answers for them.
#include "policies/rl/rl_policy.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/model_file.h"
#include "policies/registry.h"
#include "policies/rl/bcq.h"
#include "policies/rl/lstdq.h"
#include "policies/rl/reinforce.h"
#include "policies/rl/slateq.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/reload_checks.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using recloop::testing::random_context;

namespace {

constexpr int kUserDim = 3;
constexpr int kActionDim = 2;

// Sessions of 5 random requests (6 candidates of 12) shown uniformly at
// random; reward 1 with probability sigmoid(2 x_a[0] + u[0]), so the models
// learn non-trivial weights and SlateQ sees clicks and skips.
std::vector<Trajectory> random_log(std::size_t sessions, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Trajectory> log;
  for (std::size_t s = 0; s < sessions; ++s) {
    Trajectory t;
    t.session = testing::event_id("s", static_cast<long long>(s));
    t.terminated = s % 2 == 0;
    for (int i = 0; i < 5; ++i) {
      TrajectoryStep step;
      step.context = random_context(rng, kUserDim, kActionDim, 6, 12);
      step.action = static_cast<ActionId>(uniform_index(rng, 6));
      step.probability = 1.0 / 6.0;
      const double logit = 2.0 * step.context.actions(0, step.action) + step.context.user[0];
      step.reward = bernoulli(rng, 1.0 / (1.0 + std::exp(-logit)));
      t.steps.push_back(std::move(step));
    }
    log.push_back(std::move(t));
  }
  return log;
}

std::unique_ptr<Policy> trained(const std::string& name) {
  const auto log = random_log(200, 4);
  if (name == "lspi") {
    LspiOptions options;
    options.lstdq.ridge = 1.0;
    options.rule.epsilon = 0.1;
    return train_lspi(log, options).policy;
  }
  if (name == "bcq") {
    BcqOptions options;
    options.lspi.lstdq.ridge = 1.0;
    options.lspi.rule.temperature = 0.5;
    options.threshold = 0.5;
    return train_bcq(log, options).policy;
  }
  if (name == "slateq") {
    SlateQOptions options;
    options.iterations = 20;
    options.rule.epsilon = 0.05;
    options.slate_size = 3;
    return train_slateq(log, options);
  }
  ReinforceOptions options;
  options.epochs = 3;
  options.top_k = 2;
  return train_reinforce_topk(log, options);
}

}  // namespace

TEST_CASE("every trained RL policy keeps the probability contract and ignores updates") {
  for (const auto& name : trained_policy_names()) {
    SECTION(name) {
      auto policy = trained(name);
      REQUIRE(policy->name() == name);
      const std::uint64_t version = policy->model_version();
      CHECK(version > 0);
      Rng rng(9);
      for (int i = 0; i < 60; ++i) {
        const Context context = random_context(rng, kUserDim, kActionDim, 1 + i % 9, 20);
        const auto decision = policy->choose(context, testing::event_id("e", i), 17);
        testing::require_decision_contract(decision, context);
        REQUIRE(decision.policy == name);
        REQUIRE(decision.pmf == policy->probabilities(context));
        REQUIRE(decision.model_version == version);
        policy->update(testing::make_interaction(context, decision.action, 1.0, decision.probability));
        REQUIRE(policy->model_version() == version);
        REQUIRE(policy->probabilities(context) == decision.pmf);
      }
      // Not a constant pmf: the trained model distinguishes candidates.
      const Context context = random_context(rng, kUserDim, kActionDim, 6, 20);
      const auto pmf = policy->probabilities(context);
      CHECK(*std::max_element(pmf.begin(), pmf.end()) > *std::min_element(pmf.begin(), pmf.end()));
      // Contexts of other dimensions are refused, naming the dimensions.
      CHECK_THROWS_WITH(policy->probabilities(random_context(rng, kUserDim + 1, kActionDim, 4, 20)),
                        Catch::Contains("4 state") && Catch::Contains("trained on 3"));
    }
  }
}

TEST_CASE("every trained RL policy reloads bit-identical from its model file") {
  for (const auto& name : trained_policy_names()) {
    SECTION(name) {
      auto policy = trained(name);
      Rng rng(12);
      testing::require_bit_identical_reload(*policy, name, rng, kUserDim, kActionDim, 1.0);
      const auto clone = policy->clone();
      const auto reloaded = deserialize_policy(serialize_policy(*policy), "memory");
      REQUIRE(reloaded->name() == name);
      REQUIRE(serialize_policy(*reloaded) == serialize_policy(*policy));
      const Context context = random_context(rng, kUserDim, kActionDim, 6, 12);
      REQUIRE(clone->probabilities(context) == policy->probabilities(context));
    }
  }
}

TEST_CASE("a SlateQ policy's slate keeps its size and starts from the best single item") {
  const auto policy = trained("slateq");
  const auto& slateq = dynamic_cast<const SlateQPolicy&>(*policy);
  Rng rng(2);
  for (int i = 0; i < 10; ++i) {
    const Context context = random_context(rng, kUserDim, kActionDim, 6, 12);
    const auto slate = slateq.best_slate(context);
    REQUIRE(slate.size() == 3);
    const auto single = slateq.model().best_slate(context, 1, SlateOptimizer::kGreedy);
    CHECK(slate[0] == single[0]);  // greedy's first addition is the best slate of one
  }
}

TEST_CASE("the registry names the trained policies, refuses to make them untrained and cites them") {
  const auto names = policy_names();
  for (const auto& name : trained_policy_names()) {
    CHECK(std::find(names.begin(), names.end(), name) == names.end());
    ConfigSection section(name, "scenario.ini");
    CHECK_THROWS_WITH(make_policy(name, section, 5),
                      Catch::Contains("scenario.ini") && Catch::Contains("'" + name + "'") &&
                          Catch::Contains("--model"));
    CHECK_FALSE(policy_reference(name).empty());
  }
}
