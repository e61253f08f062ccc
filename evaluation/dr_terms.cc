// SPDX-License-Identifier: Apache-2.0
#include "evaluation/dr_terms.h"

namespace recloop {

DrTerms dr_terms(const RewardModel& model, const Interaction& logged,
                 std::span<const double> target_pmf) {
  return dr_terms_with([&](ActionId a) { return model.predict(logged.context, a); }, logged,
                       target_pmf);
}

}  // namespace recloop
