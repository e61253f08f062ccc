// SPDX-License-Identifier: Apache-2.0
#include "simulator/session_world.h"

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/error.h"
#include "simulator/registry.h"
#include "simulator/session_value.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {

// Every session dynamic off; a small population; sessions end only by the
// leave draw (P = sigmoid(leave_bias)) or after max_steps.
SessionWorld::Config dynamics_off() {
  SessionWorld::Config c;
  c.population.n_items = 60;
  c.population.candidates = 8;
  c.population.n_users = 200;
  c.population.n_categories = 3;
  c.max_steps = 1000;
  c.drift_sd = 0.0;
  c.consume_rate = 0.0;
  c.fatigue_weight = 0.0;
  c.clickbait_share = 0.0;
  c.clickbait_boost = 0.0;
  c.clickbait_fatigue = 0.0;
  c.satisfaction_click = 0.0;
  c.satisfaction_skip = 0.0;
  c.satisfaction_fatigue = 0.0;
  c.satisfaction_clickbait = 0.0;
  c.leave_slope = 0.0;
  c.leave_bias = -20.0;  // P(leave) = 2e-9: sessions run to max_steps
  return c;
}

double logit_of(double p) { return std::log(p / (1.0 - p)); }

ActionId first_candidate(const Context&) { return 0; }

// The first candidate whose category (one-hot rows of the feature column)
// is `category`, or context.size() if none.
ActionId candidate_in(const SessionWorld& world, const Context& context, std::uint32_t category) {
  for (ActionId a = 0; a < context.size(); ++a) {
    if (world.population().item_truth(context.items[a]).category == category) return a;
  }
  return static_cast<ActionId>(context.size());
}

}  // namespace

TEST_CASE("the registry makes the session world and documents its keys", "[simulator]") {
  ConfigSection section("simulator", "x.ini");
  section.set("world", "session");
  section.set("fatigue_weight", "1.5");
  section.set("candidates", "5");
  auto world = make_session_simulator(section);
  REQUIRE(world->name() == "session");
  const auto& session = dynamic_cast<const SessionWorld&>(*world);
  REQUIRE(session.config().fatigue_weight == 1.5);
  REQUIRE(session.config().population.candidates == 5);
  std::set<std::string> keys;
  for (const auto& doc : section.described()) keys.insert(doc.key);
  for (const char* key : {"session_max_steps", "drift_sd", "population_drift_sd",
                          "consume_rate", "fatigue_weight",
                          "fatigue_decay", "clickbait_share", "clickbait_boost",
                          "clickbait_fatigue", "satisfaction_initial", "satisfaction_click",
                          "satisfaction_skip", "satisfaction_fatigue", "satisfaction_clickbait",
                          "leave_bias", "leave_slope", "return_mean_days", "return_slope",
                          "n_items", "choice_model"}) {
    REQUIRE(keys.count(key) == 1);
  }
}

TEST_CASE("session world config errors name the key and value", "[simulator]") {
  SECTION("a rate out of range") {
    ConfigSection section("simulator", "x.ini");
    section.set("consume_rate", "1.5");
    REQUIRE_THROWS_WITH(make_session_simulator(section), Contains("consume_rate") &&
                                                             Contains("1.5"));
  }
  SECTION("a negative population drift") {
    ConfigSection section("simulator", "x.ini");
    section.set("population_drift_sd", "-0.5");
    REQUIRE_THROWS_WITH(make_session_simulator(section), Contains("population_drift_sd") &&
                                                             Contains("-0.5"));
  }
  SECTION("an unknown key") {
    ConfigSection section("simulator", "x.ini");
    section.set("fatigue_wieght", "1");
    REQUIRE_THROWS_WITH(make_session_simulator(section), Contains("fatigue_wieght"));
  }
  SECTION("a single-step world is not a session world") {
    ConfigSection section("simulator", "x.ini");
    section.set("world", "population");
    REQUIRE_THROWS_WITH(make_session_simulator(section), Contains("session"));
  }
}

