// SPDX-License-Identifier: Apache-2.0
// The simulator as the live system's application: same JSON requests, same
// feedback path (ARCHITECTURE.md, "Live serving"), with the world's exact
// expected rewards kept on the client side as ground truth.
#include "cli/simulate_live.h"

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "cli/scenario_config.h"
#include "cli/stop_signals.h"
#include "core/error.h"
#include "core/rng.h"
#include "feedback/client.h"
#include "feedback/closed_loop.h"
#include "feedback/curve.h"
#include "feedback/rank_client.h"
#include "policies/registry.h"
#include "simulator/registry.h"

#include <boost/program_options.hpp>
#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace recloop {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

std::string feature_name(const char* stem, Eigen::Index i) {
  std::string name = stem;
  name += std::to_string(i);
  return name;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What one served request contributes; summed per thread, then over threads.
struct LiveTotals {
  std::uint64_t requests = 0;   // rank requests sent
  std::uint64_t served = 0;     // answered with a usable decision (reward reported)
  std::uint64_t errors = 0;     // no reply, an error reply, or a reply naming no candidate
  double reward_sum = 0.0;      // drawn rewards
  double served_exact = 0.0;    // E[r|x,a] of the served candidates
  double value_exact = 0.0;     // sum_a p(a|x) E[r|x,a] with the replied probabilities
  double best = 0.0;            // max_a E[r|x,a] over the offered candidates
  double uniform = 0.0;         // mean_a E[r|x,a] over the offered candidates
  std::uint64_t retries = 0, failovers = 0, unacknowledged = 0;
  std::vector<double> latency_ms;
  std::vector<std::string> replies;  // "event_id\titem\tprobability\treward" lines

  void add(const LiveTotals& other) {
    requests += other.requests;
    served += other.served;
    errors += other.errors;
    reward_sum += other.reward_sum;
    served_exact += other.served_exact;
    value_exact += other.value_exact;
    best += other.best;
    uniform += other.uniform;
    retries += other.retries;
    failovers += other.failovers;
    unacknowledged += other.unacknowledged;
    latency_ms.insert(latency_ms.end(), other.latency_ms.begin(), other.latency_ms.end());
    replies.insert(replies.end(), other.replies.begin(), other.replies.end());
  }
};

struct LiveOptions {
  std::vector<std::string> servers;
  std::string collector;
  std::int64_t requests = 1000;
  double rate = 0.0;  // requests per second over all threads; 0 = as fast as answered
  int threads = 1;
  int timeout_ms = 2500;
  int retries = 3;
  int flush_timeout_ms = 30000;
  bool keep_replies = false;
  std::string event_prefix;  // thread t's event ids are <prefix>t<t>-<n>; empty = generated
  std::optional<ClientKeys> server_curve;     // CurveZMQ keys for the decision servers
  std::optional<ClientKeys> collector_curve;  // and for the collector
};

// The `q` quantile (nearest rank) of `values`, which it reorders.
double quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1;
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(std::min(k, values.size() - 1));
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

// Shared between the workers and the progress loop.
struct LiveProgress {
  std::atomic<std::int64_t> claimed{0};
  std::atomic<std::uint64_t> done{0}, errors{0};
  std::atomic<double> reward_sum{0.0};
};

// One worker: its own world, Rng, RankClient and FeedbackClient.
void drive(zmq::context_t& zmq, const ConfigSection& simulator_section, std::uint64_t seed,
           int thread, const LiveOptions& options, Clock::time_point started,
           LiveProgress& progress, LiveTotals& totals) {
  ConfigSection section = simulator_section;
  auto world = make_simulator(section);
  Rng rng(splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(thread) + 1)));
  RankClient ranks(zmq, {.endpoints = options.servers,
                         .timeout_ms = options.timeout_ms,
                         .retries = options.retries,
                         .event_id_prefix = options.event_prefix.empty()
                                                ? std::string()
                                                : options.event_prefix + "t" + std::to_string(thread),
                         .curve = options.server_curve});
  FeedbackClient rewards(zmq, options.collector, {.curve = options.collector_curve});
  std::vector<ActionId> offered;
  while (!stop_requested.load()) {
    const std::int64_t index = progress.claimed.fetch_add(1);
    if (index >= options.requests) break;
    if (options.rate > 0.0) {  // one schedule for all threads: request i at i / rate seconds
      std::this_thread::sleep_until(
          started + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(index) / options.rate)));
    }
    const Context context = world->next_context(rng);
    offered.clear();
    for (std::size_t a = 0; a < context.size(); ++a) {
      if (context.available.empty() || context.available[a]) offered.push_back(static_cast<ActionId>(a));
    }
    ++totals.requests;
    const auto asked = Clock::now();
    const auto reply = ranks.rank(live_rank_request(context, offered));
    totals.latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - asked).count());

    // The served candidate and the replied probability of every offered one.
    std::optional<std::size_t> chosen;
    std::vector<double> replied(offered.size(), 0.0);
    if (reply && reply->ok() && reply->json.contains("rewardActionId") &&
        reply->json.contains("ranking") && reply->json.at("ranking").is_array()) {
      const auto& served_id = reply->json.at("rewardActionId");
      for (std::size_t k = 0; k < offered.size(); ++k) {
        if (served_id.is_number_unsigned() && served_id.get<ItemId>() == context.items[offered[k]]) chosen = k;
      }
      for (const auto& entry : reply->json.at("ranking")) {
        if (!entry.is_object() || !entry.contains("id") || !entry.contains("probability")) continue;
        const auto& id = entry.at("id");
        const auto& probability = entry.at("probability");
        if (!id.is_number_unsigned() || !probability.is_number()) continue;
        for (std::size_t k = 0; k < offered.size(); ++k) {
          if (id.get<ItemId>() == context.items[offered[k]]) replied[k] = probability.get<double>();
        }
      }
    }
    if (!chosen || replied[*chosen] <= 0.0) {
      ++totals.errors;
      progress.errors.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const ActionId action = offered[*chosen];
    const double reward = world->draw_reward(context, action, rng);
    rewards.send(Reward{.event_id = reply->event_id, .value = reward, .timestamp_us = now_us()});
    rewards.poll(0);

    double best = -std::numeric_limits<double>::infinity(), sum = 0.0, value = 0.0;
    for (std::size_t k = 0; k < offered.size(); ++k) {
      const double expected = world->expected_reward(context, offered[k]);
      best = std::max(best, expected);
      sum += expected;
      value += replied[k] * expected;
    }
    ++totals.served;
    totals.reward_sum += reward;
    totals.served_exact += world->expected_reward(context, action);
    totals.value_exact += value;
    totals.best += best;
    totals.uniform += sum / static_cast<double>(offered.size());
    if (options.keep_replies) {
      totals.replies.push_back(reply->event_id + "\t" + std::to_string(context.items[action]) + "\t" +
                               reply->json.at("ranking")[0].at("probability").dump() + "\t" +
                               nlohmann::json(reward).dump());
    }
    progress.done.fetch_add(1, std::memory_order_relaxed);
    progress.reward_sum.fetch_add(reward, std::memory_order_relaxed);
  }
  if (!rewards.flush(options.flush_timeout_ms)) totals.unacknowledged = rewards.unacknowledged();
  totals.retries = ranks.stats().retries;
  totals.failovers = ranks.stats().failovers;
}

}  // namespace

