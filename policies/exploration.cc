// SPDX-License-Identifier: Apache-2.0
#include "policies/exploration.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace recloop {

std::vector<double> epsilon_greedy_pmf(std::span<const double> scores, double epsilon) {
  if (scores.empty()) throw std::invalid_argument("epsilon_greedy_pmf: no scores");
  if (!(epsilon >= 0.0 && epsilon <= 1.0)) {
    throw std::invalid_argument("epsilon_greedy_pmf: epsilon = " + std::to_string(epsilon) +
                                " is outside [0, 1]");
  }
  double best = scores[0];
  for (double s : scores) {
    if (!std::isfinite(s)) {
      throw std::invalid_argument("epsilon_greedy_pmf: non-finite score " + std::to_string(s));
    }
    if (s > best) best = s;
  }
  std::size_t n_best = 0;
  for (double s : scores) n_best += (s == best);

  // Exact ties only: a tolerance would make the pmf depend on the scale of the
  // scores. A fresh model scores every candidate 0 exactly, hence uniform.
  const double k = static_cast<double>(scores.size());
  const double explore = epsilon / k;
  const double exploit = (1.0 - epsilon) / static_cast<double>(n_best);
  std::vector<double> pmf(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    pmf[i] = explore + (scores[i] == best ? exploit : 0.0);
  }
  return pmf;
}

}  // namespace recloop
