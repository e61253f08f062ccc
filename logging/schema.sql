-- SPDX-License-Identifier: Apache-2.0
-- recloop event log, schema version 4. This file is compiled into
-- recloop_logging and run once when a log file is created; it is also the
-- reference for anyone reading a log with the plain `sqlite3` shell, e.g.
--   sqlite3 run.db 'SELECT policy, COUNT(*), AVG(reward) FROM interactions GROUP BY policy'
--
-- Encodings: BLOB columns hold little-endian IEEE-754 doubles and the context
-- layout of core/codec.h. Unsigned 64-bit ids (item, model_version) are stored
-- as SQLite's signed INTEGER with the same bits: ids >= 2^63 read as negative.
--
-- schema_version: one row.
--   version        INTEGER  layout of this file; a reader refuses any other value.
--                           Version 1 files (no `slot` column) are migrated in place
--                           when opened: logging/event_log.cc runs
--                             ALTER TABLE decisions ADD COLUMN slot INTEGER NOT NULL DEFAULT 0
--                           recreates the interactions view and sets version = 2.
--                           Version 2 files (no `conditional` column) are migrated
--                           likewise (version 1 files run both steps):
--                             ALTER TABLE decisions ADD COLUMN conditional REAL NOT NULL DEFAULT 0
--                             UPDATE decisions SET conditional = probability WHERE slot = 0
--                           recreates the interactions view and sets version = 3.
--                           Version 3 files are migrated to version 4 likewise: decisions
--                           gain the columns marked "since version 4" (old decisions
--                           read as session '', step 0, learnable, not deferred, open
--                           since received_us = opened_us = 0, joined at their first
--                           reward); every version 3 reward is copied to received_rewards
--                           (reward_id '', not late); rewards keeps only the rows whose
--                           decision is stored (the joins) and gains n_rewards, defaulted
--                           joined_us and reward_id; the activations and windows tables are
--                           created;
--                           the view is recreated; version = 4.
--
-- Joins (since version 4). A decision's reward window opens when the collector
-- stores it, or, for a deferred decision, when it is activated; opened_us
-- records when. Without a window (the default) the decision is joined to the
-- first reward received for it (by arrival) once it is open. With a window of
-- W microseconds it closes at closes_us = opened_us + W on the collector's
-- clock; then the rewards received before the close are aggregated (their sum,
-- or the one with the earliest timestamp_us, ties by arrival) or, if none came,
-- the default reward is used (defaulted = 1). Either way the join is written to
-- `rewards`, one row per decision, and only then does the decision appear in
-- the interactions view. Rewards received after the join are kept in
-- received_rewards with late = 1 and never joined.
--
-- decisions: one row per decision, written when the collector first receives it.
--   seq            INTEGER  arrival order (1, 2, ...): for_each() reads in this order
--   event_id       TEXT     unique id of the decision; joins it to its reward
--   timestamp_us   INTEGER  when the decision was made, microseconds since the Unix epoch
--                           (or simulated time)
--   policy         TEXT     registry name of the policy that decided (the logging policy)
--   model_version  INTEGER  number of updates that policy's model had seen
--   action         INTEGER  index of the chosen candidate in the context, 0 .. n_candidates-1
--   item           INTEGER  catalogue id of the chosen candidate
--   probability    REAL     P(action | context) under the deciding policy, in (0, 1]
--   n_candidates   INTEGER  number of candidates offered
--   pmf            BLOB     the whole distribution: n_candidates doubles summing to 1, with
--                           pmf[action] = probability; or empty (zero bytes) when only the
--                           chosen action's probability is known (imported logs)
--   context        BLOB     user features, one feature column per candidate, item ids
--   truth          BLOB     E[reward | context, a] for every candidate when a simulator
--                           made the request (n_candidates doubles); NULL for live traffic
--   slot           INTEGER  position of the chosen item in a ranking: 0 = first (or only)
--                           slot (since version 2)
--   conditional    REAL     P(item at this slot | the items at slots 0 .. slot-1 as shown),
--                           in (0, 1] (since version 3). At slot 0 it equals probability
--                           (which is the slot's marginal P(item at slot)); the product
--                           over a ranking's slots is the ranking's probability. 0 = not
--                           recorded (later slots of rankings logged before version 3).
--                           A ranking's slot k has event_id '<ranking id>/<k>'.
--   session        TEXT     the user session the decision belongs to; '' = none (since
--                           version 4)
--   step           INTEGER  index of the decision in its session, 0 = first (since version 4)
--   skip_learning  INTEGER  1 = joined and logged but never passed to a learner (since
--                           version 4)
--   deferred       INTEGER  1 = the reward window opens only when the event id is activated;
--                           never activated = never joined (since version 4)
--   received_us    INTEGER  collector clock when the decision was stored, microseconds since
--                           the Unix epoch (since version 4; 0 for older decisions)
--   opened_us      INTEGER  collector clock when the decision became joinable (its window
--                           opened): received_us, or the activation time of a deferred
--                           decision; NULL = deferred and not activated (since version 4)
--   closes_us      INTEGER  when the reward window closes, opened_us + window; NULL = no
--                           window: joined at the first reward (since version 4)
--
-- rewards: the join, one row per joined decision (since version 4; before, one row
-- per rewarded event id, possibly before its decision). Written once, when the
-- decision is joined; what learners and estimators read as the decision's reward.
--   event_id       TEXT     the joined decision
--   reward         REAL     the joined reward: the first reward (no window), the window's
--                           aggregate (sum or earliest), or the default reward
--   timestamp_us   INTEGER  timestamp_us of the joined reward (earliest: that reward's; sum:
--                           the latest of the summed; defaulted: closes_us)
--   received_seq   INTEGER  order in which the joins were made (1, 2, ...; gaps are
--                           possible); without a window the arrival order of the rewards
--   n_rewards      INTEGER  rewards received within the window (1 without a window; 0 when
--                           defaulted) (since version 4)
--   defaulted      INTEGER  1 = no reward came within the window: reward is the default
--                           (since version 4)
--   joined_us      INTEGER  collector clock when the join was made (since version 4; 0 for
--                           older joins)
--   reward_id      TEXT     set when the joined reward is one that arrived for a decision
--                           already stored and waiting for it (no window): that reward is
--                           stored only here, not in received_rewards; NULL otherwise
--                           (since version 4)
--
-- received_rewards: every other reward received, once per (event_id, reward_id):
-- rewards waiting for their decision, activation or window, rewards of a window,
-- late rewards (since version 4). Every reward received is either here or in
-- rewards with a reward_id.
--   event_id       TEXT     the decision this reward is for (it may not be stored yet)
--   reward_id      TEXT     distinguishes several rewards for one event; '' = the only one
--   reward         REAL     observed reward (e.g. 1 = click, 0 = no click)
--   timestamp_us   INTEGER  when the reward was observed, microseconds since the Unix epoch
--   received_seq   INTEGER  arrival order of rewards (1, 2, ...; gaps are possible)
--   received_us    INTEGER  collector clock when it was stored (0 for version 3 rewards)
--   late           INTEGER  1 = arrived after its decision was joined: kept, never joined
--
-- activations: activated event ids, once each; an activation may arrive before its
-- decision and is applied when the decision is stored (since version 4).
--   event_id       TEXT     the activated decision
--   received_us    INTEGER  collector clock when the activation was stored
--
-- windows: the open reward windows, by closing time; a row is deleted when its
-- window closes and the decision is joined (since version 4). The collector reads
-- the due windows through this primary key on every poll, never the decisions.
--   closes_us      INTEGER  as decisions.closes_us
--   event_id       TEXT     the decision waiting for its window to close
--
-- interactions (view): joined decisions, in decision order.
--   seq, event_id, policy, action, item, slot, probability, conditional, reward,
--   session, step, defaulted

CREATE TABLE schema_version (
  version INTEGER NOT NULL
);
INSERT INTO schema_version (version) VALUES (4);

CREATE TABLE decisions (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id      TEXT    NOT NULL UNIQUE,
  timestamp_us  INTEGER NOT NULL,
  policy        TEXT    NOT NULL,
  model_version INTEGER NOT NULL,
  action        INTEGER NOT NULL,
  item          INTEGER NOT NULL,
  probability   REAL    NOT NULL,
  n_candidates  INTEGER NOT NULL,
  pmf           BLOB    NOT NULL,
  context       BLOB    NOT NULL,
  truth         BLOB,
  slot          INTEGER NOT NULL DEFAULT 0,
  conditional   REAL    NOT NULL DEFAULT 0,
  session       TEXT    NOT NULL DEFAULT '',
  step          INTEGER NOT NULL DEFAULT 0,
  skip_learning INTEGER NOT NULL DEFAULT 0,
  deferred      INTEGER NOT NULL DEFAULT 0,
  received_us   INTEGER NOT NULL DEFAULT 0,
  opened_us     INTEGER DEFAULT 0,
  closes_us     INTEGER
);

CREATE TABLE rewards (
  event_id      TEXT    PRIMARY KEY,
  reward        REAL    NOT NULL,
  timestamp_us  INTEGER NOT NULL,
  received_seq  INTEGER NOT NULL,
  n_rewards     INTEGER NOT NULL DEFAULT 1,
  defaulted     INTEGER NOT NULL DEFAULT 0,
  joined_us     INTEGER NOT NULL DEFAULT 0,
  reward_id     TEXT
) WITHOUT ROWID;

CREATE TABLE received_rewards (
  event_id      TEXT    NOT NULL,
  reward_id     TEXT    NOT NULL DEFAULT '',
  reward        REAL    NOT NULL,
  timestamp_us  INTEGER NOT NULL,
  received_seq  INTEGER NOT NULL,
  received_us   INTEGER NOT NULL DEFAULT 0,
  late          INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, reward_id)
) WITHOUT ROWID;

CREATE TABLE activations (
  event_id      TEXT    PRIMARY KEY,
  received_us   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE windows (
  closes_us     INTEGER NOT NULL,
  event_id      TEXT    NOT NULL,
  PRIMARY KEY (closes_us, event_id)
) WITHOUT ROWID;

CREATE VIEW interactions AS
  SELECT d.seq, d.event_id, d.policy, d.action, d.item, d.slot, d.probability,
         d.conditional, r.reward, d.session, d.step, r.defaulted
  FROM decisions AS d JOIN rewards AS r ON r.event_id = d.event_id
  ORDER BY d.seq;
