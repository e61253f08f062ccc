// SPDX-License-Identifier: Apache-2.0
#include "policies/sequential_ranking.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {
namespace {

// A prefix whose placed candidates would carry more than this much of the
// slot's mass (in the terms' unrestricted form) is accumulated directly over
// the remaining candidates, in O(K): subtracting a large correction from a
// large running sum would lose the small difference. Below the threshold, an
// entry's absolute rounding error stays near 1e-16 * (1 + threshold). The
// exact marginals use a small threshold (for Plackett-Luce, such prefixes
// hold over 80% of the weight, so they are few); the Monte Carlo estimate,
// whose standard error is far larger anyway, a large one, so that a dominant
// candidate does not make every draw cost O(K).
constexpr double kExactDirectThreshold = 4.0;
constexpr double kMonteCarloDirectThreshold = 1e4;

bool contains(std::span<const ActionId> placed, ActionId a) {
  return std::find(placed.begin(), placed.end(), a) != placed.end();
}

// Lists derived once per request from a rule, with each candidate's position
// in them (for drawing around the placed candidates).
struct RuleIndex {
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  std::vector<ActionId> available;             // the available candidates
  std::vector<ActionId> positive;              // available with weight > 0
  std::vector<double> starts;                  // positive[i] covers [starts[i], starts[i + 1])
  std::vector<std::vector<ActionId>> members;  // per group
  std::vector<std::uint32_t> position;         // K: index in `available`
  std::vector<std::uint32_t> positive_position;  // K: index in `positive`, or kNone
  std::vector<std::uint32_t> member_position;    // K: index in members[group[a]]

  explicit RuleIndex(const SlotRule& rule)
      : starts{0.0},
        members(rule.group_count),
        position(rule.available.size(), kNone),
        positive_position(rule.available.size(), kNone),
        member_position(rule.available.size(), kNone) {
    for (std::size_t a = 0; a < rule.available.size(); ++a) {
      if (rule.available[a] == 0) continue;
      const auto id = static_cast<ActionId>(a);
      position[a] = static_cast<std::uint32_t>(available.size());
      available.push_back(id);
      if (rule.weight[a] > 0.0) {
        positive_position[a] = static_cast<std::uint32_t>(positive.size());
        positive.push_back(id);
        starts.push_back(starts.back() + rule.weight[a]);
      }
      if (rule.group[a] != SlotRule::kNoGroup) {
        auto& group = members[rule.group[a]];
        member_position[a] = static_cast<std::uint32_t>(group.size());
        group.push_back(id);
      }
    }
  }
};

// Running sums from which the marginals are assembled:
//   M(a, k) = alpha_k weight[a] + beta_k + group_k[group[a]] + direct(a, k)
// for an available a, where alpha_k, beta_k and group_k sum the terms of the
// prefixes (times their probability) and direct holds the corrections for
// placed candidates and the directly accumulated prefixes.
class MarginalSums {
 public:
  MarginalSums(const SlotRule& rule, const RuleIndex& index, std::size_t slots,
               double direct_threshold)
      : rule_(rule),
        index_(index),
        direct_threshold_(direct_threshold),
        alpha_(slots, 0.0),
        beta_(slots, 0.0),
        group_(Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rule.group_count),
                                     static_cast<Eigen::Index>(slots))),
        direct_(Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rule.available.size()),
                                      static_cast<Eigen::Index>(slots))) {}

  // Adds P(prefix) * P(. at slot k | prefix) for the prefix `placed`.
  void add(std::size_t k, double p, const SlotTerms& t, std::span<const ActionId> placed) {
    const auto slot = static_cast<Eigen::Index>(k);
    double placed_mass = 0.0;
    for (ActionId a : placed) placed_mass += rule_.probability(t, a);
    if (placed_mass > direct_threshold_) {
      for (ActionId a : index_.available) {
        if (!contains(placed, a)) direct_(a, slot) += p * rule_.probability(t, a);
      }
      return;
    }
    alpha_[k] += p * t.alpha;
    beta_[k] += p * t.beta;
    if (t.gamma > 0.0) group_(t.group, slot) += p * t.gamma;
    // The terms above also gave mass to the placed candidates: take it back.
    for (ActionId a : placed) direct_(a, slot) -= p * rule_.probability(t, a);
  }

  Eigen::MatrixXd result(double scale) const {
    Eigen::MatrixXd marginals = Eigen::MatrixXd::Zero(direct_.rows(), direct_.cols());
    for (Eigen::Index k = 0; k < direct_.cols(); ++k) {
      const auto slot = static_cast<std::size_t>(k);
      for (ActionId a : index_.available) {
        const std::uint32_t g = rule_.group[a];
        const double sum = alpha_[slot] * rule_.weight[a] + beta_[slot] +
                           (g == SlotRule::kNoGroup ? 0.0 : group_(g, k)) + direct_(a, k);
        marginals(a, k) = std::max(0.0, sum * scale);  // rounding can leave -1e-17
      }
    }
    return marginals;
  }

 private:
  const SlotRule& rule_;
  const RuleIndex& index_;
  double direct_threshold_;
  std::vector<double> alpha_;
  std::vector<double> beta_;
  Eigen::MatrixXd group_;   // group_count x slots
  Eigen::MatrixXd direct_;  // K x slots
};

