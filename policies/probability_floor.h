// SPDX-License-Identifier: Apache-2.0
// A minimum probability for every candidate, around any policy. Off-policy
// learning and evaluation weight a logged reward by 1/p, so a logging policy
// whose pmf can put (nearly) zero mass on a candidate makes those weights
// unbounded; a floor bounds them by 1/f.
//
// The wrapped pmf mixes the inner policy's pmf p with the uniform pmf: with K
// candidates and floor f,
//   f_K = min(f, 1/K),   p'(a) = (1 - K f_K) p(a) + f_K.
// Guarantees, for every context:
//   - p'(a) >= f_K: every candidate gets at least the floor, and when K f >= 1
//     (a floor the candidates cannot all have) p' is exactly uniform, 1/K;
//   - sum p' = (1 - K f_K) sum p + K f_K = 1 in exact arithmetic (each p'(a)
//     is one rounding away from it, so the sum is within K ulps of 1);
//   - p'(a) >= (1 - K f_K) p(a): the inner policy's preferences are kept,
//     scaled down by at most that factor, and the ranking of candidates by
//     probability is unchanged.
// This is the uniform mixing of Exp3 (Auer, Cesa-Bianchi, Freund & Schapire
// 2002, "The nonstochastic multiarmed bandit problem", Fig. 1 step 1), used
// as a floor; it bounds the inverse-propensity weights of off-policy learning
// and evaluation (Dudik, Langford & Li 2011, ICML) by 1/f_K.
//
// The wrapper keeps the inner policy's name(): decisions, logs and scenario
// sections still say "lin_ucb", and the floor is one more key of that section
// (`probability_floor`, read by make_policy()). It saves as kName followed by
// the floor and the inner policy's own saved state, so load_policy() rebuilds
// both. update(), model_version() and learning go to the inner policy.
// Thread safety as the inner policy's.
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

class ProbabilityFloor final : public Policy {
 public:
  // The name load_policy() knows a saved wrapper by, and the scenario key.
  static constexpr std::string_view kName = "probability_floor";

  // Reads the `probability_floor` key of a policy section: default 0 (no
  // floor), range [0, 1]. Throws ConfigError naming key, value and range.
  static double read_floor(ConfigSection& section);

  // Throws std::invalid_argument unless `inner` is non-null and `floor` is in [0, 1].
  ProbabilityFloor(std::unique_ptr<Policy> inner, double floor);

  std::vector<double> probabilities(const Context& context) const override;
  void update(const Interaction& interaction) override { inner_->update(interaction); }
  std::string_view name() const override { return inner_->name(); }
  std::uint64_t model_version() const override { return inner_->model_version(); }
  std::unique_ptr<Policy> clone() const override;
  // Writes the floor, saved_name(inner()) and the inner policy's state.
  void save(ModelWriter& out) const override;
  // Reads what save() wrote. Throws recloop::Error on bad data.
  static std::unique_ptr<Policy> load(ModelReader& in);

  double floor() const { return floor_; }
  const Policy& inner() const { return *inner_; }
  Policy& inner() { return *inner_; }

 private:
  std::unique_ptr<Policy> inner_;
  double floor_;
};

}  // namespace recloop
