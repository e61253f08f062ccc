// SPDX-License-Identifier: Apache-2.0
// The estimators by name, as scenarios and the command line refer to them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "evaluation/estimator.h"

namespace recloop {

// Every name make_estimator() accepts, in a stable order:
// naive, ips, snips, dm, dr, sndr, switch_dr, dros, replay.
std::vector<std::string> estimator_names();

// A new, empty estimator. `model` is the reward model of "dm" and "dr" (they
// throw std::invalid_argument without one) and is ignored by the others. An
// unknown name throws ConfigError listing the known names.
std::unique_ptr<Estimator> make_estimator(const std::string& name,
                                          std::shared_ptr<const RewardModel> model);

// As above with parameters read from `parameters` (its keys, by estimator:
// ips: max_weight; dr: max_weight; switch_dr: tau; dros: lambda; replay:
// seed). Absent keys take the defaults of the estimator's Config; a bad value
// throws ConfigError naming the key. Keys of other estimators are not read,
// so call parameters.reject_unknown() once every estimator has been made.
std::unique_ptr<Estimator> make_estimator(const std::string& name,
                                          std::shared_ptr<const RewardModel> model,
                                          ConfigSection& parameters);

}  // namespace recloop
