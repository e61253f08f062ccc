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
// for an unknown name, a bad value or an unknown key. Every section may also
// set `probability_floor` (default 0, none; documented in a section only when
// set): with a floor f > 0 the policy is wrapped in a ProbabilityFloor
// (probability_floor.h), keeping its name.
std::unique_ptr<Policy> make_policy(const std::string& name, ConfigSection& section,
                                    int feature_dim);

class ModelReader;

// Rebuilds a policy from the state its save() wrote (see model_file.h for the
// file around it). `name` is saved_name() of the policy that was saved: its
// registry name, or ProbabilityFloor::kName for a policy with a floor. An
// explicit list, like make_policy(). Throws recloop::Error naming an unknown
// name, or naming what was being read when the state is truncated or
// inconsistent.
std::unique_ptr<Policy> load_policy(const std::string& name, ModelReader& in);

// The name load_policy() needs to rebuild `policy`.
std::string saved_name(const Policy& policy);

// The paper (authors, year, title, algorithm or equation) that the policy
// called `name` follows, for `recloop policies`; empty when none is recorded.
std::string policy_reference(const std::string& name);

}  // namespace recloop
