// SPDX-License-Identifier: Apache-2.0
// The ranking contract, checked for every ranker the registry can make, and
// the exact and Monte Carlo marginals of the shared slot machinery.
#include "policies/ranker.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/epsilon_greedy_ranker.h"
#include "policies/plackett_luce_ranker.h"
#include "policies/ranker_registry.h"
#include "policies/sequential_ranking.h"
#include "tests/policies/policy_fixtures.h"
#include "tests/policies/ranker_fixtures.h"
#include "tests/support/pmf_checks.h"

using namespace recloop;
using recloop::testing::first_items_context;
using recloop::testing::weighted_policy;

namespace {

std::unique_ptr<Ranker> make_default_ranker(const std::string& name,
                                            std::shared_ptr<const Policy> base) {
  ConfigSection section(name);
  return make_ranker(name, section, std::move(base));
}

// Weights with a tie (candidates 1 and 2), so that every ranker, top_k
// included, has a random ranking; candidate 4 is masked out.
const std::vector<double> kWeights = {0.3, 0.2, 0.2, 0.15, 0.1, 0.05};

Context masked_context() {
  Context context = first_items_context(kWeights.size());
  context.available = {1, 1, 1, 1, 0, 1};
  return context;
}

}  // namespace

TEST_CASE("slot event ids append the slot index to the ranking's event id", "[policies]") {
  Ranking ranking;
  ranking.event_id = "request-7";
  REQUIRE(ranking.slot_event_id(0) == "request-7/0");
  REQUIRE(ranking.slot_event_id(12) == "request-7/12");
}

TEST_CASE("a slot's decision carries the slot's marginal and its column of the marginals",
          "[policies]") {
  const Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      const Ranking ranking = ranker->rank(context, 3, "r-1", 5);
      const Eigen::MatrixXd marginals = ranker->marginals(context, 3);
      for (std::size_t k = 0; k < 3; ++k) {
        const Decision decision = slot_decision(ranking, k);
        testing::require_decision_contract(decision, context);
        REQUIRE(decision.event_id == ranking.slot_event_id(k));
        REQUIRE(decision.action == ranking.actions[k]);
        REQUIRE(decision.probability == ranking.marginal[k]);
        REQUIRE(decision.conditional == ranking.conditional[k]);
        REQUIRE(decision.slot == k);
        for (std::size_t a = 0; a < context.size(); ++a) {
          REQUIRE(decision.pmf[a] == marginals(static_cast<Eigen::Index>(a),
                                               static_cast<Eigen::Index>(k)));
        }
        REQUIRE(decision.policy == ranking.policy);
      }
      REQUIRE_THROWS_AS(slot_decision(ranking, 3), std::out_of_range);
    }
  }
}

TEST_CASE("every ranker's marginal columns sum to one and rows to at most one", "[policies]") {
  Rng rng(11);
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      for (int trial = 0; trial < 20; ++trial) {
        const std::size_t K = 2 + uniform_index(rng, 9);
        std::vector<double> weights(K);
        // Rounded weights, so that exact ties occur.
        for (double& w : weights) w = std::round(4.0 * uniform01(rng)) / 4.0 + 0.05;
        Context context = first_items_context(K);
        if (trial % 2 == 1) {
          context.available.assign(K, 1);
          context.available[uniform_index(rng, K)] = 0;
        }
        const std::size_t available = trial % 2 == 1 ? K - 1 : K;
        const std::size_t slots = 1 + uniform_index(rng, std::min<std::size_t>(available, 4));
        const auto ranker = make_default_ranker(name, weighted_policy(weights));
        const Eigen::MatrixXd marginals = ranker->marginals(context, slots);
        REQUIRE(marginals.rows() == static_cast<Eigen::Index>(K));
        REQUIRE(marginals.cols() == static_cast<Eigen::Index>(slots));
        REQUIRE(marginals.minCoeff() >= 0.0);
        for (Eigen::Index k = 0; k < marginals.cols(); ++k) {
          REQUIRE(marginals.col(k).sum() == Approx(1.0).margin(1e-12));
        }
        for (Eigen::Index a = 0; a < marginals.rows(); ++a) {
          REQUIRE(marginals.row(a).sum() <= 1.0 + 1e-12);
        }
      }
    }
  }
}

