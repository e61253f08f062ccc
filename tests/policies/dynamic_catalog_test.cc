// SPDX-License-Identifier: Apache-2.0
// Dynamic catalogues, for every policy the registry can make: items that
// appear are scored from the prior, items masked out of a request are never
// chosen, and a model keeps state only for the items it has learnt about.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/epsilon_greedy.h"
#include "policies/lin_ucb.h"
#include "policies/regression_learner.h"
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

// Feeds `policy` its own decisions, with rewards that favour low item ids.
void train(Policy& policy, Rng& rng, int steps, ItemId catalogue_size) {
  for (int t = 0; t < steps; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 6, catalogue_size);
    const auto decision = policy.choose(context, testing::event_id("train-", t), 5);
    const double reward = decision.item % 3 == 0 ? 1.0 : 0.2 * context.user[0];
    policy.update(make_interaction(context, decision.action, reward, decision.probability));
  }
}

// A random mask with at least one candidate available.
std::vector<std::uint8_t> random_mask(Rng& rng, std::size_t n) {
  std::vector<std::uint8_t> mask(n);
  for (auto& m : mask) m = static_cast<std::uint8_t>(bernoulli(rng, 0.6));
  mask[uniform_index(rng, n)] = 1;
  return mask;
}

// The candidates of `context` that `mask` keeps, in order, without a mask.
Context sub_context(const Context& context, const std::vector<std::uint8_t>& mask) {
  Context sub;
  sub.user = context.user;
  std::vector<Eigen::Index> kept;
  for (std::size_t a = 0; a < mask.size(); ++a) {
    if (mask[a] != 0) {
      kept.push_back(static_cast<Eigen::Index>(a));
      sub.items.push_back(context.items[a]);
    }
  }
  sub.actions = context.actions(Eigen::all, kept);
  return sub;
}

// Items [first, first + count) with the features of `context`.
Context with_items(Context context, ItemId first) {
  for (std::size_t a = 0; a < context.size(); ++a) context.items[a] = first + a;
  return context;
}

}  // namespace

TEST_CASE("every policy gives masked candidates zero mass and never chooses them",
          "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto policy = make_default(name);
      Rng rng(31);
      train(*policy, rng, 60, 20);
      for (int i = 0; i < 60; ++i) {
        Context context = random_context(rng, kUserDim, kActionDim, 2 + i % 8, 20);
        context.available = random_mask(rng, context.size());
        const auto pmf = policy->pmf(context);
        testing::require_valid_pmf(pmf, context.size());
        for (std::size_t a = 0; a < context.size(); ++a) {
          if (context.available[a] == 0) REQUIRE(pmf[a] == 0.0);
        }
        const auto decision = policy->choose(context, testing::event_id("masked-", i), 7);
        testing::require_decision_contract(decision, context);
        REQUIRE(context.available[decision.action] == 1);
        REQUIRE(decision.pmf == pmf);
      }
    }
  }
}

TEST_CASE("every policy's masked pmf is its pmf over the available candidates", "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto policy = make_default(name);
      Rng rng(32);
      train(*policy, rng, 60, 20);
      for (int i = 0; i < 30; ++i) {
        Context context = random_context(rng, kUserDim, kActionDim, 3 + i % 6, 20);
        const auto mask = random_mask(rng, context.size());
        const auto expected = policy->probabilities(sub_context(context, mask));
        context.available = mask;
        const auto pmf = policy->pmf(context);
        std::size_t next = 0;
        for (std::size_t a = 0; a < context.size(); ++a) {
          if (mask[a] != 0) REQUIRE(pmf[a] == expected[next++]);
        }
        REQUIRE(next == expected.size());
      }
    }
  }
}

TEST_CASE("an all-ones mask leaves every policy's pmf unchanged", "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto policy = make_default(name);
      Rng rng(33);
      train(*policy, rng, 40, 20);
      Context context = random_context(rng, kUserDim, kActionDim, 7, 20);
      const auto unmasked = policy->pmf(context);
      REQUIRE(unmasked == policy->probabilities(context));
      context.available.assign(context.size(), 1);
      REQUIRE(policy->pmf(context) == unmasked);
    }
  }
}

TEST_CASE("a mask of the wrong length or with nothing available is rejected", "[policies]") {
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto policy = make_default(name);
      Rng rng(34);
      Context context = random_context(rng, kUserDim, kActionDim, 4, 20);
      context.available = {1, 1, 1};
      REQUIRE_THROWS_AS(policy->pmf(context), std::invalid_argument);
      REQUIRE_THROWS_AS(policy->choose(context, "x", 1), std::invalid_argument);
      context.available = {0, 0, 0, 0};
      REQUIRE_THROWS_AS(policy->pmf(context), std::invalid_argument);
      REQUIRE_THROWS_AS(policy->choose(context, "x", 1), std::invalid_argument);
    }
  }
}

