// SPDX-License-Identifier: Apache-2.0
#include "policies/uniform_random.h"

#include "core/check.h"

namespace recloop {

UniformRandom::Config UniformRandom::Config::from(ConfigSection& /*section*/) { return {}; }

UniformRandom::UniformRandom(const Config& config) : config_(config) {}

std::vector<double> UniformRandom::probabilities(const Context& context) const {
  RECLOOP_CHECK(context.size() > 0, "a context needs at least one candidate");
  return std::vector<double>(context.size(), 1.0 / static_cast<double>(context.size()));
}

void UniformRandom::update(const Interaction& /*interaction*/) { ++version_; }

std::unique_ptr<Policy> UniformRandom::clone() const {
  return std::make_unique<UniformRandom>(*this);
}

}  // namespace recloop