TEST_CASE("a session context has the documented state and candidate layout", "[simulator]") {
  auto config = dynamics_off();
  config.clickbait_share = 0.5;
  config.fatigue_decay = 0.5;
  SessionWorld world(config);
  Rng rng(1);
  const Context first = world.begin(7);
  const auto& p = config.population;
  REQUIRE(first.user.size() == p.user_obs_dim + p.n_categories + 3);
  REQUIRE(first.feature_dim() == world.feature_dim());
  REQUIRE(first.size() == static_cast<std::size_t>(p.candidates));
  REQUIRE(first.user.head(p.user_obs_dim) == world.population().user_features(world.state().user));
  REQUIRE(first.user.segment(world.fatigue_row(), p.n_categories).isZero());
  REQUIRE(first.user[world.step_row()] == 0.0);
  REQUIRE(first.actions.rows() == world.clickbait_row() + 1);
  for (ActionId a = 0; a < first.size(); ++a) {
    const double c = first.actions(world.clickbait_row(), a);
    REQUIRE(c == world.clickbait(first.items[a]));
    REQUIRE(c >= 0.0);
    REQUIRE(c <= 1.0);
  }
  const auto t = world.step(first, 0, rng);
  REQUIRE_FALSE(t.done);
  REQUIRE(t.next.user[world.step_row()] == 1.0);
  REQUIRE(t.next.user[world.clicks_row()] + t.next.user[world.skips_row()] == 1.0);
  REQUIRE(t.next.user.segment(world.fatigue_row(), p.n_categories) == world.state().fatigue);
  SECTION("a stale context or an action out of range is rejected") {
    REQUIRE_THROWS_WITH(world.step(first, 0, rng), Contains("not the current request"));
    REQUIRE_THROWS_WITH(world.expected_reward(t.next, 99), Contains("candidate 99"));
  }
}

TEST_CASE("with every dynamic off the session length is geometric and the return obeys Wald's identity",
          "[simulator][statistical]") {
  // Every logit is bias_mean = -1 (no affinity, no popularity term), so each
  // request's exact expected reward is r = sigmoid(-1), and the session ends
  // after each step with probability q independently of the rewards. The
  // length L is geometric truncated at T: E[L] = (1 - (1 - q)^T) / q (= 1/q to
  // 1e-19 here), Var L = (1 - q) / q^2. By Wald's identity the return
  // R = sum_{t < L} click_t has E[R] = r E[L] and
  // Var R = E[L] r (1 - r) + Var(L) r^2. Over N sessions the means have
  // standard errors sqrt(Var / N); tolerance 4 SE (false failure ~6e-5).
  auto config = dynamics_off();
  config.population.signal = 0.0;
  config.population.bias_mean = -1.0;
  config.population.bias_sd = 0.0;
  config.population.popularity_weight = 0.0;
  config.max_steps = 200;
  const double q = 0.2;
  config.leave_bias = logit_of(q);
  config.return_mean_days = 2.5;
  SessionWorld world(config);
  const double r = 1.0 / (1.0 + std::exp(1.0));
  const double mean_length = (1.0 - std::pow(1.0 - q, 200.0)) / q;
  const double var_length = (1.0 - q) / (q * q);
  const double var_return = mean_length * r * (1.0 - r) + var_length * r * r;

  const auto policy = deterministic_policy("first", first_candidate);
  const std::size_t n = 20000;
  std::vector<double> lengths, returns, days;
  for (std::size_t i = 0; i < n; ++i) {
    const auto record = run_session(world, i, policy);
    // The exact expected reward is r at every step, so the trajectory's sum is r L.
    REQUIRE(record.first_expected_reward == Approx(r).epsilon(1e-12));
    REQUIRE(record.expected_value == Approx(r * static_cast<double>(record.steps)).epsilon(1e-12));
    REQUIRE(record.expected_return_days == 2.5);  // satisfaction stays 0
    lengths.push_back(static_cast<double>(record.steps));
    returns.push_back(record.value);
    days.push_back(record.return_days);
  }
  const auto length = summarize(lengths);
  const auto value = summarize(returns);
  const auto wait = summarize(days);
  const double nd = static_cast<double>(n);
  REQUIRE(std::abs(length.mean - mean_length) < 4.0 * std::sqrt(var_length / nd));
  REQUIRE(std::abs(value.mean - r * mean_length) < 4.0 * std::sqrt(var_return / nd));
  // Exponential return time: mean 2.5, variance 2.5^2.
  REQUIRE(std::abs(wait.mean - 2.5) < 4.0 * 2.5 / std::sqrt(nd));
}

