// SPDX-License-Identifier: Apache-2.0
#include "policies/epsilon_greedy_ranker.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/rng.h"
#include "policies/sequential_ranking.h"

namespace recloop {
namespace {

void validate_epsilon(double epsilon) {
  if (!(epsilon >= 0.0 && epsilon <= 1.0)) {
    throw std::invalid_argument("EpsilonGreedyRanker: epsilon = " + std::to_string(epsilon) +
                                ", need [0, 1]");
  }
}

}  // namespace

EpsilonGreedyRanker::Config EpsilonGreedyRanker::Config::from(ConfigSection& section) {
  const Config defaults;
  Config config;
  config.epsilon =
      section.get_double("epsilon", defaults.epsilon, 0.0, 1.0,
                         "per slot, probability of a uniform draw over the remaining candidates");
  return config;
}

EpsilonGreedyRanker::EpsilonGreedyRanker(std::shared_ptr<const Policy> base, const Config& config)
    : config_(config), base_(std::move(base)) {
  validate_epsilon(config_.epsilon);
  if (!base_) throw std::invalid_argument("EpsilonGreedyRanker: base policy is null");
}

EpsilonGreedyRanker::EpsilonGreedyRanker(Scorer scorer, std::string scorer_name,
                                         const Config& config)
    : config_(config), scorer_(std::move(scorer)), scorer_name_(std::move(scorer_name)) {
  validate_epsilon(config_.epsilon);
  if (!scorer_) throw std::invalid_argument("EpsilonGreedyRanker: scorer is empty");
}

std::vector<double> ranking_scores(const Context& context, const Policy* base,
                                   const Scorer& scorer, std::string_view ranker) {
  if (base != nullptr) return base->pmf(context);
  std::vector<double> scores = scorer(context);
  if (scores.size() != context.size()) {
    throw std::invalid_argument(std::string(ranker) + ": scorer returned " +
                                std::to_string(scores.size()) + " scores for " +
                                std::to_string(context.size()) + " candidates");
  }
  for (std::size_t a = 0; a < scores.size(); ++a) {
    const bool available = context.available.empty() || context.available[a] != 0;
    if (available && !std::isfinite(scores[a])) {
      throw std::invalid_argument(std::string(ranker) + ": non-finite score " +
                                  std::to_string(scores[a]) + " for candidate " +
                                  std::to_string(a));
    }
  }
  return scores;
}

Eigen::MatrixXd EpsilonGreedyRanker::marginals(const Context& context, std::size_t slots) const {
  auto candidates = ranking_candidates(context, slots);  // validates the mask first
  const std::vector<double> scores = ranking_scores(context, base_.get(), scorer_, kName);
  return sequential_marginals(
      epsilon_greedy_slot_rule(scores, std::move(candidates), config_.epsilon), slots,
      ranking_monte_carlo_seed(context, slots));
}

Ranking EpsilonGreedyRanker::rank(const Context& context, std::size_t slots,
                                  const EventId& event_id, std::uint64_t run_seed) const {
  auto candidates = ranking_candidates(context, slots);
  Ranking ranking;
  ranking.policy = std::string(kName) + ":" + (base_ ? std::string(base_->name()) : scorer_name_);
  ranking.model_version = base_ ? base_->model_version() : 0;
  const std::vector<double> scores = ranking_scores(context, base_.get(), scorer_, kName);
  const SlotRule rule = epsilon_greedy_slot_rule(scores, std::move(candidates), config_.epsilon);
  draw_sequential_ranking(rule, slots, decision_seed(run_seed, event_id), ranking);
  finish_ranking(context, event_id,
                 sequential_marginals(rule, slots, ranking_monte_carlo_seed(context, slots)),
                 ranking);
  return ranking;
}

std::vector<double> EpsilonGreedyRanker::conditionals(const Context& context,
                                                      std::span<const ActionId> shown) const {
  auto candidates = ranking_candidates(context, shown.size());
  const std::vector<double> scores = ranking_scores(context, base_.get(), scorer_, kName);
  return sequential_conditionals(
      epsilon_greedy_slot_rule(scores, std::move(candidates), config_.epsilon), shown);
}

}  // namespace recloop
