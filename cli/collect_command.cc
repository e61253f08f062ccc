// SPDX-License-Identifier: Apache-2.0
// `recloop collect`: runs a Collector until SIGINT or SIGTERM, then prints its
// counters on one line and exits 0.
#include "cli/commands.h"
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

// Set by the signal handler, read by the collector's loop. A signal handler can
// reach nothing else, so this one flag has to live at namespace scope.
std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the stop flag is set from a signal handler");

extern "C" void request_stop(int) { stop_requested.store(true); }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocked poll returns EINTR and sees the flag at once
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

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
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(described).positional(no_positionals).run(),
              values);
    po::notify(values);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + " (see recloop collect --help)");
  }
  if (values.count("help")) {
    std::cout << described << "\n";
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
