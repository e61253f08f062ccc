// SPDX-License-Identifier: Apache-2.0
#include "policies/rl/rl_policy.h"

#include <algorithm>

#include "policies/rl/lstdq.h"
#include "policies/rl/reinforce.h"
#include "policies/rl/slateq.h"

namespace recloop {

std::vector<std::string> trained_policy_names() {
  return {std::string(LinearQPolicy::kLspiName), std::string(LinearQPolicy::kBcqName),
          std::string(SlateQPolicy::kName), std::string(ReinforcePolicy::kName)};
}

bool is_trained_policy_name(const std::string& name) {
  const auto names = trained_policy_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::unique_ptr<Policy> load_trained_policy(const std::string& name, ModelReader& in) {
  if (name == LinearQPolicy::kLspiName || name == LinearQPolicy::kBcqName) {
    return LinearQPolicy::load(name, in);
  }
  if (name == SlateQPolicy::kName) return SlateQPolicy::load(in);
  if (name == ReinforcePolicy::kName) return ReinforcePolicy::load(in);
  return nullptr;
}

std::string trained_policy_reference(const std::string& name) {
  if (name == LinearQPolicy::kLspiName) {
    return "least-squares policy iteration with LSTD-Q on linear state-action features, "
           "trained offline (Lagoudakis & Parr 2003, \"Least-squares policy iteration\", "
           "JMLR 4, eq. 10-11, fig. 8)";
  }
  if (name == LinearQPolicy::kBcqName) {
    return "discrete batch-constrained Q-learning: LSPI restricted to actions the behaviour "
           "model deems likely (Fujimoto, Conti, Ghavamzadeh & Pineau 2019, \"Benchmarking "
           "batch deep reinforcement learning algorithms\", sec. 4, eq. 2-3)";
  }
  if (name == SlateQPolicy::kName) {
    return "SlateQ, item-wise Q with a conditional-logit choice decomposition, SARSA or "
           "Q-learning targets (Ie et al. 2019, \"SlateQ\", IJCAI, eq. 5-8)";
  }
  if (name == ReinforcePolicy::kName) {
    return "off-policy REINFORCE with capped importance weights and the top-K correction "
           "(Chen et al. 2019, \"Top-K off-policy correction for a REINFORCE recommender "
           "system\", WSDM, eq. 3-6)";
  }
  return {};
}

}  // namespace recloop
