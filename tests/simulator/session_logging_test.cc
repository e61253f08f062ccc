// SPDX-License-Identifier: Apache-2.0
#include "simulator/session_logging.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "simulator/session_value.h"
#include "simulator/session_world.h"

using namespace recloop;

namespace {

SessionWorld::Config small_world() {
  SessionWorld::Config c;
  c.population.n_items = 100;
  c.population.candidates = 5;
  c.population.n_users = 50;
  c.max_steps = 20;
  c.clickbait_share = 0.3;
  c.clickbait_boost = 2.0;
  c.leave_bias = -1.5;
  return c;
}

// Favours the first candidate: a skewed but full-support behaviour.
std::vector<double> skewed(const Context& context) {
  const std::size_t n = context.size();
  std::vector<double> pmf(n, 0.5 / static_cast<double>(n));
  pmf[0] += 0.5;
  return pmf;
}

TEST_CASE("Logged sessions are the sessions run_session plays with the same behaviour and seed") {
  SessionWorld logged_world(small_world());
  SessionWorld run_world(small_world());
  const SessionLoggingOptions options{.first_session = 3, .sessions = 20, .decision_seed = 9};
  const auto trajectories = log_sessions(logged_world, skewed, options);
  REQUIRE(trajectories.size() == 20);
  const SessionPolicy policy = stochastic_policy("skewed", skewed);
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    std::vector<SessionStep> steps;
    const SessionRecord record = run_session(run_world, 3 + i, policy, 9, &steps);
    const Trajectory& logged = trajectories[i];
    REQUIRE(logged.steps.size() == steps.size());
    double value = 0.0;
    for (std::size_t t = 0; t < steps.size(); ++t) {
      CHECK(logged.steps[t].action == steps[t].action);
      CHECK(logged.steps[t].reward == steps[t].reward);
      CHECK(logged.steps[t].expected_reward == steps[t].expected_reward);
      value += logged.steps[t].reward;
    }
    CHECK(value == record.value);
    CHECK(logged.terminated);
  }
}

TEST_CASE("Every logged step records the behaviour's pmf and the probability of its action") {
  SessionWorld world(small_world());
  const auto trajectories = log_sessions(world, skewed, {.sessions = 10});
  for (const Trajectory& trajectory : trajectories) {
    for (const TrajectoryStep& step : trajectory.steps) {
      REQUIRE(step.pmf == skewed(step.context));
      CHECK(step.probability == step.pmf[step.action]);
      CHECK(step.probability > 0.0);
    }
  }
}

TEST_CASE("A behaviour pmf of the wrong length is refused naming the session and step") {
  SessionWorld world(small_world());
  const BehaviourPmf bad = [](const Context&) { return std::vector<double>{1.0}; };
  CHECK_THROWS_WITH(log_sessions(world, bad, {.first_session = 4, .sessions = 1}),
                    Catch::Contains("session 4, step 0"));
}

TEST_CASE("Logged trajectories become decisions and rewards keyed by session and step") {
  SessionWorld world(small_world());
  const auto trajectories = log_sessions(world, skewed, {.first_session = 7, .sessions = 2});
  std::vector<LoggedDecision> decisions;
  std::vector<Reward> rewards;
  to_logged(trajectories, "skewed", decisions, rewards);
  REQUIRE(decisions.size() == transition_count(trajectories));
  REQUIRE(rewards.size() == decisions.size());
  const LoggedDecision& second = decisions[1];
  CHECK(second.decision.event_id == "7:1");
  CHECK(second.decision.session == "7");
  CHECK(second.decision.step == 1);
  CHECK(second.decision.policy == "skewed");
  CHECK(second.decision.probability == second.decision.pmf[second.decision.action]);
  CHECK(rewards[1].event_id == "7:1");
  CHECK(rewards[1].value == trajectories[0].steps[1].reward);
}

}  // namespace
