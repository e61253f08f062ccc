// SPDX-License-Identifier: Apache-2.0
// `recloop learn`: the learner of the live loop. Reads the joined interactions
// a collector pushes (`recloop collect --learner ENDPOINT`), updates a policy
// with each, and publishes the policy's model every N updates
// (feedback/model_stream.h) to decision servers started with
// `recloop serve --models ENDPOINT`. Stops on SIGINT or SIGTERM, publishes
// what it has learned since the last snapshot, prints its counters, exits 0.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/live_metrics.h"
#include "cli/stop_signals.h"
#include "core/config.h"
#include "core/error.h"
#include "feedback/client.h"
#include "feedback/curve.h"
#include "feedback/logger.h"
#include "feedback/model_stream.h"
#include "policies/model_file.h"
#include "policies/registry.h"

#include <boost/program_options.hpp>
#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace recloop {
namespace {

namespace po = boost::program_options;

}  // namespace

int run_learn(const std::vector<std::string>& args) {
  std::string from, publish_endpoint, policy_name, model_path;
  std::string curve_key, curve_authorized, collector_server_key;
  bool insecure = false;
  std::vector<std::string> overrides;
  long long every = 100;
  double every_seconds = 0.0;
  int republish_ms = 1000;
  po::options_description described(
      "recloop learn: update a policy from a collector's joined interactions and publish\n"
      "its model to decision servers (recloop serve --models)\n\n"
      "usage: recloop learn --from ENDPOINT (--policy NAME | --model FILE) --publish ENDPOINT\n"
      "                     [--every N] [--every-seconds T]\n\n"
      "A new model is published after N updates, or T seconds after the last one if\n"
      "it has learnt anything since, whichever comes first.\n\n"
      "CurveZMQ (keys from recloop keygen): --curve-key is this learner's key pair, used\n"
      "for the model stream (with --curve-authorized: the servers admitted) and as the\n"
      "client key towards a collector started with keys (--collector-server-key).\n\n"
      "options");
  described.add_options()
      ("help,h", "print this help and exit")
      ("from", po::value(&from)->value_name("ENDPOINT"),
       "the collector's learner endpoint (recloop collect --learner)")
      ("policy", po::value(&policy_name)->value_name("NAME"),
       "policy to learn, built for the feature dimension of the first interaction")
      ("model", po::value(&model_path)->value_name("FILE"), "model file to continue learning")
      ("set", po::value(&overrides)->composing()->value_name("KEY=VALUE"),
       "policy setting (key=value or NAME.key=value); repeatable")
      ("publish", po::value(&publish_endpoint)->value_name("ENDPOINT"),
       "PUB endpoint to bind for model snapshots")
      ("every", po::value(&every)->value_name("N")->default_value(every),
       "publish after every N updates, 1 .. 1000000000")
      ("every-seconds", po::value(&every_seconds)->value_name("T")->default_value(every_seconds),
       "also publish T seconds after the last new model if there were updates since; 0 = off")
      ("republish-ms", po::value(&republish_ms)->value_name("MS")->default_value(republish_ms),
       "repeat the latest snapshot this often, for servers that connect late")
      ("collector-server-key", po::value(&collector_server_key)->value_name("FILE"),
       "CurveZMQ: the collector's public key (its .pub file)");
  add_curve_server_options(described, curve_key, curve_authorized, insecure, "this learner's",
                           "decision servers");
  std::string metrics_endpoint, log_level = "info";
  add_metrics_option(described, metrics_endpoint);
  add_log_level_option(described, log_level);
  const po::positional_options_description no_positionals;  // so stray words are errors
  if (!parse_command_line(args, described, described, &no_positionals,
                          " (see recloop learn --help)")) {
    return 0;
  }
  if (from.empty()) throw ConfigError("--from ENDPOINT is required");
  if (publish_endpoint.empty()) throw ConfigError("--publish ENDPOINT is required");
  if (policy_name.empty() == model_path.empty()) {
    throw ConfigError("give exactly one of --policy NAME and --model FILE");
  }
  if (!(every_seconds >= 0.0 && every_seconds <= 86400.0 * 366)) {
    throw ConfigError("--every-seconds " + std::to_string(every_seconds) +
                      " is outside 0 .. 31622400 (366 days)");
  }
  if (every < 1 || every > 1'000'000'000) {
    throw ConfigError("--every " + std::to_string(every) + " is outside 1 .. 1000000000");
  }
  if (republish_ms < 1) throw ConfigError("--republish-ms must be >= 1");
  if (!curve_key.empty() && curve_authorized.empty() && collector_server_key.empty()) {
    throw ConfigError("--curve-key needs --curve-authorized or --collector-server-key");
  }
  const std::optional<ServerKeys> publish_curve =
      server_keys_from_flags(curve_authorized.empty() ? std::string() : curve_key,
                             curve_authorized, {{"--publish", publish_endpoint}}, insecure);
  const std::optional<ClientKeys> collector_curve =
      client_keys_from_flags(collector_server_key.empty() ? std::string() : curve_key,
                             collector_server_key, "--collector-server-key");

  if (!model_path.empty() && !overrides.empty()) {
    throw ConfigError("--set configures a --policy; a --model carries its settings");
  }
  Scenario scenario;
  for (const auto& assignment : overrides) {
    const auto equals = assignment.find('=');
    const auto dot = assignment.find('.');
    scenario.apply_override(dot != std::string::npos && dot < equals ? assignment
                                                                     : policy_name + "." + assignment);
  }
  std::unique_ptr<Policy> policy;
  if (!model_path.empty()) {
    policy = load_model(model_path);
  } else {
    // Built once now so that a bad name or setting fails before anything is read.
    (void)make_policy(policy_name, scenario.section(policy_name), 1);
    scenario.reject_unknown_sections({policy_name});
  }

  const Logger log = make_logger(log_level, "learn");
  install_stop_handlers();
  zmq::context_t zmq(1);
  // Before the publisher binds: it decides which servers are admitted.
  std::optional<CurveAuthenticator> authenticator;
  if (publish_curve) {
    authenticator.emplace(zmq, publish_curve->authorized, log);
  }
  InteractionStream stream(zmq, from, collector_curve);
  ModelPublisher publisher(zmq, publish_endpoint, publish_curve);
  std::fprintf(stderr, "recloop learn: model stream: %s\n", curve_status(publish_curve).c_str());
  std::fprintf(stderr, "recloop learn: reading interactions from %s, publishing models on %s every %lld updates\n",
               from.c_str(), publisher.endpoint().c_str(), every);

  // Declared before the endpoint, so it outlives it.
  MetricsRegistry metrics;
  register_process_metrics(metrics, "learn");
  Counter& received =
      metrics.counter("recloop_requests_total", "Joined interactions received from the collector.");
  Counter& updates = metrics.counter("recloop_updates_total", "Policy updates applied.");
  Counter& skipped = metrics.counter(
      "recloop_skipped_total", "Interactions the policy refused (another dimension or catalogue).");
  Counter& published = metrics.counter("recloop_snapshots_published_total",
                                       "Model snapshots published (repeats not counted).");
  Gauge& model_version =
      metrics.gauge("recloop_model_version", "Version of the policy's model after the last update.");
  if (policy) model_version.set(static_cast<double>(policy->model_version()));
  const auto metrics_server = serve_metrics(metrics_endpoint, metrics, log);
  log.info("started", {{"from", from},
                       {"publish", publisher.endpoint()},
                       {"every", std::to_string(every)},
                       {"every_seconds", std::to_string(every_seconds)},
                       {"policy", model_path.empty() ? policy_name : model_path}});

  using Clock = std::chrono::steady_clock;
  std::uint64_t since_publish = 0;
  auto last_sent = Clock::now();
  auto last_new_model = Clock::now();
  const auto publish_period = std::chrono::duration<double>(every_seconds);
  auto publish = [&] {
    publisher.publish(*policy, policy->model_version());
    published.add();
    since_publish = 0;
    last_sent = last_new_model = Clock::now();
  };
  while (!stop_requested.load()) {
    const auto interaction = stream.receive(100);
    if (interaction) {
      received.add();
      if (!policy) {
        policy = make_policy(policy_name, scenario.section(policy_name),
                             interaction->context.feature_dim());
      }
      try {
        policy->update(*interaction);
        updates.add();
        model_version.set(static_cast<double>(policy->model_version()));
        ++since_publish;
      } catch (const std::exception& e) {
        // An interaction of another dimension or catalogue: skipped, not fatal.
        skipped.add();
        log.warn("skipped interaction", {{"event_id", interaction->event_id}, {"error", e.what()}});
      }
      if (since_publish >= static_cast<std::uint64_t>(every)) publish();
    }
    if (every_seconds > 0.0 && since_publish > 0 && Clock::now() - last_new_model >= publish_period) {
      publish();
    }
    if (Clock::now() - last_sent >= std::chrono::milliseconds(republish_ms)) {
      publisher.republish();
      last_sent = Clock::now();
    }
  }
  if (policy && since_publish > 0) publish();
  log.info("stopped", {{"received", std::to_string(received.value())},
                       {"updates", std::to_string(updates.value())},
                       {"skipped", std::to_string(skipped.value())},
                       {"snapshots", std::to_string(published.value())},
                       {"model_version", std::to_string(policy ? policy->model_version() : 0)}});
  std::printf("recloop learn: stopped: received=%llu updates=%llu skipped=%llu published=%llu "
              "model_version=%llu\n",
              static_cast<unsigned long long>(received.value()),
              static_cast<unsigned long long>(updates.value()),
              static_cast<unsigned long long>(skipped.value()),
              static_cast<unsigned long long>(publisher.published()),
              static_cast<unsigned long long>(policy ? policy->model_version() : 0));
  return 0;
}

}  // namespace recloop
