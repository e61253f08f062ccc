// SPDX-License-Identifier: Apache-2.0
#include "policies/plackett_luce_ranker.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "core/rng.h"
#include "policies/sequential_ranking.h"

namespace recloop {

PlackettLuceRanker::Config PlackettLuceRanker::Config::from(ConfigSection&) { return {}; }

PlackettLuceRanker::PlackettLuceRanker(std::shared_ptr<const Policy> base, const Config& config)
    : config_(config), base_(std::move(base)) {
  if (!base_) throw std::invalid_argument("PlackettLuceRanker: base policy is null");
}

Eigen::MatrixXd PlackettLuceRanker::marginals(const Context& context, std::size_t slots) const {
  auto candidates = ranking_candidates(context, slots);
  const std::vector<double> pmf = base_->pmf(context);
  return sequential_marginals(plackett_luce_slot_rule(pmf, std::move(candidates)), slots,
                              ranking_monte_carlo_seed(context, slots));
}

Ranking PlackettLuceRanker::rank(const Context& context, std::size_t slots,
                                 const EventId& event_id, std::uint64_t run_seed) const {
  auto candidates = ranking_candidates(context, slots);
  Ranking ranking;
  ranking.policy = std::string(kName) + ":" + std::string(base_->name());
  ranking.model_version = base_->model_version();
  const std::vector<double> pmf = base_->pmf(context);
  const SlotRule rule = plackett_luce_slot_rule(pmf, std::move(candidates));
  draw_sequential_ranking(rule, slots, decision_seed(run_seed, event_id), ranking);
  finish_ranking(context, event_id,
                 sequential_marginals(rule, slots, ranking_monte_carlo_seed(context, slots)),
                 ranking);
  return ranking;
}

std::vector<double> PlackettLuceRanker::conditionals(const Context& context,
                                                     std::span<const ActionId> shown) const {
  auto candidates = ranking_candidates(context, shown.size());
  const std::vector<double> pmf = base_->pmf(context);
  return sequential_conditionals(plackett_luce_slot_rule(pmf, std::move(candidates)), shown);
}

}  // namespace recloop
