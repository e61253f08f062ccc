// SPDX-License-Identifier: Apache-2.0
// The slate estimators by name, as the command line refers to them (beside
// make_estimator() of evaluation/registry.h, which scores single decisions).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "evaluation/slate.h"

namespace recloop {

// Every name make_slate_estimator() accepts, in a stable order:
// slate_ips, slate_snips, independent_ips, independent_snips, rips, snrips.
std::vector<std::string> slate_estimator_names();

// True for the estimators that weight by the logged conditionals (slate_ips,
// slate_snips, rips, snrips): they cannot score a ranking whose conditionals
// were not logged. The independent ones need only the marginals.
bool slate_estimator_needs_conditionals(const std::string& name);

// A new, empty estimator (evaluation/slate_ips.h); its name() is `name`. An
// unknown name throws ConfigError listing the known names.
std::unique_ptr<SlateEstimator> make_slate_estimator(const std::string& name);

}  // namespace recloop
