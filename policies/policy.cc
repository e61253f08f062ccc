// SPDX-License-Identifier: Apache-2.0
#include "policies/policy.h"

#include <stdexcept>

#include "core/check.h"
#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {

void Policy::save(ModelWriter&) const {
  throw std::logic_error(std::string(name()) + ": this policy cannot be saved");
}

Decision Policy::choose(const Context& context, const EventId& event_id,
                        std::uint64_t run_seed) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  Decision decision;
  decision.event_id = event_id;
  decision.pmf = probabilities(context);
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
