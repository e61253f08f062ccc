// SPDX-License-Identifier: Apache-2.0
// recloop simulate [SCENARIO] [--set section.key=value]... [--log FILE] [--json]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include <unistd.h>

#include <boost/program_options.hpp>
#include <zmq.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "cli/offline_evaluation.h"
#include "cli/scenario_config.h"
#include "cli/simulate_live.h"
#include "core/error.h"
#include "feedback/closed_loop.h"
#include "feedback/collector.h"
#include "logging/event_log.h"
#include "policies/ranker_registry.h"
#include "policies/registry.h"
#include "simulator/registry.h"
#include "simulator/slate_simulator.h"

namespace po = boost::program_options;

namespace recloop {
namespace {

const std::vector<std::string> kEstimators = {"ips", "snips", "dr"};

// Runs an in-process collector on its own thread for the lifetime of the object.
class InProcessCollector {
 public:
  InProcessCollector(zmq::context_t& zmq, const RunConfig& run, const std::string& log_path)
      : collector_(zmq, CollectorOptions{.endpoint = run.endpoint,
                                         .learner_endpoint = run.learner_endpoint,
                                         .log_path = log_path}),
        thread_([this] { collector_.run(stop_); }) {}
  ~InProcessCollector() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  Collector collector_;
  std::thread thread_;
};

std::string temporary_log_path() {
  return (std::filesystem::temp_directory_path() /
          ("recloop-simulate-" + std::to_string(::getpid()) + ".db"))
      .string();
}

void remove_log(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

std::string format_estimate(const Estimate& e) {
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%.4f [%.4f, %.4f]", e.value, e.lower, e.upper);
  return buffer;
}

// With [run] reward_delay > 0: each policy's mean reward delay and the most
// rewards it had outstanding (nothing is printed without a delay).
void print_reward_delays(const RunConfig& run, const std::vector<PolicyRun>& runs) {
  if (run.reward_delay <= 0.0) return;
  std::printf("\nreward delay: %s, mean %g requests\n", run.reward_delay_dist.c_str(),
              run.reward_delay);
  for (const auto& r : runs) {
    std::printf("%-16s mean delay %8.2f requests, at most %llu rewards outstanding\n",
                r.policy.c_str(), r.mean_delay(), static_cast<unsigned long long>(r.max_outstanding));
  }
}

void json_reward_delay(JsonWriter& out, const RunConfig& run, const PolicyRun& r) {
  if (run.reward_delay <= 0.0) return;
  out.key("mean_reward_delay").value(r.mean_delay());
  out.key("max_outstanding_rewards").value(r.max_outstanding);
}

// The report of a ranking run (slots > 1): per request, clicks and the value,
// exact or estimated as PolicyRun says; regret only when the best slate is known.
void print_rankings(const Scenario& scenario, const Simulator& world, const RunConfig& run,
                    const std::vector<PolicyRun>& runs, double oracle, double seconds, bool json,
                    const std::string& kept_log) {
  const bool exact = std::all_of(runs.begin(), runs.end(), [](const PolicyRun& r) { return r.value_exact; });
  const bool regret = std::all_of(runs.begin(), runs.end(), [](const PolicyRun& r) { return r.has_oracle; });
  if (json) {
    JsonWriter out;
    out.begin_object();
    out.key("scenario").value(scenario.source());
    out.key("world").value(world.name());
    out.key("steps").value(static_cast<std::int64_t>(run.steps));
    out.key("seed").value(static_cast<std::uint64_t>(run.seed));
    out.key("slots").value(static_cast<std::int64_t>(run.slots));
    out.key("ranker").value(run.ranker);
    out.key("seconds").value(seconds);
    out.key("value_exact").value(exact);
    if (regret) out.key("oracle_value").value(oracle);
    out.key("policies").begin_array();
    for (const auto& r : runs) {
      out.begin_object();
      out.key("policy").value(r.policy);
      out.key("events").value(r.events);
      out.key("clicks").value(r.clicks);
      out.key("clicks_per_request").value(r.ctr());
      out.key("value").value(r.value());
      if (regret) out.key("regret").value(r.regret());
      json_reward_delay(out, run, r);
      out.key("curve").begin_array();
      for (const auto& p : r.curve) {
        out.begin_object().key("step").value(p.step);
        if (regret) out.key("regret").value(p.cumulative_regret);
        out.key("value").value(p.window_value).end_object();
      }
      out.end_array();
      out.end_object();
    }
    out.end_array();
    out.end_object();
    std::cout << out.str() << "\n";
    return;
  }
  std::printf("\nclosed loop: %lld requests per policy, %lld-slot rankings (%s), world %s, "
              "seed %llu, %.1f s\n\n",
              static_cast<long long>(run.steps), static_cast<long long>(run.slots),
              run.ranker.c_str(), std::string(world.name()).c_str(),
              static_cast<unsigned long long>(run.seed), seconds);
  const char* value_label = exact ? "exact value" : "est. value";
  std::printf("%-16s %9s %8s %10s %12s", "policy", "requests", "clicks", "clicks/req", value_label);
  if (regret) std::printf(" %10s", "regret");
  std::printf("\n");
  for (const auto& r : runs) {
    std::printf("%-16s %9llu %8.0f %10.4f %12.4f", r.policy.c_str(),
                static_cast<unsigned long long>(r.events), r.clicks, r.ctr(), r.value());
    if (regret) std::printf(" %10.1f", r.regret());
    std::printf("\n");
  }
  if (regret) std::printf("%-16s %9s %8s %10s %12.4f %10.1f\n", "oracle", "", "", "", oracle, 0.0);
  if (exact) {
    std::printf("\n(exact value: mean over requests of the ranking policy's expected reward, from\n"
                " its slot marginals; regret: cumulative, against the best slate of each request)\n");
  } else {
    std::printf("\n(est. value: mean over requests of the exact expected reward of the drawn slate,\n"
                " an unbiased estimate of the policy's value: this choice model is not linear in\n"
                " the slot marginals, so the exact value and the regret are not computed)\n");
  }
  print_reward_delays(run, runs);
  std::printf("\n(off-policy estimates of rankings: keep the log with --log FILE, then\n"
              " recloop evaluate --log %s --slots %lld --target %s:POLICY)\n",
              kept_log.empty() ? "FILE" : kept_log.c_str(), static_cast<long long>(run.slots),
              run.ranker.c_str());
}

}  // namespace

int run_simulate(const std::vector<std::string>& args) {
  if (wants_live_simulation(args)) return run_simulate_live(args);
  // A session world (world = session) is compared by the sessions verb.
  if (names_session_scenario(args)) return run_sessions(args);
  po::options_description options(
      "recloop simulate [SCENARIO] [options]\n\n"
      "Runs the closed loop on a simulated world: each policy in [run] policies serves\n"
      "[run] steps requests; decisions and rewards go over ZeroMQ to a collector that\n"
      "stores them in SQLite and streams the joined interactions back to the learner.\n"
      "With [run] slots = L > 1 (world = population) each request shows a ranking of L\n"
      "items ([run] ranker, keys in [ranker]), logged one decision per slot.\n"
      "Without SCENARIO the built-in defaults (scenarios/default.ini) are used.\n"
      "With --live the world drives a running recloop serve + collect instead\n"
      "(recloop simulate --live --help).\n\n"
      "options");
  std::vector<std::string> overrides;
  std::string log_path;
  options.add_options()
      ("help,h", "show this help")
      ("set", po::value(&overrides)->composing(), "override a scenario value: section.key=value (repeatable)")
      ("log", po::value(&log_path), "keep the decision log in this SQLite file (default: a temporary file, deleted)")
      ("json", "print one JSON object instead of tables")
      ("quiet,q", "no progress on stderr");
  po::options_description hidden;
  std::string scenario_path;
  hidden.add_options()("scenario", po::value(&scenario_path));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("scenario", 1);
  const auto command_line = parse_command_line(args, options, all, &positional);
  if (!command_line) return 0;
  const po::variables_map& vm = *command_line;
  const bool json = vm.count("json") != 0;
  const bool quiet = vm.count("quiet") != 0;

  Scenario scenario = scenario_path.empty() ? default_scenario() : load_scenario(scenario_path);
  for (const auto& assignment : overrides) scenario.apply_override(assignment);
  std::vector<std::string> known_sections{"run", "simulator", "ranker"};
  for (const auto& name : policy_names()) known_sections.push_back(name);
  scenario.reject_unknown_sections(known_sections);

  // Each policy runs on a fresh world built from the same section, so a world
  // with a clock (items that expire) serves every policy the same requests.
  const ConfigSection simulator_section = scenario.section("simulator");
  const auto make_world = [&simulator_section] {
    ConfigSection section = simulator_section;
    return make_simulator(section);
  };
  auto world = make_simulator(scenario.section("simulator"));
  const RunConfig run = RunConfig::from(scenario.section("run"));
  scenario.section("run").reject_unknown();
  const auto slots = static_cast<std::size_t>(run.slots);
  if (slots > 1 && dynamic_cast<const SlateSimulator*>(world.get()) == nullptr) {
    throw ConfigError(scenario.section("run").where("slots") + ": a ranking needs a world that " +
                      "shows slates (world = population); world '" + std::string(world->name()) +
                      "' shows one item per request");
  }
  // Build every policy (and the ranker) once before running, so a bad value
  // fails before any work.
  for (const auto& name : run.policies) make_policy(name, scenario.section(name), world->feature_dim());
  for (const auto& name : policy_names()) {
    if (scenario.has_section(name)) make_policy(name, scenario.section(name), world->feature_dim());
  }
  const ConfigSection ranker_section = scenario.section("ranker");
  const RankerFactory ranker_factory = [&ranker_section, &run](std::shared_ptr<const Policy> base) {
    ConfigSection section = ranker_section;
    return make_ranker(run.ranker, section, std::move(base));
  };
  ranker_factory(std::shared_ptr<const Policy>(
      make_policy(run.policies.front(), scenario.section(run.policies.front()), world->feature_dim())));

  const bool keep_log = !log_path.empty();
  if (!keep_log) log_path = temporary_log_path();
  const std::string run_tag = "sim" + std::to_string(run.seed);
  {
    EventLog check(log_path);
    for (const auto& name : run.policies) {
      if (check.has_event(run_tag + ":" + name + ":0") ||
          check.has_event(run_tag + ":" + name + ":0/0")) {
        throw ConfigError(log_path + ": already holds run seed " + std::to_string(run.seed) +
                          " of policy '" + name + "'; use a new --log or --set run.seed=N");
      }
    }
  }

  zmq::context_t zmq;
  std::vector<PolicyRun> runs;
  const auto started = std::chrono::steady_clock::now();
  {
    std::unique_ptr<InProcessCollector> collector;
    if (run.endpoint.rfind("inproc://", 0) == 0) {
      collector = std::make_unique<InProcessCollector>(zmq, run, log_path);
    }
    FeedbackClient client(zmq, run.endpoint);
    InteractionStream stream(zmq, run.learner_endpoint);
    auto last_report = std::chrono::steady_clock::now();
    const Progress progress = [&](const std::string& policy, std::int64_t done, std::int64_t total) {
      const auto now = std::chrono::steady_clock::now();
      if (quiet || (done != total && now - last_report < std::chrono::seconds(1))) return;
      last_report = now;
      std::fprintf(stderr, "simulate: %-16s %9lld / %lld requests\n", policy.c_str(),
                   static_cast<long long>(done), static_cast<long long>(total));
    };
    if (!quiet) {
      std::fprintf(stderr, "simulate: scenario %s, world %s, %lld requests per policy, log %s\n",
                   scenario.source().c_str(), std::string(world->name()).c_str(),
                   static_cast<long long>(run.steps), log_path.c_str());
    }
    for (const auto& name : run.policies) {
      auto policy = make_policy(name, scenario.section(name), world->feature_dim());
      auto policy_world = make_world();
      runs.push_back(run_policy(std::move(policy), *policy_world, run, run_tag, client, stream,
                                progress, ranker_factory));
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // Off-policy estimates of every final policy from the uniform policy's log,
  // read back from the SQLite file the collector wrote (single slots only:
  // rankings are scored by `recloop evaluate --slots`).
  std::vector<Interaction> uniform_log;
  const bool have_uniform = slots == 1 && std::find(run.policies.begin(), run.policies.end(),
                                                    "uniform") != run.policies.end();
  if (have_uniform) {
    EventLog log(log_path);
    const std::string prefix = run_tag + ":uniform:";
    log.for_each([&](const Interaction& i) {
      if (i.event_id.rfind(prefix, 0) == 0) uniform_log.push_back(i);
    }, "uniform");
  }
  std::vector<OfflineEvaluation> evaluations;
  if (!uniform_log.empty()) {
    for (const auto& r : runs) evaluations.push_back(evaluate_offline(uniform_log, *r.final_policy, kEstimators));
  }
  if (!keep_log) remove_log(log_path);

  const double oracle = runs.front().oracle_sum / static_cast<double>(runs.front().events);
  if (slots > 1) {
    print_rankings(scenario, *world, run, runs, oracle, seconds, json, keep_log ? log_path : "");
    return 0;
  }
  if (json) {
    JsonWriter out;
    out.begin_object();
    out.key("scenario").value(scenario.source());
    out.key("world").value(world->name());
    out.key("steps").value(static_cast<std::int64_t>(run.steps));
    out.key("seed").value(static_cast<std::uint64_t>(run.seed));
    out.key("seconds").value(seconds);
    out.key("oracle_value").value(oracle);
    out.key("policies").begin_array();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto& r = runs[i];
      out.begin_object();
      out.key("policy").value(r.policy);
      out.key("events").value(r.events);
      out.key("clicks").value(r.clicks);
      out.key("ctr").value(r.ctr());
      out.key("value").value(r.value());
      out.key("regret").value(r.regret());
      json_reward_delay(out, run, r);
      out.key("curve").begin_array();
      for (const auto& p : r.curve) {
        out.begin_object().key("step").value(p.step).key("regret").value(p.cumulative_regret)
            .key("value").value(p.window_value).end_object();
      }
      out.end_array();
      if (i < evaluations.size()) {
        const auto& e = evaluations[i];
        out.key("final_policy").begin_object();
        out.key("exact_value").value(e.exact_value);
        out.key("logged_events").value(static_cast<std::uint64_t>(e.n));
        for (const auto& [name, estimate] : e.estimates) {
          out.key(name).begin_object().key("value").value(estimate.value)
              .key("std_error").value(estimate.std_error).key("lower").value(estimate.lower)
              .key("upper").value(estimate.upper).end_object();
        }
        out.end_object();
      }
      out.end_object();
    }
    out.end_array();
    out.end_object();
    std::cout << out.str() << "\n";
    return 0;
  }

  std::printf("\nclosed loop: %lld requests per policy, world %s, seed %llu, %.1f s\n\n",
              static_cast<long long>(run.steps), std::string(world->name()).c_str(),
              static_cast<unsigned long long>(run.seed), seconds);
  std::printf("%-16s %9s %8s %7s %12s %10s\n", "policy", "events", "clicks", "CTR", "exact value",
              "regret");
  for (const auto& r : runs) {
    std::printf("%-16s %9llu %8.0f %7.4f %12.4f %10.1f\n", r.policy.c_str(),
                static_cast<unsigned long long>(r.events), r.clicks, r.ctr(), r.value(), r.regret());
  }
  std::printf("%-16s %9s %8s %7s %12.4f %10.1f\n", "oracle", "", "", "", oracle, 0.0);
  std::printf("\n(exact value: mean over requests of sum_a pi(a|x) E[click|x,a]; regret: cumulative,\n"
              " against the oracle that always shows the best candidate)\n");
  print_reward_delays(run, runs);
  if (!evaluations.empty()) {
    std::printf("\noff-policy estimates of each final policy from the uniform policy's log "
                "(%zu events, 95%% CI):\n\n",
                uniform_log.size());
    std::printf("%-16s %12s", "policy", "exact value");
    for (const auto& name : kEstimators) std::printf("  %-26s", name.c_str());
    std::printf("\n");
    for (const auto& e : evaluations) {
      std::printf("%-16s %12.4f", e.target.c_str(), e.exact_value);
      for (const auto& [name, estimate] : e.estimates) {
        std::printf("  %-26s", format_estimate(estimate).c_str());
      }
      std::printf("\n");
    }
  } else {
    std::printf("\n(no off-policy estimates: add 'uniform' to [run] policies to log uniformly)\n");
  }
  return 0;
}

}  // namespace recloop
