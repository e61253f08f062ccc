// SPDX-License-Identifier: Apache-2.0
// What the long-running verbs (collect, serve, learn) share: the --metrics,
// --log-level and CurveZMQ server options, the process-wide series every one of
// them exports, and the HTTP endpoint serving its registry.
#pragma once

#include "feedback/logger.h"
#include "feedback/metrics.h"
#include "feedback/metrics_http.h"

#include <boost/program_options.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace recloop {

class Collector;
class DecisionServer;
struct Interaction;

// Adds --metrics HOST:PORT to `described`, stored in `host_port` (empty = off).
void add_metrics_option(boost::program_options::options_description& described,
                        std::string& host_port);

// Adds --log-level LEVEL to `described`, stored in `level` (its default is the
// value `level` holds).
void add_log_level_option(boost::program_options::options_description& described,
                          std::string& level);

// Adds the CurveZMQ options of a verb that binds: --curve-key FILE (`whose`
// key pair, e.g. "this collector's"), --curve-authorized FILE (the public keys
// of `admitted`, one per line) and --insecure (bind a non-loopback endpoint
// without keys). feedback/curve.h's server_keys_from_flags() reads them.
void add_curve_server_options(boost::program_options::options_description& described,
                              std::string& curve_key, std::string& curve_authorized,
                              bool& insecure, std::string_view whose, std::string_view admitted);

// A logger writing to std::cerr at `level` (debug, info, warn, error), naming
// `component`. Throws ConfigError for another level.
Logger make_logger(const std::string& level, std::string component);

// Registers the series every live process exports:
//   recloop_info{role="collect",version="0.1.0"} 1
//   recloop_start_time_seconds   Unix time the process started serving
//   recloop_uptime_seconds       seconds since then
void register_process_metrics(MetricsRegistry& registry, std::string_view role);

// The collector's counters (Collector::stats(), read at each scrape):
//   recloop_requests_total          messages received: decisions, rewards (new or
//                                   duplicate) and rejected frames
//   recloop_decisions_total, recloop_rewards_total, recloop_duplicates_total,
//   recloop_joined_total, recloop_defaulted_total, recloop_late_total,
//   recloop_rejected_frames_total, recloop_batches_total, recloop_undelivered_total,
//   recloop_skipped_learning_total, recloop_activations_total
// `collector` must outlive the registry's renders.
void register_collector_metrics(MetricsRegistry& registry, const Collector& collector);

// A CollectorOptions::on_joined hook observing each joined interaction's
// reward in recloop_policy_reward{policy="..."} (a summary: _sum and _count).
// At most 64 policies get their own series; later ones share policy="other".
// Call it on one thread (the collector's).
std::function<void(const Interaction&)> policy_reward_recorder(MetricsRegistry& registry);

// The decision server's counters (DecisionServer::stats() and snapshot()):
//   recloop_requests_total, recloop_decisions_total (answered),
//   recloop_rejected_requests_total, recloop_failed_total, recloop_forwarded_total,
//   recloop_swaps_total, recloop_explored_total, recloop_logged_probability_sum,
//   recloop_exploration_rate (explored / answered, 0 before the first),
//   recloop_model_version
// `server` must outlive the registry's renders.
void register_server_metrics(MetricsRegistry& registry, const DecisionServer& server);

// Serves `registry` on `host_port` (parse_host_port; port 0 = a free port) and
// logs the URL, or returns null when `host_port` is empty. `registry` must
// outlive the server. Throws ConfigError for a malformed HOST:PORT or an
// address that is not an IP address, Error when it cannot be bound.
std::unique_ptr<MetricsHttpServer> serve_metrics(const std::string& host_port,
                                                 const MetricsRegistry& registry,
                                                 const Logger& log);

}  // namespace recloop
