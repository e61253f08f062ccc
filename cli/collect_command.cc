// SPDX-License-Identifier: Apache-2.0
// `recloop collect`: runs a Collector until SIGINT or SIGTERM, then prints its
// counters on one line and exits 0.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/live_metrics.h"
#include "cli/stop_signals.h"
#include "core/error.h"
#include "feedback/collector.h"
#include "feedback/curve.h"
#include "feedback/logger.h"

#include <boost/program_options.hpp>
#include <zmq.hpp>

#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace recloop {
namespace {

namespace po = boost::program_options;

// "30s", "10m", "2h", "3d" (also "500ms") -> microseconds; nullopt unless a
// positive whole number and a unit, at most 366 days.
std::optional<std::int64_t> parse_duration_us(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  std::int64_t count = 0;
  for (std::size_t i = 0; i < digits; ++i) count = count * 10 + (text[i] - '0');
  const std::string_view unit = text.substr(digits);
  std::int64_t scale = 0;
  if (unit == "ms") scale = 1'000;
  else if (unit == "s") scale = 1'000'000;
  else if (unit == "m") scale = 60'000'000;
  else if (unit == "h") scale = 3'600'000'000;
  else if (unit == "d") scale = 86'400'000'000;
  else return std::nullopt;
  constexpr std::int64_t kMaxUs = 366 * std::int64_t{86'400'000'000};
  if (count == 0 || count > kMaxUs / scale) return std::nullopt;
  return count * scale;
}

// The shortest text that reads back as `value`.
std::string shortest(double value) {
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return ec == std::errc() ? std::string(text, end) : std::to_string(value);
}

}  // namespace

int run_collect(const std::vector<std::string>& args) {
  CollectorOptions options;
  std::string reward_window, aggregation = "earliest", log_level = "info";
  std::string curve_key, curve_authorized;
  bool insecure = false;
  po::options_description described(
      "recloop collect: receive decisions and rewards over ZeroMQ into an SQLite log\n\n"
      "usage: recloop collect --log FILE [--bind ENDPOINT] [--learner ENDPOINT] [--max-batch N]\n"
      "                       [--reward-window DURATION [--default-reward X]\n"
      "                       [--aggregation sum|earliest]] [--log-level LEVEL]\n"
      "                       [--curve-key FILE --curve-authorized FILE | --insecure]\n"
      "                       [--metrics HOST:PORT]\n\n"
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
       "most messages written per transaction, 1 .. 1000000")
      ("reward-window", po::value(&reward_window)->value_name("DURATION"),
       "collect each decision's rewards for this long after it is stored (or activated, if "
       "deferred), e.g. 30s, 10m, 2h, 3d, then join their aggregate, or the default reward if "
       "none came; later rewards are kept as late, never joined (default: no window, each "
       "decision is joined at its first reward)")
      ("default-reward",
       po::value(&options.default_reward)->value_name("X")->default_value(options.default_reward),
       "reward joined when a window closes without any (with --reward-window)")
      ("aggregation", po::value(&aggregation)->value_name("sum|earliest")->default_value(aggregation),
       "how a window's rewards are joined: their sum, or the one with the earliest timestamp");
  std::string metrics_endpoint;
  add_metrics_option(described, metrics_endpoint);
  add_log_level_option(described, log_level);
  add_curve_server_options(described, curve_key, curve_authorized, insecure,
                           "this collector's", "clients, servers and learners");
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
  if (!reward_window.empty()) {
    const auto window_us = parse_duration_us(reward_window);
    if (!window_us) {
      throw ConfigError("--reward-window '" + reward_window +
                        "' is not a duration such as 30s, 10m, 2h or 3d (at most 366d)");
    }
    options.window_us = *window_us;
  }
  if (!std::isfinite(options.default_reward)) {
    throw ConfigError("--default-reward " + std::to_string(options.default_reward) +
                      " is not a finite number");
  }
  if (aggregation == "sum") {
    options.aggregation = RewardAggregation::sum;
  } else if (aggregation == "earliest") {
    options.aggregation = RewardAggregation::earliest;
  } else {
    throw ConfigError("--aggregation '" + aggregation + "' is neither sum nor earliest");
  }
  options.log = make_logger(log_level, "collector");
  options.curve = server_keys_from_flags(
      curve_key, curve_authorized,
      {{"--bind", options.endpoint}, {"--learner", options.learner_endpoint}}, insecure);

  install_stop_handlers();
  zmq::context_t zmq(1);
  // Before the sockets bind: it decides which clients are admitted.
  std::optional<CurveAuthenticator> authenticator;
  if (options.curve) {
    authenticator.emplace(zmq, options.curve->authorized, options.log);
  }
  // Declared before the collector and the endpoint, so it outlives both.
  MetricsRegistry metrics;
  register_process_metrics(metrics, "collect");
  options.on_joined = policy_reward_recorder(metrics);
  Collector collector(zmq, options);
  register_collector_metrics(metrics, collector);
  const auto metrics_server = serve_metrics(metrics_endpoint, metrics, options.log);
  std::fprintf(stderr,
               "recloop collect: ROUTER bound to %s (%s)\n"
               "recloop collect: log %s, up to %d messages per transaction\n",
               collector.endpoint().c_str(), curve_status(options.curve).c_str(),
               options.log_path.c_str(), options.max_batch);
  if (!options.learner_endpoint.empty()) {
    std::fprintf(stderr, "recloop collect: pushing joined interactions to %s\n",
                 collector.learner_endpoint().c_str());
  }
  if (options.window_us > 0) {
    options.log.info("join mode", {{"join", "window"},
                                   {"reward_window", reward_window},
                                   {"aggregation", aggregation},
                                   {"default_reward", shortest(options.default_reward)}});
  } else {
    options.log.info("join mode", {{"join", "first reward"}});
  }
  collector.run(stop_requested);
  if (authenticator) {
    std::fprintf(stderr, "recloop collect: CurveZMQ refused %llu client handshakes\n",
                 static_cast<unsigned long long>(authenticator->rejected_clients()));
  }

  const CollectorStats s = collector.stats();
  options.log.info("stopped", {{"decisions", std::to_string(s.decisions)},
                               {"rewards", std::to_string(s.rewards)},
                               {"joined", std::to_string(s.joined)},
                               {"defaulted", std::to_string(s.defaulted)},
                               {"late", std::to_string(s.late)},
                               {"duplicates", std::to_string(s.duplicates)},
                               {"rejected_frames", std::to_string(s.rejected_frames)}});
  std::printf(
      "recloop collect: stopped: decisions=%llu rewards=%llu duplicates=%llu joined=%llu "
      "rejected_frames=%llu batches=%llu undelivered=%llu defaulted=%llu late=%llu "
      "skipped_learning=%llu activations=%llu\n",
      static_cast<unsigned long long>(s.decisions), static_cast<unsigned long long>(s.rewards),
      static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.joined),
      static_cast<unsigned long long>(s.rejected_frames),
      static_cast<unsigned long long>(s.batches), static_cast<unsigned long long>(s.undelivered),
      static_cast<unsigned long long>(s.defaulted), static_cast<unsigned long long>(s.late),
      static_cast<unsigned long long>(s.skipped_learning),
      static_cast<unsigned long long>(s.activations));
  return 0;
}

}  // namespace recloop
