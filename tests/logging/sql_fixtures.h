// SPDX-License-Identifier: Apache-2.0
// Plain SQLite access to a log file from the logging tests, through a separate
// connection, as another tool would open it. Single-threaded; every failure is
// a Catch2 REQUIRE.
#pragma once

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <string>

namespace recloop::testing {

// The first column of the first row of `sql` run on `path`, as an integer.
inline long long query_int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
  const long long value = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

// Runs the statements of `sql` on `path`.
inline void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  INFO((message ? message : ""));
  sqlite3_free(message);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// Drops what schema version 4 added (and the interactions view, which reads
// it) from a log whose rewards all have their decision: the first step of
// turning a file back into an older layout to test its migration.
inline constexpr const char* kDropVersion4Sql =
          "DROP VIEW interactions;"
          "DROP TABLE received_rewards; DROP TABLE activations; DROP TABLE windows;"
          "ALTER TABLE decisions DROP COLUMN session;"
          "ALTER TABLE decisions DROP COLUMN step;"
          "ALTER TABLE decisions DROP COLUMN skip_learning;"
          "ALTER TABLE decisions DROP COLUMN deferred;"
          "ALTER TABLE decisions DROP COLUMN received_us;"
          "ALTER TABLE decisions DROP COLUMN opened_us;"
          "ALTER TABLE decisions DROP COLUMN closes_us;"
          "ALTER TABLE rewards DROP COLUMN n_rewards;"
          "ALTER TABLE rewards DROP COLUMN defaulted;"
          "ALTER TABLE rewards DROP COLUMN joined_us;"
          "ALTER TABLE rewards DROP COLUMN reward_id;";

}  // namespace recloop::testing
