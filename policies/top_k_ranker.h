// SPDX-License-Identifier: Apache-2.0
// Top-K ranking by score: slot k shows the candidate with the k-th highest
// score among the available ones. Deterministic when the scores that reach the
// slots are distinct. Exact ties are split uniformly: the tied candidates are
// shown in uniformly random order, so a tie group occupying positions
// [s, s + m) puts each of its m members at each of those positions with
// probability 1 / m, and the ranking is then random (probability 1 / m per
// slot inside the group, as recorded in Ranking::conditional). This is the
// epsilon-greedy ranker with epsilon = 0 (epsilon_greedy_ranker.h), with the
// marginals in that closed form instead of by enumeration: exact for any K and
// number of slots, in O(K log K).
//
// Scores: a base policy's pmf or any Scorer, as for EpsilonGreedyRanker.
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

class TopKRanker final : public Ranker {
 public:
  struct Config {
    bool operator==(const Config&) const = default;
    // No keys; reject_unknown() afterwards rejects any key in the section.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "top_k";

  // Scores = base->pmf(context). Throws std::invalid_argument if base is null.
  explicit TopKRanker(std::shared_ptr<const Policy> base, const Config& config = {});
  // Scores = scorer(context); `scorer_name` is recorded in Ranking::policy.
  // Throws std::invalid_argument if scorer is empty.
  TopKRanker(Scorer scorer, std::string scorer_name, const Config& config = {});

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

}  // namespace recloop
