// SPDX-License-Identifier: Apache-2.0
// recloop table --log LOG --out TABLE.csv: a fixed target policy from a log's
// empirical choice frequencies.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "core/error.h"
#include "evaluation/probability_table.h"
#include "logging/event_log.h"

namespace po = boost::program_options;

namespace recloop {

int run_table(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop table --log LOG --out TABLE.csv [options]\n\n"
      "Writes the probability table item,slot,probability in which probability is the\n"
      "share of the log's rewarded decisions at that slot that chose the item: the\n"
      "fixed policy `recloop evaluate --target table:TABLE.csv` scores. This is how\n"
      "the Open Bandit Pipeline evaluates its Bernoulli-TS logger from the random log.\n\n"
      "options");
  std::string log_path, out_path, policy;
  options.add_options()
      ("help,h", "show this help")
      ("log", po::value(&log_path), "decision log (SQLite) to count")
      ("out", po::value(&out_path), "CSV file to write")
      ("policy", po::value(&policy), "count only this logging policy's decisions")
      ("by-segment", "one distribution per context segment (see evaluation/probability_table.h)");
  const auto command_line = parse_command_line(args, options, options);
  if (!command_line) return 0;
  const po::variables_map& vm = *command_line;
  if (log_path.empty()) throw ConfigError("--log LOG is required");
  if (out_path.empty()) throw ConfigError("--out TABLE.csv is required");
  std::vector<Interaction> log;
  {
    EventLog event_log(log_path);
    event_log.for_each([&](const Interaction& i) { log.push_back(i); }, policy);
  }
  if (log.empty()) {
    throw Error(log_path + ": no rewarded decisions" +
                (policy.empty() ? std::string() : " of policy '" + policy + "'"));
  }
  const auto table = ProbabilityTable::from_frequencies(log, vm.count("by-segment") > 0);
  std::ofstream out(out_path);
  if (!out) throw Error(out_path + ": cannot write");
  table.write_csv(out);
  out.close();
  if (!out) throw Error(out_path + ": write failed");
  std::printf("%s: %zu rows from %zu decisions\n", out_path.c_str(), table.rows().size(), log.size());
  return 0;
}

}  // namespace recloop
