// SPDX-License-Identifier: Apache-2.0
// The verbs of the `recloop` binary. Each parses its own arguments (args
// excludes the program and verb names), runs, prints, and returns the exit
// status. They throw ConfigError for bad input and Error for I/O failures;
// main.cc turns those into one-line messages.
#pragma once

#include <string>
#include <vector>

namespace recloop {

int run_simulate(const std::vector<std::string>& args);
int run_evaluate(const std::vector<std::string>& args);
int run_collect(const std::vector<std::string>& args);
int run_serve(const std::vector<std::string>& args);
int run_rank(const std::vector<std::string>& args);
int run_reward(const std::vector<std::string>& args);
int run_learn(const std::vector<std::string>& args);
int run_import(const std::vector<std::string>& args);
int run_bias(const std::vector<std::string>& args);
int run_calibrate(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
int run_table(const std::vector<std::string>& args);
int run_policies(const std::vector<std::string>& args);
int run_train(const std::vector<std::string>& args);
int run_sessions(const std::vector<std::string>& args);
// True when the first positional argument names a scenario file whose
// [simulator] world is a session world; `recloop simulate` hands those to
// run_sessions (cli/sessions_command.cc).
bool names_session_scenario(const std::vector<std::string>& args);
int run_keygen(const std::vector<std::string>& args);
int run_status(const std::vector<std::string>& args);

}  // namespace recloop
