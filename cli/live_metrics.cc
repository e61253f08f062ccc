// SPDX-License-Identifier: Apache-2.0
#include "cli/live_metrics.h"

#include "core/error.h"
#include "core/types.h"
#include "feedback/collector.h"
#include "feedback/decision_server.h"

#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <utility>

namespace recloop {

namespace po = boost::program_options;

void add_metrics_option(po::options_description& described, std::string& host_port) {
  described.add_options()("metrics", po::value(&host_port)->value_name("HOST:PORT"),
                          "serve Prometheus metrics over HTTP (GET /metrics, GET /health) on "
                          "HOST:PORT, e.g. 127.0.0.1:9100; port 0 picks a free one (default: off)");
}

void add_log_level_option(po::options_description& described, std::string& level) {
  described.add_options()("log-level", po::value(&level)->value_name("LEVEL")->default_value(level),
                          "log lines on stderr from this level: debug, info, warn or error");
}

void add_curve_server_options(po::options_description& described, std::string& curve_key,
                              std::string& curve_authorized, bool& insecure,
                              std::string_view whose, std::string_view admitted) {
  described.add_options()
      ("curve-key", po::value(&curve_key)->value_name("FILE"),
       ("CurveZMQ: " + std::string(whose) + " key pair (recloop keygen)").c_str())
      ("curve-authorized", po::value(&curve_authorized)->value_name("FILE"),
       ("CurveZMQ: public keys of the " + std::string(admitted) + " admitted, one per line").c_str())
      ("insecure", po::bool_switch(&insecure),
       "allow binding a non-loopback endpoint without CurveZMQ keys");
}

Logger make_logger(const std::string& level, std::string component) {
  const auto parsed = parse_log_level(level);
  if (!parsed) {
    throw ConfigError("--log-level '" + level + "' is none of debug, info, warn, error");
  }
  return Logger(std::cerr, *parsed, std::move(component));
}

void register_process_metrics(MetricsRegistry& registry, std::string_view role) {
  registry
      .gauge("recloop_info", "The process's role and recloop version; always 1.",
             {{"role", std::string(role)}, {"version", "0.1.0"}})
      .set(1);
  const auto wall = std::chrono::system_clock::now();
  const auto start = std::chrono::steady_clock::now();
  registry.gauge("recloop_start_time_seconds", "Unix time at which the process started serving.")
      .set(std::chrono::duration<double>(wall.time_since_epoch()).count());
  registry.gauge_function(
      "recloop_uptime_seconds", "Seconds since the process started serving.", {}, [start] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      });
}

void register_collector_metrics(MetricsRegistry& registry, const Collector& collector) {
  using Field = std::uint64_t CollectorStats::*;
  const struct {
    const char* name;
    const char* help;
    Field field;
  } counters[] = {
      {"recloop_decisions_total", "New decisions stored.", &CollectorStats::decisions},
      {"recloop_rewards_total", "New rewards stored.", &CollectorStats::rewards},
      {"recloop_duplicates_total",
       "Decisions or rewards received again (stored once, acked again).",
       &CollectorStats::duplicates},
      {"recloop_joined_total", "Interactions joined (decision and reward).",
       &CollectorStats::joined},
      {"recloop_defaulted_total",
       "Interactions joined with the default reward: none in the window.",
       &CollectorStats::defaulted},
      {"recloop_late_total", "Rewards that arrived after their window closed (stored, not joined).",
       &CollectorStats::late},
      {"recloop_rejected_frames_total", "Malformed messages dropped without an ack.",
       &CollectorStats::rejected_frames},
      {"recloop_batches_total", "Transactions committed.", &CollectorStats::batches},
      {"recloop_undelivered_total", "Joined interactions not pushed to the learner at stop.",
       &CollectorStats::undelivered},
      {"recloop_skipped_learning_total", "Joined interactions of skip-learning decisions.",
       &CollectorStats::skipped_learning},
      {"recloop_activations_total", "Deferred decisions activated.", &CollectorStats::activations},
  };
  registry.counter_function(
      "recloop_requests_total",
      "Messages received: decisions and rewards, new or duplicate, and rejected frames.", {},
      [&collector] {
        const CollectorStats s = collector.stats();
        return s.decisions + s.rewards + s.duplicates + s.rejected_frames;
      });
  for (const auto& c : counters) {
    registry.counter_function(c.name, c.help, {},
                              [&collector, field = c.field] { return collector.stats().*field; });
  }
}

