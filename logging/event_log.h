// SPDX-License-Identifier: Apache-2.0
// Decisions, rewards and their joins in one SQLite file (schema:
// logging/schema.sql, documented in README.md). A write is durable when the
// call returns (WAL mode, synchronous=NORMAL: survives a killed process); the
// collector acknowledges only after that. Reopening a file continues it.
//
// Joins (JoinOptions). A decision becomes joinable when it is stored or, if
// deferred, when its event id is activated (an activation may come first; it
// is kept and applied when the decision is stored). Without a reward window
// it is joined to the first reward received for it. With a window of W
// microseconds, the window closes W after it opened, on the clock now_us; the
// rewards received before the close are aggregated (sum, or the one with the
// earliest timestamp, ties by arrival) and, if none came, the default reward
// is joined instead. Windows close inside write() and close_due(), in the same
// transaction as everything else they change, so a file reopened after a
// crash closes its overdue windows on the next call, and no join is ever made
// twice. Rewards that arrive after the join are stored as late and never
// joined. A window's deadline is fixed when it opens: reopening with another
// window changes only the windows opened afterwards.
// Not thread-safe: one EventLog (one SQLite connection) per thread; several
// processes may read a file while one writes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/types.h"

namespace recloop {

// How the rewards of a window are combined into the joined reward.
enum class RewardAggregation { earliest, sum };

struct JoinOptions {
  // Length of the reward window in microseconds, >= 0; 0 = no window: a
  // decision is joined to the first reward received for it.
  std::int64_t window_us = 0;
  // Joined when a window closes without any reward; finite.
  double default_reward = 0.0;
  RewardAggregation aggregation = RewardAggregation::earliest;
  // The collector's clock, microseconds since the Unix epoch; empty = the
  // system clock. Tests inject a fake one.
  std::function<std::int64_t()> now_us;
};

class EventLog {
 public:
  // Opens or creates `path` (":memory:" in tests). Throws recloop::Error naming
  // the path on failure, or if the file holds an unknown schema version. A
  // version 1 file (before rankings had slots) or version 2 file (before slots
  // had conditionals) is migrated to version 3 in place, in one transaction;
  // version 1 decisions read back with slot 0, and the conditional of an old
  // decision is its probability at slot 0 and 0 (not recorded) at later slots.
  // A version 3 file is migrated to version 4 likewise (see logging/schema.sql).
  // `join` matters only to writers; std::invalid_argument for bad options.
  explicit EventLog(const std::string& path, JoinOptions join = {});
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // What one write did.
  struct WriteResult {
    std::vector<bool> decision_is_new;    // per decision: false if its event id was already stored
    std::vector<bool> reward_is_new;      // per reward: false if (event id, reward id) was stored
    std::vector<bool> activation_is_new;  // per activation: false if already activated
    // Interactions joined by this call, each once in the life of the file:
    // first the windows that closed, by closing time, then the joins made by
    // the new events, in the order their second half arrived. skip_learning is
    // parallel to it: the decision's Decision::skip_learning.
    std::vector<Interaction> joined;
    std::vector<bool> skip_learning;
    std::size_t defaulted = 0;  // joins (of `joined`) made with the default reward
    std::size_t late = 0;       // new rewards that arrived after their decision was joined
    std::size_t activated = 0;  // deferred decisions whose window this call opened
  };

  // Stores a batch in one transaction, durable on return. A decision's pmf is
  // either empty (only the chosen action's probability is known, as in
  // imported logs) or one entry per candidate with pmf[action] == probability;
  // anything else throws std::logic_error and stores nothing, as does a
  // conditional neither 0 nor in (0, 1]; a conditional of 0 is stored as
  // logged_conditional() (core/types.h). Idempotent: a repeated decision (per
  // event id), reward (per event id and reward id) or activation (per event
  // id) changes nothing. A reward or activation that arrives before its
  // decision is kept and applied when the decision comes. Windows due on the
  // clock are closed first, in the same transaction, so a reward of this batch
  // for one of them is late.
  WriteResult write(const std::vector<LoggedDecision>& decisions, const std::vector<Reward>& rewards,
                    const std::vector<EventId>& activations = {});
  // Closes (joins) up to `max_windows` windows due on the clock, oldest
  // deadline first, in one transaction; reads only the due part of the
  // windows table's deadline index, so a call with nothing due is cheap.
  WriteResult close_due(std::size_t max_windows = 65536);
  // Single-event conveniences; return true if the event was new.
  bool append(const LoggedDecision& decision);
  bool record(const Reward& reward);

  // Calls fn for every joined decision, in the order decisions were
  // first stored. With a non-empty `policy`, only that policy's decisions.
  // Interaction::session and step are filled in; Interaction::conditional is
  // not read here (left 0); rankings are read with
  // their conditionals by read_slates() (logging/slate_log.h).
  void for_each(const std::function<void(const Interaction&)>& fn,
                const std::string& policy = {}) const;

  // True if a decision with this event id is stored (rewards alone do not count).
  bool has_event(const EventId& event_id) const;

  std::size_t decision_count() const;
  // Rewards received, once per (event id, reward id), late ones included.
  std::size_t reward_count() const;
  // Joined decisions: those for_each visits.
  std::size_t interaction_count() const;
  // Rewards received after their decision was joined.
  std::size_t late_count() const;
  // Decisions not joined yet (with a non-empty `policy`, only that policy's):
  // those for_each leaves out (waiting for a reward, a window or an activation).
  std::size_t unrewarded_count(const std::string& policy = {}) const;
  // Windows open now (decisions waiting for their window to close).
  std::size_t open_window_count() const;
  const JoinOptions& join_options() const { return join_; }
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::int64_t now() const;
  std::string path_;
  JoinOptions join_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recloop
