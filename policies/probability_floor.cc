// SPDX-License-Identifier: Apache-2.0
#include "policies/probability_floor.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/check.h"
#include "core/error.h"
#include "core/model_io.h"
#include "policies/registry.h"

namespace recloop {

double ProbabilityFloor::read_floor(ConfigSection& section) {
  return section.get_double(std::string(kName), 0.0, 0.0, 1.0,
                            "minimum probability of every candidate (0: none); mixes the pmf "
                            "with uniform, capped at 1/K");
}

ProbabilityFloor::ProbabilityFloor(std::unique_ptr<Policy> inner, double floor)
    : inner_(std::move(inner)), floor_(floor) {
  if (inner_ == nullptr) throw std::invalid_argument("ProbabilityFloor: no inner policy");
  if (!(floor >= 0.0 && floor <= 1.0)) {
    throw std::invalid_argument("ProbabilityFloor: probability_floor = " + std::to_string(floor) +
                                ", need [0, 1]");
  }
}

std::vector<double> ProbabilityFloor::probabilities(const Context& context) const {
  std::vector<double> pmf = inner_->probabilities(context);
  RECLOOP_CHECK(!pmf.empty() && pmf.size() == context.size(),
                std::string(name()) + ": inner pmf has wrong size");
  const double k = static_cast<double>(pmf.size());
  if (floor_ >= 1.0 / k) {
    // The floor cannot hold for all K candidates: it is capped at 1/K, which
    // leaves no mass for the inner pmf. Set exactly, since 1 - K (1/K) need
    // not round to 0 (49 * (1/49) < 1 in doubles).
    std::fill(pmf.begin(), pmf.end(), 1.0 / k);
    return pmf;
  }
  // Exp3's mixing (Auer et al. 2002, Fig. 1 step 1) with gamma = K f:
  // p'(a) = (1 - K f) p(a) + f, so p'(a) >= f and sum p' = 1.
  // Clamped: just below 1/K, K f can still round up to 1.
  const double keep = std::max(0.0, 1.0 - k * floor_);
  for (double& p : pmf) p = keep * p + floor_;
  return pmf;
}

std::unique_ptr<Policy> ProbabilityFloor::clone() const {
  return std::make_unique<ProbabilityFloor>(inner_->clone(), floor_);
}

void ProbabilityFloor::save(ModelWriter& out) const {
  out.put_f64(floor_);
  out.put_string(saved_name(*inner_));
  inner_->save(out);
}

std::unique_ptr<Policy> ProbabilityFloor::load(ModelReader& in) {
  const double floor = in.get_f64("probability_floor");
  if (!(floor >= 0.0 && floor <= 1.0)) {
    throw Error("model data: probability_floor = " + std::to_string(floor) + ", need [0, 1]");
  }
  const std::string inner_name = in.get_string("probability_floor inner policy name");
  return std::make_unique<ProbabilityFloor>(load_policy(inner_name, in), floor);
}

}  // namespace recloop
