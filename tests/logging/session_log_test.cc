// SPDX-License-Identifier: Apache-2.0
#include "logging/session_log.h"

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "logging/event_log.h"
#include "tests/logging/fixtures.h"

using namespace recloop;
using recloop::testing::TempDir;
using recloop::testing::sample_decision;
using recloop::testing::sample_reward;

namespace {

// Step `step` of session `session`, event id "<session>:<step>", features from `seed`.
LoggedDecision session_decision(const std::string& session, std::uint32_t step, int seed,
                                const std::string& policy = "logger") {
  LoggedDecision d = sample_decision(session + ":" + std::to_string(step), policy, 4, seed);
  d.decision.session = session;
  d.decision.step = step;
  return d;
}

}  // namespace

TEST_CASE("sessions read back as trajectories in step order, each with its pmf, reward and truth",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("events.db");
  {
    EventLog log(path);
    // Stored out of step order and interleaved: session b begins first.
    std::vector<LoggedDecision> decisions{session_decision("b", 0, 5), session_decision("a", 1, 2),
                                          session_decision("a", 0, 1), session_decision("b", 1, 6),
                                          sample_decision("lonely", "logger", 4, 9)};
    decisions[3].truth.clear();  // b:1 without the exact expected rewards
    std::vector<Reward> rewards{sample_reward("b:0", 0.5), sample_reward("a:1", 1.0),
                                sample_reward("a:0", 0.0), sample_reward("b:1", 2.0),
                                sample_reward("lonely", 1.0)};
    log.write(decisions, rewards);
  }
  SessionLogSummary summary;
  const auto trajectories = read_sessions(path, {}, &summary);
  REQUIRE(trajectories.size() == 2);
  CHECK(trajectories[0].session == "b");
  CHECK(trajectories[1].session == "a");
  const Trajectory& a = trajectories[1];
  REQUIRE(a.steps.size() == 2);
  CHECK(a.terminated);
  const LoggedDecision expected0 = session_decision("a", 0, 1);
  CHECK(a.steps[0].event_id == "a:0");
  CHECK(a.steps[1].event_id == "a:1");
  CHECK(a.steps[0].action == expected0.decision.action);
  CHECK(a.steps[0].probability == expected0.decision.probability);
  CHECK(a.steps[0].pmf == expected0.decision.pmf);
  CHECK(a.steps[0].context.user == expected0.context.user);
  CHECK(a.steps[0].context.actions == expected0.context.actions);
  CHECK(a.steps[0].context.items == expected0.context.items);
  CHECK(a.steps[0].reward == 0.0);
  CHECK(a.steps[1].reward == 1.0);
  CHECK(a.steps[0].expected_reward == expected0.truth[expected0.decision.action]);
  CHECK(std::isnan(trajectories[0].steps[1].expected_reward));
  CHECK(summary.sessions == 2);
  CHECK(summary.steps == 4);
  CHECK(summary.complete == 2);
  CHECK(summary.other_decisions == 1);
  CHECK(summary.with_truth == 3);
}

TEST_CASE("a gap or a missing reward truncates a session there and a session without step 0 is "
          "skipped",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("events.db");
  {
    EventLog log(path);
    // gap: steps 0, 1, 3 (2 missing); unrewarded: step 1 has no reward; late: no step 0.
    log.write({session_decision("gap", 0, 1), session_decision("gap", 1, 2),
               session_decision("gap", 3, 3), session_decision("unrewarded", 0, 4),
               session_decision("unrewarded", 1, 5), session_decision("unrewarded", 2, 6),
               session_decision("late", 1, 7)},
              {sample_reward("gap:0"), sample_reward("gap:1"), sample_reward("gap:3"),
               sample_reward("unrewarded:0"), sample_reward("unrewarded:2"),
               sample_reward("late:1")});
  }
  SessionLogSummary summary;
  const auto trajectories = read_sessions(path, {}, &summary);
  REQUIRE(trajectories.size() == 2);
  CHECK(trajectories[0].session == "gap");
  CHECK(trajectories[0].steps.size() == 2);
  CHECK_FALSE(trajectories[0].terminated);
  CHECK(trajectories[1].session == "unrewarded");
  CHECK(trajectories[1].steps.size() == 1);
  CHECK_FALSE(trajectories[1].terminated);
  CHECK(summary.truncated == 2);
  CHECK(summary.complete == 0);
  CHECK(summary.unusable == 1);
  CHECK(summary.dropped_steps == 1 + 2 + 1);
}

TEST_CASE("only the named policy's session decisions are read, and ranking slots are skipped",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("events.db");
  {
    EventLog log(path);
    LoggedDecision slot1 = session_decision("s", 1, 3);
    slot1.decision.slot = 1;
    log.write({session_decision("s", 0, 1), slot1, session_decision("t", 0, 2, "other")},
              {sample_reward("s:0"), sample_reward("s:1"), sample_reward("t:0")});
  }
  SessionLogSummary summary;
  const auto trajectories = read_sessions(path, "logger", &summary);
  REQUIRE(trajectories.size() == 1);
  CHECK(trajectories[0].session == "s");
  CHECK(trajectories[0].steps.size() == 1);
  CHECK(trajectories[0].terminated);
  CHECK(summary.ranking_slots == 1);
}

TEST_CASE("a session holding one step twice is refused naming the file, session and events",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("events.db");
  {
    EventLog log(path);
    LoggedDecision twice = session_decision("s", 0, 2);
    twice.decision.event_id = "again";
    log.write({session_decision("s", 0, 1), twice}, {sample_reward("s:0"), sample_reward("again")});
  }
  CHECK_THROWS_WITH(read_sessions(path),
                    Catch::Contains(path) && Catch::Contains("session 's' holds step 0 twice") &&
                        Catch::Contains("s:0") && Catch::Contains("again"));
}
