// SPDX-License-Identifier: Apache-2.0
// The persistence check shared by the policy tests: a saved and reloaded
// policy decides and learns bit-identically, and a truncated file is refused.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "core/model_io.h"
#include "core/rng.h"
#include "policies/registry.h"
#include "tests/policies/policy_fixtures.h"

namespace recloop::testing {

// Saves `policy` (already warmed up), reloads it through load_policy(name),
// then on 10 random contexts (6 candidates from a catalogue of 12) requires
// equal pmfs and `also(reloaded, context)`, and updates both with `reward` on
// candidate 2. Finally the two saved files must be equal, and the first file
// cut by 8 bytes must be refused.
inline void require_bit_identical_reload(
    Policy& policy, std::string_view name, Rng& rng, int user_dim, int action_dim,
    double reward,
    const std::function<void(const Policy& reloaded, const Context& context)>& also = {}) {
  ModelWriter out;
  policy.save(out);
  const std::string bytes = out.bytes();
  ModelReader in(bytes);
  auto reloaded = load_policy(std::string(name), in);
  REQUIRE(in.at_end());
  for (int i = 0; i < 10; ++i) {
    const Context context = random_context(rng, user_dim, action_dim, 6, 12);
    REQUIRE(reloaded->probabilities(context) == policy.probabilities(context));
    if (also) also(*reloaded, context);
    policy.update(make_interaction(context, 2, reward));
    reloaded->update(make_interaction(context, 2, reward));
  }
  ModelWriter again, original;
  reloaded->save(again);
  policy.save(original);
  REQUIRE(again.bytes() == original.bytes());
  ModelReader short_in(std::string_view(bytes).substr(0, bytes.size() - 8));
  REQUIRE_THROWS_AS(load_policy(std::string(name), short_in), Error);
}

}  // namespace recloop::testing