TEST_CASE("fatigue lowers a repeated category's logit by fatigue_weight times its decayed count",
          "[simulator]") {
  // Closed form: after showing category k at step 0, F_1[k] = 1 (plus
  // clickbait_fatigue c for a clickbait item) and every other F_1[j] = 0; after
  // showing category k again at step 1, F_2[k] = decay F_1[k] + 1 (+ its
  // clickbait term). The click probability of a candidate i is
  // sigmoid(x_i - w F[k_i]), x_i the population world's logit for the
  // session's (undrifted) user. Satisfaction (click and skip terms off) falls
  // by satisfaction_fatigue F_t[k] per step: 0 at step 0, F_1[k] at step 1.
  auto config = dynamics_off();
  const double w = 0.8, decay = 0.5, tiring = 0.3;
  config.fatigue_weight = w;
  config.fatigue_decay = decay;
  config.satisfaction_fatigue = tiring;
  SECTION("without clickbait") {}
  SECTION("with clickbait adding to the fatigue of its category") {
    config.clickbait_share = 1.0;
    config.clickbait_fatigue = 2.0;
  }
  SessionWorld world(config);
  Rng rng(3);
  const auto& population = world.population();
  int checked = 0;
  for (std::uint64_t session = 0; checked < 5; ++session) {
    REQUIRE(session < 100);
    Context context = world.begin(session);
    const auto user = world.state().user;
    const std::uint32_t k = population.item_truth(context.items[0]).category;
    const double added = 1.0 + config.clickbait_fatigue * world.clickbait(context.items[0]);
    auto t = world.step(context, 0, rng);
    REQUIRE_FALSE(t.done);
    context = t.next;
    REQUIRE(world.state().fatigue[k] == added);
    REQUIRE(world.state().fatigue.sum() == added);
    const ActionId other = candidate_in(world, context, (k + 1) % 3);
    const ActionId same = candidate_in(world, context, k);
    if (other == context.size() || same == context.size()) continue;
    for (ActionId a = 0; a < context.size(); ++a) {
      const auto category = population.item_truth(context.items[a]).category;
      const double penalty = category == k ? w * added : 0.0;
      const double x = population.logit(user, context.items[a]);
      REQUIRE(world.click_probability(a) == Approx(attractiveness(x - penalty)).epsilon(1e-12));
    }
    REQUIRE(world.state().satisfaction == 0.0);
    const double added_again = 1.0 + config.clickbait_fatigue * world.clickbait(context.items[same]);
    t = world.step(context, same, rng);
    REQUIRE_FALSE(t.done);
    REQUIRE(world.state().fatigue[k] == Approx(decay * added + added_again).epsilon(1e-15));
    REQUIRE(world.state().fatigue.sum() == Approx(decay * added + added_again).epsilon(1e-15));
    REQUIRE(world.state().satisfaction == Approx(-tiring * added).epsilon(1e-15));
    ++checked;
  }
}

