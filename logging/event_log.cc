// SPDX-License-Identifier: Apache-2.0
#include "logging/event_log.h"

#include "core/check.h"
#include "core/codec.h"
#include "core/error.h"
#include "logging/schema_sql.h"
#include "logging/sqlite_statement.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

namespace recloop {
namespace {

// The layout this build reads and writes; logging/schema.sql inserts it.
constexpr std::int64_t kSchemaVersion = 4;

// Version 1 -> 2: decisions gain the ranking slot (0 for every old decision,
// which were all single-slot) and the interactions view shows it.
constexpr std::string_view kMigrateFrom1 =
    "ALTER TABLE decisions ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;"
    "DROP VIEW IF EXISTS interactions;"
    "CREATE VIEW interactions AS"
    "  SELECT d.seq, d.event_id, d.policy, d.action, d.item, d.slot, d.probability, r.reward"
    "  FROM decisions AS d JOIN rewards AS r ON r.event_id = d.event_id"
    "  ORDER BY d.seq;"
    "UPDATE schema_version SET version = 2;";

// Version 2 -> 3: decisions gain the slot's conditional probability. Known for
// slot 0, where it equals the probability (every single-slot decision); 0 =
// not recorded for the later slots of rankings logged before version 3. The
// interactions view shows it.
constexpr std::string_view kMigrateFrom2 =
    "ALTER TABLE decisions ADD COLUMN conditional REAL NOT NULL DEFAULT 0;"
    "UPDATE decisions SET conditional = probability WHERE slot = 0;"
    "DROP VIEW IF EXISTS interactions;"
    "CREATE VIEW interactions AS"
    "  SELECT d.seq, d.event_id, d.policy, d.action, d.item, d.slot, d.probability,"
    "  d.conditional, r.reward"
    "  FROM decisions AS d JOIN rewards AS r ON r.event_id = d.event_id"
    "  ORDER BY d.seq;"
    "UPDATE schema_version SET version = 3;";

// Version 3 -> 4: decisions gain session, step, the skip-learning and deferred
// flags and their window columns (old decisions: open, no window, so joined at
// their first reward); every reward is kept in received_rewards, and rewards
// keeps only the joins (rows whose decision is stored), with no reward_id. ADD COLUMN with
// constant defaults rewrites no row.
constexpr std::string_view kMigrateFrom3 =
    "ALTER TABLE decisions ADD COLUMN session TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE decisions ADD COLUMN step INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE decisions ADD COLUMN skip_learning INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE decisions ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE decisions ADD COLUMN received_us INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE decisions ADD COLUMN opened_us INTEGER DEFAULT 0;"
    "ALTER TABLE decisions ADD COLUMN closes_us INTEGER;"
    "CREATE TABLE received_rewards ("
    "  event_id TEXT NOT NULL, reward_id TEXT NOT NULL DEFAULT '', reward REAL NOT NULL,"
    "  timestamp_us INTEGER NOT NULL, received_seq INTEGER NOT NULL,"
    "  received_us INTEGER NOT NULL DEFAULT 0, late INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (event_id, reward_id)) WITHOUT ROWID;"
    "INSERT INTO received_rewards (event_id, reward_id, reward, timestamp_us, received_seq)"
    "  SELECT event_id, '', reward, timestamp_us, received_seq FROM rewards;"
    "DELETE FROM rewards WHERE event_id NOT IN (SELECT event_id FROM decisions);"
    "ALTER TABLE rewards ADD COLUMN n_rewards INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE rewards ADD COLUMN defaulted INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE rewards ADD COLUMN joined_us INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE rewards ADD COLUMN reward_id TEXT;"
    "CREATE TABLE activations (event_id TEXT PRIMARY KEY, received_us INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE TABLE windows (closes_us INTEGER NOT NULL, event_id TEXT NOT NULL,"
    "  PRIMARY KEY (closes_us, event_id)) WITHOUT ROWID;"
    "DROP VIEW IF EXISTS interactions;"
    "CREATE VIEW interactions AS"
    "  SELECT d.seq, d.event_id, d.policy, d.action, d.item, d.slot, d.probability,"
    "  d.conditional, r.reward, d.session, d.step, r.defaulted"
    "  FROM decisions AS d JOIN rewards AS r ON r.event_id = d.event_id"
    "  ORDER BY d.seq;"
    "UPDATE schema_version SET version = 4;";

// How long a writer waits for another connection's lock before failing.
constexpr int kBusyTimeoutMs = 5000;

// Page size of a new log file.
constexpr int kPageBytes = 16384;

// Largest part of a log file read through a memory map.
constexpr std::int64_t kMmapBytes = std::int64_t{1} << 30;

// Columns read by both join lookups and for_each, in this order.
constexpr std::string_view kDecisionColumns =
    "d.event_id, d.policy, d.action, d.probability, d.context, d.truth, d.slot, d.session, d.step";

// The bytes of `values` as encode_doubles() lays them out (n x f64, native =
// little-endian, see core/codec.h): bound as a blob without a copy.
std::string_view doubles_bytes(const std::vector<double>& values) {
  return {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double)};
}

std::string read_statement(bool with_policy) {
  std::string sql = "SELECT ";
  sql += kDecisionColumns;
  sql += ", r.reward FROM decisions AS d JOIN rewards AS r ON r.event_id = d.event_id";
  if (with_policy) sql += " WHERE d.policy = ?1";
  sql += " ORDER BY d.seq";
  return sql;
}

// Sets the pragmas and checks (or creates) the schema. Runs before any
// statement is prepared, since preparing needs the tables to exist.
void open_schema(SqliteDatabase& db) {
  if (sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs) != SQLITE_OK) {
    throw Error(db.describe_error("cannot set busy timeout"));
  }
  // A new file gets 16 KiB pages (SQLite's default is 4 KiB): a batch then
  // writes a quarter as many WAL frames, one pwrite() each, which took ~11% off
  // the collector's CPU time per event (5.6 vs 6.3 us). Only a file without
  // any content takes it; an existing log keeps its page size.
  db.exec("PRAGMA page_size=" + std::to_string(kPageBytes), "cannot set page_size");
  // WAL + synchronous=NORMAL: a commit is in the WAL (and so survives a killed
  // process) when COMMIT returns; only a power loss can drop the last commits.
  // Readers in other processes never block the writer.
  {
    // Switching a new file to WAL needs a moment's exclusive access and does
    // not wait on the busy handler: when another process is creating the same
    // file (a collector and a reader starting together) it fails with "database
    // is locked" or reports the old mode. Retry for up to the busy timeout.
    std::string mode;
    for (int waited_ms = 0;; waited_ms += 10) {
      try {
        SqliteStatement journal(db, "PRAGMA journal_mode=WAL");
        StatementReset reset(journal);
        mode = journal.step() ? std::string(journal.column_text(0)) : "";
      } catch (const Error&) {
        if (waited_ms >= kBusyTimeoutMs) throw;  // still locked: report SQLite's message
        mode.clear();
      }
      if (mode == "wal" || mode == "memory" || waited_ms >= kBusyTimeoutMs) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (mode != "wal" && mode != "memory") {
      throw Error("event log '" + db.path() + "': cannot switch to WAL mode (journal mode is '" +
                  mode + "')");
    }
  }
  db.exec("PRAGMA synchronous=NORMAL", "cannot set synchronous=NORMAL");
  // Reads map the file instead of copying each page through pread(): for_each
  // streams whole logs, and this reads ~1.5x faster. The mapping is only
  // address space. (Its one hazard, a file truncated under a reader, e.g. by a
  // VACUUM from another process, does not arise: recloop never shrinks a log.)
  db.exec("PRAGMA mmap_size=" + std::to_string(kMmapBytes), "cannot set mmap_size");

  // IMMEDIATE: two processes creating the same new file serialise here.
  db.exec("BEGIN IMMEDIATE", "cannot start the schema check");
  try {
    bool exists = false;
    {
      SqliteStatement find(db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'schema_version'");
      StatementReset reset(find);
      exists = find.step();
    }
    if (!exists) db.exec(std::string(kSchemaSql), "cannot create the schema");
    std::optional<std::int64_t> version;
    {
      SqliteStatement read(db, "SELECT version FROM schema_version");
      StatementReset reset(read);
      if (read.step()) version = read.column_int64(0);
    }
    if (version == 1) {
      // Migrated inside the IMMEDIATE transaction: all of it or none of it.
      db.exec(std::string(kMigrateFrom1), "cannot migrate the log from schema version 1");
      version = 2;
    }
    if (version == 2) {
      db.exec(std::string(kMigrateFrom2), "cannot migrate the log from schema version 2");
      version = 3;
    }
    if (version == 3) {
      db.exec(std::string(kMigrateFrom3), "cannot migrate the log from schema version 3");
      version = 4;
    }
    if (version != kSchemaVersion) {
      throw Error("event log '" + db.path() + "': schema version " +
                  (version ? std::to_string(*version) : std::string("(none)")) +
                  ", but this build reads version " + std::to_string(kSchemaVersion));
    }
    db.exec("COMMIT", "cannot commit the schema");
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::int64_t as_stored(std::uint64_t id) { return static_cast<std::int64_t>(id); }

void check_decision(const LoggedDecision& logged) {
  const Decision& d = logged.decision;
  const std::size_t n = logged.context.size();
  RECLOOP_CHECK(!d.event_id.empty(), "a decision needs an event id");
  RECLOOP_CHECK(d.action < n, "event '" + d.event_id + "': action out of range");
  // An empty pmf means only the chosen action's probability is known (an
  // imported log); a pmf that is present must be the one the action came from.
  RECLOOP_CHECK(d.pmf.empty() || d.pmf.size() == n,
                "event '" + d.event_id + "': pmf size differs from candidates");
  RECLOOP_CHECK(d.pmf.empty() || d.action >= n || d.pmf[d.action] == d.probability,
                "event '" + d.event_id + "': probability differs from pmf[action]");
  RECLOOP_CHECK(logged.truth.empty() || logged.truth.size() == n,
                "event '" + d.event_id + "': truth size differs from candidates");
  RECLOOP_CHECK(d.probability > 0.0 && d.probability <= 1.0,
                "event '" + d.event_id + "': probability outside (0, 1]");
  RECLOOP_CHECK(d.conditional == 0.0 || (d.conditional > 0.0 && d.conditional <= 1.0),
                "event '" + d.event_id + "': conditional neither 0 nor in (0, 1]");
}

// Bits of RowCheck::bad: the numbers of a row that cannot be scored.
constexpr unsigned kBadProbability = 1;
constexpr unsigned kBadReward = 2;

// Rows named in a bad-row error before "and N more".
constexpr std::size_t kRowsNamed = 10;

// What read_row found wrong with a row's numbers (bad = 0: nothing), with the
// storage classes of the probability and reward as stored, before any conversion.
struct RowCheck {
  unsigned bad = 0;
  int probability_type = SQLITE_FLOAT;
  int reward_type = SQLITE_FLOAT;
};

// The value stored in `column` (storage class `type`) of the current row, as
// an error shows it: a number, 'text' (cut at 40 bytes), a blob's size, or NULL.
std::string stored_value(const SqliteStatement& statement, int column, int type) {
  switch (type) {
    case SQLITE_INTEGER: return std::to_string(statement.column_int64(column));
    case SQLITE_FLOAT: {
      // The shortest of 15 or 17 digits that reads back as the stored double.
      const double value = statement.column_double(column);
      char text[32];
      std::snprintf(text, sizeof text, "%.15g", value);
      if (std::strtod(text, nullptr) != value) std::snprintf(text, sizeof text, "%.17g", value);
      return text;
    }
    case SQLITE_NULL: return "NULL";
    case SQLITE_BLOB: return "a blob of " + std::to_string(statement.column_blob(column).size()) + " bytes";
    default: {
      const std::string_view text = statement.column_text(column);
      constexpr std::size_t kShown = 40;
      return "'" + std::string(text.substr(0, kShown)) + (text.size() > kShown ? "...'" : "'");
    }
  }
}

// The rows of one kind of bad number met by a read: the count and the first
// kRowsNamed, for a one-line error that names them all.
struct BadRows {
  std::string_view what;  // "a probability that is not a number in (0, 1]"
  std::size_t count = 0;
  std::string named;

  void add(std::string_view event_id, std::int64_t seq, std::string value) {
    if (count++ >= kRowsNamed) return;
    if (!named.empty()) named += ", ";
    named += "'" + std::string(event_id) + "' (seq " + std::to_string(seq) + ", value " + value + ")";
  }
  // "N interactions with <what>: events a (...), b (...) and M more"
  std::string describe() const {
    std::string text = std::to_string(count) + (count == 1 ? " interaction" : " interactions") +
                       " with " + std::string(what) + ": " + (count == 1 ? "event " : "events ") +
                       named;
    if (count > kRowsNamed) text += " and " + std::to_string(count - kRowsNamed) + " more";
    return text;
  }
};

Interaction join(const LoggedDecision& logged, double reward) {
  Interaction interaction;
  interaction.event_id = logged.decision.event_id;
  interaction.context = logged.context;
  interaction.action = logged.decision.action;
  interaction.probability = logged.decision.probability;
  interaction.reward = reward;
  interaction.truth = logged.truth;
  interaction.policy = logged.decision.policy;
  interaction.slot = logged.decision.slot;
  interaction.conditional = logged_conditional(logged.decision.slot, logged.decision.probability,
                                               logged.decision.conditional);
  interaction.session = logged.decision.session;
  interaction.step = logged.decision.step;
  return interaction;
}

JoinOptions checked(JoinOptions join) {
  if (join.window_us < 0) {
    throw std::invalid_argument("event log: reward window must be >= 0 microseconds, got " +
                                std::to_string(join.window_us));
  }
  if (!std::isfinite(join.default_reward)) {
    throw std::invalid_argument("event log: default reward must be finite");
  }
  return join;
}

// Where a stored decision stands, as the join needs it.
struct DecisionState {
  bool stored = false;
  bool joined = false;       // its row in `rewards` exists
  bool direct = false;       // ... and holds the reward that joined it, with this id:
  std::string direct_reward_id;
  bool open = false;         // opened_us is set: not a deferred decision waiting for activation
  bool windowed = false;     // closes_us is set
  bool deferred = false;
};

}  // namespace

struct EventLog::Impl {
  explicit Impl(const std::string& path) : db(path) {
    open_schema(db);
    insert_decision.emplace(
        db,
        "INSERT OR IGNORE INTO decisions (event_id, timestamp_us, policy, "
        "model_version, action, item, probability, n_candidates, pmf, "
        "context, truth, slot, conditional, session, step, skip_learning, deferred, "
        "received_us, opened_us, closes_us) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
        "?18, ?19, ?20)");
    insert_reward.emplace(db,
                          "INSERT OR IGNORE INTO received_rewards (event_id, reward_id, reward, "
                          "timestamp_us, received_seq, received_us, late) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert_join.emplace(db,
                        "INSERT INTO rewards (event_id, reward, timestamp_us, received_seq, "
                        "n_rewards, defaulted, joined_us, reward_id) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    // The rewards of an event not late, for the join without a window (the
    // first by arrival, picked here: an ORDER BY would open a sorter per probe,
    // and nearly every probe finds nothing).
    first_reward.emplace(db,
                         "SELECT reward, timestamp_us, received_seq FROM received_rewards "
                         "WHERE event_id = ?1 AND late = 0");
    earliest_reward.emplace(db,
                            "SELECT reward, timestamp_us FROM received_rewards WHERE event_id = ?1 "
                            "AND late = 0 ORDER BY timestamp_us, received_seq LIMIT 1");
    window_rewards.emplace(db,
                           "SELECT COUNT(*), TOTAL(reward), MAX(timestamp_us) FROM received_rewards "
                           "WHERE event_id = ?1 AND late = 0");
    decision_state.emplace(db,
                           "SELECT d.opened_us IS NOT NULL, d.closes_us IS NOT NULL, d.deferred, "
                           "r.event_id IS NOT NULL, r.reward_id FROM decisions AS d "
                           "LEFT JOIN rewards AS r ON r.event_id = d.event_id WHERE d.event_id = ?1");
    insert_activation.emplace(db,
                              "INSERT OR IGNORE INTO activations (event_id, received_us) "
                              "VALUES (?1, ?2)");
    find_activation.emplace(db, "SELECT 1 FROM activations WHERE event_id = ?1");
    open_decision.emplace(db,
                          "UPDATE decisions SET opened_us = ?2, closes_us = ?3 WHERE event_id = ?1");
    insert_window.emplace(db, "INSERT OR IGNORE INTO windows (closes_us, event_id) VALUES (?1, ?2)");
    due_windows.emplace(db,
                        "SELECT closes_us, event_id FROM windows WHERE closes_us <= ?1 "
                        "ORDER BY closes_us, event_id LIMIT ?2");
    delete_window.emplace(db, "DELETE FROM windows WHERE closes_us = ?1 AND event_id = ?2");
    has_decision.emplace(db, "SELECT 1 FROM decisions WHERE event_id = ?1");
    // kDecisionColumns, then the conditional (column 9) and skip_learning
    // (column 10), which for_each does not read.
    find_decision.emplace(db, "SELECT " + std::string(kDecisionColumns) +
                                  ", d.conditional, d.skip_learning FROM decisions AS d "
                                  "WHERE d.event_id = ?1");
    read_all.emplace(db, read_statement(false));
    read_policy.emplace(db, read_statement(true));
    count_decisions.emplace(db, "SELECT COUNT(*) FROM decisions");
    count_rewards.emplace(db,
                          "SELECT (SELECT COUNT(*) FROM received_rewards) + "
                          "(SELECT COUNT(*) FROM rewards WHERE reward_id IS NOT NULL)");
    count_late.emplace(db, "SELECT COUNT(*) FROM received_rewards WHERE late = 1");
    count_windows.emplace(db, "SELECT COUNT(*) FROM windows");
    count_interactions.emplace(
        db, "SELECT COUNT(*) FROM decisions AS d JOIN rewards AS r ON r.event_id = d.event_id");
    begin.emplace(db, "BEGIN IMMEDIATE");
    commit.emplace(db, "COMMIT");
    next_received_seq = max_plus_one("SELECT COALESCE(MAX(received_seq), 0) FROM received_rewards");
    next_join_seq = max_plus_one("SELECT COALESCE(MAX(received_seq), 0) FROM rewards");
  }

  std::int64_t max_plus_one(const std::string& sql) {
    SqliteStatement last(db, sql);
    StatementReset reset(last);
    last.step();
    return last.column_int64(0) + 1;
  }

  std::size_t count(SqliteStatement& statement) {
    StatementReset reset(statement);
    statement.step();
    return static_cast<std::size_t>(statement.column_int64(0));
  }

  // Decodes the row `statement` is on (columns kDecisionColumns, then the
  // reward in column `reward_column` if >= 0) into `out`, reusing its storage.
  // Throws for a corrupt context, truth, action, slot or step. Returns which of
  // the probability and reward cannot be scored (kBadProbability, kBadReward; 0
  // for a good row): a value stored as text or a blob (column_double would
  // read 'NaN', 'abc' or '' as 0 and '0.05x' as 0.05), a probability outside
  // (0, 1], a reward that is not finite. The check is a type test per column.
  RowCheck read_row(const SqliteStatement& statement, Interaction& out, int reward_column) const {
    RowCheck check;
    unsigned& bad = check.bad;
    out.event_id.assign(statement.column_text(0));
    out.policy.assign(statement.column_text(1));
    const std::int64_t action = statement.column_int64(2);
    check.probability_type = statement.column_type(3);
    if (!is_number(check.probability_type)) bad |= kBadProbability;
    out.probability = statement.column_double(3);
    // Decoded into out's own storage: reading row after row of one shape allocates nothing.
    if (!decode_context_into(statement.column_blob(4), out.context)) {
      throw corrupt(out.event_id, "context");
    }
    if (statement.column_is_null(5)) {
      out.truth.clear();
    } else if (!decode_doubles_into(statement.column_blob(5), out.truth) ||
               out.truth.size() != out.context.size()) {
      throw corrupt(out.event_id, "truth");
    }
    if (action < 0 || static_cast<std::uint64_t>(action) >= out.context.size()) {
      throw corrupt(out.event_id, "action");
    }
    out.action = static_cast<ActionId>(action);
    if (!(out.probability > 0.0 && out.probability <= 1.0)) bad |= kBadProbability;
    const std::int64_t slot = statement.column_int64(6);
    if (slot < 0 || slot > std::int64_t{std::numeric_limits<std::uint32_t>::max()}) throw corrupt(out.event_id, "slot");
    out.slot = static_cast<std::uint32_t>(slot);
    out.session.assign(statement.column_text(7));
    const std::int64_t step = statement.column_int64(8);
    if (step < 0 || step > std::int64_t{std::numeric_limits<std::uint32_t>::max()}) throw corrupt(out.event_id, "step");
    out.step = static_cast<std::uint32_t>(step);
    if (reward_column >= 0) {
      check.reward_type = statement.column_type(reward_column);
      if (!is_number(check.reward_type)) bad |= kBadReward;
      out.reward = statement.column_double(reward_column);
      if (!std::isfinite(out.reward)) bad |= kBadReward;
    }
    return check;
  }

  static bool is_number(int type) { return type == SQLITE_INTEGER || type == SQLITE_FLOAT; }

  Error corrupt(const std::string& event_id, std::string_view column) const {
    return Error("event log '" + db.path() + "': event '" + event_id + "': corrupt " +
                 std::string(column) + " column");
  }

  DecisionState state_of(std::string_view event_id) {
    SqliteStatement& find = *decision_state;
    StatementReset reset(find);
    find.bind_text(1, event_id);
    DecisionState state;
    if (!find.step()) return state;
    state.stored = true;
    state.open = find.column_int64(0) != 0;
    state.windowed = find.column_int64(1) != 0;
    state.deferred = find.column_int64(2) != 0;
    state.joined = find.column_int64(3) != 0;
    state.direct = !find.column_is_null(4);
    if (state.direct) state.direct_reward_id.assign(find.column_text(4));
    return state;
  }

  bool is_activated(std::string_view event_id) {
    SqliteStatement& find = *find_activation;
    StatementReset reset(find);
    find.bind_text(1, event_id);
    return find.step();
  }

  // The first reward received for `event_id` and not late, if any.
  std::optional<std::pair<double, std::int64_t>> first_reward_of(std::string_view event_id) {
    SqliteStatement& find = *first_reward;
    StatementReset reset(find);
    find.bind_text(1, event_id);
    std::optional<std::pair<double, std::int64_t>> first;
    std::int64_t first_seq = 0;
    while (find.step()) {
      const std::int64_t seq = find.column_int64(2);
      if (!first || seq < first_seq) {
        first = std::pair{find.column_double(0), find.column_int64(1)};
        first_seq = seq;
      }
    }
    return first;
  }

  void insert_window_row(std::int64_t closes_us, std::string_view event_id) {
    SqliteStatement& insert = *insert_window;
    StatementReset reset(insert);
    insert.bind(1, closes_us);
    insert.bind_text(2, event_id);
    insert.step();
  }

  // Writes the join of `event_id` to `rewards`; `direct_reward_id` names the
  // joined reward when it is stored only there.
  void record_join(std::string_view event_id, double reward, std::int64_t timestamp_us,
                   std::int64_t n_rewards, bool defaulted, std::int64_t now_us,
                   const std::string* direct_reward_id = nullptr) {
    SqliteStatement& insert = *insert_join;
    StatementReset reset(insert);
    insert.bind_text(1, event_id);
    insert.bind(2, reward);
    insert.bind(3, timestamp_us);
    insert.bind(4, next_join_seq++);
    insert.bind(5, n_rewards);
    insert.bind(6, static_cast<std::int64_t>(defaulted));
    insert.bind(7, now_us);
    if (direct_reward_id) {
      insert.bind_text(8, *direct_reward_id);
    } else {
      insert.bind_null(8);
    }
    insert.step();
  }

  // Reads the stored decision `event_id` back as an interaction with `reward`
  // appended to `result`; false if it is not stored.
  bool append_stored(std::string_view event_id, double reward, EventLog::WriteResult& result) {
    SqliteStatement& find = *find_decision;
    StatementReset reset(find);
    find.bind_text(1, event_id);
    if (!find.step()) return false;
    Interaction& interaction = result.joined.emplace_back();
    const RowCheck check = read_row(find, interaction, -1);
    if (check.bad & kBadProbability) {
      throw Error("event log '" + db.path() + "': event '" + interaction.event_id +
                  "': stored probability " + stored_value(find, 3, check.probability_type) +
                  " is not a number in (0, 1]");
    }
    interaction.conditional = find.column_double(9);
    interaction.reward = reward;
    result.skip_learning.push_back(find.column_int64(10) != 0);
    return true;
  }

  // Joins the stored, open, unwindowed decision `event_id` to its first
  // reward, if one is stored.
  void join_first_stored(std::string_view event_id, std::int64_t now_us,
                         EventLog::WriteResult& result) {
    const auto reward = first_reward_of(event_id);
    if (!reward) return;
    if (append_stored(event_id, reward->first, result)) {
      record_join(event_id, reward->first, reward->second, 1, false, now_us);
    }
  }

  // Closes up to `max_windows` windows due at `now_us`, inside the caller's transaction.
  void close_windows(std::int64_t now_us, std::size_t max_windows, const JoinOptions& join,
                     EventLog::WriteResult& result) {
    due.clear();
    {
      SqliteStatement& select = *due_windows;
      StatementReset reset(select);
      select.bind(1, now_us);
      select.bind(2, static_cast<std::int64_t>(std::min<std::size_t>(
                         max_windows, std::numeric_limits<std::int64_t>::max())));
      while (select.step()) due.emplace_back(select.column_int64(0), select.column_text(1));
    }
    for (const auto& [closes_us, event_id] : due) {
      std::int64_t n = 0;
      double reward = join.default_reward;
      std::int64_t timestamp_us = closes_us;
      {
        SqliteStatement& totals = *window_rewards;
        StatementReset reset(totals);
        totals.bind_text(1, event_id);
        totals.step();
        n = totals.column_int64(0);
        if (n > 0 && join.aggregation == RewardAggregation::sum) {
          reward = totals.column_double(1);
          timestamp_us = totals.column_int64(2);
        }
      }
      if (n > 0 && join.aggregation == RewardAggregation::earliest) {
        SqliteStatement& earliest = *earliest_reward;
        StatementReset reset(earliest);
        earliest.bind_text(1, event_id);
        earliest.step();
        reward = earliest.column_double(0);
        timestamp_us = earliest.column_int64(1);
      }
      {
        SqliteStatement& remove = *delete_window;
        StatementReset reset(remove);
        remove.bind(1, closes_us);
        remove.bind_text(2, event_id);
        remove.step();
      }
      if (!append_stored(event_id, reward, result)) continue;  // cannot happen: rows go together
      record_join(event_id, reward, timestamp_us, n, n == 0, now_us);
      if (n == 0) ++result.defaulted;
    }
  }

  SqliteDatabase db;
  // Prepared once, reused for every call (optional only to construct them
  // after the schema exists).
  std::optional<SqliteStatement> insert_decision, insert_reward, insert_join, first_reward,
      earliest_reward, window_rewards, decision_state, insert_activation, find_activation,
      open_decision, insert_window, due_windows, delete_window, has_decision, find_decision,
      read_all, read_policy, count_decisions, count_rewards, count_late, count_windows,
      count_interactions, begin, commit;
  std::int64_t next_received_seq = 1;  // received_rewards.received_seq of the next reward
  std::int64_t next_join_seq = 1;      // rewards.received_seq of the next join
  std::vector<std::pair<std::int64_t, std::string>> due;  // reused by close_windows
  bool reading = false;  // a for_each is running; a nested one prepares its own statement
};

EventLog::EventLog(const std::string& path, JoinOptions join)
    : path_(path), join_(checked(std::move(join))), impl_(std::make_unique<Impl>(path)) {}

EventLog::~EventLog() = default;

std::int64_t EventLog::now() const {
  if (join_.now_us) return join_.now_us();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

EventLog::WriteResult EventLog::write(const std::vector<LoggedDecision>& decisions,
                                      const std::vector<Reward>& rewards,
                                      const std::vector<EventId>& activations) {
  WriteResult result;
  result.decision_is_new.reserve(decisions.size());
  result.reward_is_new.reserve(rewards.size());
  result.activation_is_new.reserve(activations.size());
  for (const auto& logged : decisions) check_decision(logged);
  for (const auto& reward : rewards) {
    RECLOOP_CHECK(!reward.event_id.empty(), "a reward needs an event id");
    RECLOOP_CHECK(std::isfinite(reward.value),
                  "event '" + reward.event_id + "': reward not finite");
  }
  for (const auto& event_id : activations) {
    RECLOOP_CHECK(!event_id.empty(), "an activation needs an event id");
  }
  if (decisions.empty() && rewards.empty() && activations.empty()) return result;

  Impl& impl = *impl_;
  const std::int64_t now_us = now();
  const bool windowed = join_.window_us > 0;
  std::int64_t received_seq = impl.next_received_seq;
  const std::int64_t join_seq = impl.next_join_seq;
  // Decisions first stored by this batch, open, without a window and not yet
  // joined: a reward later in the batch joins them from memory instead of
  // decoding them back.
  std::unordered_map<std::string_view, const LoggedDecision*> unjoined;

  {
    StatementReset reset(*impl.begin);
    impl.begin->step();
  }
  try {
    // Windows due now close before anything new arrives: a reward of this
    // batch for one of them is late.
    impl.close_windows(now_us, std::numeric_limits<std::size_t>::max(), join_, result);

    std::string context;
    for (const auto& logged : decisions) {
      const Decision& d = logged.decision;
      // Opened now unless deferred and not activated yet.
      const bool open = !d.deferred || impl.is_activated(d.event_id);
      context = encode_context(logged.context);
      SqliteStatement& insert = *impl.insert_decision;
      {
        StatementReset reset(insert);
        insert.bind_text(1, d.event_id);
        insert.bind(2, static_cast<std::int64_t>(logged.timestamp_us));
        insert.bind_text(3, d.policy);
        insert.bind(4, as_stored(d.model_version));
        insert.bind(5, static_cast<std::int64_t>(d.action));
        insert.bind(6, as_stored(d.item));
        insert.bind(7, d.probability);
        insert.bind(8, static_cast<std::int64_t>(logged.context.size()));
        insert.bind_blob(9, doubles_bytes(d.pmf));
        insert.bind_blob(10, context);
        if (logged.truth.empty()) {
          insert.bind_null(11);
        } else {
          insert.bind_blob(11, doubles_bytes(logged.truth));
        }
        insert.bind(12, static_cast<std::int64_t>(d.slot));
        insert.bind(13, logged_conditional(d.slot, d.probability, d.conditional));
        insert.bind_text(14, d.session);
        insert.bind(15, static_cast<std::int64_t>(d.step));
        insert.bind(16, static_cast<std::int64_t>(d.skip_learning));
        insert.bind(17, static_cast<std::int64_t>(d.deferred));
        insert.bind(18, now_us);
        if (open) {
          insert.bind(19, now_us);
        } else {
          insert.bind_null(19);
        }
        if (open && windowed) {
          insert.bind(20, now_us + join_.window_us);
        } else {
          insert.bind_null(20);
        }
        insert.step();
      }
      const bool is_new = impl.db.changes() == 1;
      result.decision_is_new.push_back(is_new);
      if (!is_new || !open) continue;
      if (d.deferred) ++result.activated;
      if (windowed) {
        impl.insert_window_row(now_us + join_.window_us, d.event_id);
        continue;
      }
      if (const auto reward = impl.first_reward_of(d.event_id)) {
        result.joined.push_back(join(logged, reward->first));
        result.skip_learning.push_back(d.skip_learning);
        impl.record_join(d.event_id, reward->first, reward->second, 1, false, now_us);
      } else if (!rewards.empty()) {
        unjoined.emplace(d.event_id, &logged);
      }
    }

    for (const auto& event_id : activations) {
      {
        SqliteStatement& insert = *impl.insert_activation;
        StatementReset reset(insert);
        insert.bind_text(1, event_id);
        insert.bind(2, now_us);
        insert.step();
      }
      const bool is_new = impl.db.changes() == 1;
      result.activation_is_new.push_back(is_new);
      if (!is_new) continue;
      const DecisionState state = impl.state_of(event_id);
      // Unknown yet: applied when the decision is stored. Not deferred, or
      // already open: nothing to do.
      if (!state.stored || state.open) continue;
      {
        SqliteStatement& update = *impl.open_decision;
        StatementReset reset(update);
        update.bind_text(1, event_id);
        update.bind(2, now_us);
        if (windowed) {
          update.bind(3, now_us + join_.window_us);
        } else {
          update.bind_null(3);
        }
        update.step();
      }
      ++result.activated;
      if (windowed) {
        impl.insert_window_row(now_us + join_.window_us, event_id);
      } else {
        impl.join_first_stored(event_id, now_us, result);
      }
    }

    for (const auto& reward : rewards) {
      // A reward that joins a decision stored and waiting for it (open,
      // without a window) is stored only as that join, in `rewards`, with its
      // reward id; there can be no earlier copy of it, since a stored reward
      // would have joined the decision already. Every other reward goes to
      // received_rewards: waiting, windowed, or late (its decision joined).
      const auto pending = unjoined.find(reward.event_id);
      if (pending != unjoined.end()) {
        const LoggedDecision& logged = *pending->second;
        result.reward_is_new.push_back(true);
        result.joined.push_back(join(logged, reward.value));
        result.skip_learning.push_back(logged.decision.skip_learning);
        unjoined.erase(pending);
        impl.record_join(reward.event_id, reward.value, reward.timestamp_us, 1, false, now_us,
                         &reward.reward_id);
        continue;
      }
      const DecisionState state = impl.state_of(reward.event_id);
      if (state.joined && state.direct && state.direct_reward_id == reward.reward_id) {
        result.reward_is_new.push_back(false);  // the reward that made the join, again
        continue;
      }
      if (state.stored && !state.joined && state.open && !state.windowed) {
        if (impl.append_stored(reward.event_id, reward.value, result)) {
          result.reward_is_new.push_back(true);
          impl.record_join(reward.event_id, reward.value, reward.timestamp_us, 1, false, now_us,
                           &reward.reward_id);
          continue;
        }
      }
      const bool late = state.joined;
      SqliteStatement& insert = *impl.insert_reward;
      {
        StatementReset reset(insert);
        insert.bind_text(1, reward.event_id);
        insert.bind_text(2, reward.reward_id);
        insert.bind(3, reward.value);
        insert.bind(4, static_cast<std::int64_t>(reward.timestamp_us));
        insert.bind(5, received_seq);
        insert.bind(6, now_us);
        insert.bind(7, static_cast<std::int64_t>(late));
        insert.step();
      }
      const bool is_new = impl.db.changes() == 1;
      result.reward_is_new.push_back(is_new);
      if (!is_new) continue;
      ++received_seq;
      if (late) ++result.late;
    }

    StatementReset reset(*impl.commit);
    impl.commit->step();
  } catch (...) {
    // Undo the whole batch; a failing ROLLBACK (no transaction left) changes nothing.
    sqlite3_exec(impl.db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    impl.next_join_seq = join_seq;
    throw;
  }
  impl.next_received_seq = received_seq;
  return result;
}

EventLog::WriteResult EventLog::close_due(std::size_t max_windows) {
  WriteResult result;
  Impl& impl = *impl_;
  const std::int64_t now_us = now();
  {
    // Nothing due (the common case): no write transaction at all.
    SqliteStatement& select = *impl.due_windows;
    StatementReset reset(select);
    select.bind(1, now_us);
    select.bind(2, std::int64_t{1});
    if (!select.step() || max_windows == 0) return result;
  }
  const std::int64_t join_seq = impl.next_join_seq;
  {
    StatementReset reset(*impl.begin);
    impl.begin->step();
  }
  try {
    impl.close_windows(now_us, max_windows, join_, result);
    StatementReset reset(*impl.commit);
    impl.commit->step();
  } catch (...) {
    sqlite3_exec(impl.db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    impl.next_join_seq = join_seq;
    throw;
  }
  return result;
}

bool EventLog::append(const LoggedDecision& decision) {
  return write({decision}, {}).decision_is_new.front();
}

bool EventLog::record(const Reward& reward) { return write({}, {reward}).reward_is_new.front(); }

void EventLog::for_each(const std::function<void(const Interaction&)>& fn,
                        const std::string& policy) const {
  Impl& impl = *impl_;
  // A nested call (fn reading the log again) cannot reuse the running statement.
  std::optional<SqliteStatement> own;
  SqliteStatement* statement = policy.empty() ? &*impl.read_all : &*impl.read_policy;
  if (impl.reading) statement = &own.emplace(impl.db, read_statement(!policy.empty()));
  StatementReset reset(*statement);
  if (!policy.empty()) statement->bind_text(1, policy);

  const bool outer = !impl.reading;
  impl.reading = true;
  struct ClearReading {
    Impl& impl;
    bool outer;
    ~ClearReading() {
      if (outer) impl.reading = false;
    }
  } clear{impl, outer};

  // Column of read_statement() holding the reward.
  constexpr int kReward = 9;
  Interaction interaction;
  bool good = true;
  BadRows bad_probability{"a probability that is not a number in (0, 1]", 0, {}};
  BadRows bad_reward{"a reward that is not a finite number", 0, {}};
  // Looks up a bad row's seq, to name it (not read for good rows).
  std::optional<SqliteStatement> find_seq;
  auto seq_of = [&](const std::string& event_id) -> std::int64_t {
    if (!find_seq) find_seq.emplace(impl.db, "SELECT seq FROM decisions WHERE event_id = ?1");
    StatementReset reset(*find_seq);
    find_seq->bind_text(1, event_id);
    return find_seq->step() ? find_seq->column_int64(0) : -1;
  };
  while (statement->step()) {
    const RowCheck check = impl.read_row(*statement, interaction, kReward);
    const unsigned bad = check.bad;
    if (bad == 0) {
      if (good) fn(interaction);
      continue;
    }
    // A bad row stops the scoring: fn sees no further row, and the rest of the
    // log is read only to name every bad row in one error.
    good = false;
    const bool named = bad_probability.count < kRowsNamed || bad_reward.count < kRowsNamed;
    const std::int64_t seq = named ? seq_of(interaction.event_id) : -1;
    if (bad & kBadProbability) {
      bad_probability.add(interaction.event_id, seq, stored_value(*statement, 3, check.probability_type));
    }
    if (bad & kBadReward) {
      bad_reward.add(interaction.event_id, seq, stored_value(*statement, kReward, check.reward_type));
    }
  }
  if (good) return;
  std::string message = "event log '" + impl.db.path() + "': ";
  if (bad_probability.count > 0) message += bad_probability.describe();
  if (bad_reward.count > 0) {
    message += (bad_probability.count > 0 ? "; " : "") + bad_reward.describe();
  }
  throw Error(message + "; nothing can be scored until they are corrected");
}

bool EventLog::has_event(const EventId& event_id) const {
  SqliteStatement& find = *impl_->has_decision;
  StatementReset reset(find);
  find.bind_text(1, event_id);
  return find.step();
}

std::size_t EventLog::decision_count() const { return impl_->count(*impl_->count_decisions); }

std::size_t EventLog::reward_count() const { return impl_->count(*impl_->count_rewards); }

std::size_t EventLog::interaction_count() const { return impl_->count(*impl_->count_interactions); }

std::size_t EventLog::late_count() const { return impl_->count(*impl_->count_late); }

std::size_t EventLog::open_window_count() const { return impl_->count(*impl_->count_windows); }

std::size_t EventLog::unrewarded_count(const std::string& policy) const {
  // One scan of the decisions with a primary-key probe of the joins per row.
  SqliteStatement count(impl_->db,
                        "SELECT COUNT(*) FROM decisions AS d WHERE (?1 = '' OR d.policy = ?1) "
                        "AND NOT EXISTS (SELECT 1 FROM rewards AS r WHERE r.event_id = d.event_id)");
  count.bind_text(1, policy);
  return impl_->count(count);
}

}  // namespace recloop
