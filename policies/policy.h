// SPDX-License-Identifier: Apache-2.0
// The Policy seam. A policy maps a context to a distribution over its
// candidates and learns from interactions logged by itself or by any other
// policy. Thread safety: const members may be called concurrently; update()
// needs exclusive access.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace recloop {

class ModelWriter;

class Policy {
 public:
  virtual ~Policy() = default;

  // P(a | context) for each candidate, in candidate order: non-negative and
  // summing to 1 (within 1e-9). Ties between best candidates share their mass
  // equally. Const, so evaluation can score logs without changing the model.
  virtual std::vector<double> probabilities(const Context& context) const = 0;

  // One incremental learning step. `interaction.probability` is the *logging*
  // policy's probability, which off-policy updates may use for importance weights.
  virtual void update(const Interaction& interaction) = 0;

  // Registry name ("lin_ucb"), as used in scenarios and on the command line.
  virtual std::string_view name() const = 0;

  // Number of updates applied so far; recorded with every decision.
  virtual std::uint64_t model_version() const = 0;

  // An independent copy with the same learning state.
  virtual std::unique_ptr<Policy> clone() const = 0;

  // Writes the policy's config and full learning state (core/model_io.h), from
  // which the registry's load_policy() rebuilds a bit-identical policy. The
  // default throws std::logic_error: a policy that cannot be saved says so.
  virtual void save(ModelWriter& out) const;

  // The pmf the policy decides with, honouring context.available: without a
  // mask it is probabilities(context); with one, the policy sees only the
  // available candidates (a sub-context of those columns and items, in order,
  // with no mask) and its distribution over them is expanded back to candidate
  // order with exactly 0 for every unavailable candidate. Throws
  // std::invalid_argument if the mask's length differs from context.size() or
  // no candidate is available.
  std::vector<double> pmf(const Context& context) const;

  // Draws an action from pmf(context) with the decision seed
  // decision_seed(run_seed, event_id) and records pmf[action] as the
  // probability. Non-virtual on purpose: every policy samples the same way, so
  // the recorded probability is always the one the action was drawn from, and
  // the same (run_seed, event_id, model state) always gives the same decision.
  Decision choose(const Context& context, const EventId& event_id, std::uint64_t run_seed) const;
};

}  // namespace recloop
