// SPDX-License-Identifier: Apache-2.0
// `recloop collect`: runs a Collector until SIGINT or SIGTERM, then prints its
// counters on one line and exits 0.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "core/error.h"
#include "feedback/collector.h"

#include <boost/program_options.hpp>
#include <zmq.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace recloop {
namespace {

namespace po = boost::program_options;

}  // namespace

int run_collect(const std::vector<std::string>& args) {
  CollectorOptions options;
  po::options_description described(
      "recloop collect: receive decisions and rewards over ZeroMQ into an SQLite log\n\n"
      "usage: recloop collect --log FILE [--bind ENDPOINT] [--learner ENDPOINT] [--max-batch N]\n\n"
      "options");
  described.add_options()
      ("help,h", "print this help and exit")
      ("log", po::value(&options.log_path)->value_name("FILE"),
       "SQLite event log to create or continue (required)")
      ("bind",
       po::value(&options.endpoint)->value_name("ENDPOINT")->default_value(options.endpoint),
       "ROUTER endpoint the clients connect to")
      ("learner", po::value(&options.learner_endpoint)->value_name("ENDPOINT"),
       "PUSH endpoint for joined interactions; a learner must be connected (default: none)")
      ("max-batch",
       po::value(&options.max_batch)->value_name("N")->default_value(options.max_batch),
       "most messages written per transaction, 1 .. 1000000");
  const po::positional_options_description no_positionals;  // so stray words are errors
  if (!parse_command_line(args, described, described, &no_positionals,
                          " (see recloop collect --help)")) {
    return 0;
  }
  if (options.log_path.empty()) throw ConfigError("--log FILE is required");
  if (options.max_batch < 1 || options.max_batch > 1'000'000) {
    throw ConfigError("--max-batch " + std::to_string(options.max_batch) +
                      " is outside 1 .. 1000000");
  }

  install_stop_handlers();
  zmq::context_t zmq(1);
  Collector collector(zmq, options);
  std::fprintf(stderr,
               "recloop collect: ROUTER bound to %s (no keys: anyone who can reach it can write;"
               " the default binds loopback only)\n"
               "recloop collect: log %s, up to %d messages per transaction\n",
               collector.endpoint().c_str(), options.log_path.c_str(), options.max_batch);
  if (!options.learner_endpoint.empty()) {
    std::fprintf(stderr, "recloop collect: pushing joined interactions to %s\n",
                 collector.learner_endpoint().c_str());
  }
  collector.run(stop_requested);

  const CollectorStats s = collector.stats();
  std::printf(
      "recloop collect: stopped: decisions=%llu rewards=%llu duplicates=%llu joined=%llu "
      "rejected_frames=%llu batches=%llu undelivered=%llu\n",
      static_cast<unsigned long long>(s.decisions), static_cast<unsigned long long>(s.rewards),
      static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.joined),
      static_cast<unsigned long long>(s.rejected_frames),
      static_cast<unsigned long long>(s.batches), static_cast<unsigned long long>(s.undelivered));
  return 0;
}

}  // namespace recloop
