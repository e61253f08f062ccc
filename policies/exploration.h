// SPDX-License-Identifier: Apache-2.0
// Turning scores into a pmf. Kept apart from the learners (as VW keeps its
// explore library apart from its reductions), so every policy explores the
// same way and the probability contract is tested once.
#pragma once

#include <span>
#include <vector>

namespace recloop {

// The epsilon-greedy pmf over `scores`: epsilon / K on every candidate, plus
// (1 - epsilon) shared equally by all candidates whose score equals the
// maximum exactly. Ties are broken uniformly at random by the sampler, and the
// pmf says so. epsilon = 0 is greedy (still splitting ties), epsilon = 1 is
// uniform. Throws std::invalid_argument if `scores` is empty, holds a
// non-finite value, or epsilon is outside [0, 1].
std::vector<double> epsilon_greedy_pmf(std::span<const double> scores, double epsilon);

}  // namespace recloop
