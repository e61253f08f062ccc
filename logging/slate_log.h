// SPDX-License-Identifier: Apache-2.0
// Rankings read back from an event log. A ranker logs slot k of a ranking as
// a decision of its own (policies/ranker.h, slot_decision()): event id
// "<ranking id>/<k>", slot column k, probability = the slot's marginal,
// conditional = P(item at slot k | the slots above as shown), and the slot's
// reward under the same event id. read_slates() groups those rows back into
// one record per ranking, with everything a slate estimator needs from the
// logging side (evaluation/slate.h).
//
// It runs its own query (decisions left-joined to rewards, in decision order)
// on a connection of its own, separate from EventLog::for_each.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/types.h"

namespace recloop {

struct LoggedSlot {
  ActionId action = 0;       // candidate shown at this slot
  ItemId item = 0;           // context.items[action]
  double marginal = 0.0;     // logging ranker's P(action at this slot), in (0, 1]
  double conditional = 0.0;  // logging ranker's P(action here | slots above), in (0, 1];
                             // 0 = not recorded (later slots logged before schema version 3)
  double reward = 0.0;
};

struct LoggedSlate {
  EventId event_id;               // the ranking's id: slot k is stored as "<event_id>/<k>"
  std::string policy;             // the logging ranker ("<ranker>:<base>")
  Context context;                // the request every slot was decided in
  std::vector<LoggedSlot> slots;  // slot 0 first, every one rewarded
  // The logging ranker's probability of the whole ranking: the product of the
  // conditionals, 0 when one is not recorded.
  double probability() const;
};

// What read_slates() found besides the complete rankings.
struct SlateLogSummary {
  std::size_t slates = 0;           // complete rankings returned
  std::size_t incomplete = 0;       // rankings skipped: a slot 0..L-1 has no decision or no reward
  std::size_t other_decisions = 0;  // decisions not of the form "<id>/<k>" at slot k
  std::size_t unknown_conditionals = 0;  // returned rankings with a conditional not recorded
};

// Every complete ranking in the log at `path`, in the order its first slot
// was stored; with a non-empty `policy`, only that logging policy's. A
// ranking with slots 0 .. L-1 stored is complete when each of them has a
// reward; a ranking missing a slot below its highest, or a reward, is
// skipped and counted. The file is opened as an EventLog first, so an older
// schema is migrated in place and an unknown one refused. Throws
// recloop::Error naming the file and event id when the slots of one ranking
// disagree on the context or policy, or a stored column is corrupt.
std::vector<LoggedSlate> read_slates(const std::string& path, const std::string& policy = {},
                                     SlateLogSummary* summary = nullptr);

}  // namespace recloop
