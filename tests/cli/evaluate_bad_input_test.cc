// SPDX-License-Identifier: Apache-2.0
// `recloop evaluate` on logs and targets that cannot be scored as they are:
// logged probabilities that are missing or zero, rewards that are not numbers,
// and a probability table that puts mass on items the log never offered. Each
// must stop with a one-line error that names the offending events, and never
// print estimates computed from a silently thinned or altered log.
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {

const std::string kBinary = RECLOOP_BINARY;

// Runs `sql` on `path` with a connection of its own, as another tool would.
void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  INFO(sql << ": " << (message ? message : ""));
  sqlite3_free(message);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// The event id of the decision stored `seq`-th.
std::string event_at(const std::string& path, int seq) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  const std::string sql = "SELECT event_id FROM decisions WHERE seq = " + std::to_string(seq);
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
  std::string id(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return id;
}

// A 300-request log of the uniform policy, written by `recloop simulate`.
struct UniformLog {
  std::string path = testing::temp_path("bad-input.db");
  UniformLog() {
    const auto result = testing::run_command(
        kBinary + " simulate -q --json --set run.steps=300 --set run.policies=uniform --log " + path);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
  }
  ~UniformLog() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  // Every row is scored: the uniform target learns nothing, so no training share.
  testing::CommandResult evaluate(const std::string& target = "uniform") const {
    return testing::run_command(kBinary + " evaluate --log " + path + " --target " + target +
                                " --train-fraction 0 --estimators ips,snips,dr");
  }
};

}  // namespace

TEST_CASE("evaluate stops at a zero logged probability naming the event", "[cli][integration]") {
  // Two bad rows: the first (in log order) must be named; nothing is estimated.
  UniformLog log;
  const std::string event = event_at(log.path, 17);
  run_sql(log.path, "UPDATE decisions SET probability = 0 WHERE seq IN (17, 230)");
  const auto result = log.evaluate();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code != 0);
  REQUIRE_THAT(result.err, Contains("'" + event + "'") && Contains("probability"));
  REQUIRE_THAT(result.out, !Contains("ips"));
}

TEST_CASE("evaluate stops at a missing logged probability naming the event", "[cli][integration]") {
  // The column is NOT NULL, so "missing" is a value that is not a number: an
  // empty string written by another tool.
  UniformLog log;
  const std::string event = event_at(log.path, 42);
  run_sql(log.path, "UPDATE decisions SET probability = '' WHERE seq = 42");
  const auto result = log.evaluate();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code != 0);
  REQUIRE_THAT(result.err, Contains("'" + event + "'") && Contains("probability"));
  REQUIRE_THAT(result.out, !Contains("ips"));
}

TEST_CASE("evaluate stops at an infinite reward naming the event", "[cli][integration]") {
  UniformLog log;
  const std::string event = event_at(log.path, 5);
  run_sql(log.path, "UPDATE rewards SET reward = 1e999 WHERE event_id = '" + event + "'");
  const auto result = log.evaluate();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code != 0);
  REQUIRE_THAT(result.err, Contains(event) && Contains("reward"));
  REQUIRE_THAT(result.out, !Contains("ips"));
}

TEST_CASE("evaluate stops at a reward that is not a number naming the event",
          "[cli][integration]") {
  // SQLite stores no NaN in a REAL column (it becomes NULL, which the schema
  // refuses), so a NaN from another tool arrives as text; sqlite3_column_double
  // would read it, and any other text or a blob, as 0. The reader refuses a
  // reward whose storage class is not REAL or INTEGER.
  for (const std::string stored : {"'NaN'", "'abc'", "''", "x'00ff'"}) {
    UniformLog log;
    const std::string event = event_at(log.path, 8);
    run_sql(log.path, "UPDATE rewards SET reward = " + stored + " WHERE event_id = '" + event + "'");
    const auto result = log.evaluate();
    INFO(stored << ": " << result.out << result.err);
    REQUIRE(result.exit_code != 0);
    REQUIRE_THAT(result.err, Contains("'" + event + "'") && Contains("reward"));
    REQUIRE_THAT(result.out, !Contains("ips"));
  }
}

