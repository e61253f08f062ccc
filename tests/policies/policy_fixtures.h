// SPDX-License-Identifier: Apache-2.0
// Random contexts and interactions for the policy tests. Features are standard
// normal; items are distinct ids drawn from a catalogue [0, catalogue_size).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/rng.h"
#include "core/sampling.h"
#include "core/types.h"

namespace recloop::testing {

inline Context random_context(Rng& rng, int user_dim, int action_dim, std::size_t n_candidates,
                              ItemId catalogue_size) {
  Context context;
  context.user.resize(user_dim);
  for (auto& v : context.user) v = standard_normal(rng);
  context.actions.resize(action_dim, static_cast<Eigen::Index>(n_candidates));
  for (Eigen::Index j = 0; j < context.actions.cols(); ++j) {
    for (Eigen::Index i = 0; i < context.actions.rows(); ++i) {
      context.actions(i, j) = standard_normal(rng);
    }
  }
  while (context.items.size() < n_candidates) {
    const ItemId item = uniform_index(rng, catalogue_size);
    if (std::find(context.items.begin(), context.items.end(), item) == context.items.end()) {
      context.items.push_back(item);
    }
  }
  return context;
}

// "<prefix><i>". Built by appending: GCC 12 warns falsely (-Wrestrict) on
// "literal" + std::to_string(i).
inline EventId event_id(std::string_view prefix, long long i) {
  EventId id(prefix);
  id += std::to_string(i);
  return id;
}

inline Interaction make_interaction(const Context& context, ActionId action, double reward,
                                    double probability = 1.0) {
  Interaction interaction;
  interaction.event_id = event_id("event-", static_cast<long long>(context.items[action]));
  interaction.context = context;
  interaction.action = action;
  interaction.probability = probability;
  interaction.reward = reward;
  return interaction;
}

}  // namespace recloop::testing
