// SPDX-License-Identifier: Apache-2.0
#include "simulator/population_world.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/error.h"
#include "simulator/registry.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {

// Every logit is 0 (a = 1/2): no affinity, no bias, no popularity term.
PopulationWorld::Config flat_world(ChoiceModelKind kind) {
  PopulationWorld::Config c;
  c.n_items = 30;
  c.candidates = 6;
  c.signal = 0.0;
  c.bias_mean = 0.0;
  c.bias_sd = 0.0;
  c.popularity_weight = 0.0;
  c.choice.kind = kind;
  return c;
}

std::vector<ActionId> first_slots(std::size_t slots) {
  std::vector<ActionId> slate(slots);
  std::iota(slate.begin(), slate.end(), ActionId{0});
  return slate;
}

}  // namespace

TEST_CASE("the registry makes the population world and documents its keys", "[simulator]") {
  ConfigSection section("simulator", "x.ini");
  section.set("world", "population");
  section.set("choice_model", "pbm");
  section.set("candidates", "8");
  auto world = make_simulator(section);
  REQUIRE(world->name() == "population");
  const auto& population = dynamic_cast<const PopulationWorld&>(*world);
  REQUIRE(population.config().choice.kind == ChoiceModelKind::kPositionBased);
  REQUIRE(population.config().candidates == 8);
  std::set<std::string> keys;
  for (const auto& doc : section.described()) keys.insert(doc.key);
  for (const char* key : {"n_items", "zipf_exponent", "item_lifetime", "user_types",
                          "user_obs_noise", "choice_model", "position_decay", "reward_dwell",
                          "candidate_sampling"}) {
    REQUIRE(keys.count(key) == 1);
  }
}

TEST_CASE("population world config errors name the key", "[simulator]") {
  SECTION("type weights of the wrong length") {
    ConfigSection section("simulator", "x.ini");
    section.set("world", "population");
    section.set("user_types", "2");
    section.set("user_type_weights", "1, 2, 3");
    REQUIRE_THROWS_WITH(make_simulator(section), Contains("user_type_weights"));
  }
  SECTION("a weight that is not a number") {
    ConfigSection section("simulator", "x.ini");
    section.set("world", "population");
    section.set("user_type_weights", "heavy");
    REQUIRE_THROWS_WITH(make_simulator(section), Contains("'heavy' is not a finite number"));
  }
  SECTION("an unknown choice model") {
    ConfigSection section("simulator", "x.ini");
    section.set("world", "population");
    section.set("choice_model", "dbn");
    REQUIRE_THROWS_WITH(make_simulator(section), Contains("choice_model") && Contains("cascade"));
  }
}

TEST_CASE("a population context has the documented feature layout", "[simulator]") {
  PopulationWorld::Config config;
  config.n_categories = 3;
  PopulationWorld world(config);
  Rng rng(1);
  const Context context = world.next_context(rng);
  REQUIRE(context.size() == 10);
  REQUIRE(context.feature_dim() == world.feature_dim());
  REQUIRE(std::set<ItemId>(context.items.begin(), context.items.end()).size() == 10);
  for (std::size_t a = 0; a < context.size(); ++a) {
    const auto col = static_cast<Eigen::Index>(a);
    const auto slot = static_cast<std::uint32_t>(context.items[a] % 1000);
    REQUIRE(context.actions(PopulationWorld::kLogPopularityRow, col) ==
            std::log(world.popularity(slot)));
    const auto one_hot = context.actions.col(col).tail(3);
    REQUIRE(one_hot.sum() == 1.0);
    REQUIRE(one_hot.maxCoeff() == 1.0);
  }
}

TEST_CASE("a flat world's expected rewards follow the choice model in closed form",
          "[simulator]") {
  Rng rng(3);
  SECTION("single slot: a = 1/2 under every model") {
    for (const auto kind : {ChoiceModelKind::kMultinomialLogit, ChoiceModelKind::kCascade,
                            ChoiceModelKind::kPositionBased, ChoiceModelKind::kMultiClick}) {
      PopulationWorld world(flat_world(kind));
      const Context context = world.next_context(rng);
      for (ActionId a = 0; a < context.size(); ++a) {
        REQUIRE(world.expected_reward(context, a) == 0.5);
      }
    }
  }
  SECTION("pbm, two slots: e = (2/3, 1/3) times a = 1/2") {
    PopulationWorld world(flat_world(ChoiceModelKind::kPositionBased));
    const Context context = world.next_context(rng);
    std::vector<double> rewards(2);
    world.expected_slot_rewards(context, first_slots(2), rewards);
    REQUIRE(rewards[0] == Approx(1.0 / 3.0));
    REQUIRE(rewards[1] == Approx(1.0 / 6.0));
    REQUIRE(world.expected_slate_reward(context, first_slots(2)) == Approx(0.5));
  }
  SECTION("dwell and purchase: g = w_c + w_d dwell_mean (1/2 + a) + w_p rate a") {
    auto config = flat_world(ChoiceModelKind::kCascade);
    config.reward_click = 1.0;
    config.reward_dwell = 0.01;
    config.dwell_mean_s = 20.0;
    config.reward_purchase = 5.0;
    config.purchase_rate = 0.2;
    PopulationWorld world(config);
    const Context context = world.next_context(rng);
    REQUIRE(world.expected_reward(context, 0) == Approx(0.5 * (1.0 + 0.01 * 20.0 + 5.0 * 0.1)));
  }
}

