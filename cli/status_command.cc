// SPDX-License-Identifier: Apache-2.0
// `recloop status HOST:PORT...`: reads the metrics endpoint of each live
// process (recloop collect, serve or learn started with --metrics) and prints
// one table per process, or JSON. An endpoint that cannot be read gets one
// line on stderr and the others are still shown; the exit status is then 1.
// With --watch the tables are printed again every SECONDS until SIGINT or
// SIGTERM, and requests/s is the rate since the previous reading.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "core/error.h"
#include "feedback/metrics.h"
#include "feedback/metrics_http.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace recloop {
namespace {

namespace po = boost::program_options;
using json = nlohmann::ordered_json;  // keys in the order written

// What one reading of one endpoint says; a count a role does not export is empty.
struct ProcessStatus {
  std::string role = "?";
  std::optional<double> uptime_seconds;
  std::optional<double> requests, decisions, rewards, joined, defaulted, late, duplicates,
      rejected, model_version, exploration_rate, updates, published;
  struct PolicyReward {
    double count = 0.0;
    double sum = 0.0;
  };
  std::map<std::string, PolicyReward> policies;
  // Requests per second: since the previous reading with --watch, else the
  // mean since the process started.
  std::optional<double> requests_per_second;
  bool rate_since_previous = false;
};

void add_to(std::optional<double>& total, double value) { total = total.value_or(0.0) + value; }

std::string label(const MetricSample& sample, const std::string& name) {
  for (const auto& [key, value] : sample.labels) {
    if (key == name) return value;
  }
  return {};
}

ProcessStatus read_status(const std::vector<MetricSample>& samples) {
  // The series each row adds up (a role exports the ones it has; see cli/live_metrics.h).
  static const std::map<std::string, std::optional<double> ProcessStatus::*, std::less<>> kRows{
      {"recloop_uptime_seconds", &ProcessStatus::uptime_seconds},
      {"recloop_requests_total", &ProcessStatus::requests},
      {"recloop_decisions_total", &ProcessStatus::decisions},
      {"recloop_rewards_total", &ProcessStatus::rewards},
      {"recloop_joined_total", &ProcessStatus::joined},
      {"recloop_defaulted_total", &ProcessStatus::defaulted},
      {"recloop_late_total", &ProcessStatus::late},
      {"recloop_duplicates_total", &ProcessStatus::duplicates},
      {"recloop_rejected_frames_total", &ProcessStatus::rejected},
      {"recloop_rejected_requests_total", &ProcessStatus::rejected},
      {"recloop_model_version", &ProcessStatus::model_version},
      {"recloop_exploration_rate", &ProcessStatus::exploration_rate},
      {"recloop_updates_total", &ProcessStatus::updates},
      {"recloop_snapshots_published_total", &ProcessStatus::published},
  };
  ProcessStatus status;
  for (const auto& s : samples) {
    if (const auto row = kRows.find(s.name); row != kRows.end()) {
      add_to(status.*(row->second), s.value);
    } else if (s.name == "recloop_info") {
      status.role = label(s, "role");
    } else if (s.name == "recloop_policy_reward_sum") {
      status.policies[label(s, "policy")].sum += s.value;
    } else if (s.name == "recloop_policy_reward_count") {
      status.policies[label(s, "policy")].count += s.value;
    }
  }
  return status;
}

// Reads one endpoint; throws Error "HOST:PORT: why" if it cannot.
ProcessStatus fetch_status(const HostPort& where, const std::string& name, int timeout_ms) {
  const HttpResponse response = http_get(where.host, where.port, "/metrics", timeout_ms);
  if (response.status != 200) {
    throw Error(name + ": GET /metrics answered HTTP " + std::to_string(response.status));
  }
  try {
    return read_status(parse_metrics_text(response.body));
  } catch (const std::invalid_argument& e) {
    throw Error(name + ": " + e.what());
  }
}

std::string uptime_text(double seconds) {
  if (seconds < 60) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1fs", seconds);
    return text;
  }
  const long long total = static_cast<long long>(seconds);
  char text[64];
  std::snprintf(text, sizeof text, "%lldh%02lldm%02llds", total / 3600, total / 60 % 60,
                total % 60);
  return text;
}

std::string count_text(const std::optional<double>& value) {
  if (!value) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.0f", *value);
  return text;
}

void print_table(const std::string& name, const ProcessStatus& s) {
  std::printf("%s  %s  up %s\n", name.c_str(), s.role.c_str(),
              s.uptime_seconds ? uptime_text(*s.uptime_seconds).c_str() : "-");
  auto row = [](const char* key, const std::string& value) {
    std::printf("  %-20s %s\n", key, value.c_str());
  };
  if (s.requests_per_second) {
    char text[96];
    std::snprintf(text, sizeof text, "%.2f (%s)", *s.requests_per_second,
                  s.rate_since_previous ? "since last reading" : "mean since start");
    row("requests/s", text);
  } else {
    row("requests/s", "-");
  }
  row("requests", count_text(s.requests));
  row("decisions", count_text(s.decisions));
  row("rewards", count_text(s.rewards));
  row("joined", count_text(s.joined));
  row("defaulted", count_text(s.defaulted));
  row("late", count_text(s.late));
  row("duplicates", count_text(s.duplicates));
  row("rejected", count_text(s.rejected));
  if (s.updates) row("updates", count_text(s.updates));
  if (s.published) row("snapshots published", count_text(s.published));
  row("model version", count_text(s.model_version));
  if (s.exploration_rate) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", *s.exploration_rate);
    row("exploration rate", text);
  } else {
    row("exploration rate", "-");
  }
  if (s.policies.empty()) row("mean reward", "-");
  for (const auto& [policy, reward] : s.policies) {
    char text[128];
    if (reward.count > 0) {
      std::snprintf(text, sizeof text, "%-16s %.4f over %.0f", policy.c_str(),
                    reward.sum / reward.count, reward.count);
    } else {
      std::snprintf(text, sizeof text, "%-16s -", policy.c_str());
    }
    row("mean reward", text);
  }
}

