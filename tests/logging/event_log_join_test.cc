// SPDX-License-Identifier: Apache-2.0
// Reward windows, aggregation, late rewards, skip-learning and deferred
// decisions of EventLog (schema version 4), on a fake clock.
#include "logging/event_log.h"

#include "tests/logging/fixtures.h"
#include "tests/logging/sql_fixtures.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace recloop;
using recloop::testing::sample_decision;
using recloop::testing::query_int;
using recloop::testing::run_sql;
using recloop::testing::TempDir;

namespace {

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kStart = 1'800'000'000 * kSecond;

// A settable clock shared with the log.
struct FakeClock {
  std::int64_t now = kStart;
  void advance(std::int64_t us) { now += us; }
};

JoinOptions windowed(FakeClock& clock, std::int64_t window_us,
                     RewardAggregation aggregation = RewardAggregation::earliest,
                     double default_reward = 0.0) {
  JoinOptions join;
  join.window_us = window_us;
  join.default_reward = default_reward;
  join.aggregation = aggregation;
  join.now_us = [&clock] { return clock.now; };
  return join;
}

Reward reward(const std::string& event_id, double value, std::int64_t timestamp_us,
              const std::string& reward_id = {}) {
  return Reward{event_id, value, timestamp_us, reward_id};
}

std::vector<Interaction> all(const EventLog& log) {
  std::vector<Interaction> seen;
  log.for_each([&](const Interaction& i) { seen.push_back(i); });
  return seen;
}

}  // namespace

TEST_CASE("a window joins the sum of the rewards received before it closes", "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, 10 * kSecond, RewardAggregation::sum));
  log.write({sample_decision("a")}, {reward("a", 1.0, kStart, "click")});
  clock.advance(5 * kSecond);
  auto result = log.write({}, {reward("a", 2.5, kStart + 1, "buy"), reward("a", 0.25, kStart + 2, "view")});
  CHECK(result.joined.empty());
  CHECK(log.interaction_count() == 0);
  clock.advance(5 * kSecond - 1);
  CHECK(log.close_due().joined.empty());  // one microsecond before the close
  clock.advance(1);
  result = log.close_due();
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].event_id == "a");
  CHECK(result.joined[0].reward == 3.75);
  CHECK(result.defaulted == 0);
  REQUIRE(all(log).size() == 1);
  CHECK(all(log)[0].reward == 3.75);
}

TEST_CASE("earliest aggregation joins the reward with the smallest timestamp, ties by arrival",
          "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, kSecond, RewardAggregation::earliest));
  log.write({sample_decision("a"), sample_decision("b", "uniform", 4, 2)},
            {reward("a", 0.5, kStart + 300, "late-stamp"), reward("a", 0.75, kStart + 100, "first"),
             reward("b", 0.125, kStart + 7, "x"), reward("b", 0.875, kStart + 7, "y")});
  // Arrives later but carries an even earlier timestamp: it wins for "a".
  log.write({}, {reward("a", 0.25, kStart + 50, "stamped-earliest")});
  clock.advance(kSecond);
  const auto result = log.close_due();
  REQUIRE(result.joined.size() == 2);
  for (const auto& interaction : result.joined) {
    if (interaction.event_id == "a") CHECK(interaction.reward == 0.25);
    if (interaction.event_id == "b") CHECK(interaction.reward == 0.125);  // tie: first to arrive
  }
}

TEST_CASE("a window that closes without a reward joins the default reward", "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, 30 * kSecond, RewardAggregation::sum, -1.5));
  log.append(sample_decision("silent"));
  clock.advance(30 * kSecond);
  const auto result = log.close_due();
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == -1.5);
  CHECK(result.defaulted == 1);
  CHECK(log.unrewarded_count() == 0);
  CHECK(log.open_window_count() == 0);
}