TEST_CASE("evaluate stops at a probability stored as text that starts with a number",
          "[cli][integration]") {
  // sqlite3_column_double reads '0.05x' as 0.05, a valid probability.
  UniformLog log;
  const std::string event = event_at(log.path, 12);
  run_sql(log.path, "UPDATE decisions SET probability = '0.05x' WHERE seq = 12");
  const auto result = log.evaluate();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code != 0);
  REQUIRE_THAT(result.err, Contains("'" + event + "'") && Contains("probability") &&
                               Contains("'0.05x'"));
  REQUIRE_THAT(result.out, !Contains("ips"));
}

TEST_CASE("evaluate names every bad row with its seq and stored value in one line",
          "[cli][integration]") {
  UniformLog log;
  const std::string zero = event_at(log.path, 17), empty = event_at(log.path, 42),
                    text = event_at(log.path, 99);
  run_sql(log.path, "UPDATE decisions SET probability = 0 WHERE seq = 17;"
                    "UPDATE decisions SET probability = '' WHERE seq = 42;"
                    "UPDATE rewards SET reward = 'abc' WHERE event_id = '" + text + "'");
  const auto result = log.evaluate();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code != 0);
  REQUIRE_THAT(result.err,
               Contains("2 interactions with a probability that is not a number in (0, 1]: events '" +
                        zero + "' (seq 17, value 0), '" + empty + "' (seq 42, value '')") &&
                   Contains("1 interaction with a reward that is not a finite number: event '" +
                            text + "' (seq 99, value 'abc')"));
  // One line: the message and its newline.
  REQUIRE(result.err.find('\n') == result.err.size() - 1);
  REQUIRE_THAT(result.out, !Contains("ips"));
}

TEST_CASE("evaluate names the first ten bad rows and counts the rest", "[cli][integration]") {
  UniformLog log;
  run_sql(log.path, "UPDATE decisions SET probability = 2 WHERE seq > 280");
  const auto result = log.evaluate();
  INFO(result.out << result.err);
  REQUIRE(result.exit_code != 0);
  // Rows 281..300: 20 bad, the first 10 named (281..290), 10 more counted.
  const std::string tenth = event_at(log.path, 290);
  REQUIRE_THAT(result.err, Contains("20 interactions with a probability") &&
                               Contains("'" + tenth + "' (seq 290, value 2)") &&
                               !Contains("(seq 291") && Contains(" and 10 more"));
}

TEST_CASE("evaluate says how many decisions have no reward yet", "[cli][integration]") {
  UniformLog log;
  run_sql(log.path, "DELETE FROM rewards WHERE event_id IN (SELECT event_id FROM decisions "
                    "WHERE seq IN (3, 50, 201))");
  const auto text = log.evaluate();
  INFO(text.out << text.err);
  REQUIRE(text.exit_code == 0);
  REQUIRE_THAT(text.out, Contains("scored on 297") &&
                             Contains("3 decisions without a reward were not scored"));
  const auto json = testing::run_command(kBinary + " evaluate --json --log " + log.path +
                                         " --target uniform --train-fraction 0 --estimators ips");
  INFO(json.out << json.err);
  REQUIRE(json.exit_code == 0);
  REQUIRE_THAT(json.out, Contains("\"unrewarded_decisions\":3"));
}

TEST_CASE("evaluate stops at a table that puts mass on items the log never offered",
          "[cli][integration]") {
  UniformLog log;
  const std::string table = testing::temp_path("unknown-items.csv");
  {
    // Item 100000 is not in the 100-item catalogue: all of slot 0's mass is lost.
    std::ofstream out(table);
    out << "item,slot,probability\n100000,0,1\n";
  }
  const auto result = log.evaluate("table:" + table);
  std::filesystem::remove(table);
  INFO(result.out << result.err);
  REQUIRE(result.exit_code != 0);
  REQUIRE_THAT(result.err, Contains(event_at(log.path, 1)));
  REQUIRE_THAT(result.out, !Contains("ips"));
}