std::function<void(const Interaction&)> policy_reward_recorder(MetricsRegistry& registry) {
  constexpr std::size_t kMaxPolicies = 64;
  constexpr const char* kName = "recloop_policy_reward";
  constexpr const char* kHelp =
      "Rewards of joined interactions by logging policy (mean = sum / count).";
  // One look-up per interaction in a map only this thread touches; the
  // registry's lock is taken once per new policy. Past the cap, names are not
  // remembered, so the map stays bounded whatever the clients send.
  struct Policies {
    std::map<std::string, Summary*, std::less<>> named;
    Summary* other = nullptr;
  };
  auto policies = std::make_shared<Policies>();
  return [&registry, policies](const Interaction& interaction) {
    Summary* summary = nullptr;
    if (auto found = policies->named.find(interaction.policy); found != policies->named.end()) {
      summary = found->second;
    } else if (policies->named.size() < kMaxPolicies) {
      summary = &registry.summary(kName, kHelp, {{"policy", interaction.policy}});
      policies->named.emplace(interaction.policy, summary);
    } else {
      if (!policies->other)
        policies->other = &registry.summary(kName, kHelp, {{"policy", "other"}});
      summary = policies->other;
    }
    summary->observe(interaction.reward);
  };
}

void register_server_metrics(MetricsRegistry& registry, const DecisionServer& server) {
  using Field = std::uint64_t DecisionServerStats::*;
  const struct {
    const char* name;
    const char* help;
    Field field;
  } counters[] = {
      {"recloop_requests_total", "Rank requests received.", &DecisionServerStats::requests},
      {"recloop_decisions_total", "Rank requests answered with a decision.",
       &DecisionServerStats::answered},
      {"recloop_rejected_requests_total", "Rank requests refused as unusable.",
       &DecisionServerStats::rejected},
      {"recloop_failed_total", "Rank requests the policy failed to decide.",
       &DecisionServerStats::failed},
      {"recloop_forwarded_total", "Decisions handed to the collector client (one per slot).",
       &DecisionServerStats::forwarded},
      {"recloop_swaps_total", "Model snapshots swapped in after the first.",
       &DecisionServerStats::swaps},
      {"recloop_explored_total",
       "Answered requests whose chosen action is not an argmax of its pmf.",
       &DecisionServerStats::explored},
      {"recloop_apprentice_decisions_total",
       "Requests served with their baseline item in apprentice mode.",
       &DecisionServerStats::apprentice_decisions},
      {"recloop_apprentice_agreements_total",
       "Apprentice requests where the policy's own choice was the baseline.",
       &DecisionServerStats::apprentice_agreements},
  };
  for (const auto& c : counters) {
    registry.counter_function(c.name, c.help, {},
                              [&server, field = c.field] { return server.stats().*field; });
  }
  registry.gauge_function("recloop_logged_probability_sum",
                          "Sum of the logged probabilities of the answered requests' actions.", {},
                          [&server] { return server.stats().probability_sum; });
  registry.gauge_function(
      "recloop_exploration_rate",
      "Fraction of answered requests that explored (explored / decisions).", {}, [&server] {
        const DecisionServerStats s = server.stats();
        return s.answered == 0 ? 0.0
                               : static_cast<double>(s.explored) / static_cast<double>(s.answered);
      });
  registry.gauge_function("recloop_model_version", "Version of the model deciding now.", {},
                          [&server] { return static_cast<double>(server.snapshot()->version); });
}

std::unique_ptr<MetricsHttpServer> serve_metrics(const std::string& host_port,
                                                 const MetricsRegistry& registry,
                                                 const Logger& log) {
  if (host_port.empty()) return nullptr;
  HostPort where;
  try {
    where = parse_host_port(host_port);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--metrics ") + e.what());
  }
  MetricsHttpOptions http;
  http.address = where.host;
  http.port = where.port;
  auto server =
      std::make_unique<MetricsHttpServer>(http, [&registry] { return registry.render(); });
  log.info("metrics endpoint", {{"url", "http://" + server->endpoint() + "/metrics"}});
  return server;
}

}  // namespace recloop