TEST_CASE("a reward after its window closed is stored as late and never joined", "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, kSecond, RewardAggregation::sum));
  log.write({sample_decision("a")}, {reward("a", 1.0, kStart, "r1")});
  clock.advance(2 * kSecond);
  // The write closes the due window before storing the reward.
  const auto result = log.write({}, {reward("a", 5.0, kStart + 10, "r2")});
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == 1.0);
  CHECK(result.reward_is_new == std::vector<bool>{true});
  CHECK(result.late == 1);
  CHECK(log.late_count() == 1);
  CHECK(log.reward_count() == 2);
  clock.advance(10 * kSecond);
  CHECK(log.close_due().joined.empty());
  REQUIRE(all(log).size() == 1);
  CHECK(all(log)[0].reward == 1.0);
}

TEST_CASE("rewards that arrive before their decision count in its window", "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, kSecond, RewardAggregation::sum));
  log.write({}, {reward("early", 0.5, kStart, "r1"), reward("early", 0.25, kStart, "r2")});
  clock.advance(100 * kSecond);  // long before the decision: its window has not opened
  CHECK(log.close_due().joined.empty());
  log.append(sample_decision("early"));
  CHECK(log.interaction_count() == 0);
  clock.advance(kSecond);
  const auto result = log.close_due();
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == 0.75);
  CHECK(result.late == 0);
}

TEST_CASE("a resent reward id is stored once, distinct reward ids are all aggregated",
          "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, kSecond, RewardAggregation::sum));
  log.append(sample_decision("a"));
  const auto first = log.write({}, {reward("a", 1.0, kStart, "r1"), reward("a", 1.0, kStart, "r1"),
                                    reward("a", 2.0, kStart, "r2")});
  CHECK(first.reward_is_new == std::vector<bool>{true, false, true});
  const auto resent = log.write({}, {reward("a", 1.0, kStart, "r1")});
  CHECK(resent.reward_is_new == std::vector<bool>{false});
  CHECK(log.reward_count() == 2);
  clock.advance(kSecond);
  const auto result = log.close_due();
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == 3.0);
}

TEST_CASE("without a window a second reward id of a joined decision is late", "[logging]") {
  EventLog log(":memory:");
  const auto result = log.write({sample_decision("a")},
                                {reward("a", 1.0, kStart, "r1"), reward("a", 9.0, kStart, "r2")});
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == 1.0);
  CHECK(result.late == 1);
  CHECK(log.late_count() == 1);
}

TEST_CASE("a skip-learning decision is joined and reported as not to be learned", "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, kSecond));
  LoggedDecision skipped = sample_decision("skip");
  skipped.decision.skip_learning = true;
  log.write({skipped, sample_decision("learn", "uniform", 4, 2)}, {});
  clock.advance(kSecond);
  const auto result = log.close_due();
  REQUIRE(result.joined.size() == 2);
  REQUIRE(result.skip_learning.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(result.skip_learning[i] == (result.joined[i].event_id == "skip"));
  }
  CHECK(log.interaction_count() == 2);
}

TEST_CASE("a deferred decision's window opens when it is activated", "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, 10 * kSecond, RewardAggregation::sum, 0.0));
  LoggedDecision deferred = sample_decision("d");
  deferred.decision.deferred = true;
  log.write({deferred}, {reward("d", 1.0, kStart, "r1")});
  clock.advance(60 * kSecond);
  CHECK(log.close_due().joined.empty());
  CHECK(log.open_window_count() == 0);
  const auto activated = log.write({}, {}, {"d"});
  CHECK(activated.activated == 1);
  CHECK(activated.activation_is_new == std::vector<bool>{true});
  CHECK(log.write({}, {}, {"d"}).activation_is_new == std::vector<bool>{false});
  clock.advance(10 * kSecond - 1);
  CHECK(log.close_due().joined.empty());
  clock.advance(1);
  const auto result = log.close_due();
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == 1.0);  // the reward from before the activation counts
}

