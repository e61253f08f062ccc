// SPDX-License-Identifier: Apache-2.0
// The machinery shared by the rankers that fill slots one after another: slot
// k is drawn from a distribution over the candidates not yet placed, given the
// ordered prefix placed before it. Every such distribution used here has the
// form, for a candidate a that remains (available and not placed),
//   P(a next | prefix) = alpha * weight[a] + beta + gamma * 1[group[a] == g]
// and 0 otherwise, where weight and group are fixed for the request and the
// slot rule gives (alpha, beta, gamma, g) for each prefix. Plackett-Luce is
// alpha = 1 / (mass not placed); epsilon-greedy is beta = epsilon /
// n_remaining plus gamma = (1 - epsilon) / n_best on the best remaining tie
// group g. This form lets the marginals be accumulated in O(k) per prefix of
// length k instead of O(K): one running sum per term and slot, plus a
// correction for the k placed candidates.
//
// Thread safety: a SlotRule is not changed by the functions below, which keep
// their own working state, so concurrent calls on one rule are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "core/types.h"
#include "policies/ranker.h"

namespace recloop {

// The terms of one slot's distribution given a prefix (see above). Non-negative,
// and the masses over the remaining candidates sum to 1.
struct SlotTerms {
  double alpha = 0.0;       // times weight[a]
  double beta = 0.0;        // on every remaining candidate
  double gamma = 0.0;       // on the remaining members of group `group`
  std::uint32_t group = 0;  // ignored when gamma == 0
};

struct SlotRule {
  static constexpr std::uint32_t kNoGroup = ~std::uint32_t{0};
  std::vector<std::uint8_t> available;  // K: 1 = may be placed
  std::vector<double> weight;           // K: >= 0 and finite, 0 where unavailable
  std::vector<std::uint32_t> group;     // K: group index, kNoGroup where unavailable
  std::size_t group_count = 0;          // groups are 0 .. group_count-1
  // The terms for the prefix `placed` (distinct available candidates, fewer
  // than the available ones).
  std::function<SlotTerms(std::span<const ActionId> placed)> terms;

  // P(a next | placed) under `t`, for a candidate a that remains.
  double probability(const SlotTerms& t, ActionId a) const {
    return t.alpha * weight[a] + t.beta + (group[a] == t.group ? t.gamma : 0.0);
  }
};

// Plackett-Luce over `weights` (>= 0, finite; entries of unavailable
// candidates ignored): alpha = 1 / sum of the remaining weights. When every
// remaining weight is 0, the next slot is uniform over the remaining (beta =
// 1 / n_remaining): the limit of weights + delta as delta -> 0.
SlotRule plackett_luce_slot_rule(std::span<const double> weights,
                                 std::vector<std::uint8_t> available);

// Epsilon-greedy per slot over `scores` (finite where available):
// beta = epsilon / n_remaining on every remaining candidate and gamma =
// (1 - epsilon) / n_best on the remaining candidates that tie exactly for the
// best remaining score.
SlotRule epsilon_greedy_slot_rule(std::span<const double> scores,
                                  std::vector<std::uint8_t> available, double epsilon);

// Exact marginals are computed while at most this many ordered prefixes of
// positive probability (of lengths 0 .. slots-1) need visiting: always for one
// slot; for two slots with up to 99,999 available candidates; three with up to
// 316; four with up to 47; five with up to 19; and for any number of slots
// when the rule is deterministic (one prefix per slot).
inline constexpr std::size_t kMaxExactRankingPrefixes = 100000;
// Beyond that, the Monte Carlo estimate averages this many drawn rankings.
inline constexpr std::size_t kRankingMonteCarloDraws = 10000;

// The K x slots marginals of the ranking that `rule` draws. Requires
// 1 <= slots <= number of available candidates.
//
// Exact, breadth first over every ordered prefix pi of positive probability:
// P(a at k) = sum over prefixes pi of length k of P(pi) P(a | pi). Cost
// O(P k) for P prefixes (P <= kMaxExactRankingPrefixes; O(P k^2) for the
// epsilon-greedy rule's search for the best group), plus O(K k) for each of
// the prefixes that hold over 80% of the weight. Absolute error of an entry
// about 1e-15 (entries are clamped at 0). About 40 ns per prefix on this
// machine: rank() takes 0.4 ms for 3 slots of 100 candidates.
//
// When more prefixes would be needed (found after visiting at most
// kMaxExactRankingPrefixes of them), a Monte Carlo estimate from
// kRankingMonteCarloDraws rankings drawn with a generator seeded by
// `monte_carlo_seed`, Rao-Blackwellised: column k
// averages the rule's whole distribution at slot k over the drawn prefixes,
// not the indicator of the drawn candidate. It is unbiased, each column sums
// to 1, and each entry has standard error <= 0.5 / sqrt(draws) = 0.005 (rows
// sum to <= 1 up to that error). Each draw steps over the placed candidates
// by their sorted positions: O(draws * slots * (slots log slots + log K)),
// so that rank() takes about 2 ms for 3 slots of 1000 candidates and 6 ms
// for 5 slots of 100.
Eigen::MatrixXd sequential_marginals(const SlotRule& rule, std::size_t slots,
                                     std::uint64_t monte_carlo_seed);

// Draws the slots one by one with `rule`, slot k by inverse CDF over the
// candidates in index order with the uniform uniform01(stream_seed(seed, k)),
// and fills ranking.actions, ranking.conditional and ranking.probability (the
// product of the conditionals). O(slots K).
void draw_sequential_ranking(const SlotRule& rule, std::size_t slots, std::uint64_t seed,
                             Ranking& ranking);

// P(shown[k] at slot k | slots 0 .. k-1 = shown[0 .. k-1]) under `rule`, for
// every k: the conditionals a ranking drawn by `rule` records when it comes out
// as `shown` (0 where the rule never places shown[k] after that prefix). Throws
// std::invalid_argument naming the slot for a candidate that is out of range,
// unavailable or repeated. O(slots^2) plus the rule's terms per slot.
std::vector<double> sequential_conditionals(const SlotRule& rule, std::span<const ActionId> shown);

// The 0/1 candidates of `context` (all 1 without a mask). Throws
// std::invalid_argument for a mask of the wrong length, or unless
// 1 <= slots <= the number of available candidates.
std::vector<std::uint8_t> ranking_candidates(const Context& context, std::size_t slots);

// The Monte Carlo seed marginals() uses for `context`: a hash of its item ids
// and `slots`, so a request's marginals are a function of the request alone.
std::uint64_t ranking_monte_carlo_seed(const Context& context, std::size_t slots);

// Fills the rest of a drawn `ranking` (event id, items, slot_pmfs, marginal)
// from `marginals`. The one case where marginal[k] is not marginals(a, k): a
// Monte Carlo estimate of 0 for the drawn candidate a (possible only when its
// true marginal is below about 1 / kRankingMonteCarloDraws) is replaced by
// the positive lower bound P(slots 0..k as drawn) = conditional[0] * ... *
// conditional[k], so a logged propensity is never 0.
void finish_ranking(const Context& context, const EventId& event_id, Eigen::MatrixXd marginals,
                    Ranking& ranking);

}  // namespace recloop
