// SPDX-License-Identifier: Apache-2.0
// The uniform random policy: P(a | context) = 1 / K for each of the K
// candidates, whatever it has seen. The natural logging policy for off-policy
// evaluation (every action has the largest possible minimum probability) and
// the baseline every learner must beat. update() learns nothing; it only counts
// model versions.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/policy.h"

namespace recloop {

class ModelReader;

class UniformRandom final : public Policy {
 public:
  struct Config {
    bool operator==(const Config&) const = default;
    // No keys; reject_unknown() afterwards rejects any key in the section.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "uniform";

  explicit UniformRandom(const Config& config = {});

  // Any feature dimension is accepted: the features are never read.
  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the model version (the config has no fields).
  void save(ModelWriter& out) const override;
  // Reads what save() wrote. Throws recloop::Error on truncated data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  const Config& config() const { return config_; }

 private:
  Config config_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop
