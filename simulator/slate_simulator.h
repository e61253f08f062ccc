// SPDX-License-Identifier: Apache-2.0
// The slate extension of the Simulator seam, for worlds that serve rankings.
// A slate is an ordered list of distinct candidate indices of a context
// (slot 0 first), 1 to max_slots() long. The world says exactly what a given
// slate is worth, per slot and in total (its choice model's outcome
// probabilities are computed in closed form, which is the enumeration of its
// outcomes), and draws per-slot rewards. The single-slot methods of Simulator
// are the slates of length 1.
//
// The exact value of a ranking *policy* is the sum over every ranking it can
// draw, which is too big to enumerate in general. When the world's choice
// model is linear in the slot marginals (pbm, multi_click; choice_model.h),
// value_from_marginals() gives it exactly from the K x L matrix of
// P(candidate a at slot k); for mnl and cascade it returns nullopt, and the
// value needs the full ranking distribution (sum over rankings of
// P(ranking) * expected_slate_reward(ranking)).
// Not thread-safe, like Simulator.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>

#include <Eigen/Dense>

#include "core/rng.h"
#include "core/types.h"
#include "simulator/simulator.h"

namespace recloop {

class SlateSimulator : public Simulator {
 public:
  static constexpr std::size_t kMaxSlots = 64;

  // The longest slate this world accepts, <= kMaxSlots.
  virtual std::size_t max_slots() const = 0;

  // slate.size() + 1 numbers: P(click on slot k) for k < L, then P(no click
  // at all) (see choice_model.h for the single- and multi-click meanings).
  virtual void click_probabilities(const Context& context, std::span<const ActionId> slate,
                                   std::span<double> out) const = 0;

  // E[reward of slot k | context, slate] for each slot, exact.
  virtual void expected_slot_rewards(const Context& context, std::span<const ActionId> slate,
                                     std::span<double> out) const = 0;

  // Draws the reward of every slot (0 for slots not clicked).
  virtual void draw_slate_rewards(const Context& context, std::span<const ActionId> slate,
                                  Rng& rng, std::span<double> out) = 0;

  // Exact value of a ranking policy with slot marginals `marginals` (K x L,
  // entry (a, k) = P(candidate a at slot k)), or nullopt when the choice model
  // is not linear in the marginals.
  virtual std::optional<double> value_from_marginals(const Context& context,
                                                     const Eigen::MatrixXd& marginals) const = 0;

  // Sum of expected_slot_rewards(): the exact expected reward of the slate.
  double expected_slate_reward(const Context& context, std::span<const ActionId> slate) const {
    std::array<double, kMaxSlots> rewards{};
    expected_slot_rewards(context, slate, std::span<double>(rewards.data(), slate.size()));
    double total = 0.0;
    for (std::size_t k = 0; k < slate.size(); ++k) total += rewards[k];
    return total;
  }
};

}  // namespace recloop
