// SPDX-License-Identifier: Apache-2.0
// The Simulator seam: a world with known ground truth. It draws contexts and
// rewards, and can say exactly what any action is worth, which is what every
// estimator and learning curve is checked against. Randomness comes only from
// the Rng passed in, so a world replays exactly from its seed.
// Not thread-safe.
#pragma once

#include <string_view>

#include "core/rng.h"
#include "core/types.h"

namespace recloop {

class Simulator {
 public:
  virtual ~Simulator() = default;
  // The next request: a user and the candidate items offered to the policy.
  virtual Context next_context(Rng& rng) = 0;
  // A reward drawn from the world's reward distribution (e.g. a click, 0 or 1).
  virtual double draw_reward(const Context& context, ActionId action, Rng& rng) = 0;
  // E[reward | context, action], exact (not sampled).
  virtual double expected_reward(const Context& context, ActionId action) const = 0;
  // context.feature_dim() of every context this world produces.
  virtual int feature_dim() const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace recloop