TEST_CASE("a deferred decision never activated is never joined or defaulted", "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, kSecond, RewardAggregation::sum, 7.0));
  LoggedDecision deferred = sample_decision("d");
  deferred.decision.deferred = true;
  log.write({deferred}, {reward("d", 1.0, kStart)});
  clock.advance(365 * 24 * 3600 * kSecond);
  const auto result = log.close_due();
  CHECK(result.joined.empty());
  CHECK(result.defaulted == 0);
  CHECK(log.interaction_count() == 0);
  CHECK(log.unrewarded_count() == 1);
  CHECK(log.late_count() == 0);
}

TEST_CASE("a deferred decision without a window is joined to its first reward when activated",
          "[logging]") {
  EventLog log(":memory:");
  LoggedDecision deferred = sample_decision("d");
  deferred.decision.deferred = true;
  CHECK(log.write({deferred}, {reward("d", 0.5, kStart)}).joined.empty());
  const auto result = log.write({}, {}, {"d"});
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == 0.5);
  CHECK(result.activated == 1);
}

TEST_CASE("an activation that arrives before its decision is applied when the decision comes",
          "[logging]") {
  FakeClock clock;
  EventLog log(":memory:", windowed(clock, 10 * kSecond, RewardAggregation::sum, 2.0));
  const auto early = log.write({}, {}, {"d"});
  CHECK(early.activation_is_new == std::vector<bool>{true});
  CHECK(early.activated == 0);
  clock.advance(100 * kSecond);
  LoggedDecision deferred = sample_decision("d");
  deferred.decision.deferred = true;
  // The window opens when the decision is stored, not at the activation.
  CHECK(log.write({deferred}, {}).activated == 1);
  clock.advance(10 * kSecond - 1);
  CHECK(log.close_due().joined.empty());
  clock.advance(1);
  const auto result = log.close_due();
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == 2.0);
  CHECK(result.defaulted == 1);
}

TEST_CASE("a log reopened after a crash closes its overdue windows once",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("windows.db");
  FakeClock clock;
  {
    EventLog log(path, windowed(clock, 60 * kSecond, RewardAggregation::sum));
    log.write({sample_decision("a"), sample_decision("b", "uniform", 4, 2)},
              {reward("a", 1.0, kStart, "r1")});
    clock.advance(30 * kSecond);
    log.write({}, {reward("a", 1.0, kStart, "r2")});
  }  // mid-window: nothing joined yet
  CHECK(query_int(path, "SELECT COUNT(*) FROM windows") == 2);
  clock.advance(3600 * kSecond);
  EventLog reopened(path, windowed(clock, 60 * kSecond, RewardAggregation::sum));
  const auto result = reopened.close_due();
  REQUIRE(result.joined.size() == 2);
  CHECK(result.joined[0].event_id == "a");  // both closed at the same deadline: by event id
  CHECK(result.joined[0].reward == 2.0);
  CHECK(result.joined[1].reward == 0.0);
  CHECK(result.defaulted == 1);
  CHECK(reopened.close_due().joined.empty());
  EventLog again(path, windowed(clock, 60 * kSecond, RewardAggregation::sum));
  CHECK(again.close_due().joined.empty());
  CHECK(again.interaction_count() == 2);
}

TEST_CASE("a window's deadline is fixed when it opens", "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("fixed.db");
  FakeClock clock;
  {
    EventLog log(path, windowed(clock, 10 * kSecond));
    log.append(sample_decision("a"));
  }
  // Reopened without a window: the open window still closes at its deadline.
  JoinOptions first_reward;
  first_reward.now_us = [&clock] { return clock.now; };
  EventLog log(path, first_reward);
  CHECK(log.write({}, {reward("a", 1.0, kStart)}).joined.empty());
  clock.advance(10 * kSecond);
  const auto result = log.close_due();
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].reward == 1.0);
}

TEST_CASE("a decision's session and step are stored and read back", "[logging]") {
  EventLog log(":memory:");
  LoggedDecision logged = sample_decision("s");
  logged.decision.session = "user-7/visit-3";
  logged.decision.step = 4;
  const auto result = log.write({logged}, {reward("s", 1.0, kStart)});
  REQUIRE(result.joined.size() == 1);
  CHECK(result.joined[0].session == "user-7/visit-3");
  CHECK(result.joined[0].step == 4);
  const auto seen = all(log);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].session == "user-7/visit-3");
  CHECK(seen[0].step == 4);
}