TEST_CASE("a click pulls the latent preference towards the clicked item by the configured rate",
          "[simulator]") {
  // z_1 = z_0 + rate (v - z_0) after a click on v; unchanged after a skip.
  auto config = dynamics_off();
  const double rate = 0.3;
  config.consume_rate = rate;
  SessionWorld world(config);
  Rng rng(5);
  int clicks = 0, skips = 0;
  for (std::uint64_t session = 0; clicks < 5 || skips < 5; ++session) {
    REQUIRE(session < 500);
    const Context context = world.begin(session);
    const Eigen::VectorXd z0 = world.state().latent;
    REQUIRE(z0 == world.population().user_latent(world.state().user));
    const Eigen::VectorXd v = world.population().item_truth(context.items[0]).latent;
    world.step(context, 0, rng);
    const Eigen::VectorXd z1 = world.state().latent;
    if (world.state().clicks == 1) {
      ++clicks;
      const Eigen::VectorXd expected = z0 + rate * (v - z0);
      for (Eigen::Index j = 0; j < z0.size(); ++j) REQUIRE(z1[j] == Approx(expected[j]).margin(1e-14));
    } else {
      ++skips;
      REQUIRE(z1 == z0);
    }
  }
}

TEST_CASE("interest drift is a Gaussian random walk with the configured sd",
          "[simulator][statistical]") {
  // Each coordinate of z_1 - z_0 is drift_sd e, e ~ N(0, 1), independent.
  // With n = 2000 x 6 increments the mean square estimates drift_sd^2 with a
  // relative sd of sqrt(2 / n) = 1.3%; tolerance 5 of those.
  auto config = dynamics_off();
  const double sd = 0.2;
  config.drift_sd = sd;
  SessionWorld world(config);
  Rng rng(7);
  double squares = 0.0;
  std::size_t n = 0;
  for (std::uint64_t session = 0; session < 2000; ++session) {
    const Context context = world.begin(session);
    const Eigen::VectorXd z0 = world.state().latent;
    world.step(context, 0, rng);
    squares += (world.state().latent - z0).squaredNorm();
    n += static_cast<std::size_t>(z0.size());
  }
  const double relative = squares / static_cast<double>(n) / (sd * sd) - 1.0;
  REQUIRE(std::abs(relative) < 5.0 * std::sqrt(2.0 / static_cast<double>(n)));
}

TEST_CASE("without population drift every session starts from the population member's interest",
          "[simulator]") {
  SessionWorld::Config config;  // every dynamic on, at its default
  config.population.n_items = 100;
  config.population.n_users = 300;
  config.drift_sd = 0.1;
  REQUIRE(config.population_drift_sd == 0.0);
  SessionWorld world(config);
  for (std::uint64_t session : {0, 1, 2, 50, 999, 3, 100000}) {
    world.begin(session);
    REQUIRE(world.state().latent == world.population().user_latent(world.state().user));
  }
}

TEST_CASE("population drift shifts each session's start by one random walk over the session index",
          "[simulator][statistical]") {
  // Header: session i starts from z_u + w(i), w(i) = w(i-1) + sd e'_i with
  // e'_i ~ N(0, I) independent. Over n = 3000 steps x latent_dim coordinates:
  // - the mean square of w(i+1) - w(i) over sd^2 has mean 1 and relative sd
  //   sqrt(2 / n) (Var e^2 = 2); tolerance 5 of those;
  // - the mean of the lag-one products d_i d_{i+1} / sd^2 has mean 0 and sd
  //   1 / sqrt(n) when the steps are independent; tolerance 5 of those.
  auto config = dynamics_off();
  const double sd = 0.3;
  config.population_drift_sd = sd;
  SessionWorld world(config);
  const std::uint64_t sessions = 3001;
  std::vector<Eigen::VectorXd> w(sessions);
  std::vector<std::vector<std::uint64_t>> sessions_of(
      static_cast<std::size_t>(config.population.n_users));
  for (std::uint64_t i = 0; i < sessions; ++i) {
    world.begin(i);
    const auto user = world.state().user;
    w[i] = world.population_drift(i);
    REQUIRE(world.state().latent == world.population().user_latent(user) + w[i]);
    sessions_of[user].push_back(i);
  }
  REQUIRE(w[0].isZero());
  double squares = 0.0, lagged = 0.0;
  std::size_t n = 0;
  for (std::uint64_t i = 0; i + 1 < sessions; ++i) {
    const Eigen::VectorXd d = w[i + 1] - w[i];
    squares += d.squaredNorm();
    if (i + 2 < sessions) lagged += d.dot(w[i + 2] - w[i + 1]);
    n += static_cast<std::size_t>(d.size());
  }
  const double nd = static_cast<double>(n);
  REQUIRE(std::abs(squares / nd / (sd * sd) - 1.0) < 5.0 * std::sqrt(2.0 / nd));
  REQUIRE(std::abs(lagged / nd / (sd * sd)) < 5.0 / std::sqrt(nd));
  // A user met twice starts the second time moved by w(j) - w(i).
  std::size_t repeated = 0;
  for (const auto& list : sessions_of) {
    if (list.size() < 2) continue;
    ++repeated;
    world.begin(list.front());
    const Eigen::VectorXd first = world.state().latent;
    world.begin(list.back());
    const Eigen::VectorXd moved = world.state().latent - first;
    REQUIRE((moved - (w[list.back()] - w[list.front()])).cwiseAbs().maxCoeff() < 1e-12);
    REQUIRE(moved.norm() > 0.0);
  }
  REQUIRE(repeated > 100);
}

