// SPDX-License-Identifier: Apache-2.0
// Importance-weighted estimators of a ranking's value, from the least to the
// most assuming about how users react to a ranking:
//   standard              one weight for the whole ranking, Π_k π(·|·)/μ(·|·):
//                         unbiased for any reward, variance grows with L;
//   independent           slot k weighted by π(a_k at k)/μ(a_k at k): unbiased
//                         when slot k's reward depends only on (item, k), as
//                         under the position-based click model;
//   reward_interaction    slot k weighted by the product of the conditional
//                         weights of slots 0..k: unbiased when slot k's reward
//                         depends only on the items at slots 0..k (cascade).
// Each has a self-normalised variant (weights divided by their mean, per slot
// where weights are per slot): slightly biased, far more stable.
//
// Rows are kept (16 bytes per slot per ranking) so the self-normalised
// standard error can be computed exactly at estimate(); sums are exact, so the
// estimate does not depend on row order. Not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "evaluation/slate.h"

namespace recloop {

class SlateIpsEstimator final : public SlateEstimator {
 public:
  enum class Kind { standard, independent, reward_interaction };
  struct Config {
    Kind kind = Kind::standard;
    bool self_normalized = false;
  };
  explicit SlateIpsEstimator(const Config& config);

  // Throws std::invalid_argument naming the event if a probability is out of
  // range, a reward is not finite, there are no slots, or the number of
  // slots differs from the first ranking's.
  void add(const SlateInteraction& slate) override;
  // The value with a delta-method standard error (plain mean SE for the
  // non-normalised variants). NaN value while a normaliser is zero.
  Estimate estimate(double alpha = 0.05) const override;
  // "slate_ips", "independent_ips", "rips"; self-normalised "slate_snips",
  // "independent_snips", "snrips" (the names of make_slate_estimator()).
  std::string_view name() const override { return name_; }

 private:
  Config config_;
  std::string name_;
  std::size_t columns_ = 0;  // 1 for standard, L otherwise
  // Per row and column: numerator a = w·r and weight b = w, row-major.
  std::vector<double> numerators_, weights_;
  std::size_t rows_ = 0;
};

}  // namespace recloop