TEST_CASE("a version 3 log is migrated to version 4 in place and continues",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("v3.db");
  // A version 3 file as version 3 wrote it: decision 1 joined, decision 2
  // waiting, and a reward for an event whose decision has not come.
  run_sql(path,
          "CREATE TABLE schema_version (version INTEGER NOT NULL);"
          "INSERT INTO schema_version (version) VALUES (3);"
          "CREATE TABLE decisions (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
          " event_id TEXT NOT NULL UNIQUE, timestamp_us INTEGER NOT NULL, policy TEXT NOT NULL,"
          " model_version INTEGER NOT NULL, action INTEGER NOT NULL, item INTEGER NOT NULL,"
          " probability REAL NOT NULL, n_candidates INTEGER NOT NULL, pmf BLOB NOT NULL,"
          " context BLOB NOT NULL, truth BLOB, slot INTEGER NOT NULL DEFAULT 0,"
          " conditional REAL NOT NULL DEFAULT 0);"
          "CREATE TABLE rewards (event_id TEXT PRIMARY KEY, reward REAL NOT NULL,"
          " timestamp_us INTEGER NOT NULL, received_seq INTEGER NOT NULL) WITHOUT ROWID;"
          "CREATE VIEW interactions AS SELECT d.seq, d.event_id, d.policy, d.action, d.item,"
          " d.slot, d.probability, d.conditional, r.reward FROM decisions AS d JOIN rewards AS r"
          " ON r.event_id = d.event_id ORDER BY d.seq;");
  {
    // Decision rows with real blobs, copied in from a version 4 log.
    const std::string source = dir.file("source.db");
    { EventLog log(source); log.write({sample_decision("1"), sample_decision("2", "uniform", 4, 2)}, {}); }
    run_sql(path, "ATTACH '" + source + "' AS src;"
                  "INSERT INTO decisions (event_id, timestamp_us, policy, model_version, action,"
                  " item, probability, n_candidates, pmf, context, truth, slot, conditional)"
                  " SELECT event_id, timestamp_us, policy, model_version, action, item,"
                  " probability, n_candidates, pmf, context, truth, slot, conditional"
                  " FROM src.decisions ORDER BY seq;"
                  "INSERT INTO rewards VALUES ('1', 0.5, 10, 1), ('pending', 0.25, 20, 2);");
  }
  {
    EventLog log(path);
    CHECK(log.interaction_count() == 1);
    CHECK(log.reward_count() == 2);
    CHECK(log.unrewarded_count() == 1);
    const auto seen = all(log);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].reward == 0.5);
    CHECK(seen[0].session.empty());
    // The waiting reward joins its decision when it comes, as in version 3.
    LoggedDecision pending = sample_decision("pending", "uniform", 4, 3);
    pending.decision.session = std::string("s");  // moved in: GCC 12 misreports -Wrestrict here
    const auto result = log.write({pending}, {reward("2", 1.0, 30)});
    CHECK(result.joined.size() == 2);
  }
  CHECK(query_int(path, "SELECT version FROM schema_version") == 4);
  CHECK(query_int(path, "SELECT COUNT(*) FROM interactions") == 3);
  CHECK(query_int(path, "SELECT COUNT(*) FROM interactions WHERE session = 's' AND step = 0") == 1);
  // The version 3 rewards were copied; the new one joined its waiting decision
  // at once and is stored only as that join.
  CHECK(query_int(path, "SELECT COUNT(*) FROM received_rewards WHERE reward_id = ''") == 2);
  CHECK(query_int(path, "SELECT COUNT(*) FROM rewards WHERE reward_id IS NOT NULL") == 1);
  EventLog reopened(path);  // a migrated file opens as version 4 without further change
  CHECK(reopened.interaction_count() == 3);
  CHECK(reopened.reward_count() == 3);
}
