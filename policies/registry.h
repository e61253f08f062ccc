// SPDX-License-Identifier: Apache-2.0
// The one list of policies a scenario can name. Explicit on purpose: a
// self-registering plug-in in a static library is dropped by the linker when
// nothing references its translation unit, and then silently missing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "policies/policy.h"

namespace recloop {

// Registry names, in the order they are listed in messages.
std::vector<std::string> policy_names();

// The policy called `name`, configured from `section` for contexts of
// `feature_dim` joint features. Reads the policy's keys (recording their
// documentation in `section`), then rejects any other key. Throws ConfigError
// for an unknown name, a bad value or an unknown key.
std::unique_ptr<Policy> make_policy(const std::string& name, ConfigSection& section,
                                    int feature_dim);

}  // namespace recloop
