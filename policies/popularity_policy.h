// SPDX-License-Identifier: Apache-2.0
// Popularity-biased logging: P(a | context) proportional to popularity_a^beta,
// the deliberately biased logging policy of selection-bias experiments
// (popular items are shown more, so a naive estimate favours them; Steck
// 2011, "Item popularity and recommendation accuracy", RecSys). The policy
// reads popularity from the context: row `popularity_row` of the item
// features must hold log(popularity) (PopulationWorld::kLogPopularityRow, the
// natural log of the item's popularity share), so
//   P(a) = exp(beta x_a) / sum_b exp(beta x_b),  x_a = actions(popularity_row, a),
// computed with the largest x subtracted first (no overflow). beta = 0 is
// uniform; a large beta concentrates on the most popular candidate (exact
// ties share). The pmf is exact, so every logged probability is the true
// propensity. update() learns nothing; it counts model versions.
// Cost: probabilities() O(K) exponentials.
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

class PopularityPolicy final : public Policy {
 public:
  struct Config {
    double beta = 1.0;                // exponent on popularity, [0, 50]
    std::int64_t popularity_row = 0;  // item-feature row holding log(popularity), [0, 1e6]
    bool operator==(const Config&) const = default;
    // Reads `beta` and `popularity_row`. Throws ConfigError naming the key,
    // its value and range.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "popularity";

  // Throws std::invalid_argument, with the value, for beta outside [0, 50] or
  // a negative row.
  explicit PopularityPolicy(const Config& config);
  PopularityPolicy();  // the default Config

  // Throws std::invalid_argument if the context has no row popularity_row, no
  // candidate, or a non-finite log-popularity.
  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override;
  std::string_view name() const override { return kName; }
  std::uint64_t model_version() const override { return version_; }
  std::unique_ptr<Policy> clone() const override;
  // Writes the config and the model version.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote; throws recloop::Error on truncated or invalid data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  const Config& config() const { return config_; }

 private:
  Config config_;
  std::uint64_t version_ = 0;
};

}  // namespace recloop
