// SPDX-License-Identifier: Apache-2.0
// Epsilon-greedy ranking: each slot is an epsilon-greedy decision (Sutton &
// Barto 2018, sec. 2.2) over the candidates not yet placed. With n_remaining
// available candidates left and best = the highest score among them,
//   P(a at slot k | slots 0..k-1) = (1 - epsilon) * 1[a = best] / n_best
//                                   + epsilon / n_remaining,
// where n_best counts the remaining candidates whose score equals the best
// exactly (exact ties split the greedy mass equally). The exploration mass is
// spread over all remaining candidates, the greedy one included, so the best
// candidate is at slot 0 with probability 1 - epsilon + epsilon / K (K
// available candidates), not 1 - epsilon (the common slip of giving the
// greedy candidate 1 - epsilon and the others epsilon / (K - 1), or of
// exploring over all K candidates at every slot).
// epsilon = 0 is the top-K ranking by score; epsilon = 1 a uniformly random
// ranking.
//
// Scores: either a base policy's pmf (base.pmf(context): the greedy candidate
// is the one the policy favours most, and masked candidates are excluded) or
// any Scorer, e.g. LinUcb::scores or a ridge model's means, which orders all
// candidates rather than only the policy's favourite (a greedy policy's pmf
// ties all the others at 0, which makes slots after the first uniform).
//
// marginals() is exact for small requests and a Monte Carlo estimate beyond
// (see sequential_marginals() in sequential_ranking.h). Cost of rank(): the
// scores, O(K log K) to sort them, O(slots K) for the draw, and the
// marginals: O(P k^2) for the P ordered prefixes of length k < slots when
// exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/policy.h"
#include "policies/ranker.h"

namespace recloop {

class EpsilonGreedyRanker final : public Ranker {
 public:
  struct Config {
    double epsilon = 0.1;  // per slot, probability of a uniform draw over the remaining, [0, 1]
    bool operator==(const Config&) const = default;
    // Reads `epsilon`. Throws ConfigError naming the key, its value and range.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "epsilon_greedy";

  // Scores = base->pmf(context). Throws std::invalid_argument if base is null
  // or epsilon is outside [0, 1].
  EpsilonGreedyRanker(std::shared_ptr<const Policy> base, const Config& config);
  // Scores = scorer(context); `scorer_name` is recorded in Ranking::policy.
  // Throws std::invalid_argument if scorer is empty or epsilon is outside [0, 1].
  EpsilonGreedyRanker(Scorer scorer, std::string scorer_name, const Config& config);

  Eigen::MatrixXd marginals(const Context& context, std::size_t slots) const override;
  Ranking rank(const Context& context, std::size_t slots, const EventId& event_id,
               std::uint64_t run_seed) const override;
  std::vector<double> conditionals(const Context& context,
                                   std::span<const ActionId> shown) const override;
  std::string_view name() const override { return kName; }

  const Config& config() const { return config_; }

 private:
  Config config_;
  std::shared_ptr<const Policy> base_;  // null when scoring with scorer_
  Scorer scorer_;
  std::string scorer_name_;
};

// The scores a greedy ranker orders by: base->pmf(context) if base is set,
// else scorer(context). Throws std::invalid_argument if the scorer returns the
// wrong number of scores or a non-finite score for an available candidate.
// Requires a mask of the right length: call ranking_candidates() first.
std::vector<double> ranking_scores(const Context& context, const Policy* base,
                                   const Scorer& scorer, std::string_view ranker);

}  // namespace recloop
