// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/bcq.h"

#include <stdexcept>
#include <string>

namespace recloop {

BcqResult train_bcq(const std::vector<Trajectory>& trajectories, const BcqOptions& options) {
  options.lspi.rule.validate("bcq");
  if (!(options.threshold > 0.0 && options.threshold <= 1.0)) {
    throw std::invalid_argument("bcq: threshold = " + std::to_string(options.threshold) +
                                ", need (0, 1]");
  }
  const auto [user_dim, action_dim] = trajectory_dims(trajectories, "bcq");
  const BilinearSoftmax behaviour =
      fit_behaviour(trajectories, user_dim, action_dim, options.behaviour);
  const std::uint64_t version = bootstrapped_transition_count(trajectories);
  LspiResult lspi = policy_iteration(trajectories, options.lspi, [&](LinearQ q) {
    return std::make_unique<LinearQPolicy>(std::move(q), options.lspi.rule, behaviour,
                                           options.threshold, version);
  });
  return {std::move(lspi.policy), lspi.iterations, lspi.converged};
}

}  // namespace recloop
