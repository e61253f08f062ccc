// SPDX-License-Identifier: Apache-2.0
// recloop sessions SCENARIO [--set section.key=value]... [--sessions N] [--json]
//
// Compares policies over whole user sessions of a session world
// ([simulator] world = session; simulator/session_world.h) under common
// random numbers (simulator/session_value.h): every policy serves sessions
// first_session .. first_session + N - 1, so on session i each meets the same
// user, the same candidates at step t and the same exogenous noise, and two
// policies that choose alike get the same decision uniforms (the event id
// "<session>:<step>" and the run seed give Policy::choose its seed).
//
// A policy chooses per step with Policy::choose and learns online: update()
// after every step with that step's drawn reward, so a bandit learns within a
// session and across sessions, in session order. A policy named in `frozen`
// is also run as a copy "<name>/frozen" that stops learning after
// `freeze_after` sessions. Two reference policies always run:
//   myopic_oracle  the candidate with the highest exact E[reward | state]
//                  (world.expected_reward, which sees the hidden state): the
//                  best any policy maximising the next reward can do;
//   clean_oracle   the same among the candidates with clickbait score 0 (all
//                  candidates when none is clean): a policy that gives up
//                  some immediate reward to avoid clickbait (only in worlds
//                  with clickbait_share > 0);
//   random         uniform over the candidates (the registry's `uniform`).
//
// Reported per policy: the mean session value (sum of drawn rewards) with
// SE = sd / sqrt(N) and the 95% normal interval; the mean exact expected
// return (sum of exact expected rewards along the trajectory: same mean, less
// noise); mean length; mean drawn days to the next session; the mean exact
// expected reward of the first step (the first-step click rate when the
// reward is the click). Then every policy's paired difference of session
// value against the best myopic policy, the one with the highest first-step
// expected reward. Then, for each frozen copy, the learning policy minus its
// frozen copy. --json adds every ordered pair.
//
// --model FILE (repeatable) adds a model file's policy (e.g. one trained
// offline by `recloop train --algo`), frozen, and prints each one's paired
// difference against the best policy learning online. --log FILE --behaviour
// NAME compares nothing: it runs the sessions under the registry policy NAME
// (learning online) and writes them to an event log as logged sessions (pmf,
// session, step, truth) for `recloop train --algo` and `recloop evaluate
// --sequential`. `recloop simulate` hands session scenarios to this verb
// (names_session_scenario, cli/commands.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "cli/scenario_config.h"
#include "core/error.h"
#include "logging/event_log.h"
#include "policies/model_file.h"
#include "policies/registry.h"
#include "simulator/registry.h"
#include "simulator/session_logging.h"
#include "simulator/session_value.h"
#include "simulator/session_world.h"

namespace po = boost::program_options;

namespace recloop {
namespace {

constexpr const char* kMyopicOracle = "myopic_oracle";
constexpr const char* kCleanOracle = "clean_oracle";
constexpr const char* kRandom = "random";

// The [sessions] section.
struct SessionsConfig {
  std::int64_t sessions = 500;
  std::vector<std::string> policies = {"epsilon_greedy", "lin_ucb"};
  std::vector<std::string> frozen;
  std::int64_t freeze_after = 100;
  std::uint64_t seed = 7;
  std::uint64_t first_session = 0;