// Breadth first over the ordered prefixes of positive probability: level k
// holds the prefixes of length k (flat, k candidates each) and their
// probabilities. Returns false as soon as the prefixes to visit would exceed
// kMaxExactRankingPrefixes.
bool exact_marginals(const SlotRule& rule, const RuleIndex& index, std::size_t slots,
                     MarginalSums& sums) {
  std::vector<double> probabilities{1.0};
  std::vector<ActionId> placed;
  std::size_t visited = 0;
  for (std::size_t k = 0; k < slots; ++k) {
    visited += probabilities.size();
    if (visited > kMaxExactRankingPrefixes) return false;
    const bool last = k + 1 == slots;
    std::vector<double> next_probabilities;
    std::vector<ActionId> next_placed;
    for (std::size_t p = 0; p < probabilities.size(); ++p) {
      const std::span<const ActionId> prefix(placed.data() + p * k, k);
      const SlotTerms t = rule.terms(prefix);
      // P(a at k) = sum over prefixes pi of length k of P(pi) P(a at k | pi).
      sums.add(k, probabilities[p], t, prefix);
      if (last) continue;
      bool over_budget = false;
      const auto extend = [&](ActionId a) {
        const double q = rule.probability(t, a);
        if (q <= 0.0 || contains(prefix, a)) return;
        if (visited + next_probabilities.size() >= kMaxExactRankingPrefixes) {
          over_budget = true;
          return;
        }
        next_probabilities.push_back(probabilities[p] * q);
        next_placed.insert(next_placed.end(), prefix.begin(), prefix.end());
        next_placed.push_back(a);
      };
      if (t.beta > 0.0) {
        for (ActionId a : index.available) extend(a);
      } else {
        if (t.alpha > 0.0) {
          for (ActionId a : index.positive) extend(a);
        }
        if (t.gamma > 0.0) {
          for (ActionId a : index.members[t.group]) {
            if (!(t.alpha > 0.0 && rule.weight[a] > 0.0)) extend(a);
          }
        }
      }
      if (over_budget) return false;
    }
    probabilities = std::move(next_probabilities);
    placed = std::move(next_placed);
  }
  return true;
}

// The index, among the entries of a list that are not placed, of the one
// numbered j (0-based): `placed_positions` are the list positions of the placed
// entries, sorted; each one at or before the target shifts it by one.
std::size_t skip_placed(std::size_t j, std::span<const std::uint32_t> placed_positions) {
  for (std::uint32_t position : placed_positions) {
    if (position > j) break;
    ++j;
  }
  return j;
}

// Working space of sample_next(), reused across draws.
struct SampleScratch {
  std::vector<std::uint32_t> in_available;  // list positions of the placed candidates
  std::vector<std::uint32_t> in_positive;
  std::vector<std::uint32_t> in_group;
};

