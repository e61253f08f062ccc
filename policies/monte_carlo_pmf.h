// SPDX-License-Identifier: Apache-2.0
// The pmf of a Thompson-type policy, by Monte Carlo.
//
// Thompson sampling (Thompson 1933) plays the candidate whose score, drawn
// from the model's posterior, is highest. The probability that candidate a is
// played, P(a = argmax_b s_b), has no closed form, yet the recorded
// probability must be the one the action was drawn with. So:
//
//  1. probabilities(context) draws M joint posterior samples of every
//     candidate's score (M = the policy's `draws`) and counts how often each
//     candidate is the maximum; a draw in which n candidates tie exactly for
//     the maximum gives each 1/n. The engine is seeded with
//     monte_carlo_seed(policy seed, model version, candidate item ids), so
//     the estimate is a pure function of the model and the context: the same
//     state and request always give the same pmf, bit for bit, and a reloaded
//     model gives the same pmf as the one that was saved.
//  2. The estimate is floored by mixing in one uniform pseudo-draw:
//        pmf_a = (wins_a + 1/K) / (M + 1),
//     so every candidate has probability at least 1 / (K (M + 1)). The exact
//     Thompson pmf is positive for every candidate whenever the posteriors
//     overlap (Beta and Gaussian posteriors always do), so a zero would
//     misstate the support; and a logged probability of zero would make the
//     log useless for off-policy evaluation of other policies. The mixing moves
//     each entry by |1/K - wins_a/M| / (M + 1) < 1 / (M + 1), below the Monte
//     Carlo standard error sqrt(p (1 - p) / M) unless p < ~1/M.
//  3. Policy::choose() then samples from exactly this pmf with its own
//     decision seed. The action is therefore drawn from the logged
//     distribution (the logged probability IS the probability the action was
//     drawn with), which is Thompson sampling up to the Monte Carlo error of
//     the estimate: each entry has standard error sqrt(p (1 - p) / M) <=
//     0.5 / sqrt(M) around the exact Thompson probability (0.016 at M = 1000).
//
// Cost: M draws of K scores, O(M K) on top of what one draw costs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/posterior_sampling.h"

namespace recloop {

// Default and largest number of Monte Carlo draws per pmf.
inline constexpr int kDefaultMonteCarloDraws = 1000;
inline constexpr int kMaxMonteCarloDraws = 1000000;

// The seed of the draws behind one pmf:
//   h = 0xCBF29CE484222325 (FNV-1a's offset basis); h = splitmix64(h ^ item)
//   for each candidate item in order; seed = stream_seed(stream_seed(
//   policy_seed, model_version), h).
// Any change of model, candidate set or candidate order gives fresh draws.
std::uint64_t monte_carlo_seed(std::uint64_t policy_seed, std::uint64_t model_version,
                               std::span<const ItemId> items);

// How often each candidate is the maximum over joint draws of all scores.
class ArgmaxCounter {
 public:
  explicit ArgmaxCounter(std::size_t n_candidates) : wins_(n_candidates, 0.0) {}

  // Counts one joint draw with weight `weight` (1 for one draw): the
  // candidate with the highest score wins it; n candidates tied exactly at
  // the maximum win weight / n each. `scores` has one finite entry per
  // candidate (asserted).
  void add(std::span<const double> scores, double weight = 1.0);

  // The floored frequencies (wins_a + 1/K) / (total weight + 1), see above.
  std::vector<double> pmf() const;
  std::span<const double> wins() const { return wins_; }

 private:
  std::vector<double> wins_;
  double total_ = 0.0;
};

// Fills `scores` (one entry per candidate) with one joint posterior draw.
using ScoreDraw = std::function<void(NormalStream& normals, std::span<double> scores)>;

// The floored argmax frequencies of `draws` joint draws made by `draw`, all
// from one NormalStream(seed) (engine FastRng(seed)), in order. n_candidates
// >= 1, draws >= 1.
std::vector<double> monte_carlo_pmf(std::size_t n_candidates, int draws, std::uint64_t seed,
                                    const ScoreDraw& draw);

// The same when candidate a's score is N(means[a], sds[a]^2), independently
// of the others: each draw takes one normal per candidate, in candidate
// order (mean + sd * z), from NormalStream(seed). When every sd is 0 the
// draws are all equal and are counted at once, without sampling. sds >= 0,
// all finite (asserted).
std::vector<double> independent_normal_pmf(std::span<const double> means,
                                           std::span<const double> sds, int draws,
                                           std::uint64_t seed);

// The `draws` and `seed` keys every Thompson-type policy reads, with the same
// ranges and documentation everywhere.
int read_monte_carlo_draws(ConfigSection& section, int fallback);
std::uint64_t read_monte_carlo_seed(ConfigSection& section, std::uint64_t fallback);
// Throws std::invalid_argument naming `policy`, unless 1 <= draws <= kMaxMonteCarloDraws.
void validate_monte_carlo_draws(std::string_view policy, int draws);

}  // namespace recloop