nlohmann::json live_rank_request(const Context& context, const std::vector<ActionId>& offered) {
  nlohmann::json user = nlohmann::json::object();
  for (Eigen::Index i = 0; i < context.user.size(); ++i) user[feature_name("user_", i)] = context.user[i];
  nlohmann::json actions = nlohmann::json::array();
  for (const ActionId a : offered) {
    nlohmann::json features = nlohmann::json::object();
    for (Eigen::Index i = 0; i < context.actions.rows(); ++i) {
      features[feature_name("a_", i)] = context.actions(i, static_cast<Eigen::Index>(a));
    }
    actions.push_back({{"id", context.items[a]}, {"features", std::move(features)}});
  }
  return {{"contextFeatures", std::move(user)}, {"actions", std::move(actions)}};
}

std::string live_schema_flags(int user_dim, int action_dim) {
  auto list = [](const char* stem, int n) {
    std::string names;
    for (int i = 0; i < n; ++i) {
      if (i) names += ',';
      names += feature_name(stem, i);
    }
    return names;
  };
  std::string flags = user_dim > 0 ? "--context-features " + list("user_", user_dim) : "--user-dim 0";
  flags += action_dim > 0 ? " --action-features " + list("a_", action_dim) : " --action-dim 0";
  return flags;
}

