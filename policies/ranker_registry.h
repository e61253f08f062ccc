// SPDX-License-Identifier: Apache-2.0
// The one list of rankers a scenario or the command line can name. Every
// ranker made here orders by a base policy's pmf (base->pmf(context)); to
// order by another score, construct EpsilonGreedyRanker or TopKRanker with a
// Scorer directly.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "policies/policy.h"
#include "policies/ranker.h"

namespace recloop {

// Registry names, in the order they are listed in messages.
std::vector<std::string> ranker_names();

// The ranker called `name` over `base`, configured from `section`. Reads the
// ranker's keys (recording their documentation in `section`), then rejects
// any other key. Throws ConfigError for an unknown name, a bad value or an
// unknown key, and std::invalid_argument if base is null.
std::unique_ptr<Ranker> make_ranker(const std::string& name, ConfigSection& section,
                                    std::shared_ptr<const Policy> base);

}  // namespace recloop
