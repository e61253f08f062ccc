// SPDX-License-Identifier: Apache-2.0
#include <stdexcept>

#include "cli/commands.h"

namespace recloop {
int run_simulate(const std::vector<std::string>&) { throw std::runtime_error("simulate: under construction"); }
}  // namespace recloop
