// SPDX-License-Identifier: Apache-2.0
#include "policies/ranker.h"

#include <stdexcept>
#include <string>

namespace recloop {

EventId Ranking::slot_event_id(std::size_t k) const {
  EventId id = event_id;
  id += '/';
  id += std::to_string(k);
  return id;
}

Decision slot_decision(const Ranking& ranking, std::size_t k) {
  if (k >= ranking.actions.size()) {
    throw std::out_of_range("slot_decision: slot " + std::to_string(k) + " of a ranking with " +
                            std::to_string(ranking.actions.size()) + " slots");
  }
  Decision decision;
  decision.event_id = ranking.slot_event_id(k);
  decision.action = ranking.actions[k];
  decision.item = ranking.items[k];
  decision.probability = ranking.marginal[k];
  decision.conditional = ranking.conditional[k];
  decision.slot = static_cast<std::uint32_t>(k);
  const auto column = ranking.slot_pmfs.col(static_cast<Eigen::Index>(k));
  decision.pmf.assign(column.data(), column.data() + column.size());
  decision.policy = ranking.policy;
  decision.model_version = ranking.model_version;
  return decision;
}

}  // namespace recloop
