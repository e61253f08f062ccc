// SPDX-License-Identifier: Apache-2.0
#include "logging/event_log.h"

#include "core/error.h"
#include "tests/logging/fixtures.h"
#include "tests/logging/sql_fixtures.h"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace recloop;
using recloop::testing::sample_decision;
using recloop::testing::sample_reward;
using recloop::testing::query_int;
using recloop::testing::run_sql;
using recloop::testing::kDropVersion4Sql;
using recloop::testing::TempDir;

namespace {

std::vector<std::string> event_ids(const EventLog& log, const std::string& policy = {}) {
  std::vector<std::string> ids;
  log.for_each([&](const Interaction& i) { ids.push_back(i.event_id); }, policy);
  return ids;
}

// Turns the version 4 file at `path` (whose rewards all have their decision)
// back into the version 3 layout: no session, step, flags or window columns,
// no received_rewards, activations or windows tables, the version 3 view.
void downgrade_to_version_3(const std::string& path) {
  run_sql(path,
          std::string(kDropVersion4Sql) +
          "CREATE VIEW interactions AS SELECT d.seq, d.event_id, d.policy, d.action, d.item, "
          "d.slot, d.probability, d.conditional, r.reward FROM decisions AS d JOIN rewards AS r "
          "ON r.event_id = d.event_id ORDER BY d.seq;"
          "UPDATE schema_version SET version = 3;");
}

}  // namespace

TEST_CASE("a repeated decision is stored once and reported as not new", "[logging]") {
  EventLog log(":memory:");
  REQUIRE(log.append(sample_decision("e1")));
  REQUIRE_FALSE(log.append(sample_decision("e1", "other", 5, 9)));
  REQUIRE(log.decision_count() == 1);
}

TEST_CASE("has_event tells whether a decision is stored", "[logging]") {
  EventLog log(":memory:");
  log.append(sample_decision("decided"));
  log.record(sample_reward("rewarded-only"));
  CHECK(log.has_event("decided"));
  CHECK_FALSE(log.has_event("rewarded-only"));
  CHECK_FALSE(log.has_event("unknown"));
}

TEST_CASE("a repeated reward is stored once and keeps its first value", "[logging]") {
  EventLog log(":memory:");
  log.append(sample_decision("e1"));
  REQUIRE(log.record(sample_reward("e1", 1.0)));
  REQUIRE_FALSE(log.record(sample_reward("e1", 0.0)));
  REQUIRE(log.reward_count() == 1);
  std::vector<double> rewards;
  log.for_each([&](const Interaction& i) { rewards.push_back(i.reward); });
  REQUIRE(rewards == std::vector<double>{1.0});
}

TEST_CASE("a reward that arrives before its decision is joined when the decision comes",
          "[logging]") {
  EventLog log(":memory:");
  REQUIRE(log.record(sample_reward("early", 0.5)));
  REQUIRE(log.interaction_count() == 0);
  REQUIRE(event_ids(log).empty());
  const auto result = log.write({sample_decision("early")}, {});
  REQUIRE(result.joined.size() == 1);
  REQUIRE(result.joined[0].event_id == "early");
  REQUIRE(result.joined[0].reward == 0.5);
  REQUIRE(event_ids(log) == std::vector<std::string>{"early"});
}

TEST_CASE("a stored interaction reads back every field exactly", "[logging]") {
  EventLog log(":memory:");
  LoggedDecision logged = sample_decision("e7", "lin_ucb", 6, 7);
  SECTION("with ground truth") {}
  SECTION("without ground truth") { logged.truth.clear(); }
  log.append(logged);
  log.record(sample_reward("e7", -2.25));
  std::vector<Interaction> seen;
  log.for_each([&](const Interaction& i) { seen.push_back(i); });
  REQUIRE(seen.size() == 1);
  const Interaction& i = seen[0];
  CHECK(i.event_id == "e7");
  CHECK(i.policy == "lin_ucb");
  CHECK(i.action == logged.decision.action);
  CHECK(i.probability == logged.decision.probability);
  CHECK(i.reward == -2.25);
  CHECK(i.truth == logged.truth);
  CHECK(i.context.user == logged.context.user);
  CHECK(i.context.actions == logged.context.actions);
  CHECK(i.context.items == logged.context.items);
}

