// SPDX-License-Identifier: Apache-2.0
// recloop evaluate --log FILE --target POLICY [options]
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/commands.h"
#include "cli/json_writer.h"
#include "cli/offline_evaluation.h"
#include "cli/scenario_config.h"
#include "core/config.h"
#include "core/error.h"
#include "logging/event_log.h"
#include "policies/registry.h"

namespace po = boost::program_options;

namespace recloop {

int run_evaluate(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop evaluate --log FILE --target POLICY [options]\n\n"
      "Estimates the value (expected reward per request) of a target policy from a\n"
      "decision log written by another policy. The target is trained on the first\n"
      "--train-fraction of the log (in logged order) and scored on the rest. When the\n"
      "log was written by the simulator, the exact value is shown beside the estimates.\n\n"
      "options");
  std::string log_path, target_name, logging_policy, scenario_path, estimator_list = "ips,snips,dm,dr";
  std::vector<std::string> overrides;
  double train_fraction = 0.5;
  options.add_options()
      ("help,h", "show this help")
      ("log", po::value(&log_path), "decision log (SQLite) to read")
      ("target", po::value(&target_name), "target policy name (see recloop simulate --help)")
      ("logging-policy", po::value(&logging_policy), "use only decisions this policy made")
      ("train-fraction", po::value(&train_fraction)->default_value(0.5),
       "share of the log, in [0, 1), the target learns from before being scored on the rest")
      ("estimators", po::value(&estimator_list)->default_value(estimator_list),
       "comma-separated estimators: ips, snips, dm, dr")
      ("scenario", po::value(&scenario_path), "scenario file holding the target's [POLICY] section")
      ("set", po::value(&overrides)->composing(), "override a target setting: POLICY.key=value")
      ("json", "print one JSON object instead of a table");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(e.what());
  }
  if (vm.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  if (log_path.empty()) throw ConfigError("--log FILE is required");
  if (target_name.empty()) throw ConfigError("--target POLICY is required");
  if (!(train_fraction >= 0.0 && train_fraction < 1.0)) {
    throw ConfigError("--train-fraction " + std::to_string(train_fraction) + ": must be in [0, 1)");
  }
  if (!std::filesystem::is_regular_file(log_path)) throw ConfigError(log_path + ": log file not found");
  ConfigSection estimator_option("evaluate", "command line");
  estimator_option.set("estimators", estimator_list, "--estimators");
  const auto estimators = estimator_option.get_list("estimators", "", "estimators");

  std::vector<Interaction> log;
  {
    EventLog event_log(log_path);
    event_log.for_each([&](const Interaction& i) { log.push_back(i); }, logging_policy);
  }
  if (log.size() < 2) {
    throw Error(log_path + ": " + std::to_string(log.size()) + " rewarded decisions" +
                (logging_policy.empty() ? std::string() : " of policy '" + logging_policy + "'") +
                "; need at least 2 to estimate");
  }
  Scenario scenario = scenario_path.empty() ? default_scenario() : load_scenario(scenario_path);
  for (const auto& assignment : overrides) scenario.apply_override(assignment);
  auto target = make_policy(target_name, scenario.section(target_name), log.front().context.feature_dim());

  const auto n_train = static_cast<std::size_t>(std::floor(train_fraction * static_cast<double>(log.size())));
  for (std::size_t i = 0; i < n_train; ++i) target->update(log[i]);
  const std::vector<Interaction> held_out(log.begin() + static_cast<std::ptrdiff_t>(n_train), log.end());
  if (held_out.size() < 2) throw Error("fewer than 2 interactions left to score on; lower --train-fraction");
  const auto result = evaluate_offline(held_out, *target, estimators);

  if (vm.count("json")) {
    JsonWriter out;
    out.begin_object();
    out.key("log").value(log_path);
    out.key("target").value(target_name);
    out.key("trained_on").value(static_cast<std::uint64_t>(n_train));
    out.key("scored_on").value(static_cast<std::uint64_t>(result.n));
    if (result.has_truth) out.key("exact_value").value(result.exact_value);
    out.key("naive").begin_object().key("value").value(result.naive.value)
        .key("std_error").value(result.naive.std_error).end_object();
    for (const auto& [name, e] : result.estimates) {
      out.key(name).begin_object().key("value").value(e.value).key("std_error").value(e.std_error)
          .key("lower").value(e.lower).key("upper").value(e.upper).end_object();
    }
    out.end_object();
    std::cout << out.str() << "\n";
    return 0;
  }
  std::printf("target %s: trained on %zu interactions, scored on %zu\n", target_name.c_str(),
              n_train, result.n);
  if (result.has_truth) std::printf("exact value (simulator truth): %.4f\n", result.exact_value);
  std::printf("naive mean of logged rewards: %.4f (SE %.4f)\n\n", result.naive.value,
              result.naive.std_error);
  std::printf("%-10s %10s %10s %22s\n", "estimator", "value", "std error", "95% CI");
  for (const auto& [name, e] : result.estimates) {
    std::printf("%-10s %10.4f %10.4f     [%7.4f, %7.4f]\n", name.c_str(), e.value, e.std_error,
                e.lower, e.upper);
  }
  return 0;
}

}  // namespace recloop