TEST_CASE("every ranker records the product of its conditionals as the ranking's probability",
          "[policies]") {
  const Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      for (int i = 0; i < 50; ++i) {
        const Ranking ranking = ranker->rank(context, 4, testing::event_id("p-", i), 3);
        REQUIRE(ranking.actions.size() == 4);
        REQUIRE(ranking.conditional.size() == 4);
        double product = 1.0;
        for (double c : ranking.conditional) {
          REQUIRE(c > 0.0);
          REQUIRE(c <= 1.0);
          product *= c;
        }
        REQUIRE(ranking.probability == product);
        REQUIRE(ranking.policy == name + ":weighted");
      }
    }
  }
}

TEST_CASE("every ranker records marginals()(a, k) as the marginal of each slot", "[policies]") {
  const Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      const Eigen::MatrixXd marginals = ranker->marginals(context, 3);
      for (int i = 0; i < 50; ++i) {
        const Ranking ranking = ranker->rank(context, 3, testing::event_id("m-", i), 3);
        REQUIRE(ranking.slot_pmfs == marginals);
        for (std::size_t k = 0; k < 3; ++k) {
          REQUIRE(ranking.items[k] == context.items[ranking.actions[k]]);
          REQUIRE(ranking.marginal[k] ==
                  marginals(ranking.actions[k], static_cast<Eigen::Index>(k)));
        }
      }
    }
  }
}

TEST_CASE("every ranker gives its own rankings the conditionals it recorded", "[policies]") {
  const Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      for (int i = 0; i < 50; ++i) {
        const Ranking ranking = ranker->rank(context, 4, testing::event_id("c-", i), 8);
        REQUIRE(ranker->conditionals(context, ranking.actions) == ranking.conditional);
      }
    }
  }
}

TEST_CASE("every ranker's conditionals of all rankings chain to its marginals", "[policies]") {
  // Over every ordered choice of 3 of the 5 available candidates, the
  // products of the conditionals are the rankings' probabilities: they sum to
  // 1, and P(a at k) = sum of the probabilities of the rankings with a at k.
  const Context context = masked_context();
  std::vector<ActionId> available;
  for (std::size_t a = 0; a < context.size(); ++a) {
    if (context.available[a] != 0) available.push_back(static_cast<ActionId>(a));
  }
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      Eigen::MatrixXd chained = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(context.size()), 3);
      double total = 0.0;
      for (ActionId a : available) {
        for (ActionId b : available) {
          for (ActionId c : available) {
            if (a == b || a == c || b == c) continue;
            const std::vector<ActionId> shown = {a, b, c};
            const auto conditionals = ranker->conditionals(context, shown);
            REQUIRE(conditionals.size() == 3);
            double p = 1.0;
            for (double q : conditionals) {
              REQUIRE(q >= 0.0);
              REQUIRE(q <= 1.0);
              p *= q;
            }
            total += p;
            for (Eigen::Index k = 0; k < 3; ++k) chained(shown[static_cast<std::size_t>(k)], k) += p;
          }
        }
      }
      REQUIRE(total == Approx(1.0).margin(1e-12));
      const Eigen::MatrixXd marginals = ranker->marginals(context, 3);
      REQUIRE((chained - marginals).cwiseAbs().maxCoeff() <= 1e-12);
    }
  }
}

TEST_CASE("every ranker refuses conditionals of a repeated or masked candidate", "[policies]") {
  const Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      const std::vector<ActionId> repeated = {0, 1, 0};
      const std::vector<ActionId> masked = {0, 4};
      const std::vector<ActionId> outside = {0, 9};
      REQUIRE_THROWS_WITH(ranker->conditionals(context, repeated), Catch::Contains("slot 2"));
      REQUIRE_THROWS_AS(ranker->conditionals(context, masked), std::invalid_argument);
      REQUIRE_THROWS_AS(ranker->conditionals(context, outside), std::invalid_argument);
    }
  }
}

