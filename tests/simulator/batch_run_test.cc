// SPDX-License-Identifier: Apache-2.0
#include "simulator/batch_run.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "core/sampling.h"

using namespace recloop;

namespace {

PopulationWorld::Config changing_world() {
  PopulationWorld::Config config;
  config.n_items = 300;
  config.item_lifetime = 40;  // items arrive and expire during the batch
  config.popularity_candidates = true;
  config.choice.kind = ChoiceModelKind::kMultiClick;
  config.reward_dwell = 0.01;
  config.reward_purchase = 2.0;
  return config;
}

std::vector<RequestResult> run(const PopulationWorld& world, int threads, std::size_t slots,
                               const SlatePicker& picker) {
  std::vector<RequestResult> results(5000);
  run_batch(world, {.first_request = 100, .slots = slots, .threads = threads}, picker, results);
  return results;
}

// A picker with randomness of its own, from the request's seed only: a
// uniformly random slate by a partial shuffle.
void random_slate(const Context& context, std::uint64_t seed, std::span<ActionId> slate) {
  Rng rng(seed);
  std::vector<ActionId> order(context.size());
  for (ActionId a = 0; a < order.size(); ++a) order[a] = a;
  for (std::size_t k = 0; k < slate.size(); ++k) {
    std::swap(order[k], order[k + uniform_index(rng, order.size() - k)]);
    slate[k] = order[k];
  }
}

}  // namespace

TEST_CASE("a batch gives identical results on one, two and three threads", "[simulator]") {
  const PopulationWorld world(changing_world());
  for (const std::size_t slots : {std::size_t{1}, std::size_t{4}}) {
    const auto one = run(world, 1, slots, random_slate);
    for (const int threads : {2, 3}) {
      const auto many = run(world, threads, slots, random_slate);
      for (std::size_t i = 0; i < one.size(); ++i) {
        REQUIRE(many[i].reward == one[i].reward);
        REQUIRE(many[i].expected_reward == one[i].expected_reward);
        REQUIRE(many[i].clicks == one[i].clicks);
        REQUIRE(many[i].user == one[i].user);
      }
    }
  }
}

TEST_CASE("a batch's results depend on the requests, not on where the batch starts",
          "[simulator]") {
  // Requests 100 .. 5099 in one batch, and 2100 .. 5099 alone.
  const PopulationWorld world(changing_world());
  const auto whole = run(world, 2, 3, {});
  std::vector<RequestResult> tail(3000);
  run_batch(world, {.first_request = 2100, .slots = 3, .threads = 1}, {}, tail);
  for (std::size_t i = 0; i < tail.size(); ++i) {
    REQUIRE(tail[i].reward == whole[2000 + i].reward);
    REQUIRE(tail[i].user == whole[2000 + i].user);
  }
}

TEST_CASE("a picker's failure on a worker thread reaches the caller", "[simulator]") {
  const PopulationWorld world(changing_world());
  const SlatePicker failing = [](const Context&, std::uint64_t, std::span<ActionId>) {
    throw std::runtime_error("picker failed");
  };
  REQUIRE_THROWS_WITH(run(world, 2, 1, failing), "picker failed");
  std::vector<RequestResult> results(10);
  REQUIRE_THROWS_AS(run_batch(world, {.slots = 11}, {}, results), std::invalid_argument);
  REQUIRE_THROWS_AS(run_batch(world, {.threads = 0}, {}, results), std::invalid_argument);
}

TEST_CASE("a batch's mean reward matches its mean exact expected reward",
          "[simulator][statistical]") {
  // 5000 requests with 4-slot multi-click slates: the per-request difference
  // reward - expected has mean 0; 5 sample SEs of its mean bound a chance
  // failure at ~6e-7 (CLT).
  const PopulationWorld world(changing_world());
  const auto results = run(world, 2, 4, random_slate);
  double sum = 0.0, square = 0.0;
  for (const auto& r : results) {
    const double d = r.reward - r.expected_reward;
    sum += d;
    square += d * d;
  }
  const double n = static_cast<double>(results.size());
  const double mean = sum / n;
  const double se = std::sqrt((square / n - mean * mean) / n);
  REQUIRE(std::abs(mean) < 5.0 * se);
}
