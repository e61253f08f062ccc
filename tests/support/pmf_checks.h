// SPDX-License-Identifier: Apache-2.0
// Checks of the probability contract shared by every policy's tests.
#pragma once

#include <span>

#include "core/types.h"

namespace recloop::testing {

// REQUIREs that pmf has one entry per candidate, each in [0, 1], summing to 1 within 1e-9.
void require_valid_pmf(std::span<const double> pmf, std::size_t n_candidates);

// REQUIREs that decision.probability == decision.pmf[decision.action] exactly,
// that decision.item == context.items[decision.action], and that the pmf is valid.
void require_decision_contract(const Decision& decision, const Context& context);

}  // namespace recloop::testing