  static SessionsConfig from(ConfigSection& section) {
    SessionsConfig c;
    c.sessions = section.get_int("sessions", c.sessions, 2, 100000000,
                                 "sessions per policy (the same sessions for every policy)");
    c.policies = section.get_list("policies", "epsilon_greedy, lin_ucb",
                                  "policies to compare, in order (myopic_oracle and random "
                                  "always run too); a name listed twice runs twice");
    c.frozen = section.get_list("frozen", "",
                                "policies of `policies` also run as a copy that stops "
                                "learning after freeze_after sessions");
    c.freeze_after = section.get_int("freeze_after", c.freeze_after, 0, 100000000,
                                     "sessions a frozen copy learns from before it stops");
    c.seed = static_cast<std::uint64_t>(section.get_int(
        "seed", static_cast<long long>(c.seed), 0, (1LL << 62),
        "run seed of the decisions (common to all policies)"));
    c.first_session = static_cast<std::uint64_t>(section.get_int(
        "first_session", 0, 0, (1LL << 62), "index of the first session run"));
    return c;
  }
};

// One compared policy: a registry policy (learning unless frozen) or an oracle.
struct Contender {
  std::string name;
  std::unique_ptr<Policy> policy;    // null: an oracle
  std::int64_t learn_sessions = -1;  // sessions it learns from; -1 = all
  Eigen::Index clean_row = -1;       // oracle: >= 0 restricts it to rows with score 0
  bool trained = false;              // a model file (--model): never updated
};

// The candidate with the highest exact expected reward (the first on ties),
// among those whose action row `clean_row` is 0 when clean_row >= 0 and
// there is one.
ActionId myopic_best(const SessionSimulator& world, const Context& context,
                     Eigen::Index clean_row) {
  const auto allowed = [&](ActionId a) {
    return clean_row < 0 || context.actions(clean_row, static_cast<Eigen::Index>(a)) == 0.0;
  };
  bool any = false;
  for (ActionId a = 0; a < context.size() && !any; ++a) any = allowed(a);
  ActionId best = 0;
  double best_value = -std::numeric_limits<double>::infinity();
  for (ActionId a = 0; a < context.size(); ++a) {
    if (any && !allowed(a)) continue;
    const double v = world.expected_reward(context, a);
    if (v > best_value) {
      best = a;
      best_value = v;
    }
  }
  return best;
}

// Runs session `session` (index `k` of the run) under `c`, learning online.
SessionRecord run_one(SessionSimulator& world, std::uint64_t session, std::int64_t k,
                      Contender& c, std::uint64_t seed) {
  Rng unused(0);  // the session's randomness comes from its own streams (session_simulator.h)
  SessionRecord record;
  record.session = session;
  const bool learns =
      c.policy && !c.trained && (c.learn_sessions < 0 || k < c.learn_sessions);
  Context context = world.begin(session);
  for (std::uint64_t t = 0;; ++t) {
    EventId event_id = std::to_string(session) + ":" + std::to_string(t);
    ActionId action = 0;
    double probability = 1.0;
    if (c.policy) {
      const Decision decision = c.policy->choose(context, event_id, seed);
      action = decision.action;
      probability = decision.probability;
    } else {
      action = myopic_best(world, context, c.clean_row);
    }
    const double expected = world.expected_reward(context, action);
    Transition transition = world.step(context, action, unused);
    if (t == 0) record.first_expected_reward = expected;
    record.value += transition.reward;
    record.expected_value += expected;
    if (learns) {
      Interaction interaction;
      interaction.event_id = std::move(event_id);
      interaction.context = std::move(context);
      interaction.action = action;
      interaction.probability = probability;
      interaction.reward = transition.reward;
      interaction.policy = c.name;
      c.policy->update(interaction);
    }
    if (transition.done) break;
    context = std::move(transition.next);
  }
  const SessionOutcome outcome = world.outcome();
  record.steps = outcome.steps;
  record.return_days = outcome.return_days;
  record.expected_return_days = outcome.expected_return_days;
  return record;
}

double mean_of(const std::vector<SessionRecord>& records, double SessionRecord::*field) {
  double sum = 0.0;
  for (const auto& r : records) sum += r.*field;
  return sum / static_cast<double>(records.size());
}

double mean_steps(const std::vector<SessionRecord>& records) {
  double sum = 0.0;
  for (const auto& r : records) sum += static_cast<double>(r.steps);
  return sum / static_cast<double>(records.size());
}

std::vector<double> column(const std::vector<SessionRecord>& records, double SessionRecord::*field) {
  std::vector<double> out;
  out.reserve(records.size());
  for (const auto& r : records) out.push_back(r.*field);
  return out;
}

void write_summary(JsonWriter& out, const ValueSummary& s) {
  out.begin_object().key("mean").value(s.mean).key("std_error").value(s.std_error)
      .key("lower").value(s.lower).key("upper").value(s.upper).end_object();
}

// --log FILE --behaviour NAME: sessions first .. first + n - 1 decided by the
// registry policy NAME (learning online from every step, in session order),
// written to the event log with the behaviour's whole pmf, session and step,
// and the exact expected reward of every candidate (truth), ready for
// `recloop train --algo` and `recloop evaluate --sequential`.
int log_behaviour_sessions(SessionSimulator& world, Scenario& scenario, const std::string& name,
                           const std::string& path, std::uint64_t first, std::size_t n,
                           std::uint64_t seed, bool quiet) {
  const auto registry = policy_names();
  if (std::find(registry.begin(), registry.end(), name) == registry.end()) {
    throw ConfigError("--behaviour: unknown policy '" + name + "' (see recloop policies)");
  }
  auto behaviour = make_policy(name, scenario.section(name), world.feature_dim());
  std::vector<std::vector<double>> truths;
  const auto pmf = [&](const Context& context) {
    std::vector<double> truth(context.size());
    for (ActionId a = 0; a < context.size(); ++a) truth[a] = world.expected_reward(context, a);
    truths.push_back(std::move(truth));
    return behaviour->probabilities(context);
  };
  std::uint64_t steps = 0;
  const auto learn = [&](const TrajectoryStep& step) {
    Interaction i;
    i.event_id = step.event_id.empty() ? std::to_string(steps) : step.event_id;
    i.context = step.context;
    i.action = step.action;
    i.probability = step.probability;
    i.reward = step.reward;
    i.policy = name;
    behaviour->update(i);
    ++steps;
  };
  const auto trajectories =
      log_sessions(world, pmf, {.first_session = first, .sessions = n, .decision_seed = seed}, learn);
  std::vector<LoggedDecision> decisions;
  std::vector<Reward> rewards;
  to_logged(trajectories, name, decisions, rewards);
  if (truths.size() != decisions.size()) {
    throw Error("recloop sessions --log: " + std::to_string(truths.size()) + " pmfs for " +
                std::to_string(decisions.size()) + " decisions");
  }
  for (std::size_t k = 0; k < decisions.size(); ++k) decisions[k].truth = std::move(truths[k]);
  EventLog log(path);
  const auto written = log.write(decisions, rewards);
  std::size_t added = 0;
  for (const bool is_new : written.decision_is_new) added += is_new;
  if (!quiet) {
    std::fprintf(stderr, "sessions: logged under %s\n", name.c_str());
  }
  std::printf("logged %zu sessions (%llu..%llu), %zu steps (%zu new) under %s into %s\n",
              trajectories.size(), static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + n - 1), decisions.size(), added, name.c_str(),
              path.c_str());
  return 0;
}

}  // namespace

