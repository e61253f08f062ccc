// SPDX-License-Identifier: Apache-2.0
// Decisions and rewards in one SQLite file (schema: logging/schema.sql,
// documented in README.md). A write is durable when the call returns (WAL mode,
// synchronous=NORMAL: survives a killed process); the collector acknowledges
// only after that. Reopening a file continues it.
// Not thread-safe: one EventLog (one SQLite connection) per thread; several
// processes may read a file while one writes it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/types.h"

namespace recloop {

class EventLog {
 public:
  // Opens or creates `path` (":memory:" in tests). Throws recloop::Error naming
  // the path on failure, or if the file holds an unknown schema version. A
  // version 1 file (before rankings had slots) or version 2 file (before slots
  // had conditionals) is migrated to version 3 in place, in one transaction;
  // version 1 decisions read back with slot 0, and the conditional of an old
  // decision is its probability at slot 0 and 0 (not recorded) at later slots.
  explicit EventLog(const std::string& path);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // What one write did.
  struct WriteResult {
    std::vector<bool> decision_is_new;  // per decision: false if its event id was already stored
    std::vector<bool> reward_is_new;    // per reward: false if its event id already had a reward
    // Interactions completed by this write (decision and reward both present
    // for the first time), in the order their second half arrived.
    std::vector<Interaction> joined;
  };

  // Stores a batch in one transaction, durable on return. A decision's pmf is
  // either empty (only the chosen action's probability is known, as in
  // imported logs) or one entry per candidate with pmf[action] == probability;
  // anything else throws std::logic_error and stores nothing, as does a
  // conditional neither 0 nor in (0, 1]; a conditional of 0 is stored as
  // logged_conditional() (core/types.h). Idempotent per event
  // id: a repeated decision or reward changes nothing. A reward that arrives
  // before its decision is kept and joined when the decision comes.
  WriteResult write(const std::vector<LoggedDecision>& decisions, const std::vector<Reward>& rewards);
  // Single-event conveniences; return true if the event was new.
  bool append(const LoggedDecision& decision);
  bool record(const Reward& reward);

  // Calls fn for every decision that has a reward, in the order decisions were
  // first stored. With a non-empty `policy`, only that policy's decisions.
  // Interaction::conditional is not read here (left 0); rankings are read with
  // their conditionals by read_slates() (logging/slate_log.h).
  void for_each(const std::function<void(const Interaction&)>& fn,
                const std::string& policy = {}) const;

  // True if a decision with this event id is stored (rewards alone do not count).
  bool has_event(const EventId& event_id) const;

  std::size_t decision_count() const;
  std::size_t reward_count() const;
  std::size_t interaction_count() const;
  // Decisions that have no reward yet (with a non-empty `policy`, only that
  // policy's): those for_each leaves out.
  std::size_t unrewarded_count(const std::string& policy = {}) const;
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recloop
