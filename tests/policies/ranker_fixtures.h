// SPDX-License-Identifier: Apache-2.0
// A policy with a fixed pmf, and contexts built from item ids, for the ranker
// tests: the marginals of a ranking over known weights have closed forms.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "core/types.h"
#include "policies/policy.h"

namespace recloop::testing {

// P(a | context) proportional to the weight of context.items[a] (0 for an
// item without one); the weights of the candidates must not all be 0.
class WeightedPolicy final : public Policy {
 public:
  explicit WeightedPolicy(std::map<ItemId, double> weights) : weights_(std::move(weights)) {}

  std::vector<double> probabilities(const Context& context) const override {
    std::vector<double> pmf(context.size(), 0.0);
    double total = 0.0;
    for (std::size_t a = 0; a < context.size(); ++a) {
      const auto it = weights_.find(context.items[a]);
      pmf[a] = it == weights_.end() ? 0.0 : it->second;
      total += pmf[a];
    }
    for (double& p : pmf) p /= total;
    return pmf;
  }
  void update(const Interaction&) override { ++version_; }
  std::string_view name() const override { return "weighted"; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override { return std::make_unique<WeightedPolicy>(*this); }

 private:
  std::map<ItemId, double> weights_;
  std::uint64_t version_ = 0;
};

// Items 0 .. weights.size()-1 with the given weights.
inline std::shared_ptr<const Policy> weighted_policy(const std::vector<double>& weights) {
  std::map<ItemId, double> table;
  for (std::size_t i = 0; i < weights.size(); ++i) table[i] = weights[i];
  return std::make_shared<WeightedPolicy>(std::move(table));
}

// A context whose candidates are `items`, with one zero feature each.
inline Context items_context(const std::vector<ItemId>& items) {
  Context context;
  context.user = Eigen::VectorXd::Zero(1);
  context.actions = Eigen::MatrixXd::Zero(1, static_cast<Eigen::Index>(items.size()));
  context.items = items;
  return context;
}

// Candidates 0 .. n-1 (item id = candidate index).
inline Context first_items_context(std::size_t n) {
  std::vector<ItemId> items(n);
  for (std::size_t i = 0; i < n; ++i) items[i] = i;
  return items_context(items);
}

}  // namespace recloop::testing
