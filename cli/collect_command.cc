// SPDX-License-Identifier: Apache-2.0
#include <stdexcept>

#include "cli/commands.h"

namespace recloop {
int run_collect(const std::vector<std::string>&) { throw std::runtime_error("collect: under construction"); }
}  // namespace recloop
