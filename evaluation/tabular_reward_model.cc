// SPDX-License-Identifier: Apache-2.0
#include "evaluation/tabular_reward_model.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/check.h"

namespace recloop {

void TabularRewardModel::add(const Interaction& interaction) {
  if (interaction.action >= interaction.context.size() || !std::isfinite(interaction.reward)) {
    throw std::invalid_argument("tabular reward model: event '" + interaction.event_id +
                                "': action " + std::to_string(interaction.action) + " of " +
                                std::to_string(interaction.context.size()) +
                                " candidates, reward " + std::to_string(interaction.reward));
  }
  const ItemId item = interaction.context.items[interaction.action];
  for (Cell* cell : {&cells_[item], &slot_cells_[{item, interaction.slot}]}) {
    cell->sum.add(interaction.reward);
    ++cell->count;
  }
  overall_.sum.add(interaction.reward);
  ++overall_.count;
}

double TabularRewardModel::predict(const Context& context, ActionId action) const {
  RECLOOP_CHECK(action < context.size(), "action is not a candidate of the context");
  // The sample mean per cell is the least-squares fit of a one-hot (item)
  // regression: the direct method's model for categorical logs, as in the
  // Open Bandit Pipeline's benchmark of DM/DR on the Open Bandit Dataset.
  const auto it = cells_.find(context.items[action]);
  return mean(it != cells_.end() ? it->second : overall_);
}

double TabularRewardModel::predict_at(const Context& context, ActionId action,
                                      std::uint32_t slot) const {
  RECLOOP_CHECK(action < context.size(), "action is not a candidate of the context");
  const auto it = slot_cells_.find({context.items[action], slot});
  return it != slot_cells_.end() ? mean(it->second) : predict(context, action);
}

std::size_t TabularRewardModel::observations(ItemId item) const {
  const auto it = cells_.find(item);
  return it == cells_.end() ? 0 : it->second.count;
}

}  // namespace recloop
