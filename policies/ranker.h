// SPDX-License-Identifier: Apache-2.0
// Rankings (slates): a request asks for `slots` of its K candidates, shown in
// order. A Ranker draws the ordered list and says, for every slot, how likely
// the candidate shown there was:
//   conditional[k]  P(actions[k] at slot k | slots 0 .. k-1 as drawn),
//   marginal[k]     P(actions[k] at slot k), averaged over the earlier slots,
//   probability     P(the whole ranking) = product of the conditionals.
//
// Rewards per slot. Each slot is logged as a decision of its own
// (slot_decision()): event id "<event_id>/<k>" (Ranking::slot_event_id), the
// candidate shown at slot k, probability = marginal[k], conditional =
// conditional[k], slot = k and pmf = column k of the marginal matrix. A reward (a click on slot k) is reported against that
// slot's event id. This is what position-based, per-slot IPS needs: under a
// click model where a slot's reward depends only on the item and the position
// (Li, Abbasi-Yadkori, Kveton et al. 2018, "Offline evaluation of ranking
// policies with click models", KDD), the item-position propensity is the
// marginal P(item at slot k), not the ranking's probability. The ranking's
// probability serves whole-slate IPS, whose variance grows with the number of
// rankings.
//
// Availability: candidates masked out by context.available are never ranked.
// `slots` must be in [1, number of available candidates]; otherwise, or for a
// mask of the wrong length, the rankers throw std::invalid_argument.
//
// Thread safety as for Policy: const members may be called concurrently, and
// never concurrently with an update() of the policy a ranker reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "core/types.h"

namespace recloop {

struct Ranking {
  EventId event_id;
  std::vector<ActionId> actions;    // candidate index shown at slot k
  std::vector<ItemId> items;        // context.items[actions[k]]
  std::vector<double> conditional;  // P(actions[k] at slot k | slots 0..k-1 as drawn)
  std::vector<double> marginal;     // P(actions[k] at slot k), marginal over earlier slots
  double probability = 0.0;         // P(the whole ranking) = product of conditionals
  // K x slots: the ranker's marginals(context, slots) for this request; column
  // k is the distribution of the candidate at slot k, marginal[k] its entry at
  // (actions[k], k).
  Eigen::MatrixXd slot_pmfs;
  std::string policy;               // "<ranker>:<base policy or scorer>"
  std::uint64_t model_version = 0;  // the base policy's, 0 for a scorer
  // Event id under which slot k's decision and its reward are logged: "<event_id>/<k>".
  EventId slot_event_id(std::size_t k) const;
};

// Slot k of `ranking` as a decision of its own (see the header comment):
// event id slot_event_id(k), action actions[k], item items[k], probability
// marginal[k], conditional conditional[k], slot k, pmf column k of slot_pmfs. Throws std::out_of_range unless
// k < ranking.actions.size().
Decision slot_decision(const Ranking& ranking, std::size_t k);

class Ranker {
 public:
  virtual ~Ranker() = default;
  // K x slots matrix: entry (a, k) = P(candidate a at slot k). Columns sum to 1,
  // rows to <= 1; unavailable candidates have a row of zeros.
  virtual Eigen::MatrixXd marginals(const Context& context, std::size_t slots) const = 0;
  // Draws a ranking with decision_seed(run_seed, event_id) and our own sampler.
  // The same (context, slots, event id, run seed, model state) always gives
  // the same ranking. marginal[k] is marginals(context, slots)(actions[k], k)
  // (but see finish_ranking() in sequential_ranking.h for the one Monte Carlo
  // exception).
  virtual Ranking rank(const Context& context, std::size_t slots, const EventId& event_id,
                       std::uint64_t run_seed) const = 0;
  // The conditionals this ranker gives a ranking shown by anyone (a logged
  // one, for off-policy evaluation): entry k = P(shown[k] at slot k | slots
  // 0 .. k-1 as in `shown`), 0 where it would never place shown[k] after that
  // prefix. For a ranking it drew itself, equal to Ranking::conditional. Their
  // product is the probability this ranker gives the whole of `shown`.
  // `shown` must hold distinct available candidates, 1 <= shown.size() <=
  // the available ones; otherwise throws std::invalid_argument naming the slot.
  virtual std::vector<double> conditionals(const Context& context,
                                           std::span<const ActionId> shown) const = 0;
  // Registry name ("plackett_luce").
  virtual std::string_view name() const = 0;
};

// Scores per candidate, in candidate order, higher = better; for the greedy
// rankers. Scores of unavailable candidates are ignored; the others must be
// finite. Must be safe to call concurrently if rank() is.
using Scorer = std::function<std::vector<double>(const Context& context)>;

}  // namespace recloop
