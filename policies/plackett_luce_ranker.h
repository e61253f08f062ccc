// SPDX-License-Identifier: Apache-2.0
// Plackett-Luce ranking: sequential sampling without replacement from a base
// policy's pmf p = base.pmf(context) (Luce 1959, "Individual Choice Behavior";
// Plackett 1975, "The analysis of permutations", Applied Statistics 24(2)).
// Slot 0 is drawn from p itself, so a one-slot ranking is exactly the base
// policy's decision distribution; slot k from p renormalised over the
// candidates not yet placed:
//   P(a at slot k | slots 0..k-1) = p(a) / sum_{b remaining} p(b).
// When every remaining candidate has p = 0 (a greedy base policy puts its mass
// on few candidates), the next slot is uniform over the remaining available
// candidates: the limit of Plackett-Luce with weights p + delta as delta -> 0,
// so zero-mass candidates fill the slots after all positive-mass ones, in
// uniformly random order. Unavailable candidates (context.available) get p = 0
// from Policy::pmf() and are never placed.
//
// marginals() is exact for small requests and a Monte Carlo estimate beyond
// (see sequential_marginals() in sequential_ranking.h). Cost of rank(): one
// base pmf, O(slots K) for the draw, and the marginals: O(P k) for the P
// ordered prefixes of length k < slots when exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/policy.h"
#include "policies/ranker.h"

namespace recloop {

class PlackettLuceRanker final : public Ranker {
 public:
  struct Config {
    bool operator==(const Config&) const = default;
    // No keys; reject_unknown() afterwards rejects any key in the section.
    static Config from(ConfigSection& section);
  };
  static constexpr std::string_view kName = "plackett_luce";

  // Shares ownership of `base`. To rank with a policy owned elsewhere, pass a
  // non-owning pointer: std::shared_ptr<const Policy>(std::shared_ptr<void>(), &policy).
  // Throws std::invalid_argument if base is null.
  explicit PlackettLuceRanker(std::shared_ptr<const Policy> base, const Config& config = {});

  Eigen::MatrixXd marginals(const Context& context, std::size_t slots) const override;
  Ranking rank(const Context& context, std::size_t slots, const EventId& event_id,
               std::uint64_t run_seed) const override;
  std::vector<double> conditionals(const Context& context,
                                   std::span<const ActionId> shown) const override;
  std::string_view name() const override { return kName; }

  const Config& config() const { return config_; }
  const Policy& base() const { return *base_; }

 private:
  Config config_;
  std::shared_ptr<const Policy> base_;
};

}  // namespace recloop
