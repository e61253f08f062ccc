// SPDX-License-Identifier: Apache-2.0
// A log read from another tool's files (Open Bandit Dataset, Coat, DSJSON):
// decisions with their rewards, ready to be stored in an EventLog or scored in
// memory. Imported decisions carry no pmf (pmf empty): the source records only
// the chosen action's probability.
#pragma once

#include <cstddef>
#include <vector>

#include "core/types.h"
#include "logging/event_log.h"

namespace recloop {

struct ImportedLog {
  std::vector<LoggedDecision> decisions;
  std::vector<Reward> rewards;  // rewards[i] is for decisions[i]; same length
};

// decisions[i] joined to rewards[i], in order: what estimators consume.
std::vector<Interaction> to_interactions(const ImportedLog& imported);

// Stores `imported` in `log`, in batches of `batch_size` events per
// transaction. Returns the number of decisions that were new.
std::size_t write_imported(EventLog& log, const ImportedLog& imported, std::size_t batch_size = 2000);

}  // namespace recloop
