// SPDX-License-Identifier: Apache-2.0
// The estimators by name, as scenarios and the command line refer to them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "evaluation/estimator.h"

namespace recloop {

// Every name make_estimator() accepts, in a stable order:
// naive, ips, snips, dm, dr.
std::vector<std::string> estimator_names();

// A new, empty estimator. `model` is the reward model of "dm" and "dr" (they
// throw std::invalid_argument without one) and is ignored by the others. An
// unknown name throws ConfigError listing the known names.
std::unique_ptr<Estimator> make_estimator(const std::string& name,
                                          std::shared_ptr<const RewardModel> model);

}  // namespace recloop