TEST_CASE("every ranker replays a ranking from run seed and event id", "[policies]") {
  const Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      for (int i = 0; i < 20; ++i) {
        const auto id = testing::event_id("replay-", i);
        const Ranking first = ranker->rank(context, 4, id, 99);
        const Ranking again = ranker->rank(context, 4, id, 99);
        REQUIRE(again.actions == first.actions);
        REQUIRE(again.conditional == first.conditional);
        REQUIRE(again.marginal == first.marginal);
        REQUIRE(again.event_id == id);
      }
    }
  }
}

TEST_CASE("every ranker never places a masked candidate", "[policies]") {
  const Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      // All five available candidates, so every ranking shows each of them.
      REQUIRE(ranker->marginals(context, 5).row(4).isZero(0.0));
      for (int i = 0; i < 100; ++i) {
        const Ranking ranking = ranker->rank(context, 5, testing::event_id("mask-", i), 1);
        for (ActionId a : ranking.actions) REQUIRE(a != 4);
      }
    }
  }
}

TEST_CASE("a ranking needs between one and the number of available candidates slots",
          "[policies]") {
  Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      REQUIRE_THROWS_AS(ranker->marginals(context, 0), std::invalid_argument);
      REQUIRE_THROWS_AS(ranker->marginals(context, 6), std::invalid_argument);
      REQUIRE_THROWS_AS(ranker->rank(context, 6, "x", 1), std::invalid_argument);
      REQUIRE_NOTHROW(ranker->rank(context, 5, "x", 1));
      Context wrong_mask = context;
      wrong_mask.available.pop_back();
      REQUIRE_THROWS_AS(ranker->rank(wrong_mask, 1, "x", 1), std::invalid_argument);
    }
  }
}

TEST_CASE("every ranker's marginals match the frequencies of its drawn rankings",
          "[policies][statistical]") {
  // N seeded rankings per ranker; each entry's frequency f estimates the
  // marginal p with standard error sqrt(p (1 - p) / N). The tolerance is 5
  // standard errors. All marginals here are 0, 1, or >= 0.003, and for
  // N = 20000 and p >= 0.003 the exact binomial probability of a deviation
  // beyond 5 standard errors is at most 2.5e-6 (5.7e-7 in the normal limit),
  // so a false failure of the 54 entries has probability below 1.4e-4.
  // Entries with p (1 - p) = 0 must match exactly.
  constexpr int kDraws = 20000;
  constexpr std::size_t kSlots = 3;
  const Context context = masked_context();
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      const auto ranker = make_default_ranker(name, weighted_policy(kWeights));
      const Eigen::MatrixXd marginals = ranker->marginals(context, kSlots);
      Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(marginals.rows(), marginals.cols());
      for (int i = 0; i < kDraws; ++i) {
        const Ranking ranking = ranker->rank(context, kSlots, testing::event_id("sim-", i), 2024);
        for (std::size_t k = 0; k < kSlots; ++k) {
          counts(ranking.actions[k], static_cast<Eigen::Index>(k)) += 1.0;
        }
      }
      for (Eigen::Index a = 0; a < marginals.rows(); ++a) {
        for (Eigen::Index k = 0; k < marginals.cols(); ++k) {
          const double p = marginals(a, k);
          const double frequency = counts(a, k) / kDraws;
          const double se = std::sqrt(p * (1.0 - p) / kDraws);
          INFO("candidate " << a << ", slot " << k << ": marginal " << p << ", frequency "
                            << frequency);
          REQUIRE((p == 0.0 || p == 1.0 || p >= 0.003));
          REQUIRE(std::abs(frequency - p) <= 5.0 * se + 1e-12);
        }
      }
    }
  }
}

namespace {

// P(a at slot k) for k < 3 under Plackett-Luce over `p`, by brute force over
// the ordered prefixes. The remaining mass is taken from the actual total, not
// 1: after a heavy candidate, 1 - p_b would carry the rounding of the sum.
Eigen::MatrixXd plackett_luce_truth(const std::vector<double>& p) {
  const std::size_t K = p.size();
  double total = 0.0;
  for (double x : p) total += x;
  Eigen::MatrixXd truth = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(K), 3);
  for (std::size_t b = 0; b < K; ++b) {
    const auto row_b = static_cast<Eigen::Index>(b);
    truth(row_b, 0) = p[b] / total;
    for (std::size_t c = 0; c < K; ++c) {
      if (c == b) continue;
      const double p_bc = p[b] / total * p[c] / (total - p[b]);  // P(b, c) as slots 0, 1
      truth(static_cast<Eigen::Index>(c), 1) += p_bc;
      const double rest = total - p[b] - p[c];
      for (std::size_t a = 0; a < K; ++a) {
        if (a != b && a != c) truth(static_cast<Eigen::Index>(a), 2) += p_bc * p[a] / rest;
      }
    }
  }
  return truth;
}

