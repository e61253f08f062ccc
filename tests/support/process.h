// SPDX-License-Identifier: Apache-2.0
// Runs a shell command for process-level tests and captures what it printed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

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

// One `recloop VERB ...` child process (the binary under test) with stdout and
// stderr appended to `output_path`; killed and reaped at scope exit if still
// running.
class RecloopProcess {
 public:
  // `args` are the words after the binary's name, starting with the verb.
  RecloopProcess(std::vector<std::string> args, const std::string& output_path);
  ~RecloopProcess();
  RecloopProcess(const RecloopProcess&) = delete;
  RecloopProcess& operator=(const RecloopProcess&) = delete;

  // Sends `signal` and returns the wait status once the process has exited.
  int stop(int signal);
  // The child's process id (the `recloop` process itself once it has exec'd).
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace recloop::testing
