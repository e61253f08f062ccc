// SPDX-License-Identifier: Apache-2.0
#include "logging/sqlite_statement.h"

#include "core/error.h"

#include <sqlite3.h>

#include <limits>

namespace recloop {
namespace {

// Text and blob lengths are passed to SQLite as int.
int checked_length(std::string_view bytes, const SqliteDatabase& db) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error("event log '" + db.path() + "': value of " + std::to_string(bytes.size()) +
                " bytes is too large to store");
  }
  return static_cast<int>(bytes.size());
}

}  // namespace

SqliteDatabase::SqliteDatabase(const std::string& path) : path_(path) {
  // NOMUTEX: one connection per thread (see event_log.h), so SQLite's own
  // per-connection locking would only cost time.
  const int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("event log '" + path + "': cannot open: " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
}

SqliteDatabase::~SqliteDatabase() {
  // All statements are finalized first (they are members declared after the
  // database), so close cannot fail with SQLITE_BUSY.
  sqlite3_close(db_);
}

void SqliteDatabase::exec(const std::string& sql, std::string_view what) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw Error("event log '" + path_ + "': " + std::string(what) + ": " + text);
  }
}

int SqliteDatabase::changes() const { return sqlite3_changes(db_); }

std::string SqliteDatabase::describe_error(std::string_view what) const {
  return "event log '" + path_ + "': " + std::string(what) + ": " + sqlite3_errmsg(db_);
}

SqliteStatement::SqliteStatement(const SqliteDatabase& db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), checked_length(sql, db),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    throw Error(db.describe_error("cannot prepare '" + std::string(sql) + "'"));
  }
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) {
    throw Error(db_.describe_error("cannot bind parameter " + std::to_string(index)));
  }
}

void SqliteStatement::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) {
    throw Error(db_.describe_error("cannot bind parameter " + std::to_string(index)));
  }
}

void SqliteStatement::bind_text(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), checked_length(text, db_), SQLITE_STATIC) !=
      SQLITE_OK) {
    throw Error(db_.describe_error("cannot bind parameter " + std::to_string(index)));
  }
}

void SqliteStatement::bind_blob(int index, std::string_view bytes) {
  // A zero-length blob with a null pointer would bind NULL; "" keeps it a blob.
  const char* data = bytes.empty() ? "" : bytes.data();
  if (sqlite3_bind_blob(stmt_, index, data, checked_length(bytes, db_), SQLITE_STATIC) !=
      SQLITE_OK) {
    throw Error(db_.describe_error("cannot bind parameter " + std::to_string(index)));
  }
}

void SqliteStatement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) {
    throw Error(db_.describe_error("cannot bind parameter " + std::to_string(index)));
  }
}

bool SqliteStatement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw Error(db_.describe_error(std::string("cannot run '") + sqlite3_sql(stmt_) + "'"));
}

void SqliteStatement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t SqliteStatement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double SqliteStatement::column_double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string_view SqliteStatement::column_text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return text ? std::string_view(text, static_cast<std::size_t>(size)) : std::string_view();
}

std::string_view SqliteStatement::column_blob(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::string_view(data, static_cast<std::size_t>(size)) : std::string_view();
}

bool SqliteStatement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int SqliteStatement::column_type(int column) const { return sqlite3_column_type(stmt_, column); }

}  // namespace recloop