std::vector<double> random_weights(Rng& rng, std::size_t K) {
  std::vector<double> weights(K);
  double total = 0.0;
  for (double& w : weights) total += (w = 0.2 + uniform01(rng));
  for (double& w : weights) w /= total;
  return weights;
}

}  // namespace

TEST_CASE("the exact marginals of a request at the prefix budget match brute force",
          "[policies]") {
  // 300 candidates and 3 slots: 1 + 300^2 = 90,001 prefixes, within budget.
  constexpr std::size_t K = 300;
  Rng rng(4);
  std::vector<double> weights = random_weights(rng, K);
  // A candidate with no mass, and one with 5/6 of it: once it is placed the
  // remaining mass is small, which the marginals accumulate directly.
  weights[7] = 0.0;
  weights[11] = 5.0;
  double total = 0.0;
  for (double w : weights) total += w;
  for (double& w : weights) w /= total;
  const PlackettLuceRanker ranker(weighted_policy(weights));
  const Eigen::MatrixXd marginals = ranker.marginals(first_items_context(K), 3);
  const Eigen::MatrixXd truth = plackett_luce_truth(weights);
  REQUIRE(marginals.row(7).isZero(0.0));
  const double error = (marginals - truth).cwiseAbs().maxCoeff();
  INFO("largest absolute error " << error);
  REQUIRE(error < 1e-14);
}