bool wants_live_simulation(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--live") != args.end();
}

int run_simulate_live(const std::vector<std::string>& args) {
  po::options_description described(
      "recloop simulate [SCENARIO] --live --server ENDPOINT[,ENDPOINT] --collector ENDPOINT\n"
      "                 [--requests N] [--rate R] [--threads T] [options]\n\n"
      "Drives a running live system with the scenario's world: every request goes as JSON\n"
      "to `recloop serve` (failing over between --server endpoints), the reward of the\n"
      "served item is drawn from the world and reported to `recloop collect`, and the end\n"
      "report compares the rewards with the world's exact expected rewards. The server's\n"
      "features must be user_0.. and a_0..; the exact serve flags are printed first.\n\n"
      "options");
  std::vector<std::string> overrides, servers;
  std::string scenario_path, replies_path, curve_key, curve_server_key, collector_server_key;
  LiveOptions options;
  described.add_options()
      ("help,h", "show this help")
      ("live", "drive a running live system (this mode)")
      ("server", po::value(&servers)->value_name("ENDPOINT"),
       "decision server(s): repeat or give a comma list; tried in order on timeouts")
      ("collector", po::value(&options.collector)->value_name("ENDPOINT"),
       "collector the rewards are reported to (the one the servers forward decisions to)")
      ("requests", po::value(&options.requests)->value_name("N")->default_value(options.requests),
       "rank requests to send")
      ("rate", po::value(&options.rate)->value_name("R")->default_value(options.rate),
       "requests per second over all threads; 0 = each thread as fast as it is answered")
      ("threads", po::value(&options.threads)->value_name("T")->default_value(options.threads),
       "concurrent clients, 1 .. 256, each with its own world")
      ("timeout-ms", po::value(&options.timeout_ms)->value_name("MS")->default_value(options.timeout_ms),
       "rank reply timeout per attempt")
      ("retries", po::value(&options.retries)->value_name("N")->default_value(options.retries),
       "further rank attempts after a timeout")
      ("flush-timeout-ms",
       po::value(&options.flush_timeout_ms)->value_name("MS")->default_value(options.flush_timeout_ms),
       "at the end, how long to wait for the collector's acks")
      ("set", po::value(&overrides)->composing()->value_name("KEY=VALUE"),
       "override a scenario value: section.key=value (repeatable)")
      ("event-prefix", po::value(&options.event_prefix)->value_name("P"),
       "event ids P t<thread>-<n>, so a run's decisions replay exactly (default: made from the "
       "time and process id; a prefix used before makes the collector drop the repeats)")
      ("replies", po::value(&replies_path)->value_name("FILE"),
       "write one line per served request: event id, item, probability, reward (tab-separated)")
      ("curve-key", po::value(&curve_key)->value_name("FILE"),
       "CurveZMQ: this client's key pair (recloop keygen)")
      ("curve-server-key", po::value(&curve_server_key)->value_name("FILE"),
       "CurveZMQ: the decision servers' public key (their .pub file)")
      ("collector-server-key", po::value(&collector_server_key)->value_name("FILE"),
       "CurveZMQ: the collector's public key (its .pub file)")
      ("json", "print one JSON object instead of the table")
      ("quiet,q", "no progress on stderr");
  po::options_description hidden;
  hidden.add_options()("scenario", po::value(&scenario_path));
  po::options_description all;
  all.add(described).add(hidden);
  po::positional_options_description positional;
  positional.add("scenario", 1);
  const auto command_line = parse_command_line(args, described, all, &positional,
                                               " (see recloop simulate --live --help)");
  if (!command_line) return 0;
  const po::variables_map& vm = *command_line;
  const bool json = vm.count("json") != 0;
  const bool quiet = vm.count("quiet") != 0;
  options.keep_replies = !replies_path.empty();
  if (servers.empty()) throw ConfigError("--live needs --server ENDPOINT");
  try {
    options.servers = split_endpoints(servers);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("--server: ") + e.what());
  }
  if (options.collector.empty()) throw ConfigError("--live needs --collector ENDPOINT");
  if (options.requests < 1) throw ConfigError("--requests must be >= 1, not " + std::to_string(options.requests));
  if (!(options.rate >= 0.0) || !std::isfinite(options.rate)) {
    throw ConfigError("--rate must be a finite number >= 0");
  }
  if (options.threads < 1 || options.threads > 256) {
    throw ConfigError("--threads " + std::to_string(options.threads) + " is outside 1 .. 256");
  }
  if (options.timeout_ms < 1) throw ConfigError("--timeout-ms must be >= 1");
  if (options.retries < 0) throw ConfigError("--retries must be >= 0");
  if (options.flush_timeout_ms < 0) throw ConfigError("--flush-timeout-ms must be >= 0");
  options.server_curve = client_keys_from_flags(curve_server_key.empty() ? std::string() : curve_key,
                                                curve_server_key, "--curve-server-key");
  options.collector_curve = client_keys_from_flags(
      collector_server_key.empty() ? std::string() : curve_key, collector_server_key,
      "--collector-server-key");
  if (!curve_key.empty() && curve_server_key.empty() && collector_server_key.empty()) {
    throw ConfigError("--curve-key needs --curve-server-key or --collector-server-key");
  }

  Scenario scenario = scenario_path.empty() ? default_scenario() : load_scenario(scenario_path);
  for (const auto& assignment : overrides) scenario.apply_override(assignment);
  std::vector<std::string> known_sections{"run", "simulator", "ranker"};
  for (const auto& name : policy_names()) known_sections.push_back(name);
  scenario.reject_unknown_sections(known_sections);
  const RunConfig run = RunConfig::from(scenario.section("run"));
  scenario.section("run").reject_unknown();
  if (run.slots != 1) {
    throw ConfigError(scenario.section("run").where("slots") +
                      ": simulate --live sends single-slot requests; use slots = 1");
  }
  const ConfigSection simulator_section = scenario.section("simulator");
  std::string world_name;
  int user_dim = 0, action_dim = 0;
  {
    ConfigSection section = simulator_section;
    auto world = make_simulator(section);
    world_name = std::string(world->name());
    Rng probe(run.seed);
    const Context context = world->next_context(probe);
    user_dim = static_cast<int>(context.user.size());
    action_dim = static_cast<int>(context.actions.rows());
  }
  if (!quiet) {
    std::fprintf(stderr,
                 "simulate --live: scenario %s, world %s, %lld requests, %d threads\n"
                 "simulate --live: the servers must run with %s\n",
                 scenario.source().c_str(), world_name.c_str(),
                 static_cast<long long>(options.requests), options.threads,
                 live_schema_flags(user_dim, action_dim).c_str());
  }

  install_stop_handlers();
  zmq::context_t zmq;
  LiveProgress progress;
  std::vector<LiveTotals> per_thread(static_cast<std::size_t>(options.threads));
  std::vector<std::thread> workers;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  std::atomic<int> running{options.threads};
  const auto started = Clock::now();
  for (int t = 0; t < options.threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        drive(zmq, simulator_section, run.seed, t, options, started, progress,
              per_thread[static_cast<std::size_t>(t)]);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        stop_requested.store(true);
      }
      running.fetch_sub(1);
    });
  }
  auto last_report = started;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = Clock::now();
    if (quiet || now - last_report < std::chrono::seconds(5)) continue;
    last_report = now;
    const auto done = progress.done.load();
    const double seconds = std::chrono::duration<double>(now - started).count();
    std::fprintf(stderr,
                 "simulate --live: %llu / %lld served, %llu errors, mean reward %.4f, %.1f requests/s\n",
                 static_cast<unsigned long long>(done), static_cast<long long>(options.requests),
                 static_cast<unsigned long long>(progress.errors.load()),
                 done ? progress.reward_sum.load() / static_cast<double>(done) : 0.0,
                 static_cast<double>(done) / seconds);
  }
  for (auto& worker : workers) worker.join();
  if (failure) std::rethrow_exception(failure);
  // Throughput over the requests only; the final flush of the rewards is not part of it.
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  LiveTotals totals;
  for (const auto& part : per_thread) totals.add(part);
  if (options.keep_replies) {
    std::ofstream out(replies_path);
    if (!out) throw Error(replies_path + ": cannot write the replies file");
    for (const auto& line : totals.replies) out << line << '\n';
    if (!out.flush()) throw Error(replies_path + ": cannot write the replies file");
  }
  const double served = static_cast<double>(std::max<std::uint64_t>(totals.served, 1));
  const double p50 = quantile(totals.latency_ms, 0.50), p99 = quantile(totals.latency_ms, 0.99);
  const double throughput = static_cast<double>(totals.requests) / seconds;
  if (json) {
    JsonWriter out;
    out.begin_object();
    out.key("scenario").value(scenario.source());
    out.key("world").value(world_name);
    out.key("requests").value(static_cast<std::uint64_t>(totals.requests));
    out.key("served").value(static_cast<std::uint64_t>(totals.served));
    out.key("errors").value(static_cast<std::uint64_t>(totals.errors));
    out.key("mean_reward").value(totals.reward_sum / served);
    out.key("served_exact").value(totals.served_exact / served);
    out.key("policy_value_exact").value(totals.value_exact / served);
    out.key("best").value(totals.best / served);
    out.key("uniform").value(totals.uniform / served);
    out.key("seconds").value(seconds);
    out.key("requests_per_second").value(throughput);
    out.key("latency_p50_ms").value(p50);
    out.key("latency_p99_ms").value(p99);
    out.key("retries").value(static_cast<std::uint64_t>(totals.retries));
    out.key("failovers").value(static_cast<std::uint64_t>(totals.failovers));
    out.key("rewards_unacknowledged").value(static_cast<std::uint64_t>(totals.unacknowledged));
    out.end_object();
    std::printf("%s\n", out.str().c_str());
  } else {
    std::printf(
        "simulate --live: %llu requests, %llu served, %llu errors in %.2f s (%.1f requests/s)\n"
        "  mean reward (drawn)             %.4f\n"
        "  served items, exact E[r|x,a]    %.4f\n"
        "  policy value, exact             %.4f  (replied probabilities x E[r|x,a])\n"
        "  best candidate, exact           %.4f\n"
        "  uniform over candidates, exact  %.4f\n"
        "  rank latency                    p50 %.3f ms, p99 %.3f ms\n"
        "  rank retries %llu, failovers %llu; rewards unacknowledged %llu\n",
        static_cast<unsigned long long>(totals.requests),
        static_cast<unsigned long long>(totals.served),
        static_cast<unsigned long long>(totals.errors), seconds, throughput,
        totals.reward_sum / served, totals.served_exact / served, totals.value_exact / served,
        totals.best / served, totals.uniform / served, p50, p99,
        static_cast<unsigned long long>(totals.retries),
        static_cast<unsigned long long>(totals.failovers),
        static_cast<unsigned long long>(totals.unacknowledged));
  }
  if (totals.unacknowledged > 0) {
    std::fprintf(stderr, "simulate --live: %llu rewards were not acknowledged by %s\n",
                 static_cast<unsigned long long>(totals.unacknowledged), options.collector.c_str());
    return 1;
  }
  return totals.served > 0 ? 0 : 1;
}

}  // namespace recloop
