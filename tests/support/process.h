// SPDX-License-Identifier: Apache-2.0
// Runs a shell command for process-level tests and captures what it printed.
#pragma once

#include <string>

namespace recloop::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `command` with /bin/sh, waiting for it to finish.
CommandResult run_command(const std::string& command);

// A loopback TCP port that was free a moment ago (the kernel's choice for port 0).
int free_tcp_port();

// A fresh path under the temporary directory, unique within this process run.
std::string temp_path(const std::string& stem);

}  // namespace recloop::testing
