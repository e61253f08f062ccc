// SPDX-License-Identifier: Apache-2.0
#include "policies/registry.h"

#include "core/error.h"
#include "policies/epsilon_greedy.h"
#include "policies/lin_ucb.h"
#include "policies/uniform_random.h"

namespace recloop {

std::vector<std::string> policy_names() {
  return {std::string(UniformRandom::kName), std::string(EpsilonGreedy::kName),
          std::string(LinUcb::kName)};
}

std::unique_ptr<Policy> make_policy(const std::string& name, ConfigSection& section,
                                    int feature_dim) {
  if (name == UniformRandom::kName) {
    const auto config = UniformRandom::Config::from(section);
    section.reject_unknown();
    return std::make_unique<UniformRandom>(config);
  }
  if (name == EpsilonGreedy::kName) {
    const auto config = EpsilonGreedy::Config::from(section);
    section.reject_unknown();
    return std::make_unique<EpsilonGreedy>(config, feature_dim);
  }
  if (name == LinUcb::kName) {
    const auto config = LinUcb::Config::from(section);
    section.reject_unknown();
    return std::make_unique<LinUcb>(config, feature_dim);
  }
  std::string known;
  for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError(section.source() + ": unknown policy '" + name + "' (known: " + known + ")");
}

}  // namespace recloop
