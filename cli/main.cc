// SPDX-License-Identifier: Apache-2.0
// `recloop VERB [options]`: one binary, one row per verb. Exceptions are caught
// here and only here: ConfigError exits 2, any other error 1, always with one
// line on stderr.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"

namespace {

struct Verb {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string>&);
};

constexpr Verb kVerbs[] = {
    {"simulate", "run a scenario's closed loop: policies, simulated users, collector, estimates",
     recloop::run_simulate},
    {"evaluate", "estimate a target policy's value from a decision log (IPS, SNIPS, DM, DR)",
     recloop::run_evaluate},
    {"collect", "run the feedback collector: receive decisions and rewards over ZeroMQ into SQLite",
     recloop::run_collect},
    {"serve", "answer rank requests (JSON over ZeroMQ) with a policy; log decisions via a collector",
     recloop::run_serve},
    {"rank", "send one rank request to a decision server and print the reply",
     recloop::run_rank},
    {"reward", "report one reward to a collector and wait until it is stored",
     recloop::run_reward},
    {"learn", "update a policy from a collector's interactions; publish model snapshots to servers",
     recloop::run_learn},
    {"import", "turn another log (Open Bandit Dataset, Coat, DSJSON) into a recloop log",
     recloop::run_import},
    {"export", "write a recloop log in another tool's format (DSJSON for Vowpal Wabbit)",
     recloop::run_export},
    {"bias", "selection-bias report of a log: naive vs weighted values, slots, exposure, HTML",
     recloop::run_bias},
    {"calibrate", "fit a population-world scenario from a ranking log, corrected for the logger",
     recloop::run_calibrate},
    {"table", "derive a fixed target policy (item, slot probabilities) from a log's choices",
     recloop::run_table},
    {"policies", "list every policy with its settings, defaults, ranges and the paper it follows",
     recloop::run_policies},
    {"train", "train a policy from a decision log with importance weighting; save a model file",
     recloop::run_train},
    {"sessions", "compare policies over whole user sessions (fatigue, drift, return) under CRN",
     recloop::run_sessions},
    {"keygen", "make a CurveZMQ key pair (NAME.key, NAME.pub) for servers and clients",
     recloop::run_keygen},
    {"status", "read the metrics of running collect, serve and learn processes (--metrics)",
     recloop::run_status},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "recloop: closed-loop recommendation with contextual bandits\n\n"
               "usage: recloop VERB [options]    (recloop VERB --help for a verb's options)\n\n"
               "verbs:\n");
  for (const auto& verb : kVerbs) {
    std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(verb.name.size()), verb.name.data(),
                 static_cast<int>(verb.summary.size()), verb.summary.data());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string_view verb_name = argv[1];
  if (verb_name == "--help" || verb_name == "-h" || verb_name == "help") {
    print_usage(stdout);
    return 0;
  }
  if (verb_name == "--version") {
    std::printf("recloop 0.1.0\n");
    return 0;
  }
  for (const auto& verb : kVerbs) {
    if (verb.name != verb_name) continue;
    const std::vector<std::string> args(argv + 2, argv + argc);
    try {
      return verb.run(args);
    } catch (const recloop::ConfigError& e) {
      std::fprintf(stderr, "recloop %s: error: %s\n", argv[1], e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "recloop %s: error: %s\n", argv[1], e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "recloop: error: unknown verb '%s' (see recloop --help)\n", argv[1]);
  return 2;
}
