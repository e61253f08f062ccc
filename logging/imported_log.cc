// SPDX-License-Identifier: Apache-2.0
#include "logging/imported_log.h"

#include <algorithm>

#include "core/check.h"

namespace recloop {

std::vector<Interaction> to_interactions(const ImportedLog& imported) {
  RECLOOP_CHECK(imported.decisions.size() == imported.rewards.size(),
                "an imported log needs one reward per decision");
  std::vector<Interaction> out;
  out.reserve(imported.decisions.size());
  for (std::size_t i = 0; i < imported.decisions.size(); ++i) {
    const LoggedDecision& logged = imported.decisions[i];
    Interaction& interaction = out.emplace_back();
    interaction.event_id = logged.decision.event_id;
    interaction.context = logged.context;
    interaction.action = logged.decision.action;
    interaction.probability = logged.decision.probability;
    interaction.reward = imported.rewards[i].value;
    interaction.truth = logged.truth;
    interaction.policy = logged.decision.policy;
    interaction.slot = logged.decision.slot;
  }
  return out;
}

std::size_t write_imported(EventLog& log, const ImportedLog& imported, std::size_t batch_size) {
  RECLOOP_CHECK(imported.decisions.size() == imported.rewards.size(),
                "an imported log needs one reward per decision");
  RECLOOP_CHECK(batch_size > 0, "batch size must be positive");
  std::size_t fresh = 0;
  for (std::size_t begin = 0; begin < imported.decisions.size(); begin += batch_size) {
    const std::size_t end = std::min(imported.decisions.size(), begin + batch_size);
    const std::vector<LoggedDecision> decisions(imported.decisions.begin() + static_cast<std::ptrdiff_t>(begin),
                                                imported.decisions.begin() + static_cast<std::ptrdiff_t>(end));
    const std::vector<Reward> rewards(imported.rewards.begin() + static_cast<std::ptrdiff_t>(begin),
                                      imported.rewards.begin() + static_cast<std::ptrdiff_t>(end));
    const auto result = log.write(decisions, rewards);
    fresh += static_cast<std::size_t>(std::count(result.decision_is_new.begin(),
                                                 result.decision_is_new.end(), true));
  }
  return fresh;
}

}  // namespace recloop
