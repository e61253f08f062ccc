// SPDX-License-Identifier: Apache-2.0
#include "policies/monte_carlo_pmf.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <Eigen/Dense>

#include "core/rng.h"

namespace recloop {

std::uint64_t monte_carlo_seed(std::uint64_t policy_seed, std::uint64_t model_version,
                               std::span<const ItemId> items) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (const ItemId item : items) h = splitmix64(h ^ item);
  return stream_seed(stream_seed(policy_seed, model_version), h);
}

void ArgmaxCounter::add(std::span<const double> scores, double weight) {
  assert(scores.size() == wins_.size() && !scores.empty());
  // Exact ties only, like epsilon_greedy_pmf(): a tolerance would depend on
  // the scale of the scores. The maximum and the number of scores equal to
  // it are vector reductions (a compare-and-branch per score mispredicts
  // whenever a new leader appears, about ln K times per draw); the first
  // index at the maximum is then a scan that stops there.
  const std::size_t n = scores.size();
  const Eigen::Map<const Eigen::ArrayXd> s(scores.data(), static_cast<Eigen::Index>(n));
  assert(s.isFinite().all());
  const double best = s.maxCoeff();
  const auto n_best = static_cast<std::size_t>((s == best).count());
  std::size_t first = 0;
  while (scores[first] != best) ++first;
  assert(n_best >= 1);
  total_ += weight;
  if (n_best == 1) {
    wins_[first] += weight;
    return;
  }
  const double share = weight / static_cast<double>(n_best);
  for (std::size_t b = first; b < n; ++b) {
    if (scores[b] == best) wins_[b] += share;
  }
}

std::vector<double> ArgmaxCounter::pmf() const {
  // One uniform pseudo-draw mixed in (see the header): (wins + 1/K) / (M + 1).
  const double floor = 1.0 / static_cast<double>(wins_.size());
  const double denominator = total_ + 1.0;
  std::vector<double> pmf(wins_.size());
  for (std::size_t a = 0; a < wins_.size(); ++a) pmf[a] = (wins_[a] + floor) / denominator;
  return pmf;
}

std::vector<double> monte_carlo_pmf(std::size_t n_candidates, int draws, std::uint64_t seed,
                                    const ScoreDraw& draw) {
  assert(n_candidates >= 1 && draws >= 1);
  NormalStream normals(seed);
  ArgmaxCounter counter(n_candidates);
  std::vector<double> scores(n_candidates);
  for (int m = 0; m < draws; ++m) {
    draw(normals, scores);
    counter.add(scores);
  }
  return counter.pmf();
}

std::vector<double> independent_normal_pmf(std::span<const double> means,
                                           std::span<const double> sds, int draws,
                                           std::uint64_t seed) {
  assert(means.size() == sds.size() && !means.empty() && draws >= 1);
  ArgmaxCounter counter(means.size());
  const bool deterministic =
      std::all_of(sds.begin(), sds.end(), [](double sd) { return sd == 0.0; });
  if (deterministic) {
    counter.add(means, static_cast<double>(draws));
    return counter.pmf();
  }
  NormalStream normals(seed);
  const std::size_t k = means.size();
  for (std::size_t a = 0; a < k; ++a) assert(sds[a] >= 0.0 && std::isfinite(sds[a]));
  std::vector<double> scores(k);
  for (int m = 0; m < draws; ++m) {
    normals.fill(scores);  // K normals at once, then mean + sd * z in place
    for (std::size_t a = 0; a < k; ++a) scores[a] = means[a] + sds[a] * scores[a];
    counter.add(scores);
  }
  return counter.pmf();
}

int read_monte_carlo_draws(ConfigSection& section, int fallback) {
  return static_cast<int>(section.get_int(
      "draws", fallback, 1, kMaxMonteCarloDraws,
      "posterior draws behind each pmf (Monte Carlo standard error <= 0.5 / sqrt(draws))"));
}

std::uint64_t read_monte_carlo_seed(ConfigSection& section, std::uint64_t fallback) {
  return static_cast<std::uint64_t>(section.get_int(
      "seed", static_cast<long long>(fallback), 0, std::numeric_limits<long long>::max(),
      "seed of the posterior draws (mixed with the model version and the candidates)"));
}

void validate_monte_carlo_draws(std::string_view policy, int draws) {
  if (draws < 1 || draws > kMaxMonteCarloDraws) {
    throw std::invalid_argument(std::string(policy) + ": draws = " + std::to_string(draws) +
                                ", need [1, " + std::to_string(kMaxMonteCarloDraws) + "]");
  }
}

}  // namespace recloop