TEST_CASE("for_each visits rewarded decisions in the order they were stored", "[logging]") {
  EventLog log(":memory:");
  for (const char* id : {"c", "a", "d", "b"}) log.append(sample_decision(id));
  // Rewards in another order, and none for "d".
  for (const char* id : {"b", "a", "c"}) log.record(sample_reward(id));
  REQUIRE(event_ids(log) == std::vector<std::string>{"c", "a", "b"});
}

TEST_CASE("for_each with a policy visits only that policy's decisions", "[logging]") {
  EventLog log(":memory:");
  log.write({sample_decision("1", "greedy"), sample_decision("2", "uniform"),
             sample_decision("3", "greedy")},
            {sample_reward("1"), sample_reward("2"), sample_reward("3")});
  REQUIRE(event_ids(log, "greedy") == std::vector<std::string>{"1", "3"});
  REQUIRE(event_ids(log, "uniform") == std::vector<std::string>{"2"});
  REQUIRE(event_ids(log, "absent").empty());
}

TEST_CASE("write returns each newly joined interaction exactly once", "[logging]") {
  EventLog log(":memory:");
  // a: decided and rewarded in one batch; b: decided only; c: rewarded only.
  auto first = log.write({sample_decision("a"), sample_decision("b")},
                         {sample_reward("c"), sample_reward("a"), sample_reward("a")});
  REQUIRE(first.decision_is_new == std::vector<bool>{true, true});
  REQUIRE(first.reward_is_new == std::vector<bool>{true, true, false});
  REQUIRE(first.joined.size() == 1);
  REQUIRE(first.joined[0].event_id == "a");

  // c's decision and b's reward complete both; repeats of a complete nothing.
  auto second = log.write({sample_decision("a"), sample_decision("c")},
                          {sample_reward("a"), sample_reward("b")});
  REQUIRE(second.decision_is_new == std::vector<bool>{false, true});
  REQUIRE(second.reward_is_new == std::vector<bool>{false, true});
  std::vector<std::string> joined;
  for (const auto& i : second.joined) joined.push_back(i.event_id);
  REQUIRE(joined == std::vector<std::string>{"c", "b"});

  auto third = log.write({sample_decision("b"), sample_decision("c")},
                         {sample_reward("b"), sample_reward("c")});
  REQUIRE(third.joined.empty());
  REQUIRE(log.interaction_count() == 3);
}

TEST_CASE("a decision that breaks the probability contract is refused", "[logging]") {
  EventLog log(":memory:");
  LoggedDecision logged = sample_decision("bad");
  SECTION("pmf of the wrong length") { logged.decision.pmf.pop_back(); }
  SECTION("action out of range") { logged.decision.action = 99; }
  SECTION("zero probability") { logged.decision.probability = 0.0; }
  SECTION("probability other than pmf[action]") { logged.decision.probability = 0.5; }
  SECTION("zero probability without a pmf") {
    logged.decision.pmf.clear();
    logged.decision.probability = 0.0;
  }
  REQUIRE_THROWS_AS(log.write({sample_decision("good"), logged}, {}), std::logic_error);
  REQUIRE(log.decision_count() == 0);
}

TEST_CASE("reopening a log file continues it", "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("run.db");
  {
    EventLog log(path);
    log.write({sample_decision("1"), sample_decision("2")}, {sample_reward("1")});
  }
  EventLog log(path);
  REQUIRE_FALSE(log.append(sample_decision("1")));
  REQUIRE(log.record(sample_reward("2")));
  log.write({sample_decision("3")}, {sample_reward("3")});
  REQUIRE(log.decision_count() == 3);
  REQUIRE(event_ids(log) == std::vector<std::string>{"1", "2", "3"});
  // Reward arrival order continues across the reopen.
  REQUIRE(query_int(path, "SELECT received_seq FROM rewards WHERE event_id = '3'") >
          query_int(path, "SELECT received_seq FROM rewards WHERE event_id = '2'"));
}

TEST_CASE("a log file is plain SQLite in WAL mode with an interactions view",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("run.db");
  {
    EventLog log(path);
    log.write({sample_decision("1"), sample_decision("2"), sample_decision("3")},
              {sample_reward("1", 1.0), sample_reward("3", 0.0)});
  }
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM interactions") == 2);
  REQUIRE(query_int(path, "SELECT SUM(reward) FROM interactions") == 1);
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM decisions WHERE truth IS NOT NULL") == 3);
  REQUIRE(query_int(path, "SELECT version FROM schema_version") == 4);
  REQUIRE(query_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1);
}

