// SPDX-License-Identifier: Apache-2.0
// Thin RAII handles over the SQLite C API: a connection that closes itself and
// a prepared statement that finalizes itself. Every failure throws
// recloop::Error naming the database path and quoting sqlite3_errmsg.
// Statements are prepared once and reused: bind, step until done, reset.
// Neither type is thread-safe; both belong to the thread that uses the connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace recloop {

class SqliteDatabase {
 public:
  // Opens (creating if needed) `path` for reading and writing; ":memory:" for
  // a private in-memory database.
  explicit SqliteDatabase(const std::string& path);
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  // Runs one or more ';'-separated statements that return no rows of interest.
  // `what` describes the step for the error message.
  void exec(const std::string& sql, std::string_view what);
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int changes() const;
  // "event log '<path>': <what>: <sqlite3_errmsg>": the message every error carries.
  std::string describe_error(std::string_view what) const;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

class SqliteStatement {
 public:
  // Prepares `sql` (one statement) on `db`; `db` must outlive the statement.
  SqliteStatement(const SqliteDatabase& db, std::string_view sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Parameters are numbered from 1. Text and blobs are bound without a copy:
  // the bytes must stay valid until the next reset().
  void bind(int index, std::int64_t value);
  void bind(int index, double value);
  void bind_text(int index, std::string_view text);
  void bind_blob(int index, std::string_view bytes);
  void bind_null(int index);

  // Advances to the next row: true if a row is available, false when done.
  bool step();
  // Rewinds the statement and clears its bindings, ready for reuse. Never throws.
  void reset() noexcept;

  // Columns of the current row, numbered from 0. Views stay valid until the
  // next step() or reset().
  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string_view column_text(int column) const;
  std::string_view column_blob(int column) const;
  bool column_is_null(int column) const;
  // The column's storage class (SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT,
  // SQLITE_BLOB or SQLITE_NULL). Ask before column_double/column_text, which
  // may convert the stored value.
  int column_type(int column) const;

 private:
  const SqliteDatabase& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when leaving a scope, also when an exception passes.
class StatementReset {
 public:
  explicit StatementReset(SqliteStatement& statement) : statement_(statement) {}
  ~StatementReset() { statement_.reset(); }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  SqliteStatement& statement_;
};

}  // namespace recloop