TEST_CASE("a context from another world is rejected by the exact methods", "[simulator]") {
  PopulationWorld world({});
  auto other_config = PopulationWorld::Config{};
  other_config.seed = 2;
  PopulationWorld other(other_config);
  Rng rng(4);
  const Context foreign = other.next_context(rng);
  REQUIRE_THROWS_WITH(world.expected_reward(foreign, 0), Contains("match no user"));
}

TEST_CASE("users are drawn from the configured mixture and seen through the configured view",
          "[simulator]") {
  PopulationWorld::Config config;
  config.latent_dim = 2;
  config.user_obs_dim = 2;
  config.n_users = 2000;
  config.type_weights = {1.0, 3.0};
  config.type_means = {5.0, 0.0, -5.0, 1.0};
  config.type_spreads = {0.0, 0.0};
  config.user_obs_noise = 0.0;
  PopulationWorld world(config);
  int second = 0;
  for (std::uint32_t u = 0; u < 2000; ++u) {
    const auto z = world.user_latent(u);
    const bool first_type = z == Eigen::Vector2d(5.0, 0.0);
    const bool second_type = z == Eigen::Vector2d(-5.0, 1.0);
    REQUIRE((first_type || second_type));
    second += second_type ? 1 : 0;
  }
  // Binomial(2000, 3/4): SD = sqrt(2000 * 3/16) = 19.4; 5 SD = 97.
  REQUIRE(std::abs(second - 1500) < 97);
  // Identity view, no noise: the features are z itself.
  Rng rng(5);
  const Context context = world.next_context(rng);
  const auto user = world.find_user(context.user);
  REQUIRE(context.user == world.user_latent(user));
}

TEST_CASE("the observed user features are a noisy view of the latent preferences",
          "[simulator]") {
  PopulationWorld::Config config;
  config.n_users = 5000;
  config.user_obs_noise = 0.5;
  config.user_obs_dim = 4;  // the view drops the last two latent dimensions
  PopulationWorld world(config);
  Rng rng(6);
  // y_j - z_j ~ N(0, 0.25) for j < 4: mean square over 2000 requests x 4
  // dims estimates 0.25 with SE 0.25 sqrt(2 / 8000) = 0.004.
  double square = 0.0;
  for (int t = 0; t < 2000; ++t) {
    const Context context = world.next_context(rng);
    REQUIRE(context.user.size() == 4);
    const auto z = world.user_latent(world.find_user(context.user));
    square += (context.user - z.head(4)).squaredNorm();
  }
  REQUIRE(square / 8000.0 == Approx(0.25).margin(0.02));
}

TEST_CASE("popularity-weighted candidates follow the Zipf shares", "[simulator][statistical]") {
  // One candidate per request, so each request draws one slot ~ p. 200,000
  // draws: slot s's count is Binomial(n, p_s), SE = sqrt(p_s (1 - p_s) / n);
  // 5 SE fails with probability 6e-7 per slot (8 slots checked).
  PopulationWorld::Config config;
  config.n_items = 50;
  config.candidates = 1;
  config.popularity_candidates = true;
  config.zipf_exponent = 1.2;
  PopulationWorld world(config);
  double harmonic = 0.0;
  for (int s = 1; s <= 50; ++s) harmonic += std::pow(s, -1.2);
  for (std::uint32_t s = 0; s < 50; ++s) {
    REQUIRE(world.popularity(s) == Approx(std::pow(s + 1.0, -1.2) / harmonic));
  }
  PopulationWorld::Worker worker(world);
  PopulationWorld::Request request;
  constexpr int n = 200000;
  std::vector<double> counts(50, 0.0);
  for (int t = 0; t < n; ++t) {
    worker.draw(static_cast<std::uint64_t>(t), request);
    counts[request.slots[0]] += 1.0;
  }
  for (std::uint32_t s : {0u, 1u, 2u, 3u, 5u, 10u, 25u, 49u}) {
    const double p = world.popularity(s);
    REQUIRE(counts[s] / n == Approx(p).margin(5.0 * std::sqrt(p * (1.0 - p) / n)));
  }
}