// Draws the next candidate for the Monte Carlo estimate: picks one of the
// three terms by its mass, then a candidate within it, stepping over the
// placed candidates by their sorted positions: O(k log k + log K).
ActionId sample_next(const SlotRule& rule, const RuleIndex& index, const SlotTerms& t,
                     std::span<const ActionId> placed, Rng& rng, SampleScratch& scratch) {
  auto& in_available = scratch.in_available;
  auto& in_positive = scratch.in_positive;
  auto& in_group = scratch.in_group;
  in_available.clear();
  in_positive.clear();
  in_group.clear();
  double remaining_weight = 0.0;
  for (ActionId a : placed) {
    in_available.push_back(index.position[a]);
    if (index.positive_position[a] != RuleIndex::kNone) {
      in_positive.push_back(index.positive_position[a]);
    }
    if (t.gamma > 0.0 && rule.group[a] == t.group) in_group.push_back(index.member_position[a]);
  }
  std::sort(in_available.begin(), in_available.end());
  std::sort(in_positive.begin(), in_positive.end());
  std::sort(in_group.begin(), in_group.end());
  if (t.alpha > 0.0) {
    // The mass of the gaps between the placed intervals. Differences of
    // prefix sums: absolute error about 1e-16 times the total weight, which
    // only perturbs the proposal, not the Rao-Blackwellised terms.
    double previous_end = 0.0;
    for (std::uint32_t i : in_positive) {
      remaining_weight += index.starts[i] - previous_end;
      previous_end = index.starts[i + 1];
    }
    remaining_weight += index.starts.back() - previous_end;
  }
  const double m_alpha = t.alpha > 0.0 ? t.alpha * remaining_weight : 0.0;
  const double m_beta = t.beta * static_cast<double>(index.available.size() - placed.size());
  const std::size_t group_remaining =
      t.gamma > 0.0 ? index.members[t.group].size() - in_group.size() : 0;
  const double m_gamma = t.gamma * static_cast<double>(group_remaining);
  const double u = uniform01(rng) * (m_alpha + m_beta + m_gamma);

  if (m_alpha > 0.0 && (u < m_alpha || (m_beta <= 0.0 && m_gamma <= 0.0))) {
    // Inverse CDF over the positive weights with the placed intervals cut
    // out: each placed interval that starts at or before the target moves the
    // target past it.
    double v = uniform01(rng) * remaining_weight;
    for (std::uint32_t i : in_positive) {
      if (index.starts[i] > v) break;
      v += index.starts[i + 1] - index.starts[i];
    }
    std::size_t i = static_cast<std::size_t>(
        std::upper_bound(index.starts.begin() + 1, index.starts.end(), v) -
        (index.starts.begin() + 1));
    i = std::min(i, index.positive.size() - 1);
    // Rounding can leave v on the edge of a placed interval: step off it.
    const auto is_placed = [&](std::size_t position) {
      return std::binary_search(in_positive.begin(), in_positive.end(),
                                static_cast<std::uint32_t>(position));
    };
    std::size_t forward = i;
    while (forward < index.positive.size() && is_placed(forward)) ++forward;
    if (forward < index.positive.size()) return index.positive[forward];
    while (is_placed(i)) --i;
    return index.positive[i];
  }
  if (m_beta > 0.0 && (u < m_alpha + m_beta || m_gamma <= 0.0)) {
    const std::size_t j = uniform_index(rng, index.available.size() - placed.size());
    return index.available[skip_placed(j, in_available)];
  }
  assert(m_gamma > 0.0);
  const std::size_t j = uniform_index(rng, group_remaining);
  return index.members[t.group][skip_placed(j, in_group)];
}

// Rao-Blackwellised Monte Carlo: E[rule(prefix)] over drawn prefixes is the
// marginal column, with less variance than counting the drawn candidates.
void monte_carlo_marginals(const SlotRule& rule, const RuleIndex& index, std::size_t slots,
                           std::uint64_t seed, MarginalSums& sums) {
  std::vector<ActionId> placed;
  placed.reserve(slots);
  SampleScratch scratch;
  Rng rng(seed);
  for (std::size_t draw = 0; draw < kRankingMonteCarloDraws; ++draw) {
    placed.clear();
    for (std::size_t k = 0; k < slots; ++k) {
      const SlotTerms t = rule.terms(placed);
      sums.add(k, 1.0, t, placed);
      if (k + 1 == slots) break;
      placed.push_back(sample_next(rule, index, t, placed, rng, scratch));
    }
  }
}

std::size_t count_available(const std::vector<std::uint8_t>& available) {
  return static_cast<std::size_t>(std::count_if(available.begin(), available.end(),
                                                [](std::uint8_t a) { return a != 0; }));
}

}  // namespace

