// SPDX-License-Identifier: Apache-2.0
// A reward model for categorical logs: the mean logged reward of each
// (item, slot) cell (item = catalogue id, slot = Interaction::slot), ignoring
// the user features. predict(context, action) has no slot, so it answers the
// item's mean over all slots; predict_at() answers for one slot. Cells never
// seen fall back to the item's mean, then to the mean over all training rows
// (0 with no data).
//
// Use: add() every training interaction, then predict() (no fit step: the
// means are kept as exact sums, so the model is independent of row order).
// Not thread-safe while adding; predict() is const.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "core/types.h"
#include "evaluation/estimator.h"
#include "evaluation/exact_sum.h"

namespace recloop {

class TabularRewardModel final : public RewardModel {
 public:
  // Throws std::invalid_argument naming the event if the action is not a
  // candidate or the reward is not finite.
  void add(const Interaction& interaction);

  // Mean reward of context.items[action] over the training rows, or the
  // overall mean for an unseen item. Throws std::logic_error if the action is
  // not a candidate.
  double predict(const Context& context, ActionId action) const override;
  // Mean reward of (context.items[action], slot), falling back as above.
  double predict_at(const Context& context, ActionId action, std::uint32_t slot) const;

  std::size_t observations(ItemId item) const;

 private:
  struct Cell {
    ExactSum sum;
    std::size_t count = 0;
  };
  struct CellKey {
    ItemId item;
    std::uint32_t slot;
    bool operator==(const CellKey&) const = default;
  };
  struct CellHash {
    std::size_t operator()(const CellKey& k) const { return k.item * 0x9E3779B97F4A7C15ULL ^ k.slot; }
  };
  static double mean(const Cell& cell) {
    return cell.count == 0 ? 0.0 : cell.sum.value() / static_cast<double>(cell.count);
  }
  std::unordered_map<ItemId, Cell> cells_;
  std::unordered_map<CellKey, Cell, CellHash> slot_cells_;
  Cell overall_;
};

}  // namespace recloop
