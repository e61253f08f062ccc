// SPDX-License-Identifier: Apache-2.0
// Running reward statistics per catalogue item, for the non-contextual
// policies (epsilon_greedy_mab, softmax, ucb1): for each item, the number of
// updates n and the sum of their rewards, so the sample mean is sum / n.
// State is allocated lazily on an item's first update: an item never updated
// has none, so a catalogue of 1M items costs nothing for the items never
// played. Memory per updated item: one hash-map node (count and sum).
// Not thread-safe for add(); const members may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "core/types.h"

namespace recloop {

class ModelReader;
class ModelWriter;

class ItemMeans {
 public:
  struct Stats {
    std::uint64_t count = 0;  // updates on the item
    double sum = 0.0;         // sum of their rewards
    bool operator==(const Stats&) const = default;
  };

  // Adds one observed `reward` (finite, checked) for `item`.
  void add(ItemId item, double reward);

  // The statistics of `item`; {0, 0} for an item never updated.
  Stats stats(ItemId item) const;
  // sum / count, or `prior` for an item never updated.
  double mean(ItemId item, double prior) const;
  // Number of items with state (updated at least once).
  std::size_t item_count() const { return stats_.size(); }
  // Total number of updates, over all items.
  std::uint64_t total_count() const { return total_count_; }

  // Writes the items in increasing id order (so equal states give equal
  // bytes), each with its count and sum bit for bit.
  void save(ModelWriter& out) const;
  // Reads what save() wrote. Throws recloop::Error on truncated or
  // inconsistent data (ids not strictly increasing, a zero count, a
  // non-finite sum).
  static ItemMeans load(ModelReader& in);

  bool operator==(const ItemMeans&) const = default;

 private:
  std::unordered_map<ItemId, Stats> stats_;
  std::uint64_t total_count_ = 0;
};

}  // namespace recloop