SlotRule plackett_luce_slot_rule(std::span<const double> weights,
                                 std::vector<std::uint8_t> available) {
  SlotRule rule;
  const std::size_t K = available.size();
  assert(weights.size() == K);
  rule.weight.assign(K, 0.0);
  rule.group.assign(K, SlotRule::kNoGroup);
  // The total weight in two parts (Neumaier 1974 compensated summation), so
  // that total - placed keeps its accuracy when the placed weight is most of it.
  double total = 0.0;
  double total_error = 0.0;
  std::size_t n_positive = 0;
  for (std::size_t a = 0; a < K; ++a) {
    if (available[a] == 0) continue;
    const double w = weights[a];
    rule.weight[a] = w;
    const double sum = total + w;
    total_error += std::abs(total) >= w ? (total - sum) + w : (w - sum) + total;
    total = sum;
    n_positive += w > 0.0;
  }
  const std::size_t n_available = count_available(available);
  rule.available = std::move(available);
  rule.terms = [weight = rule.weight, total, total_error, n_positive,
                n_available](std::span<const ActionId> placed) {
    double placed_weight = 0.0;
    std::size_t placed_positive = 0;
    for (ActionId a : placed) {
      placed_weight += weight[a];
      placed_positive += weight[a] > 0.0;
    }
    SlotTerms t;
    if (placed_positive == n_positive) {
      // Every remaining weight is 0: uniform, the limit of weights + delta.
      t.beta = 1.0 / static_cast<double>(n_available - placed.size());
      return t;
    }
    // Luce 1959 choice axiom, as sequential sampling in Plackett 1975:
    // P(a next | placed) = p(a) / sum_{b not placed} p(b).
    double remaining = (total - placed_weight) + total_error;
    if (remaining < 1e-3 * total) {
      // Within about 1e-16 * total of the rounding of the placed weight: sum
      // the few remaining weights afresh instead (relative error 1e-13 at most
      // before this point).
      remaining = 0.0;
      for (std::size_t a = 0; a < weight.size(); ++a) {
        if (weight[a] > 0.0 && !contains(placed, static_cast<ActionId>(a))) remaining += weight[a];
      }
    }
    t.alpha = 1.0 / remaining;
    return t;
  };
  return rule;
}

SlotRule epsilon_greedy_slot_rule(std::span<const double> scores,
                                  std::vector<std::uint8_t> available, double epsilon) {
  SlotRule rule;
  const std::size_t K = available.size();
  assert(scores.size() == K);
  rule.weight.assign(K, 0.0);
  rule.group.assign(K, SlotRule::kNoGroup);
  // Groups of exactly tied scores, best first.
  std::vector<ActionId> order;
  for (std::size_t a = 0; a < K; ++a) {
    if (available[a] != 0) order.push_back(static_cast<ActionId>(a));
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](ActionId x, ActionId y) { return scores[x] > scores[y]; });
  std::vector<std::size_t> group_size;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || scores[order[i]] != scores[order[i - 1]]) group_size.push_back(0);
    rule.group[order[i]] = static_cast<std::uint32_t>(group_size.size() - 1);
    ++group_size.back();
  }
  rule.group_count = group_size.size();
  const std::size_t n_available = order.size();
  rule.available = std::move(available);
  rule.terms = [group = rule.group, group_size = std::move(group_size), n_available,
                epsilon](std::span<const ActionId> placed) {
    // The best remaining group: the first whose members are not all placed.
    std::uint32_t best = 0;
    std::size_t placed_in_best = 0;
    for (;; ++best) {
      placed_in_best = 0;
      for (ActionId a : placed) placed_in_best += group[a] == best;
      if (placed_in_best < group_size[best]) break;
    }
    // Per slot: (1 - epsilon) 1[a = best remaining] + epsilon / n_remaining,
    // with the greedy mass shared by exact ties.
    SlotTerms t;
    t.beta = epsilon / static_cast<double>(n_available - placed.size());
    t.gamma = (1.0 - epsilon) / static_cast<double>(group_size[best] - placed_in_best);
    t.group = best;
    return t;
  };
  return rule;
}

Eigen::MatrixXd sequential_marginals(const SlotRule& rule, std::size_t slots,
                                     std::uint64_t monte_carlo_seed) {
  const RuleIndex index(rule);
  assert(slots >= 1 && slots <= index.available.size());
  {
    MarginalSums sums(rule, index, slots, kExactDirectThreshold);
    if (exact_marginals(rule, index, slots, sums)) return sums.result(1.0);
  }
  MarginalSums sums(rule, index, slots, kMonteCarloDirectThreshold);
  monte_carlo_marginals(rule, index, slots, monte_carlo_seed, sums);
  return sums.result(1.0 / static_cast<double>(kRankingMonteCarloDraws));
}

