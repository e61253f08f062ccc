// SPDX-License-Identifier: Apache-2.0
#include "policies/policy.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {

void Policy::save(ModelWriter&) const {
  throw std::logic_error(std::string(name()) + ": this policy cannot be saved");
}

std::vector<double> Policy::pmf(const Context& context) const {
  if (context.available.empty()) return probabilities(context);
  if (context.available.size() != context.size()) {
    throw std::invalid_argument(std::string(name()) + ": availability mask has " +
                                std::to_string(context.available.size()) +
                                " entries for " + std::to_string(context.size()) + " candidates");
  }
  std::vector<Eigen::Index> kept;
  kept.reserve(context.size());
  for (std::size_t a = 0; a < context.size(); ++a) {
    if (context.available[a] != 0) kept.push_back(static_cast<Eigen::Index>(a));
  }
  if (kept.empty()) {
    throw std::invalid_argument(std::string(name()) + ": no candidate of " +
                                std::to_string(context.size()) + " is available");
  }
  // The policy scores only what may be shown, so its distribution (ties,
  // exploration mass, normalisation) is over the available set; an
  // unavailable candidate gets exactly 0 instead of a renormalised remainder.
  Context available;
  available.user = context.user;
  if (context.actions.rows() == 0) {
    available.actions.resize(0, static_cast<Eigen::Index>(kept.size()));  // no item features
  } else {
    RECLOOP_CHECK(static_cast<std::size_t>(context.actions.cols()) == context.size(),
                  "context has a different number of feature columns and items");
    available.actions = context.actions(Eigen::all, kept);
  }
  available.items.reserve(kept.size());
  for (const auto a : kept) available.items.push_back(context.items[static_cast<std::size_t>(a)]);
  const std::vector<double> inner = probabilities(available);
  RECLOOP_CHECK(inner.size() == kept.size(), std::string(name()) + ": pmf has wrong size");
  std::vector<double> expanded(context.size(), 0.0);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    expanded[static_cast<std::size_t>(kept[i])] = inner[i];
  }
  return expanded;
}

Decision Policy::choose(const Context& context, const EventId& event_id,
                        std::uint64_t run_seed) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  Decision decision;
  decision.event_id = event_id;
  decision.pmf = pmf(context);
  RECLOOP_CHECK(decision.pmf.size() == context.size(), std::string(name()) + ": pmf has wrong size");
  // The seed hashes the event id (as in VW's explore library), never a counter:
  // a decision replays exactly from (run seed, event id, model state).
  const auto action = sample_index(decision.pmf, decision_seed(run_seed, event_id));
  decision.action = static_cast<ActionId>(action);
  decision.item = context.items[action];
  decision.probability = decision.pmf[action];
  RECLOOP_CHECK(decision.probability > 0.0, std::string(name()) + ": chose an action with zero mass");
  decision.policy = std::string(name());
  decision.model_version = model_version();
  return decision;
}

}  // namespace recloop
