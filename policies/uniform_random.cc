// SPDX-License-Identifier: Apache-2.0
#include "policies/uniform_random.h"

#include "core/check.h"
#include "core/model_io.h"

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

void UniformRandom::save(ModelWriter& out) const { out.put_u64(version_); }

std::unique_ptr<Policy> UniformRandom::load(ModelReader& in) {
  auto policy = std::make_unique<UniformRandom>();
  policy->version_ = in.get_u64("uniform model version");
  return policy;
}

}  // namespace recloop