TEST_CASE("a file with another schema version is rejected naming the path and versions",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("old.db");
  { EventLog log(path); }
  run_sql(path, "UPDATE schema_version SET version = 7");
  try {
    EventLog log(path);
    FAIL("opened a version 7 file");
  } catch (const Error& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find(path) != std::string::npos);
    CHECK(message.find("version 7") != std::string::npos);
    CHECK(message.find("version 4") != std::string::npos);
  }
}

TEST_CASE("a file that is not a database is rejected naming the path", "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("notes.db");
  {
    std::FILE* file = std::fopen(path.c_str(), "w");
    REQUIRE(file);
    std::fputs("these are not the bytes of an SQLite database, but long enough to look\n", file);
    std::fclose(file);
  }
  REQUIRE_THROWS_WITH(EventLog(path), Catch::Contains(path));
}

TEST_CASE("a corrupt context blob is reported with its event id", "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("run.db");
  {
    EventLog log(path);
    log.write({sample_decision("fine"), sample_decision("broken-42")},
              {sample_reward("fine"), sample_reward("broken-42")});
  }
  run_sql(path, "UPDATE decisions SET context = x'0102' WHERE event_id = 'broken-42'");
  EventLog log(path);
  REQUIRE_THROWS_AS(log.for_each([](const Interaction&) {}), Error);
  REQUIRE_THROWS_WITH(log.for_each([](const Interaction&) {}), Catch::Contains("broken-42"));
  // The statement was reset: the log stays usable.
  REQUIRE(log.decision_count() == 2);
}

TEST_CASE("the ranking slot of a decision is stored and read back", "[logging]") {
  EventLog log(":memory:");
  LoggedDecision first = sample_decision("s0");
  LoggedDecision third = sample_decision("s2");
  third.decision.slot = 2;
  const auto result = log.write({first, third}, {sample_reward("s0"), sample_reward("s2")});
  REQUIRE(result.joined.size() == 2);
  CHECK(result.joined[1].slot == 2);
  std::vector<std::uint32_t> slots;
  log.for_each([&](const Interaction& i) { slots.push_back(i.slot); });
  REQUIRE(slots == std::vector<std::uint32_t>{0, 2});
}

TEST_CASE("a decision without a pmf is stored with only its probability", "[logging]") {
  EventLog log(":memory:");
  LoggedDecision imported = sample_decision("imported");
  imported.decision.pmf.clear();
  imported.decision.probability = 0.0294;
  REQUIRE(log.append(imported));
  log.record(sample_reward("imported", 1.0));
  std::vector<double> probabilities;
  log.for_each([&](const Interaction& i) { probabilities.push_back(i.probability); });
  REQUIRE(probabilities == std::vector<double>{0.0294});
}

TEST_CASE("a version 1 log is migrated in place and continues", "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  {
    EventLog log(path);
    log.write({sample_decision("1"), sample_decision("2")}, {sample_reward("1")});
  }
  // Turn the file back into the version 1 layout: no slot or conditional column, old view.
  downgrade_to_version_3(path);
  run_sql(path,
          "DROP VIEW interactions;"
          "ALTER TABLE decisions DROP COLUMN conditional;"
          "ALTER TABLE decisions DROP COLUMN slot;"
          "CREATE VIEW interactions AS SELECT d.seq, d.event_id, d.policy, d.action, d.item, "
          "d.probability, r.reward FROM decisions AS d JOIN rewards AS r "
          "ON r.event_id = d.event_id ORDER BY d.seq;"
          "UPDATE schema_version SET version = 1;");
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM pragma_table_info('decisions') "
                          "WHERE name = 'slot'") == 0);
  {
    EventLog log(path);
    REQUIRE_FALSE(log.append(sample_decision("1")));
    LoggedDecision ranked = sample_decision("3");
    ranked.decision.slot = 1;
    log.write({ranked}, {sample_reward("2"), sample_reward("3")});
    std::vector<std::uint32_t> slots;
    log.for_each([&](const Interaction& i) { slots.push_back(i.slot); });
    REQUIRE(slots == std::vector<std::uint32_t>{0, 0, 1});
  }
  REQUIRE(query_int(path, "SELECT version FROM schema_version") == 4);
  REQUIRE(query_int(path, "SELECT SUM(slot) FROM interactions") == 1);
  // Both steps ran: the old slot-0 decisions have their probability as conditional.
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM decisions WHERE slot = 0 "
                          "AND conditional = probability") == 2);
  EventLog reopened(path);  // a migrated file opens as version 4 without further change
  REQUIRE(reopened.interaction_count() == 3);
}

