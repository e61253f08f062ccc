// SPDX-License-Identifier: Apache-2.0
// Worlds with a known optimum for regret tests, and the save/load round-trip
// check shared by the bandit policies' tests.
//   BernoulliArms  K catalogue items with fixed click rates; no features.
//   LinearWorld    10 items, each with its own linear reward on the joint
//                  features [user (5-d); item embedding (2-d)], Gaussian noise.
// Regret is pseudo-regret: at each step, max_a mu(a) - sum_a pmf(a) mu(a),
// the exact expected shortfall of the distribution played (no sampling noise
// from the choice itself).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "core/types.h"
#include "policies/policy.h"
#include "policies/registry.h"
#include "tests/policies/policy_fixtures.h"

#include "tests/policies/linear_world.h"

namespace recloop::testing {

class BernoulliArms {
 public:
  // Item i of the catalogue (id first_item + i) clicks with probability means[i].
  explicit BernoulliArms(std::vector<double> means, ItemId first_item = 100)
      : means_(std::move(means)) {
    for (std::size_t i = 0; i < means_.size(); ++i) context_.items.push_back(first_item + i);
    context_.actions.resize(0, static_cast<Eigen::Index>(means_.size()));  // no features
  }
  const Context& context() const { return context_; }
  const std::vector<double>& means() const { return means_; }
  double best() const { return *std::max_element(means_.begin(), means_.end()); }
  double draw(ActionId a, Rng& rng) const { return bernoulli(rng, means_[a]); }

 private:
  std::vector<double> means_;
  Context context_;
};

// Cumulative pseudo-regret of `policy` learning from its own decisions on
// `arms` for `steps` steps; entry t of the result is the regret after t + 1 steps.
inline std::vector<double> bernoulli_regret(Policy& policy, const BernoulliArms& arms,
                                            std::uint64_t seed, int steps) {
  Rng reward_rng(stream_seed(seed, 2));
  std::vector<double> cumulative;
  cumulative.reserve(static_cast<std::size_t>(steps));
  double regret = 0.0;
  for (int t = 0; t < steps; ++t) {
    const auto decision = policy.choose(arms.context(), event_id("", t), seed);
    regret += pmf_regret(decision.pmf, arms.means());
    cumulative.push_back(regret);
    const double reward = arms.draw(decision.action, reward_rng);
    policy.update(make_interaction(arms.context(), decision.action, reward, decision.probability));
  }
  return cumulative;
}

// The same on a LinearWorld drawn from stream_seed(seed, 0). Contexts and
// noise come from their own streams, so every policy run with the same seed
// sees the same world, the same contexts and the same noise sequence.
// `on_step(t, context, mu, pmf)` is called before each update, if given.
using StepObserver = std::function<void(int, const Context&, const std::vector<double>&,
                                        const std::vector<double>&)>;
inline std::vector<double> linear_regret(Policy& policy, std::uint64_t seed, int steps,
                                         const StepObserver& on_step = {}) {
  Rng world_rng(stream_seed(seed, 0));
  const LinearWorld world(world_rng);
  Rng context_rng(stream_seed(seed, 1));
  Rng noise_rng(stream_seed(seed, 2));
  std::vector<double> cumulative;
  cumulative.reserve(static_cast<std::size_t>(steps));
  double regret = 0.0;
  for (int t = 0; t < steps; ++t) {
    const Context context = world.next_context(context_rng);
    const auto mu = world.expected_rewards(context);
    const auto decision = policy.choose(context, event_id("", t), seed);
    regret += pmf_regret(decision.pmf, mu);
    cumulative.push_back(regret);
    if (on_step) on_step(t, context, mu, decision.pmf);
    const double reward = mu[decision.action] + LinearWorld::kNoise * standard_normal(noise_rng);
    policy.update(make_interaction(context, decision.action, reward, decision.probability));
  }
  return cumulative;
}

inline std::string saved_bytes(const Policy& policy) {
  ModelWriter out;
  policy.save(out);
  return out.take();
}

// Trains `original` on its own decisions over random contexts (3 user and 2
// item features, 6 of 20 catalogue items), saves it, reloads it through
// load_policy() and REQUIREs a bit-identical copy: every byte is consumed,
// saving again gives the same bytes, the pmfs are equal (==) and the decisions
// the same on fresh contexts, and after the same further updates the two stay
// equal. Also REQUIREs that every sampled truncation of the bytes is refused
// with recloop::Error.
inline void require_bit_identical_reload(Policy& original, std::uint64_t seed) {
  Rng rng(seed);
  const auto train_step = [&rng](Policy& decider, Policy* follower, int t) {
    const Context context = random_context(rng, 3, 2, 6, 20);
    const auto decision = decider.choose(context, event_id("train-", t), 5);
    const double reward = 1.0 / (1.0 + static_cast<double>(decision.item)) +
                          0.1 * context.user[0] + 0.1 * standard_normal(rng);
    const auto interaction =
        make_interaction(context, decision.action, reward, decision.probability);
    decider.update(interaction);
    if (follower != nullptr) follower->update(interaction);
  };
  for (int t = 0; t < 300; ++t) train_step(original, nullptr, t);

  const std::string bytes = saved_bytes(original);
  ModelReader reader(bytes);
  const auto copy = load_policy(saved_name(original), reader);
  REQUIRE(reader.at_end());
  REQUIRE(copy->name() == original.name());
  REQUIRE(copy->model_version() == original.model_version());
  REQUIRE(saved_bytes(*copy) == bytes);

  for (int i = 0; i < 50; ++i) {
    const Context context = random_context(rng, 3, 2, 1 + i % 8, 25);
    REQUIRE(copy->probabilities(context) == original.probabilities(context));
    const auto a = original.choose(context, event_id("probe-", i), 77);
    const auto b = copy->choose(context, event_id("probe-", i), 77);
    REQUIRE(b.action == a.action);
    REQUIRE(b.probability == a.probability);
  }
  for (int t = 0; t < 100; ++t) {
    train_step(original, copy.get(), 1000 + t);
    const Context probe = random_context(rng, 3, 2, 6, 20);
    REQUIRE(copy->probabilities(probe) == original.probabilities(probe));
  }
  REQUIRE(saved_bytes(*copy) == saved_bytes(original));

  // A truncated model is refused: load reads the same fields from any prefix,
  // so it always runs out before the end.
  const std::string_view all(bytes);
  for (std::size_t n = 0; n < bytes.size(); n += 1 + bytes.size() / 64) {
    ModelReader truncated(all.substr(0, n));
    REQUIRE_THROWS_AS(load_policy(saved_name(original), truncated), Error);
  }
  ModelReader last(all.substr(0, bytes.size() - 1));
  REQUIRE_THROWS_AS(load_policy(saved_name(original), last), Error);
}

}  // namespace recloop::testing
