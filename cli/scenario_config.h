// SPDX-License-Identifier: Apache-2.0
// Scenario files: INI read with Boost.PropertyTree. Sections map to config
// structs ([run], [simulator], one section per policy name); `;` and `#` start
// comments. Values are kept as text and converted by the typed getters of
// core/config.h, so errors name file, section, key and value.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"

namespace recloop {

// Reads `path`. Throws ConfigError naming the file (and line) when it cannot
// be read or parsed. Unknown sections and keys are rejected later, by the code
// that reads them.
Scenario load_scenario(const std::string& path);

// The built-in scenario: no values set, so every struct default applies.
Scenario default_scenario();

}  // namespace recloop
