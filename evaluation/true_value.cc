// SPDX-License-Identifier: Apache-2.0
#include "evaluation/true_value.h"

#include <stdexcept>
#include <string>

namespace recloop {

double expected_value(std::span<const double> pmf, std::span<const double> truth) {
  if (pmf.size() != truth.size()) {
    throw std::invalid_argument("expected_value: pmf has " + std::to_string(pmf.size()) +
                                " entries but truth has " + std::to_string(truth.size()));
  }
  // V(π; x) = Σ_a π(a|x) E[r | x, a], the definition every estimator targets.
  double value = 0.0;
  for (std::size_t a = 0; a < pmf.size(); ++a) value += pmf[a] * truth[a];
  return value;
}

void TrueValueAccumulator::add(const Interaction& logged, std::span<const double> target_pmf) {
  if (logged.truth.empty()) {
    ++skipped_;
    return;
  }
  const std::size_t candidates = logged.context.size();
  if (logged.truth.size() != candidates || target_pmf.size() != candidates) {
    throw std::invalid_argument("event '" + logged.event_id + "': truth has " +
                                std::to_string(logged.truth.size()) + " entries, target pmf " +
                                std::to_string(target_pmf.size()) + ", but the context has " +
                                std::to_string(candidates) + " candidates");
  }
  values_.add(expected_value(target_pmf, logged.truth));
}

std::optional<double> TrueValueAccumulator::value() const {
  if (values_.count() == 0) return std::nullopt;
  return values_.mean();
}

}  // namespace recloop