bool names_session_scenario(const std::vector<std::string>& args) {
  const std::vector<std::string> with_value{"--set", "--log", "--model", "--sessions", "--behaviour"};
  for (std::size_t k = 0; k < args.size(); ++k) {
    if (std::find(with_value.begin(), with_value.end(), args[k]) != with_value.end()) {
      ++k;
      continue;
    }
    if (args[k].empty() || args[k].front() == '-') continue;
    if (!std::filesystem::is_regular_file(args[k])) return false;
    try {
      Scenario scenario = load_scenario(args[k]);
      if (!scenario.has_section("simulator")) return false;
      const auto& values = scenario.section("simulator").values();
      const auto world = values.find("world");
      const auto names = session_world_names();
      return world != values.end() &&
             std::find(names.begin(), names.end(), world->second) != names.end();
    } catch (const std::exception&) {
      return false;  // simulate reports what is wrong with the file
    }
  }
  return false;
}

int run_sessions(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop sessions SCENARIO [options]\n\n"
      "Compares policies over whole user sessions of a session world ([simulator]\n"
      "world = session) under common random numbers: every policy serves the same\n"
      "sessions, meeting the same users, candidates and noise. Each policy in\n"
      "[sessions] policies chooses per step and learns online from every step's\n"
      "reward; myopic_oracle (best exact immediate expected reward), clean_oracle\n"
      "(the same among items without clickbait) and random always run too.\n"
      "Prints per policy the mean session value (sum of rewards, SE, 95% CI),\n"
      "mean exact expected return, length, days to return and first-step\n"
      "expected reward, then paired differences against the best myopic policy.\n"
      "[sessions] keys: sessions, policies, frozen, freeze_after,\n"
      "seed, first_session.\n"
      "--model FILE adds a trained policy (recloop train --algo), frozen; --log FILE\n"
      "--behaviour NAME instead writes the sessions, decided by NAME, to an event log\n"
      "for recloop train --algo and recloop evaluate --sequential.\n\n"
      "options");
  std::vector<std::string> overrides, model_paths;
  std::string log_path, behaviour_name;
  long long sessions_option = 0;
  options.add_options()
      ("help,h", "show this help")
      ("set", po::value(&overrides)->composing(), "override a scenario value: section.key=value (repeatable)")
      ("sessions", po::value(&sessions_option), "sessions per policy (overrides [sessions] sessions)")
      ("model", po::value(&model_paths)->composing(),
       "add a trained policy from a model file (recloop train), frozen (repeatable)")
      ("log", po::value(&log_path),
       "instead of comparing: log the sessions under --behaviour into this event log")
      ("behaviour", po::value(&behaviour_name),
       "with --log: the registry policy that decides (its [NAME] section), learning online")
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
  if (scenario_path.empty()) {
    throw ConfigError("a scenario is needed: recloop sessions SCENARIO (e.g. "
                      "scenarios/streaming_fatigue.ini)");
  }
  const bool json = vm.count("json") != 0;
  const bool quiet = vm.count("quiet") != 0;

  Scenario scenario = load_scenario(scenario_path);
  for (const auto& assignment : overrides) scenario.apply_override(assignment);
  if (vm.count("sessions")) scenario.section("sessions").set("sessions", std::to_string(sessions_option), "--sessions");
  if (!log_path.empty() && behaviour_name.empty()) {
    throw ConfigError("--log FILE needs --behaviour NAME (the registry policy that logs)");
  }
  if (log_path.empty() && !behaviour_name.empty()) {
    throw ConfigError("--behaviour " + behaviour_name + " needs --log FILE");
  }
  std::vector<std::string> known_sections{"sessions", "simulator"};
  for (const auto& name : policy_names()) known_sections.push_back(name);
  scenario.reject_unknown_sections(known_sections);

  ConfigSection& simulator_section = scenario.section("simulator");
  const auto& simulator_values = simulator_section.values();
  const auto world_key = simulator_values.find("world");
  const auto session_worlds = session_world_names();
  if (world_key == simulator_values.end() ||
      std::find(session_worlds.begin(), session_worlds.end(), world_key->second) ==
          session_worlds.end()) {
    throw ConfigError((world_key == simulator_values.end()
                           ? scenario.source() + ": [simulator] world is not set"
                           : simulator_section.where("world")) +
                      ": recloop sessions needs a session world (world = session); "
                      "single-request worlds run with recloop simulate");
  }
  auto world = make_session_simulator(simulator_section);

  ConfigSection& sessions_section = scenario.section("sessions");
  const SessionsConfig config = SessionsConfig::from(sessions_section);
  sessions_section.reject_unknown();
  const auto registry = policy_names();
  for (const auto& name : config.policies) {
    if (name == kMyopicOracle || name == kCleanOracle || name == kRandom) {
      throw ConfigError(sessions_section.where("policies") + ": '" + name +
                        "' is a reference policy that always runs; list only registry policies");
    }
    if (std::find(registry.begin(), registry.end(), name) == registry.end()) {
      std::string known;
      for (const auto& n : registry) known += (known.empty() ? "" : ", ") + n;
      throw ConfigError(sessions_section.where("policies") + ": unknown policy '" + name +
                        "' (known: " + known + ")");
    }
  }
  for (const auto& name : config.frozen) {
    if (std::find(config.policies.begin(), config.policies.end(), name) == config.policies.end()) {
      throw ConfigError(sessions_section.where("frozen") + ": '" + name +
                        "' is not in [sessions] policies");
    }
  }

  // Build every policy once before running, so a bad value fails before any work.
  const int dim = world->feature_dim();
  if (!log_path.empty()) {
    return log_behaviour_sessions(*world, scenario, behaviour_name, log_path, config.first_session,
                                  static_cast<std::size_t>(config.sessions), config.seed, quiet);
  }
  for (const auto& name : config.policies) make_policy(name, scenario.section(name), dim);
  for (const auto& name : policy_names()) {
    if (scenario.has_section(name)) make_policy(name, scenario.section(name), dim);
  }
  const auto fresh_policy = [&scenario, dim](const std::string& name) {
    ConfigSection section = scenario.section(name);
    return make_policy(name, section, dim);
  };

  std::vector<Contender> contenders;
  for (const auto& name : config.policies) {
    std::size_t copies = 0;
    for (const auto& c : contenders) copies += c.policy && c.policy->name() == name && c.learn_sessions < 0;
    contenders.push_back({copies == 0 ? name : name + "#" + std::to_string(copies + 1),
                          fresh_policy(name), -1});
  }
  for (const auto& name : config.frozen) {
    contenders.push_back({name + "/frozen", fresh_policy(name), config.freeze_after});
  }
  for (const auto& path : model_paths) {
    if (!std::filesystem::is_regular_file(path)) throw ConfigError("--model " + path + ": file not found");
    auto model = load_model(path);
    const std::string label =
        std::string(model->name()) + ":" + std::filesystem::path(path).filename().string();
    contenders.push_back({label, std::move(model), 0, -1, true});
  }
  contenders.push_back({kMyopicOracle, nullptr, -1});
  const auto* session_world = dynamic_cast<const SessionWorld*>(world.get());
  if (session_world != nullptr && session_world->config().clickbait_share > 0.0) {
    contenders.push_back({kCleanOracle, nullptr, -1, session_world->clickbait_row()});
  }
  {
    ConfigSection uniform_section("uniform", "<built-in>");
    contenders.push_back({kRandom, make_policy("uniform", uniform_section, dim), -1});
  }

  const auto n = static_cast<std::size_t>(config.sessions);
  if (!quiet) {
    std::fprintf(stderr, "sessions: scenario %s, world %s, %zu sessions per policy, %zu policies\n",
                 scenario.source().c_str(), std::string(world->name()).c_str(), n,
                 contenders.size());
  }
  const auto started = std::chrono::steady_clock::now();
  auto last_report = started;
  std::vector<std::vector<SessionRecord>> records(contenders.size());
  for (std::size_t p = 0; p < contenders.size(); ++p) {
    records[p].reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      records[p].push_back(run_one(*world, config.first_session + i, static_cast<std::int64_t>(i),
                                   contenders[p], config.seed));
      const auto now = std::chrono::steady_clock::now();
      if (!quiet && (i + 1 == n || now - last_report >= std::chrono::seconds(1))) {
        last_report = now;
        std::fprintf(stderr, "sessions: %-22s %9zu / %zu sessions\n", contenders[p].name.c_str(),
                     i + 1, n);
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::vector<std::vector<double>> values, expected;
  std::vector<ValueSummary> value_summary, expected_summary;
  for (const auto& r : records) {
    values.push_back(column(r, &SessionRecord::value));
    expected.push_back(column(r, &SessionRecord::expected_value));
    value_summary.push_back(summarize(values.back()));
    expected_summary.push_back(summarize(expected.back()));
  }
  // The best myopic policy: the highest mean first-step expected reward.
  std::size_t best = 0;
  for (std::size_t p = 1; p < contenders.size(); ++p) {
    if (mean_of(records[p], &SessionRecord::first_expected_reward) >
        mean_of(records[best], &SessionRecord::first_expected_reward)) {
      best = p;
    }
  }

  if (json) {
    JsonWriter out;
    out.begin_object();
    out.key("scenario").value(scenario.source());
    out.key("world").value(world->name());
    out.key("sessions").value(static_cast<std::uint64_t>(n));
    out.key("first_session").value(config.first_session);
    out.key("seed").value(config.seed);
    out.key("seconds").value(seconds);
    out.key("best_myopic").value(contenders[best].name);
    out.key("policies").begin_array();
    for (std::size_t p = 0; p < contenders.size(); ++p) {
      out.begin_object();
      out.key("policy").value(contenders[p].name);
      out.key("value");
      write_summary(out, value_summary[p]);
      out.key("expected_value");
      write_summary(out, expected_summary[p]);
      out.key("mean_length").value(mean_steps(records[p]));
      out.key("mean_return_days").value(mean_of(records[p], &SessionRecord::return_days));
      out.key("mean_expected_return_days").value(mean_of(records[p], &SessionRecord::expected_return_days));
      out.key("first_step_expected_reward")
          .value(mean_of(records[p], &SessionRecord::first_expected_reward));
      out.end_object();
    }
    out.end_array();
    out.key("differences").begin_array();
    for (std::size_t p = 0; p < contenders.size(); ++p) {
      for (std::size_t q = 0; q < contenders.size(); ++q) {
        if (p == q) continue;
        out.begin_object();
        out.key("policy").value(contenders[p].name);
        out.key("minus").value(contenders[q].name);
        out.key("value");
        write_summary(out, paired_difference(values[p], values[q]));
        out.key("expected_value");
        write_summary(out, paired_difference(expected[p], expected[q]));
        out.end_object();
      }
    }
    out.end_array();
    out.end_object();
    std::cout << out.str() << "\n";
    return 0;
  }

  std::printf("\nsessions: %zu per policy (sessions %llu..%llu), world %s, seed %llu, %.1f s\n\n", n,
              static_cast<unsigned long long>(config.first_session),
              static_cast<unsigned long long>(config.first_session + n - 1),
              std::string(world->name()).c_str(), static_cast<unsigned long long>(config.seed),
              seconds);
  std::printf("%-22s %8s %7s %19s %9s %7s %7s %8s\n", "policy", "value", "SE", "95% CI",
              "E[value]", "length", "return", "1st E[r]");
  for (std::size_t p = 0; p < contenders.size(); ++p) {
    const auto& v = value_summary[p];
    char ci[48];
    std::snprintf(ci, sizeof(ci), "[%.3f, %.3f]", v.lower, v.upper);
    std::printf("%-22s %8.3f %7.3f %19s %9.3f %7.2f %7.2f %8.3f\n", contenders[p].name.c_str(),
                v.mean, v.std_error, ci, expected_summary[p].mean, mean_steps(records[p]),
                mean_of(records[p], &SessionRecord::return_days),
                mean_of(records[p], &SessionRecord::first_expected_reward));
  }
  std::printf("\n(value: sum of a session's drawn rewards; E[value]: sum of the exact expected\n"
              " rewards along its trajectory; length: steps; return: drawn days until the\n"
              " user's next session; 1st E[r]: exact expected reward of the first step)\n");
  std::printf("\npaired differences of session value against the best myopic policy, %s\n"
              "(same sessions, common random numbers; 95%% CI):\n\n",
              contenders[best].name.c_str());
  std::printf("%-22s %9s %7s %21s\n", "policy", "diff", "SE", "95% CI");
  for (std::size_t p = 0; p < contenders.size(); ++p) {
    if (p == best) continue;
    const auto d = paired_difference(values[p], values[best]);
    char ci[48];
    std::snprintf(ci, sizeof(ci), "[%.3f, %.3f]", d.lower, d.upper);
    std::printf("%-22s %+9.3f %7.3f %21s\n", contenders[p].name.c_str(), d.mean, d.std_error, ci);
  }
  if (!model_paths.empty()) {
    // The best policy learning online (highest mean session value), against which
    // the trained policies are compared.
    std::size_t bandit = contenders.size();
    for (std::size_t p = 0; p < contenders.size(); ++p) {
      if (!contenders[p].policy || contenders[p].trained || contenders[p].learn_sessions >= 0 ||
          contenders[p].name == kRandom) {
        continue;
      }
      if (bandit == contenders.size() || value_summary[p].mean > value_summary[bandit].mean) bandit = p;
    }
    if (bandit < contenders.size()) {
      std::printf("\ntrained policies against the best policy learning online, %s\n"
                  "(paired, 95%% CI; value, then E[value]):\n\n",
                  contenders[bandit].name.c_str());
      for (std::size_t p = 0; p < contenders.size(); ++p) {
        if (!contenders[p].trained) continue;
        const auto d = paired_difference(values[p], values[bandit]);
        const auto e = paired_difference(expected[p], expected[bandit]);
        std::printf("%-32s %+9.3f [%.3f, %.3f]  %+9.3f [%.3f, %.3f]\n", contenders[p].name.c_str(),
                    d.mean, d.lower, d.upper, e.mean, e.lower, e.upper);
      }
    }
  }
  bool frozen_header = false;
  for (std::size_t q = 0; q < contenders.size(); ++q) {
    if (contenders[q].learn_sessions < 0 || contenders[q].trained) continue;
    // The learning policy of the same registry name listed first.
    std::size_t p = 0;
    while (p < contenders.size() && (contenders[p].learn_sessions >= 0 || !contenders[p].policy ||
                                     contenders[p].policy->name() != contenders[q].policy->name())) {
      ++p;
    }
    if (p == contenders.size()) continue;
    if (!frozen_header) {
      std::printf("\nlearning online against a copy frozen after %lld sessions (paired, 95%% CI):\n\n",
                  static_cast<long long>(config.freeze_after));
      frozen_header = true;
    }
    const auto d = paired_difference(values[p], values[q]);
    char ci[48];
    std::snprintf(ci, sizeof(ci), "[%.3f, %.3f]", d.lower, d.upper);
    const std::string label = contenders[p].name + " - " + contenders[q].name;
    std::printf("%-32s %+9.3f %7.3f %21s\n", label.c_str(), d.mean, d.std_error, ci);
  }
  return 0;
}

}  // namespace recloop
