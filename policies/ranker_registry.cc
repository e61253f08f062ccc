// SPDX-License-Identifier: Apache-2.0
#include "policies/ranker_registry.h"

#include <utility>

#include "core/error.h"
#include "policies/epsilon_greedy_ranker.h"
#include "policies/plackett_luce_ranker.h"
#include "policies/top_k_ranker.h"

namespace recloop {

std::vector<std::string> ranker_names() {
  return {std::string(PlackettLuceRanker::kName), std::string(EpsilonGreedyRanker::kName),
          std::string(TopKRanker::kName)};
}

std::unique_ptr<Ranker> make_ranker(const std::string& name, ConfigSection& section,
                                    std::shared_ptr<const Policy> base) {
  if (name == PlackettLuceRanker::kName) {
    const auto config = PlackettLuceRanker::Config::from(section);
    section.reject_unknown();
    return std::make_unique<PlackettLuceRanker>(std::move(base), config);
  }
  if (name == EpsilonGreedyRanker::kName) {
    const auto config = EpsilonGreedyRanker::Config::from(section);
    section.reject_unknown();
    return std::make_unique<EpsilonGreedyRanker>(std::move(base), config);
  }
  if (name == TopKRanker::kName) {
    const auto config = TopKRanker::Config::from(section);
    section.reject_unknown();
    return std::make_unique<TopKRanker>(std::move(base), config);
  }
  std::string known;
  for (const auto& n : ranker_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError(section.source() + ": unknown ranker '" + name + "' (known: " + known + ")");
}

}  // namespace recloop
