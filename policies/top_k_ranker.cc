// SPDX-License-Identifier: Apache-2.0
#include "policies/top_k_ranker.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "policies/epsilon_greedy_ranker.h"
#include "policies/sequential_ranking.h"

namespace recloop {
namespace {

// Positions 0 .. slots-1 of the available candidates sorted by descending
// score: a tie group at positions [s, s + m) gives each member 1 / m at each
// of those positions (a uniformly random order of the group).
Eigen::MatrixXd top_k_marginals(const std::vector<double>& scores,
                                const std::vector<std::uint8_t>& candidates, std::size_t slots) {
  std::vector<std::size_t> order;
  for (std::size_t a = 0; a < candidates.size(); ++a) {
    if (candidates[a] != 0) order.push_back(a);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return scores[x] > scores[y]; });
  Eigen::MatrixXd marginals =
      Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(candidates.size()),
                            static_cast<Eigen::Index>(slots));
  for (std::size_t start = 0; start < slots;) {
    std::size_t end = start + 1;
    while (end < order.size() && scores[order[end]] == scores[order[start]]) ++end;
    const double share = 1.0 / static_cast<double>(end - start);
    for (std::size_t position = start; position < std::min(end, slots); ++position) {
      for (std::size_t i = start; i < end; ++i) {
        marginals(static_cast<Eigen::Index>(order[i]), static_cast<Eigen::Index>(position)) = share;
      }
    }
    start = end;
  }
  return marginals;
}

}  // namespace

TopKRanker::Config TopKRanker::Config::from(ConfigSection&) { return {}; }

TopKRanker::TopKRanker(std::shared_ptr<const Policy> base, const Config& config)
    : config_(config), base_(std::move(base)) {
  if (!base_) throw std::invalid_argument("TopKRanker: base policy is null");
}

TopKRanker::TopKRanker(Scorer scorer, std::string scorer_name, const Config& config)
    : config_(config), scorer_(std::move(scorer)), scorer_name_(std::move(scorer_name)) {
  if (!scorer_) throw std::invalid_argument("TopKRanker: scorer is empty");
}

Eigen::MatrixXd TopKRanker::marginals(const Context& context, std::size_t slots) const {
  const auto candidates = ranking_candidates(context, slots);
  return top_k_marginals(ranking_scores(context, base_.get(), scorer_, kName), candidates, slots);
}

Ranking TopKRanker::rank(const Context& context, std::size_t slots, const EventId& event_id,
                         std::uint64_t run_seed) const {
  auto candidates = ranking_candidates(context, slots);
  Ranking ranking;
  ranking.policy = std::string(kName) + ":" + (base_ ? std::string(base_->name()) : scorer_name_);
  ranking.model_version = base_ ? base_->model_version() : 0;
  const std::vector<double> scores = ranking_scores(context, base_.get(), scorer_, kName);
  Eigen::MatrixXd marginals = top_k_marginals(scores, candidates, slots);
  // Greedy slot by slot, ties drawn uniformly: epsilon-greedy with epsilon = 0.
  draw_sequential_ranking(epsilon_greedy_slot_rule(scores, std::move(candidates), 0.0), slots,
                          decision_seed(run_seed, event_id), ranking);
  finish_ranking(context, event_id, std::move(marginals), ranking);
  return ranking;
}

std::vector<double> TopKRanker::conditionals(const Context& context,
                                             std::span<const ActionId> shown) const {
  auto candidates = ranking_candidates(context, shown.size());
  const std::vector<double> scores = ranking_scores(context, base_.get(), scorer_, kName);
  // The rule rank() draws with: 1 for the unique best remaining, 1 / m within
  // a tie group of m, 0 otherwise.
  return sequential_conditionals(epsilon_greedy_slot_rule(scores, std::move(candidates), 0.0),
                                 shown);
}

}  // namespace recloop