TEST_CASE("an expired item is never a candidate, and new items arrive", "[simulator]") {
  PopulationWorld::Config config;
  config.n_items = 40;
  config.candidates = 10;
  config.item_lifetime = 100;
  PopulationWorld world(config);
  PopulationWorld::Worker worker(world);
  PopulationWorld::Request request;
  std::set<ItemId> seen;
  for (std::uint64_t t = 0; t < 3000; ++t) {
    worker.draw(t, request);
    for (std::size_t a = 0; a < request.context.size(); ++a) {
      const ItemId id = request.context.items[a];
      const auto [arrival, expiry] = world.item_interval(id);
      REQUIRE(arrival <= static_cast<std::int64_t>(t));
      REQUIRE(static_cast<std::int64_t>(t) < expiry);
      REQUIRE(expiry - arrival == 100);
      REQUIRE(world.live_item(request.slots[a], t) == id);
      seen.insert(id);
    }
  }
  // 40 slots each renewed every 100 requests: 40 * 30 = 1200 items lived
  // during the 3000 requests; 10 of 40 offered per request means nearly all
  // were seen, and far more than the 40 of one catalogue.
  REQUIRE(seen.size() > 1000);
  REQUIRE(*seen.rbegin() >= 40 * 29);
}

TEST_CASE("an item's attributes and value depend only on its id", "[simulator]") {
  // A new item scores the same through a Worker's cache and the exact seam.
  PopulationWorld::Config config;
  config.n_items = 20;
  config.candidates = 5;
  config.item_lifetime = 7;
  PopulationWorld world(config);
  PopulationWorld::Worker worker(world);
  PopulationWorld::Request request;
  for (std::uint64_t t = 0; t < 200; ++t) {
    worker.draw(t, request);
    for (std::size_t a = 0; a < request.context.size(); ++a) {
      const double exact = world.logit(request.user, request.context.items[a]);
      REQUIRE(request.logits[a] == Approx(exact).epsilon(1e-12));
    }
  }
}

TEST_CASE("a request depends only on its index, not on the requests drawn before",
          "[simulator]") {
  PopulationWorld::Config config;
  config.item_lifetime = 50;
  config.popularity_candidates = true;
  PopulationWorld world(config);
  PopulationWorld::Worker warm(world);
  PopulationWorld::Request request;
  for (std::uint64_t t = 0; t < 500; ++t) warm.draw(t * 7, request);
  PopulationWorld::Request a, b;
  PopulationWorld::Worker fresh(world);
  warm.draw(1234, a);
  fresh.draw(1234, b);
  REQUIRE(a.user == b.user);
  REQUIRE(a.context.items == b.context.items);
  REQUIRE(a.context.actions == b.context.actions);
  REQUIRE(a.logits == b.logits);
}

TEST_CASE("value from marginals is the exact value of a ranking distribution under pbm",
          "[simulator]") {
  // A uniformly random ordered pair of 4 candidates: 12 rankings of
  // probability 1/12, every candidate at every slot with probability 1/4.
  for (const auto kind : {ChoiceModelKind::kPositionBased, ChoiceModelKind::kMultiClick}) {
    auto config = PopulationWorld::Config{};
    config.candidates = 4;
    config.choice.kind = kind;
    config.reward_dwell = 0.02;
    PopulationWorld world(config);
    Rng rng(7);
    const Context context = world.next_context(rng);
    double exact = 0.0;
    for (ActionId i = 0; i < 4; ++i) {
      for (ActionId j = 0; j < 4; ++j) {
        if (i == j) continue;
        const std::vector<ActionId> slate{i, j};
        exact += world.expected_slate_reward(context, slate) / 12.0;
      }
    }
    const Eigen::MatrixXd marginals = Eigen::MatrixXd::Constant(4, 2, 0.25);
    const auto value = world.value_from_marginals(context, marginals);
    REQUIRE(value.has_value());
    REQUIRE(*value == Approx(exact).epsilon(1e-12));
  }
  for (const auto kind : {ChoiceModelKind::kMultinomialLogit, ChoiceModelKind::kCascade}) {
    auto config = PopulationWorld::Config{};
    config.choice.kind = kind;
    PopulationWorld world(config);
    Rng rng(8);
    const Context context = world.next_context(rng);
    REQUIRE_FALSE(world.value_from_marginals(context, Eigen::MatrixXd::Constant(10, 1, 0.1)));
  }
}