namespace {

// A slot rule written out densely and naively, independent of the library's.
using DenseRule =
    std::function<void(const std::vector<std::uint8_t>& remaining, std::vector<double>& next)>;

DenseRule dense_plackett_luce(std::vector<double> weights) {
  return [weights = std::move(weights)](const std::vector<std::uint8_t>& remaining,
                                        std::vector<double>& next) {
    double total = 0.0;
    for (std::size_t a = 0; a < weights.size(); ++a) total += remaining[a] ? weights[a] : 0.0;
    for (std::size_t a = 0; a < weights.size(); ++a) {
      next[a] = remaining[a] ? weights[a] / total : 0.0;
    }
  };
}

DenseRule dense_epsilon_greedy(std::vector<double> scores, double epsilon) {
  return [scores = std::move(scores), epsilon](const std::vector<std::uint8_t>& remaining,
                                               std::vector<double>& next) {
    double best = -1e300;
    double n = 0.0;
    for (std::size_t a = 0; a < scores.size(); ++a) {
      if (!remaining[a]) continue;
      n += 1.0;
      best = std::max(best, scores[a]);
    }
    double n_best = 0.0;
    for (std::size_t a = 0; a < scores.size(); ++a) n_best += remaining[a] && scores[a] == best;
    for (std::size_t a = 0; a < scores.size(); ++a) {
      next[a] = !remaining[a] ? 0.0
                              : epsilon / n + (scores[a] == best ? (1.0 - epsilon) / n_best : 0.0);
    }
  };
}

// The marginals of the first three slots by brute force over the prefixes, and
// for each entry the spread (max - min) of P(a at k | prefix) over the
// prefixes of positive probability.
struct BruteForce {
  Eigen::MatrixXd truth;
  Eigen::MatrixXd spread;
};

BruteForce brute_force_three_slots(const DenseRule& rule, std::vector<std::uint8_t> remaining) {
  const std::size_t K = remaining.size();
  const auto n = static_cast<Eigen::Index>(K);
  Eigen::MatrixXd truth = Eigen::MatrixXd::Zero(n, 3);
  Eigen::MatrixXd low = Eigen::MatrixXd::Constant(n, 3, 2.0);
  Eigen::MatrixXd high = Eigen::MatrixXd::Zero(n, 3);
  std::vector<double> first(K), second(K), third(K);
  const auto record = [&](Eigen::Index k, double p, const std::vector<double>& next) {
    for (Eigen::Index a = 0; a < n; ++a) {
      truth(a, k) += p * next[static_cast<std::size_t>(a)];
      low(a, k) = std::min(low(a, k), next[static_cast<std::size_t>(a)]);
      high(a, k) = std::max(high(a, k), next[static_cast<std::size_t>(a)]);
    }
  };
  rule(remaining, first);
  record(0, 1.0, first);
  for (std::size_t b = 0; b < K; ++b) {
    if (first[b] <= 0.0) continue;
    remaining[b] = 0;
    rule(remaining, second);
    record(1, first[b], second);
    for (std::size_t c = 0; c < K; ++c) {
      if (second[c] <= 0.0) continue;
      remaining[c] = 0;
      rule(remaining, third);
      record(2, first[b] * second[c], third);
      remaining[c] = 1;
    }
    remaining[b] = 1;
  }
  return {truth, high - low};
}

// REQUIREs that `estimate` is within 3 spread / sqrt(N) (+ 1e-12 for
// rounding) of the brute-force truth, entry by entry.
void require_monte_carlo_accuracy(const Eigen::MatrixXd& estimate, const BruteForce& exact) {
  for (Eigen::Index k = 0; k < 3; ++k) {
    REQUIRE(estimate.col(k).sum() == Approx(1.0).margin(1e-9));
  }
  const double draws = static_cast<double>(kRankingMonteCarloDraws);
  for (Eigen::Index a = 0; a < estimate.rows(); ++a) {
    for (Eigen::Index k = 0; k < 3; ++k) {
      INFO("candidate " << a << ", slot " << k << ": estimate " << estimate(a, k)
                        << ", truth " << exact.truth(a, k));
      REQUIRE(std::abs(estimate(a, k) - exact.truth(a, k)) <=
              3.0 * exact.spread(a, k) / std::sqrt(draws) + 1e-12);
    }
  }
  // And the estimate is not merely the exact answer in disguise.
  REQUIRE((estimate - exact.truth).cwiseAbs().maxCoeff() > 1e-9);
}

}  // namespace

TEST_CASE("the Monte Carlo marginals of large requests agree with brute force",
          "[policies][statistical]") {
  // 400 candidates and 3 slots need about 1 + 400^2 prefixes, over
  // kMaxExactRankingPrefixes, so marginals() is the Rao-Blackwellised Monte
  // Carlo estimate. Each of its N draws contributes P(a at k | drawn prefix)
  // to entry (a, k): independent terms within an interval of width `spread`,
  // so by Hoeffding's inequality the mean misses the truth by more than
  // 3 spread / sqrt(N) with probability at most 2 exp(-18) = 3e-8 per entry,
  // below 1e-4 for the 3 x 1,200 entries checked (no normal approximation
  // needed). Three problems: Plackett-Luce over random weights; Plackett-Luce
  // where one candidate holds 90% of the weight (draws step around it), with a
  // zero weight and a masked candidate; epsilon-greedy over tied scores with a
  // masked candidate.
  constexpr std::size_t K = 400;
  Rng rng(5);
  SECTION("plackett luce") {
    const std::vector<double> weights = random_weights(rng, K);
    const PlackettLuceRanker ranker(weighted_policy(weights));
    require_monte_carlo_accuracy(
        ranker.marginals(first_items_context(K), 3),
        brute_force_three_slots(dense_plackett_luce(weights), std::vector<std::uint8_t>(K, 1)));
  }
  SECTION("plackett luce with a dominant candidate") {
    std::vector<double> weights = random_weights(rng, K);
    weights[5] = 0.0;
    weights[9] = 0.0;  // masked below, so its weight must not count
    double others = 0.0;
    for (double w : weights) others += w;
    weights[0] = 9.0 * others;
    Context context = first_items_context(K);
    context.available.assign(K, 1);
    context.available[9] = 0;
    const PlackettLuceRanker ranker(weighted_policy(weights));
    require_monte_carlo_accuracy(
        ranker.marginals(context, 3),
        brute_force_three_slots(dense_plackett_luce(weights), context.available));
  }
  SECTION("epsilon greedy with ties") {
    std::vector<double> scores(K);
    for (double& score : scores) score = std::floor(20.0 * uniform01(rng));
    Context context = first_items_context(K);
    context.available.assign(K, 1);
    context.available[3] = 0;
    const EpsilonGreedyRanker ranker(
        [scores](const Context&) { return scores; }, "fixed", {.epsilon = 0.3});
    require_monte_carlo_accuracy(
        ranker.marginals(context, 3),
        brute_force_three_slots(dense_epsilon_greedy(scores, 0.3), context.available));
  }
}

