// SPDX-License-Identifier: Apache-2.0
#include "policies/item_means.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"

namespace recloop {

void ItemMeans::add(ItemId item, double reward) {
  RECLOOP_CHECK(std::isfinite(reward), "non-finite reward " + std::to_string(reward));
  Stats& s = stats_[item];
  ++s.count;
  s.sum += reward;
  ++total_count_;
}

ItemMeans::Stats ItemMeans::stats(ItemId item) const {
  const auto it = stats_.find(item);
  return it == stats_.end() ? Stats{} : it->second;
}

double ItemMeans::mean(ItemId item, double prior) const {
  const auto it = stats_.find(item);
  if (it == stats_.end()) return prior;
  // The sum and the count are kept rather than an incrementally updated mean:
  // sum / n is exact up to one rounding, whatever the order of the updates.
  return it->second.sum / static_cast<double>(it->second.count);
}

void ItemMeans::save(ModelWriter& out) const {
  // Hash-map order depends on the insertion history; sorting makes the bytes
  // a function of the state alone.
  std::vector<ItemId> items;
  items.reserve(stats_.size());
  for (const auto& [item, s] : stats_) items.push_back(item);
  std::sort(items.begin(), items.end());
  std::vector<std::uint64_t> counts;
  std::vector<double> sums;
  counts.reserve(items.size());
  sums.reserve(items.size());
  for (ItemId item : items) {
    const Stats& s = stats_.at(item);
    counts.push_back(s.count);
    sums.push_back(s.sum);
  }
  out.put_u64s(items);
  out.put_u64s(counts);
  out.put_doubles(sums);
}

ItemMeans ItemMeans::load(ModelReader& in) {
  const auto items = in.get_u64s("item ids");
  const auto counts = in.get_u64s("item counts");
  const auto sums = in.get_doubles("item reward sums");
  if (counts.size() != items.size() || sums.size() != items.size()) {
    throw Error("model data: " + std::to_string(items.size()) + " items but " +
                std::to_string(counts.size()) + " counts and " + std::to_string(sums.size()) +
                " sums");
  }
  ItemMeans means;
  means.stats_.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0 && items[i] <= items[i - 1]) {
      throw Error("model data: item ids are not strictly increasing at entry " +
                  std::to_string(i));
    }
    if (counts[i] == 0) {
      throw Error("model data: item " + std::to_string(items[i]) + " has a zero count");
    }
    if (!std::isfinite(sums[i])) {
      throw Error("model data: item " + std::to_string(items[i]) + " has a non-finite sum");
    }
    if (counts[i] > ~std::uint64_t{0} - means.total_count_) {
      throw Error("model data: item counts overflow");
    }
    means.stats_.emplace(items[i], Stats{counts[i], sums[i]});
    means.total_count_ += counts[i];
  }
  return means;
}

}  // namespace recloop