namespace {

// Turns the version 4 file at `path` back into the version 2 layout: no
// conditional column, the version 2 view.
void downgrade_to_version_2(const std::string& path) {
  downgrade_to_version_3(path);
  run_sql(path,
          "DROP VIEW interactions;"
          "ALTER TABLE decisions DROP COLUMN conditional;"
          "CREATE VIEW interactions AS SELECT d.seq, d.event_id, d.policy, d.action, d.item, "
          "d.slot, d.probability, r.reward FROM decisions AS d JOIN rewards AS r "
          "ON r.event_id = d.event_id ORDER BY d.seq;"
          "UPDATE schema_version SET version = 2;");
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM pragma_table_info('decisions') "
                          "WHERE name = 'conditional'") == 0);
}

}  // namespace

TEST_CASE("a version 2 log is migrated in place and continues", "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("v2.db");
  {
    EventLog log(path);
    LoggedDecision first = sample_decision("r/0");
    LoggedDecision second = sample_decision("r/1", "uniform", 4, 2);
    second.decision.slot = 1;
    second.decision.conditional = 1.0 / 3.0;
    log.write({first, second}, {sample_reward("r/0")});
  }
  downgrade_to_version_2(path);
  {
    EventLog log(path);
    REQUIRE_FALSE(log.append(sample_decision("r/0")));
    LoggedDecision ranked = sample_decision("s/1", "uniform", 4, 3);
    ranked.decision.slot = 1;
    ranked.decision.conditional = 0.5;
    const auto result = log.write({ranked}, {sample_reward("r/1"), sample_reward("s/1")});
    // Joined from the stored row: a version 2 decision at slot 1 has no conditional.
    REQUIRE(result.joined.size() == 2);
    CHECK(result.joined[0].event_id == "r/1");
    CHECK(result.joined[0].conditional == 0.0);
    CHECK(result.joined[1].conditional == 0.5);
  }
  REQUIRE(query_int(path, "SELECT version FROM schema_version") == 4);
  // Slot 0 gets its probability, the later slot of the old ranking 0 (unknown),
  // the new decision its own conditional.
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM decisions WHERE event_id = 'r/0' "
                          "AND conditional = probability") == 1);
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM decisions WHERE event_id = 'r/1' "
                          "AND conditional = 0") == 1);
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM interactions WHERE conditional = 0.5") == 1);
  EventLog reopened(path);
  REQUIRE(reopened.interaction_count() == 3);
}

TEST_CASE("a slot's conditional is stored, and a single-slot decision's is its probability",
          "[logging][integration]") {
  TempDir dir;
  const std::string path = dir.file("run.db");
  {
    EventLog log(path);
    LoggedDecision single = sample_decision("single");  // conditional 0: not set by the policy
    LoggedDecision slot = sample_decision("rank/2", "ranker", 4, 2);
    slot.decision.slot = 2;
    slot.decision.conditional = 0.125;
    const auto result = log.write({single, slot}, {sample_reward("single"), sample_reward("rank/2")});
    REQUIRE(result.joined.size() == 2);
    CHECK(result.joined[0].conditional == single.decision.probability);
    CHECK(result.joined[1].conditional == 0.125);
  }
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM decisions WHERE event_id = 'single' "
                          "AND conditional = probability") == 1);
  REQUIRE(query_int(path, "SELECT COUNT(*) FROM decisions WHERE event_id = 'rank/2' "
                          "AND conditional = 0.125") == 1);
  EventLog log(path);
  LoggedDecision bad = sample_decision("bad/1");
  bad.decision.slot = 1;
  bad.decision.conditional = 1.5;
  REQUIRE_THROWS_AS(log.append(bad), std::logic_error);
  REQUIRE_FALSE(log.has_event("bad/1"));
}