json to_json(const std::string& name, const ProcessStatus& s) {
  // Counts as integers, rates and times as they are.
  auto value = [](const std::optional<double>& v) {
    if (!v) return json(nullptr);
    if (std::isfinite(*v) && *v == std::floor(*v) && std::fabs(*v) < 9.0e15) {
      return json(static_cast<long long>(*v));
    }
    return json(*v);
  };
  json policies = json::array();
  for (const auto& [policy, reward] : s.policies) {
    policies.push_back({{"policy", policy},
                        {"count", value(reward.count)},
                        {"mean_reward", reward.count > 0 ? json(reward.sum / reward.count)
                                                         : json(nullptr)}});
  }
  return {{"endpoint", name},
          {"role", s.role},
          {"uptime_seconds", value(s.uptime_seconds)},
          {"requests_per_second", value(s.requests_per_second)},
          {"requests", value(s.requests)},
          {"decisions", value(s.decisions)},
          {"rewards", value(s.rewards)},
          {"joined", value(s.joined)},
          {"defaulted", value(s.defaulted)},
          {"late", value(s.late)},
          {"duplicates", value(s.duplicates)},
          {"rejected", value(s.rejected)},
          {"updates", value(s.updates)},
          {"snapshots_published", value(s.published)},
          {"model_version", value(s.model_version)},
          {"exploration_rate", value(s.exploration_rate)},
          {"policies", policies}};
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

int run_status(const std::vector<std::string>& args) {
  std::vector<std::string> endpoints;
  bool as_json = false;
  double watch = 0.0;
  int timeout_ms = 2000;
  po::options_description shown(
      "recloop status: read the metrics of live processes (recloop collect, serve or learn\n"
      "started with --metrics HOST:PORT) and print a table per process\n\n"
      "usage: recloop status HOST:PORT [HOST:PORT...] [--json] [--watch SECONDS]\n\n"
      "options");
  shown.add_options()
      ("help,h", "print this help and exit")
      ("json", po::bool_switch(&as_json), "print a JSON array, one object per endpoint")
      ("watch", po::value(&watch)->value_name("SECONDS"),
       "print again every SECONDS (0.1 .. 86400) until SIGINT or SIGTERM")
      ("timeout-ms", po::value(&timeout_ms)->value_name("MS")->default_value(timeout_ms),
       "how long to wait for each endpoint, 1 .. 600000");
  po::options_description all = shown;
  all.add_options()("endpoint", po::value(&endpoints)->composing());
  po::positional_options_description positional;
  positional.add("endpoint", -1);
  const auto command_line =
      parse_command_line(args, shown, all, &positional, " (see recloop status --help)");
  if (!command_line) return 0;
  if (endpoints.empty()) {
    throw ConfigError("give at least one HOST:PORT (see recloop status --help)");
  }
  if (command_line->count("watch") && !(watch >= 0.1 && watch <= 86400)) {
    throw ConfigError("--watch " + std::to_string(watch) + " is outside 0.1 .. 86400 seconds");
  }
  if (timeout_ms < 1 || timeout_ms > 600000) {
    throw ConfigError("--timeout-ms " + std::to_string(timeout_ms) + " is outside 1 .. 600000");
  }
  std::vector<HostPort> targets;
  for (const auto& endpoint : endpoints) {
    targets.push_back(parse_host_port(endpoint));
    if (targets.back().port == 0) throw ConfigError("'" + endpoint + "': port 0 cannot be read");
  }

  if (watch > 0) install_stop_handlers();
  std::vector<std::optional<ProcessStatus>> previous(targets.size());
  bool failed = false;
  for (bool first = true; first || (watch > 0 && !stop_requested.load()); first = false) {
    json all_json = json::array();
    if (watch > 0 && !as_json) std::printf("%s%s\n", first ? "" : "\n", utc_now().c_str());
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const std::string& name = endpoints[i];
      try {
        ProcessStatus s = fetch_status(targets[i], name, timeout_ms);
        const auto& before = previous[i];
        if (before && before->uptime_seconds && s.uptime_seconds && before->requests &&
            s.requests && *s.uptime_seconds > *before->uptime_seconds) {
          s.requests_per_second = (*s.requests - *before->requests) /
                                  (*s.uptime_seconds - *before->uptime_seconds);
          s.rate_since_previous = true;
        } else if (s.uptime_seconds && s.requests && *s.uptime_seconds > 0) {
          s.requests_per_second = *s.requests / *s.uptime_seconds;
        }
        if (as_json) {
          all_json.push_back(to_json(name, s));
        } else {
          if (i > 0) std::printf("\n");
          print_table(name, s);
        }
        previous[i] = std::move(s);
      } catch (const Error& e) {
        failed = true;
        previous[i].reset();
        std::fprintf(stderr, "recloop status: %s\n", e.what());
        if (as_json) all_json.push_back({{"endpoint", name}, {"error", e.what()}});
      }
    }
    if (as_json) std::printf("%s\n", all_json.dump(watch > 0 ? -1 : 2).c_str());
    std::fflush(stdout);
    if (watch <= 0) break;
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(watch);
    while (!stop_requested.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return failed && watch <= 0 ? 1 : 0;
}

}  // namespace recloop