void draw_sequential_ranking(const SlotRule& rule, std::size_t slots, std::uint64_t seed,
                             Ranking& ranking) {
  const std::size_t K = rule.available.size();
  std::vector<std::uint8_t> remaining = rule.available;
  std::vector<double> next(K);
  ranking.actions.clear();
  ranking.conditional.clear();
  ranking.probability = 1.0;
  for (std::size_t k = 0; k < slots; ++k) {
    const SlotTerms t = rule.terms(ranking.actions);
    for (std::size_t a = 0; a < K; ++a) {
      next[a] = remaining[a] != 0 ? rule.probability(t, static_cast<ActionId>(a)) : 0.0;
    }
    // Counter-based uniforms: slot k's draw depends on (seed, k) only.
    const std::size_t a = sample_index(next, uniform01(stream_seed(seed, k)));
    assert(remaining[a] != 0 && next[a] > 0.0);
    ranking.actions.push_back(static_cast<ActionId>(a));
    ranking.conditional.push_back(next[a]);
    // The chain rule: P(ranking) = prod_k P(slot k | slots 0..k-1).
    ranking.probability *= next[a];
    remaining[a] = 0;
  }
}

std::vector<double> sequential_conditionals(const SlotRule& rule,
                                            std::span<const ActionId> shown) {
  std::vector<double> conditionals;
  conditionals.reserve(shown.size());
  for (std::size_t k = 0; k < shown.size(); ++k) {
    const ActionId a = shown[k];
    auto reject = [&](const std::string& what) {
      throw std::invalid_argument("ranking conditionals: slot " + std::to_string(k) +
                                  ": candidate " + std::to_string(a) + " " + what);
    };
    if (a >= rule.available.size()) reject("is out of range");
    if (rule.available[a] == 0) reject("is not available");
    const auto prefix = shown.first(k);
    if (contains(prefix, a)) reject("is shown twice");
    // The same chain-rule factor draw_sequential_ranking() records for slot k.
    conditionals.push_back(rule.probability(rule.terms(prefix), a));
  }
  return conditionals;
}

std::vector<std::uint8_t> ranking_candidates(const Context& context, std::size_t slots) {
  std::vector<std::uint8_t> candidates(context.size(), 1);
  if (!context.available.empty()) {
    if (context.available.size() != context.size()) {
      throw std::invalid_argument("ranking: availability mask has " +
                                  std::to_string(context.available.size()) + " entries for " +
                                  std::to_string(context.size()) + " candidates");
    }
    for (std::size_t a = 0; a < context.size(); ++a) candidates[a] = context.available[a] != 0;
  }
  const std::size_t n_available = count_available(candidates);
  if (slots < 1 || slots > n_available) {
    throw std::invalid_argument("ranking: slots = " + std::to_string(slots) + ", need [1, " +
                                std::to_string(n_available) + "] (the available candidates)");
  }
  return candidates;
}

std::uint64_t ranking_monte_carlo_seed(const Context& context, std::size_t slots) {
  std::uint64_t seed = splitmix64(0x52414E4B494E4753ULL ^ slots);
  for (const ItemId item : context.items) seed = splitmix64(seed ^ item);
  return seed;
}

void finish_ranking(const Context& context, const EventId& event_id, Eigen::MatrixXd marginals,
                    Ranking& ranking) {
  ranking.event_id = event_id;
  ranking.items.clear();
  ranking.marginal.clear();
  double prefix_probability = 1.0;
  for (std::size_t k = 0; k < ranking.actions.size(); ++k) {
    const ActionId a = ranking.actions[k];
    ranking.items.push_back(context.items[a]);
    prefix_probability *= ranking.conditional[k];
    double marginal = marginals(a, static_cast<Eigen::Index>(k));
    // Only a Monte Carlo estimate can be 0 for a candidate that was drawn (no
    // sampled prefix left it any mass). P(drawn slots 0..k) is a lower bound
    // on the true marginal, and positive: log that rather than a zero.
    if (!(marginal > 0.0)) marginal = prefix_probability;
    ranking.marginal.push_back(marginal);
  }
  ranking.slot_pmfs = std::move(marginals);
}

}  // namespace recloop
