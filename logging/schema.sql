-- SPDX-License-Identifier: Apache-2.0
-- recloop event log, schema version 3. This file is compiled into
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
--
-- rewards: one row per rewarded event id; may arrive before its decision.
--   event_id       TEXT     the decision this reward is for
--   reward         REAL     observed reward (e.g. 1 = click, 0 = no click)
--   timestamp_us   INTEGER  when the reward was observed, microseconds since the Unix epoch
--   received_seq   INTEGER  arrival order of rewards (1, 2, ...; gaps are possible)
--
-- interactions (view): decisions that have a reward, in decision order.
--   seq, event_id, policy, action, item, slot, probability, conditional, reward

CREATE TABLE schema_version (
  version INTEGER NOT NULL
);
INSERT INTO schema_version (version) VALUES (3);

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
  conditional   REAL    NOT NULL DEFAULT 0
);

CREATE TABLE rewards (
  event_id      TEXT    PRIMARY KEY,
  reward        REAL    NOT NULL,
  timestamp_us  INTEGER NOT NULL,
  received_seq  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE VIEW interactions AS
  SELECT d.seq, d.event_id, d.policy, d.action, d.item, d.slot, d.probability,
         d.conditional, r.reward
  FROM decisions AS d JOIN rewards AS r ON r.event_id = d.event_id
  ORDER BY d.seq;
