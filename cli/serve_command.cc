// SPDX-License-Identifier: Apache-2.0
// `recloop serve`: runs a DecisionServer (feedback/decision_server.h, which
// documents the request and reply JSON) until SIGINT or SIGTERM, then prints
// its counters on one line and exits 0.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/live_metrics.h"
#include "cli/stop_signals.h"
#include "core/config.h"
#include "core/error.h"
#include "feedback/curve.h"
#include "feedback/decision_server.h"
#include "feedback/logger.h"
#include "feedback/model_stream.h"
#include "policies/model_file.h"
#include "policies/ranker_registry.h"
#include "policies/registry.h"

#include <boost/program_options.hpp>
#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <exception>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace recloop {
namespace {

namespace po = boost::program_options;

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    const auto first = name.find_first_not_of(' ');
    const auto last = name.find_last_not_of(' ');
    names.push_back(first == std::string::npos ? std::string() : name.substr(first, last - first + 1));
  }
  return names;
}

// A context of the server's dimensions with two candidates, to check before
// serving that the policy accepts them.
Context probe_context(const FeatureSchema& schema) {
  Context context;
  context.user = Eigen::VectorXd::Zero(schema.user_dim);
  context.actions = Eigen::MatrixXd::Zero(schema.action_dim, 2);
  context.items = {1, 2};
  return context;
}

// Empty if `policy` decides for contexts of the schema's dimensions, else why not.
std::string refusal(const Policy& policy, const FeatureSchema& schema) {
  try {
    (void)policy.pmf(probe_context(schema));
  } catch (const std::exception& e) {
    return " does not accept " + std::to_string(schema.user_dim) + " context and " +
           std::to_string(schema.action_dim) + " action features: " + e.what();
  }
  return {};
}

}  // namespace