TEST_CASE("population drift at session i has variance i sd^2 per coordinate",
          "[simulator][statistical]") {
  // w(400) ~ N(0, 400 sd^2 I) over world seeds. With 300 seeds x latent_dim
  // coordinates the mean square over 400 sd^2 has mean 1 and relative sd
  // sqrt(2 / n); tolerance 5 of those.
  const double sd = 0.05;
  const std::uint64_t session = 400;
  double squares = 0.0;
  std::size_t n = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    auto config = dynamics_off();
    config.population.n_items = 20;
    config.population.n_users = 10;
    config.population.seed = seed;
    config.population_drift_sd = sd;
    SessionWorld world(config);
    const Eigen::VectorXd& w = world.population_drift(session);
    squares += w.squaredNorm();
    n += static_cast<std::size_t>(w.size());
  }
  const double nd = static_cast<double>(n);
  const double variance = static_cast<double>(session) * sd * sd;
  REQUIRE(std::abs(squares / nd / variance - 1.0) < 5.0 * std::sqrt(2.0 / nd));
}

TEST_CASE("population drift meets every policy with the same user and start in any session order",
          "[simulator]") {
  SessionWorld::Config config;  // every dynamic on, at its default
  config.population.n_items = 100;
  config.population.n_users = 300;
  config.drift_sd = 0.1;
  config.population_drift_sd = 0.2;
  SessionWorld forward(config), backward(config), alone(config);
  Rng rng(3);
  struct Start {
    std::uint32_t user;
    Eigen::VectorXd latent;
    Context context;
  };
  // Two policies (always the first, always the last candidate) that see the
  // sessions in opposite orders.
  auto play = [&rng](SessionWorld& world, std::uint64_t session, bool last) {
    Context context = world.begin(session);
    Start start{world.state().user, world.state().latent, context};
    while (true) {
      const ActionId a = last ? static_cast<ActionId>(context.size() - 1) : 0;
      auto t = world.step(context, a, rng);
      if (t.done) break;
      context = t.next;
    }
    return start;
  };
  const std::uint64_t sessions = 20;
  std::vector<Start> a, b(sessions);
  for (std::uint64_t s = 0; s < sessions; ++s) a.push_back(play(forward, s, false));
  for (std::uint64_t s = sessions; s-- > 0;) b[s] = play(backward, s, true);
  for (std::uint64_t s = 0; s < sessions; ++s) {
    REQUIRE(a[s].user == b[s].user);
    REQUIRE(a[s].latent == b[s].latent);
    REQUIRE(a[s].context.items == b[s].context.items);
    REQUIRE(a[s].context.user == b[s].context.user);
  }
  const Start last = play(alone, sessions - 1, false);
  REQUIRE(last.latent == a[sessions - 1].latent);
  REQUIRE(!(a[sessions - 1].latent == alone.population().user_latent(last.user)));
}

