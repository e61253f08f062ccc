// SPDX-License-Identifier: Apache-2.0
#include "tests/support/pmf_checks.h"

#include <catch2/catch.hpp>

namespace recloop::testing {

void require_valid_pmf(std::span<const double> pmf, std::size_t n_candidates) {
  REQUIRE(pmf.size() == n_candidates);
  double total = 0.0;
  for (double p : pmf) {
    REQUIRE(p >= 0.0);
    REQUIRE(p <= 1.0);
    total += p;
  }
  REQUIRE(total == Approx(1.0).margin(1e-9));
}

void require_decision_contract(const Decision& decision, const Context& context) {
  require_valid_pmf(decision.pmf, context.size());
  REQUIRE(decision.action < context.size());
  REQUIRE(decision.probability == decision.pmf[decision.action]);
  REQUIRE(decision.probability > 0.0);
  REQUIRE(decision.item == context.items[decision.action]);
}

}  // namespace recloop::testing