int run_serve(const std::vector<std::string>& args) {
  DecisionServerOptions options;
  options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string policy_name, model_path, ranker_name, context_features, action_features, models;
  std::string curve_key, curve_authorized, collector_server_key, models_server_key;
  bool insecure = false;
  std::vector<std::string> overrides;
  int user_dim = -1, action_dim = 0;
  long long seed = 0;
  po::options_description described(
      "recloop serve: answer rank requests (JSON over ZeroMQ) with a policy's decisions and\n"
      "log every decision through a collector\n\n"
      "usage: recloop serve (--policy NAME | --model FILE) (--user-dim U | --context-features LIST)\n"
      "                     [--action-dim A | --action-features LIST] [--collector ENDPOINT] [options]\n\n"
      "CurveZMQ (keys from recloop keygen): --curve-key is this server's key pair, used\n"
      "for the frontend (with --curve-authorized: the applications admitted) and as the\n"
      "client key towards a collector (--collector-server-key) and a learner\n"
      "(--models-server-key) that were started with keys.\n\n"
      "Request and reply formats: feedback/decision_server.h. Features are read by key in\n"
      "byte-wise order (--user-dim, --action-dim: the number of keys must match) or by the\n"
      "names listed (--context-features, --action-features: a missing name is 0).\n\n"
      "options");
  described.add_options()
      ("help,h", "print this help and exit")
      ("bind", po::value(&options.endpoint)->value_name("ENDPOINT")->default_value(options.endpoint),
       "ROUTER endpoint applications connect to (without keys: loopback or ipc only)")
      ("collector", po::value(&options.collector_endpoint)->value_name("ENDPOINT"),
       "collector that logs every decision (default: none, decisions are not logged)")
      ("policy", po::value(&policy_name)->value_name("NAME"), "policy to build (see recloop policies)")
      ("model", po::value(&model_path)->value_name("FILE"), "model file to load (recloop train)")
      ("set", po::value(&overrides)->composing()->value_name("KEY=VALUE"),
       "policy setting (key=value) or any section's (section.key=value); repeatable")
      ("models", po::value(&models)->value_name("ENDPOINT"),
       "subscribe to model snapshots (recloop learn --publish) and decide with the newest")
      ("ranker", po::value(&ranker_name)->value_name("NAME"),
       "ranker over the policy for requests with \"slots\" (plackett_luce, epsilon_greedy_ranker, top_k)")
      ("user-dim", po::value(&user_dim)->value_name("U"), "number of context features")
      ("action-dim", po::value(&action_dim)->value_name("A")->default_value(0),
       "number of features of each action")
      ("context-features", po::value(&context_features)->value_name("LIST"),
       "context feature names in vector order, comma-separated")
      ("action-features", po::value(&action_features)->value_name("LIST"),
       "action feature names in vector order, comma-separated")
      ("threads", po::value(&options.threads)->value_name("N")->default_value(options.threads),
       "worker threads, 1 .. 256")
      ("max-request-bytes",
       po::value(&options.max_request_bytes)->value_name("N")->default_value(options.max_request_bytes),
       "larger requests get an error reply")
      ("seed", po::value(&seed)->value_name("S")->default_value(0),
       "run seed of the decision draws (decision_seed(seed, event id))")
      ("apprentice", po::bool_switch(&options.apprentice),
       "apprentice mode: serve a request's baselineAction (logged as policy 'baseline' with "
       "probability 1) and count how often the policy's own choice agrees")
      ("flush-timeout-ms",
       po::value(&options.flush_timeout_ms)->value_name("MS")->default_value(options.flush_timeout_ms),
       "at exit, how long to wait for the collector's acks")
      ("collector-server-key", po::value(&collector_server_key)->value_name("FILE"),
       "CurveZMQ: the collector's public key (its .pub file)")
      ("models-server-key", po::value(&models_server_key)->value_name("FILE"),
       "CurveZMQ: the learner's public key (its .pub file)");
  add_curve_server_options(described, curve_key, curve_authorized, insecure, "this server's",
                           "applications");
  std::string metrics_endpoint, log_level = "info";
  add_metrics_option(described, metrics_endpoint);
  add_log_level_option(described, log_level);
  const po::positional_options_description no_positionals;  // so stray words are errors
  const auto command_line = parse_command_line(args, described, described, &no_positionals,
                                               " (see recloop serve --help)");
  if (!command_line) return 0;
  const po::variables_map& values = *command_line;
  if (policy_name.empty() == model_path.empty()) {
    throw ConfigError("give exactly one of --policy NAME and --model FILE");
  }
  if (!model_path.empty() && !overrides.empty()) {
    throw ConfigError("--set configures a --policy; a --model carries its settings");
  }
  if (options.threads < 1 || options.threads > 256) {
    throw ConfigError("--threads " + std::to_string(options.threads) + " is outside 1 .. 256");
  }
  if (options.max_request_bytes < 2) throw ConfigError("--max-request-bytes must be >= 2");
  if (options.flush_timeout_ms < 0) throw ConfigError("--flush-timeout-ms must be >= 0");
  // Without keys anyone who can reach the socket could ask for decisions and
  // fill the log, so only loopback and local transports are served.
  if (!curve_key.empty() && curve_authorized.empty() && collector_server_key.empty() &&
      models_server_key.empty()) {
    throw ConfigError("--curve-key needs --curve-authorized, --collector-server-key or "
                      "--models-server-key");
  }
  options.curve = server_keys_from_flags(curve_authorized.empty() ? std::string() : curve_key,
                                         curve_authorized, {{"--bind", options.endpoint}},
                                         insecure);
  if (!collector_server_key.empty()) {
    options.collector_curve =
        client_keys_from_flags(curve_key, collector_server_key, "--collector-server-key");
  }
  std::optional<ClientKeys> models_curve;
  if (!models_server_key.empty()) {
    if (models.empty()) throw ConfigError("--models-server-key needs --models ENDPOINT");
    models_curve = client_keys_from_flags(curve_key, models_server_key, "--models-server-key");
  }
  if (context_features.empty() && user_dim < 0) {
    throw ConfigError("give --user-dim U or --context-features LIST");
  }
  if (!context_features.empty() && values.count("user-dim")) {
    throw ConfigError("give --user-dim or --context-features, not both");
  }
  if (!action_features.empty() && !values["action-dim"].defaulted()) {
    throw ConfigError("give --action-dim or --action-features, not both");
  }
  if (user_dim > 100000 || action_dim < 0 || action_dim > 100000) {
    throw ConfigError("feature dimensions must be in 0 .. 100000");
  }
  options.run_seed = static_cast<std::uint64_t>(seed);
  const FeatureSchema schema = FeatureSchema::from_names(
      context_features.empty() ? std::vector<std::string>{} : split_names(context_features),
      action_features.empty() ? std::vector<std::string>{} : split_names(action_features),
      std::max(user_dim, 0), action_dim);

  PolicySnapshot first;
  Scenario scenario;
  if (!model_path.empty()) {
    first.policy = load_model(model_path);
  } else {
    for (const auto& assignment : overrides) {
      const auto equals = assignment.find('=');
      const auto dot = assignment.find('.');
      scenario.apply_override(dot != std::string::npos && dot < equals
                                  ? assignment
                                  : policy_name + "." + assignment);
    }
    first.policy = make_policy(policy_name, scenario.section(policy_name),
                               schema.user_dim + schema.action_dim);
    if (!ranker_name.empty()) {
      first.ranker = make_ranker(ranker_name, scenario.section(ranker_name), first.policy);
    }
    std::vector<std::string> known{policy_name};
    if (!ranker_name.empty()) known.push_back(ranker_name);
    scenario.reject_unknown_sections(known);
    scenario.reject_unknown_keys();
  }
  if (!model_path.empty() && !ranker_name.empty()) {
    first.ranker = make_ranker(ranker_name, scenario.section(ranker_name), first.policy);
  }
  const std::string origin =
      model_path.empty() ? "--policy " + policy_name : "--model " + model_path;
  if (const std::string refused = refusal(*first.policy, schema); !refused.empty()) {
    throw ConfigError(origin + refused);
  }
  first.version = first.policy->model_version();
  const std::string policy_label = std::string(first.policy->name());
  const std::uint64_t version = first.version;

  const Logger log = make_logger(log_level, "serve");
  options.logger = log;
  install_stop_handlers();
  zmq::context_t zmq(1);
  // Before the frontend binds: it decides which applications are admitted.
  std::optional<CurveAuthenticator> authenticator;
  if (options.curve) {
    authenticator.emplace(zmq, options.curve->authorized, log);
  }
  // Declared before the server and the endpoint, so it outlives both.
  MetricsRegistry metrics;
  register_process_metrics(metrics, "serve");
  DecisionServer server(zmq, options, schema, std::move(first));
  register_server_metrics(metrics, server);
  const auto metrics_server = serve_metrics(metrics_endpoint, metrics, log);
  log.info("started", {{"endpoint", server.endpoint()},
                       {"policy", policy_label},
                       {"model_version", std::to_string(version)},
                       {"threads", std::to_string(options.threads)},
                       {"collector", options.collector_endpoint.empty()
                                         ? std::string("none")
                                         : options.collector_endpoint}});
  std::fprintf(stderr,
               "recloop serve: ROUTER bound to %s (%s)\n"
               "recloop serve: policy %s, model version %llu, %d context + %d action features, "
               "%d worker threads\n",
               server.endpoint().c_str(), curve_status(options.curve).c_str(), policy_label.c_str(),
               static_cast<unsigned long long>(version), schema.user_dim, schema.action_dim,
               options.threads);
  if (options.apprentice) {
    std::fprintf(stderr,
                 "recloop serve: apprentice mode: requests with baselineAction are served the "
                 "baseline (logged as '%s', probability 1); the others the policy's choice\n",
                 std::string(kBaselinePolicy).c_str());
  }
  if (options.collector_endpoint.empty()) {
    std::fprintf(stderr, "recloop serve: no --collector: decisions are not logged\n");
  } else {
    std::fprintf(stderr, "recloop serve: logging decisions through %s\n",
                 options.collector_endpoint.c_str());
  }
  // Snapshots are loaded and checked on their own thread; the workers only
  // ever see a finished snapshot, swapped in atomically.
  std::thread subscriber;
  std::exception_ptr subscriber_failure;
  std::uint64_t refused_models = 0;
  if (!models.empty()) {
    std::fprintf(stderr, "recloop serve: taking model snapshots from %s\n", models.c_str());
    subscriber = std::thread([&] {
      try {
        ModelSubscriber source(zmq, models, models_curve);
        while (!stop_requested.load()) {
          auto next = source.receive(100);
          if (!next || next->version == server.snapshot()->version) continue;
          if (const std::string refused = refusal(*next->policy, schema); !refused.empty()) {
            ++refused_models;
            std::fprintf(stderr, "recloop serve: snapshot %llu from %s%s\n",
                         static_cast<unsigned long long>(next->version), models.c_str(),
                         refused.c_str());
            continue;
          }
          PolicySnapshot snapshot;
          snapshot.policy = std::move(next->policy);
          if (!ranker_name.empty()) {
            snapshot.ranker = make_ranker(ranker_name, scenario.section(ranker_name), snapshot.policy);
          }
          snapshot.version = next->version;
          server.publish(std::move(snapshot));
        }
        refused_models += source.rejected();
      } catch (...) {
        subscriber_failure = std::current_exception();
        stop_requested.store(true);
      }
    });
  }
  server.run(stop_requested);
  if (subscriber.joinable()) subscriber.join();
  if (subscriber_failure) {
    try {
      std::rethrow_exception(subscriber_failure);
    } catch (const std::exception& e) {
      log.error("model subscriber failed", {{"models", models}, {"error", e.what()}});
      throw;
    }
  }

  const DecisionServerStats s = server.stats();
  log.info("stopped", {{"requests", std::to_string(s.requests)},
                       {"answered", std::to_string(s.answered)},
                       {"rejected", std::to_string(s.rejected)},
                       {"failed", std::to_string(s.failed)},
                       {"explored", std::to_string(s.explored)},
                       {"forwarded", std::to_string(s.forwarded)},
                       {"unacknowledged", std::to_string(s.unacknowledged)}});
  std::printf(
      "recloop serve: stopped: requests=%llu answered=%llu rejected=%llu failed=%llu "
      "forwarded=%llu unacknowledged=%llu swaps=%llu refused_models=%llu\n",
      static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.answered),
      static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(s.failed),
      static_cast<unsigned long long>(s.forwarded),
      static_cast<unsigned long long>(s.unacknowledged), static_cast<unsigned long long>(s.swaps),
      static_cast<unsigned long long>(refused_models));
  if (options.apprentice) {
    std::printf("recloop serve: apprentice: baseline served %llu times, policy agreed %llu times "
                "(agreement rate %s)\n",
                static_cast<unsigned long long>(s.apprentice_decisions),
                static_cast<unsigned long long>(s.apprentice_agreements),
                s.apprentice_decisions == 0
                    ? "n/a"
                    : std::to_string(static_cast<double>(s.apprentice_agreements) /
                                     static_cast<double>(s.apprentice_decisions))
                          .c_str());
  }
  return 0;
}

}  // namespace recloop