TEST_CASE("a slate that repeats a candidate or is too long is rejected", "[simulator]") {
  PopulationWorld world({});
  Rng rng(9);
  const Context context = world.next_context(rng);
  std::vector<double> out(2);
  REQUIRE_THROWS_WITH(world.expected_slot_rewards(context, std::vector<ActionId>{3, 3}, out),
                      Contains("shown twice"));
  std::vector<double> many(12);
  REQUIRE_THROWS_AS(world.expected_slot_rewards(context, std::vector<ActionId>(11, 0), many),
                    std::invalid_argument);
}

TEST_CASE("the mean drawn slate reward matches the exact slate value",
          "[simulator][statistical]") {
  // 100,000 draws of a 4-slot slate of one context: the mean of i.i.d.
  // rewards with finite variance is within 5 sample SEs of the truth except
  // with probability ~6e-7 (normal approximation, CLT; the rewards have an
  // exponential dwell term, so all moments are finite).
  for (const auto kind : {ChoiceModelKind::kMultinomialLogit, ChoiceModelKind::kCascade,
                          ChoiceModelKind::kPositionBased, ChoiceModelKind::kMultiClick}) {
    SECTION(std::string(choice_model_name(kind))) {
      auto config = PopulationWorld::Config{};
      config.choice.kind = kind;
      config.reward_dwell = 0.02;
      config.reward_purchase = 3.0;
      config.purchase_rate = 0.3;
      config.bias_mean = 0.0;
      PopulationWorld world(config);
      Rng rng(10);
      const Context context = world.next_context(rng);
      const std::vector<ActionId> slate{2, 0, 5, 7};
      std::vector<double> exact_slots(4);
      world.expected_slot_rewards(context, slate, exact_slots);
      const double exact = world.expected_slate_reward(context, slate);
      constexpr int n = 100000;
      std::vector<double> rewards(4), slot_sums(4, 0.0), slot_squares(4, 0.0);
      double sum = 0.0, square = 0.0;
      for (int t = 0; t < n; ++t) {
        world.draw_slate_rewards(context, slate, rng, rewards);
        double total = 0.0;
        for (std::size_t k = 0; k < 4; ++k) {
          total += rewards[k];
          slot_sums[k] += rewards[k];
          slot_squares[k] += rewards[k] * rewards[k];
        }
        sum += total;
        square += total * total;
      }
      const double mean = sum / n;
      const double se = std::sqrt((square / n - mean * mean) / n);
      REQUIRE(se > 0.0);
      REQUIRE(mean == Approx(exact).margin(5.0 * se));
      // Per slot, the same bound with the slot's own sample SE.
      for (std::size_t k = 0; k < 4; ++k) {
        const double slot_mean = slot_sums[k] / n;
        const double slot_se = std::sqrt((slot_squares[k] / n - slot_mean * slot_mean) / n);
        REQUIRE(slot_mean == Approx(exact_slots[k]).margin(5.0 * slot_se));
      }
    }
  }
}

TEST_CASE("single-slot click frequencies match the exact expected reward",
          "[simulator][statistical]") {
  // Click-only rewards: Bernoulli(p), SE = sqrt(p(1-p)/n), 5 SE, n = 100,000.
  PopulationWorld world({});
  Rng rng(11);
  const Context context = world.next_context(rng);
  for (ActionId a = 0; a < 3; ++a) {
    const double p = world.expected_reward(context, a);
    constexpr int n = 100000;
    double clicks = 0.0;
    for (int t = 0; t < n; ++t) clicks += world.draw_reward(context, a, rng);
    REQUIRE(clicks / n == Approx(p).margin(5.0 * std::sqrt(p * (1.0 - p) / n)));
  }
}

TEST_CASE("with a fixed catalogue a seam request depends only on the rng", "[simulator]") {
  // What the closed loop's common random numbers need: every policy that
  // replays the same request stream sees the same users and candidates.
  PopulationWorld world({});
  Rng warm(11);
  for (int t = 0; t < 10; ++t) world.next_context(warm);
  PopulationWorld fresh({});
  Rng a(12), b(12);
  const Context from_warm = world.next_context(a);
  const Context from_fresh = fresh.next_context(b);
  REQUIRE(from_warm.items == from_fresh.items);
  REQUIRE(from_warm.user == from_fresh.user);
  REQUIRE(from_warm.actions == from_fresh.actions);
}