TEST_CASE("satisfaction follows its update rule and sets the leave probability",
          "[simulator][statistical]") {
  // With bias 8 a shown item is clicked with probability 1 - 3e-4, so after
  // step 0 s_1 = satisfaction_click - satisfaction_clickbait c (no fatigue
  // yet) and the session ends with probability sigmoid(b - slope s_1). Over
  // n = 20000 sessions of clean first items the leave frequency has sd
  // sqrt(P(1 - P) / n); tolerance 4 sd (the 3e-4 of skips shift P by < 1e-4).
  auto config = dynamics_off();
  config.population.bias_mean = 8.0;
  config.population.bias_sd = 0.0;
  config.population.signal = 0.0;
  config.satisfaction_click = 1.0;
  config.satisfaction_skip = 0.5;
  config.satisfaction_clickbait = 3.0;
  config.clickbait_share = 0.5;
  config.leave_bias = 0.0;
  config.leave_slope = 1.0;
  SessionWorld world(config);
  Rng rng(11);
  std::size_t clean = 0, left = 0;
  for (std::uint64_t session = 0; session < 20000; ++session) {
    const Context context = world.begin(session);
    const double c = world.clickbait(context.items[0]);
    const auto t = world.step(context, 0, rng);
    const double expected = world.state().clicks == 1 ? 1.0 - 3.0 * c : -0.5;
    REQUIRE(world.state().satisfaction == Approx(expected).margin(1e-15));
    if (c == 0.0 && world.state().clicks == 1) {
      ++clean;
      left += t.done ? 1 : 0;
    }
  }
  const double p = 1.0 / (1.0 + std::exp(1.0));  // sigmoid(0 - 1 * 1)
  const double frequency = static_cast<double>(left) / static_cast<double>(clean);
  REQUIRE(clean > 5000);
  REQUIRE(std::abs(frequency - p) < 4.0 * std::sqrt(p * (1.0 - p) / static_cast<double>(clean)));
}

TEST_CASE("the same seed and session replay the same trajectory in any order", "[simulator]") {
  SessionWorld::Config config;  // every dynamic on, at its default
  config.population.n_items = 100;
  config.population.n_users = 300;
  config.drift_sd = 0.1;
  SessionWorld first(config), second(config);
  const auto policy = stochastic_policy("uniform", [](const Context& context) {
    return std::vector<double>(context.size(), 1.0 / static_cast<double>(context.size()));
  });
  std::vector<std::vector<SessionStep>> forward(10), backward(10);
  std::vector<SessionRecord> forward_records(10), backward_records(10);
  for (std::uint64_t s = 0; s < 10; ++s) {
    forward_records[s] = run_session(first, s, policy, 42, &forward[s]);
  }
  for (std::uint64_t s = 10; s-- > 0;) {
    backward_records[s] = run_session(second, s, policy, 42, &backward[s]);
  }
  std::size_t steps = 0;
  for (std::size_t s = 0; s < 10; ++s) {
    REQUIRE(forward[s].size() == backward[s].size());
    REQUIRE(forward_records[s].return_days == backward_records[s].return_days);
    for (std::size_t t = 0; t < forward[s].size(); ++t) {
      const auto& a = forward[s][t];
      const auto& b = backward[s][t];
      REQUIRE(a.context.user == b.context.user);
      REQUIRE(a.context.actions == b.context.actions);
      REQUIRE(a.context.items == b.context.items);
      REQUIRE(a.action == b.action);
      REQUIRE(a.reward == b.reward);
      REQUIRE(a.expected_reward == b.expected_reward);
      REQUIRE(a.done == b.done);
    }
    steps += forward[s].size();
  }
  REQUIRE(steps > 10);  // sessions of more than one step were compared
}

TEST_CASE("reset draws a session index from the rng", "[simulator]") {
  SessionWorld world(dynamics_off());
  Rng a(9), b(9);
  const Context first = world.reset(a);
  const Context again = world.begin(b());
  REQUIRE(first.items == again.items);
  REQUIRE(first.user == again.user);
}