TEST_CASE("the exact marginals visit only the prefixes of positive probability", "[policies]") {
  // Greedy by distinct scores over 1000 candidates and 6 slots has one prefix
  // per level, far under the budget, so the marginals are exact indicators.
  constexpr std::size_t K = 1000;
  std::vector<double> scores(K);
  for (std::size_t a = 0; a < K; ++a) scores[a] = -static_cast<double>(a);
  const SlotRule rule = epsilon_greedy_slot_rule(scores, std::vector<std::uint8_t>(K, 1), 0.0);
  const Eigen::MatrixXd marginals = sequential_marginals(rule, 6, 1);
  Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(K, 6);
  for (Eigen::Index k = 0; k < 6; ++k) expected(k, k) = 1.0;
  REQUIRE(marginals == expected);
}

TEST_CASE("seed sweep: ranker marginals match simulated frequencies on random problems",
          "[.sweep]") {
  // 100 random problems per ranker (weights with ties, a random mask, 1 to 3
  // slots), 4000 rankings each. For entries with N p (1 - p) >= 20 the
  // standardised deviation is close to normal, so about 0.27% of the n such
  // entries should lie beyond 3 standard errors: allow that count plus 4 of
  // its (Poisson) standard deviations plus one. A biased marginal shows up as
  // far more.
  constexpr int kProblems = 100;
  constexpr int kDraws = 4000;
  for (const auto& name : ranker_names()) {
    SECTION(name) {
      std::size_t entries = 0;
      std::size_t beyond = 0;
      for (int seed = 0; seed < kProblems; ++seed) {
        Rng rng(1000 + static_cast<std::uint64_t>(seed));
        const std::size_t K = 3 + uniform_index(rng, 6);
        std::vector<double> weights(K);
        for (double& w : weights) w = std::round(5.0 * uniform01(rng)) + 0.5;
        Context context = first_items_context(K);
        context.available.assign(K, 1);
        context.available[uniform_index(rng, K)] = 0;
        const std::size_t slots = 1 + uniform_index(rng, std::min<std::size_t>(3, K - 1));
        const auto ranker = make_default_ranker(name, weighted_policy(weights));
        const Eigen::MatrixXd marginals = ranker->marginals(context, slots);
        Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(marginals.rows(), marginals.cols());
        for (int i = 0; i < kDraws; ++i) {
          const Ranking ranking = ranker->rank(context, slots, testing::event_id("s", i), seed);
          for (std::size_t k = 0; k < slots; ++k) {
            counts(ranking.actions[k], static_cast<Eigen::Index>(k)) += 1.0;
          }
        }
        for (Eigen::Index a = 0; a < marginals.rows(); ++a) {
          for (Eigen::Index k = 0; k < marginals.cols(); ++k) {
            const double p = marginals(a, k);
            if (kDraws * p * (1.0 - p) < 20.0) continue;
            const double z = (counts(a, k) / kDraws - p) / std::sqrt(p * (1.0 - p) / kDraws);
            ++entries;
            beyond += std::abs(z) > 3.0;
          }
        }
      }
      INFO(beyond << " of " << entries << " entries beyond 3 standard errors");
      const double expected = 0.0027 * static_cast<double>(entries);
      CHECK(entries > 200);
      CHECK(static_cast<double>(beyond) <= expected + 4.0 * std::sqrt(expected) + 1.0);
      WARN(name << ": " << beyond << " of " << entries << " entries beyond 3 standard errors");
    }
  }
}