TEST_CASE("a learner scores items it has never seen from its prior, whatever it learnt",
          "[policies]") {
  // Two copies learn the same interactions (same features and rewards) but on
  // disjoint items: [0, 40) and [1000, 1040). Items that neither saw must then
  // be scored alike by both (same model version, so schedules and Monte Carlo
  // seeds agree too), and a reward regression must predict for them exactly
  // what a fresh model predicts: the prior, even beside items it knows.
  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto first = make_default(name);
      auto second = make_default(name);
      const auto fresh = make_default(name);
      Rng rng(35);
      for (int t = 0; t < 300; ++t) {
        const Context context = random_context(rng, kUserDim, kActionDim, 5, 40);
        const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
        const double reward = context.items[action] % 2 == 0 ? 1.0 : context.user[1];
        first->update(make_interaction(context, action, reward, 0.2));
        Context shifted = context;
        for (auto& item : shifted.items) item += 1000;
        second->update(make_interaction(shifted, action, reward, 0.2));
      }
      for (int i = 0; i < 10; ++i) {
        const Context known = random_context(rng, kUserDim, kActionDim, 6, 40);
        const Context unseen = with_items(known, 500'000 + 10 * i);
        REQUIRE(first->probabilities(unseen) == second->probabilities(unseen));
        const auto* learner = dynamic_cast<const RegressionLearner*>(first.get());
        if (learner == nullptr) continue;
        const auto* prior = dynamic_cast<const RegressionLearner*>(fresh.get());
        REQUIRE(prior != nullptr);
        // Three known items and three new ones in one request.
        Context mixed = known;
        for (std::size_t a = 3; a < mixed.size(); ++a) mixed.items[a] = 500'000 + 10 * i + a;
        std::vector<double> learnt(mixed.size()), expected(mixed.size());
        learner->predict_rewards(mixed, learnt);
        prior->predict_rewards(mixed, expected);
        for (std::size_t a = 3; a < mixed.size(); ++a) REQUIRE(learnt[a] == expected[a]);
        bool learnt_something = false;
        for (std::size_t a = 0; a < 3; ++a) learnt_something |= learnt[a] != expected[a];
        REQUIRE(learnt_something);
      }
    }
  }
}

TEST_CASE("a model over a million-item catalogue keeps state only for the items it updated",
          "[policies]") {
  // 500 updates on items drawn from a catalogue of 1,000,000 ids: the ridge
  // models hold exactly one state per distinct updated item, and the saved
  // state of every policy has the same size as after the same updates on the
  // same number of distinct items renumbered into [0, distinct): nothing is
  // kept per catalogue item.
  constexpr ItemId kCatalogue = 1'000'000;
  Rng rng(36);
  std::vector<Interaction> wide;
  std::vector<Interaction> narrow;
  std::map<ItemId, ItemId> renumbered;
  for (int t = 0; t < 500; ++t) {
    const Context context = random_context(rng, kUserDim, kActionDim, 8, kCatalogue);
    const auto action = static_cast<ActionId>(uniform_index(rng, context.size()));
    const double reward = standard_normal(rng);
    wide.push_back(make_interaction(context, action, reward, 0.125));
    Context compact = context;
    for (auto& item : compact.items) {
      item = renumbered.try_emplace(item, renumbered.size()).first->second;
    }
    narrow.push_back(make_interaction(compact, action, reward, 0.125));
  }
  std::set<ItemId> updated;
  for (const auto& i : wide) updated.insert(i.context.items[i.action]);

  EpsilonGreedy epsilon_greedy({}, kFeatureDim);
  LinUcb lin_ucb({}, kFeatureDim);
  for (const auto& i : wide) {
    epsilon_greedy.update(i);
    lin_ucb.update(i);
  }
  REQUIRE(epsilon_greedy.arm_count() == updated.size());
  REQUIRE(lin_ucb.arm_count() == updated.size());
  Context probe = random_context(rng, kUserDim, kActionDim, 50, kCatalogue);
  for (std::size_t a = 0; a < probe.size(); ++a) {
    const ItemId item = probe.items[a];
    REQUIRE(epsilon_greedy.model().has_state(item) == (updated.count(item) == 1));
  }

  for (const auto& name : policy_names()) {
    SECTION(name) {
      auto on_wide = make_default(name);
      auto on_narrow = make_default(name);
      for (const auto& i : wide) on_wide->update(i);
      for (const auto& i : narrow) on_narrow->update(i);
      ModelWriter wide_state;
      ModelWriter narrow_state;
      on_wide->save(wide_state);
      on_narrow->save(narrow_state);
      REQUIRE(wide_state.bytes().size() == narrow_state.bytes().size());
      REQUIRE(wide_state.bytes().size() < kCatalogue);
    }
  }
}
