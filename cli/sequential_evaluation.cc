// SPDX-License-Identifier: Apache-2.0
#include "cli/sequential_evaluation.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/json_writer.h"
#include "core/config.h"
#include "core/error.h"
#include "logging/session_log.h"
#include "policies/model_file.h"
#include "policies/registry.h"

namespace recloop {

const SequentialEstimate& SequentialEvaluation::operator[](const std::string& name) const {
  for (const Row& r : rows) {
    if (r.name == name) return r.estimate;
  }
  throw std::out_of_range("no sequential estimate named '" + name + "'");
}

TargetPmfs target_pmfs(const std::vector<Trajectory>& trajectories, const Policy& target) {
  TargetPmfs pmfs(trajectories.size());
  for (std::size_t i = 0; i < trajectories.size(); ++i) {
    pmfs[i].reserve(trajectories[i].steps.size());
    for (const TrajectoryStep& step : trajectories[i].steps) {
      pmfs[i].push_back(target.probabilities(step.context));
    }
  }
  return pmfs;
}

SequentialEvaluation evaluate_sequential(const std::vector<Trajectory>& trajectories,
                                         const Policy& target,
                                         const SequentialEvaluationOptions& options) {
  const TargetPmfs pmfs = target_pmfs(trajectories, target);
  SequentialConfig config;
  config.gamma = options.gamma;
  config.alpha = options.alpha;
  config.max_step_weight = options.max_step_weight;
  config.bootstrap_replicates = options.bootstrap_replicates;
  config.seed = options.seed;
  FittedQConfig fqe_config;
  fqe_config.iterations = options.fqe_iterations;
  fqe_config.lambda = options.fqe_lambda;
  fqe_config.gamma = options.gamma;
  fqe_config.alpha = options.alpha;
  fqe_config.bootstrap_replicates = options.fqe_bootstrap;
  fqe_config.seed = options.seed;
  const FittedQResult fqe = fitted_q_evaluation(trajectories, pmfs, fqe_config);

  SequentialEvaluation out;
  out.trajectories = trajectories.size();
  out.transitions = transition_count(trajectories);
  out.fqe_last_change = fqe.last_change;
  out.rows.push_back({"pdis", estimate_pdis(trajectories, pmfs, config)});
  out.rows.push_back({"wpdis", estimate_wpdis(trajectories, pmfs, config)});
  out.rows.push_back({"dr", estimate_sequential_dr(trajectories, pmfs, fqe.model, config)});
  out.rows.push_back({"wdr", estimate_wdr(trajectories, pmfs, fqe.model, config)});
  out.rows.push_back({"magic", estimate_magic(trajectories, pmfs, fqe.model, config)});
  out.rows.push_back({"fqe", fqe.estimate});
  return out;
}

std::string sequential_table(const SequentialEvaluation& evaluation, double alpha) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %10s %9s %23s %10s %12s %6s\n", "estimator", "value",
                "SE", "CI", "ESS", "max weight", "zero-p");
  out += line;
  for (const auto& r : evaluation.rows) {
    const SequentialEstimate& e = r.estimate;
    std::snprintf(line, sizeof line, "%-8s %10.4f %9.4f   [%9.4f, %9.4f] %10.1f %12.4g %6zu\n",
                  r.name.c_str(), e.value, e.std_error, e.lower, e.upper,
                  e.effective_sample_size, e.max_cumulative_weight, e.zero_probability_steps);
    out += line;
  }
  std::snprintf(line, sizeof line,
                "\n(%zu sessions, %zu steps; %.0f%% intervals; ESS: Kong's effective sample size "
                "of the final cumulative weights; FQE's last change %.3g)\n",
                evaluation.trajectories, evaluation.transitions, 100.0 * (1.0 - alpha),
                evaluation.fqe_last_change);
  out += line;
  return out;
}

std::string sequential_json(const SequentialEvaluation& evaluation, const std::string& target,
                            double gamma, double alpha) {
  JsonWriter out;
  out.begin_object();
  out.key("target").value(target);
  out.key("gamma").value(gamma);
  out.key("alpha").value(alpha);
  out.key("sessions").value(static_cast<std::uint64_t>(evaluation.trajectories));
  out.key("steps").value(static_cast<std::uint64_t>(evaluation.transitions));
  out.key("fqe_last_change").value(evaluation.fqe_last_change);
  out.key("estimates").begin_object();
  for (const auto& r : evaluation.rows) {
    const SequentialEstimate& e = r.estimate;
    out.key(r.name).begin_object();
    out.key("value").value(e.value);
    out.key("std_error").value(e.std_error);
    out.key("lower").value(e.lower);
    out.key("upper").value(e.upper);
    out.key("effective_sample_size").value(e.effective_sample_size);
    out.key("max_cumulative_weight").value(e.max_cumulative_weight);
    out.key("zero_probability_steps").value(static_cast<std::uint64_t>(e.zero_probability_steps));
    out.key("truncated_sessions").value(static_cast<std::uint64_t>(e.truncated_trajectories));
    out.end_object();
  }
  out.end_object();
  out.end_object();
  return out.str();
}

int run_sequential_evaluate(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options(
      "recloop evaluate --sequential --log FILE --target model:FILE|policy:NAME [options]\n\n"
      "Estimates the value of a target policy over whole sessions,\n"
      "V = E[sum_t gamma^t r_t], from the sessions of a log written by another\n"
      "policy (decisions with a session id and step, with their logged pmf):\n"
      "PDIS and WPDIS (Precup et al. 2000), sequential DR (Jiang & Li 2016), WDR\n"
      "and MAGIC (Thomas & Brunskill 2016), with fitted Q evaluation (FQE, Le et al.\n"
      "2019) as their model; intervals, Kong's effective sample size of the\n"
      "cumulative weights, the largest weight and the steps the target never takes.\n\n"
      "options");
  std::string log_path, target_spec, logging_policy;
  SequentialEvaluationOptions o;
  long long seed = 0, replicates = 200, fqe_replicates = 20;
  options.add_options()
      ("help,h", "show this help")
      ("sequential", "estimate session values (this mode)")
      ("log", po::value(&log_path), "event log (SQLite) with sessions")
      ("target", po::value(&target_spec), "model:FILE (e.g. from recloop train --algo) or policy:NAME")
      ("logging-policy", po::value(&logging_policy), "use only decisions this policy made")
      ("gamma", po::value(&o.gamma)->default_value(o.gamma), "discount in [0, 1]")
      ("alpha", po::value(&o.alpha)->default_value(o.alpha), "two-sided (1 - alpha) intervals")
      ("max-step-weight", po::value(&o.max_step_weight), "cap each step's weight (biased; default: none)")
      ("bootstrap", po::value(&replicates)->default_value(replicates), "bootstrap replicates of WPDIS, WDR, MAGIC")
      ("fqe-bootstrap", po::value(&fqe_replicates)->default_value(fqe_replicates), "bootstrap refits of FQE (0: no interval)")
      ("fqe-iterations", po::value(&o.fqe_iterations)->default_value(o.fqe_iterations), "FQE iterations")
      ("fqe-lambda", po::value(&o.fqe_lambda)->default_value(o.fqe_lambda), "FQE ridge penalty")
      ("seed", po::value(&seed)->default_value(seed), "seed of the bootstraps")
      ("json", "print one JSON object");
  const auto vm = parse_command_line(args, options, options);
  if (!vm) return 0;
  if (log_path.empty()) throw ConfigError("--log FILE is required");
  if (target_spec.empty()) throw ConfigError("--target SPEC is required (model:FILE or policy:NAME)");
  if (!std::filesystem::is_regular_file(log_path)) throw ConfigError(log_path + ": log file not found");
  if (seed < 0 || replicates < 0 || fqe_replicates < 0) {
    throw ConfigError("--seed, --bootstrap and --fqe-bootstrap must be >= 0");
  }
  o.seed = static_cast<std::uint64_t>(seed);
  o.bootstrap_replicates = static_cast<std::size_t>(replicates);
  o.fqe_bootstrap = static_cast<std::size_t>(fqe_replicates);
  const auto colon = target_spec.find(':');
  const std::string kind = colon == std::string::npos ? "policy" : target_spec.substr(0, colon);
  const std::string name = colon == std::string::npos ? target_spec : target_spec.substr(colon + 1);
  if ((kind != "model" && kind != "policy") || name.empty()) {
    throw ConfigError("--target '" + target_spec + "': expected model:FILE or policy:NAME");
  }
  if (kind == "model" && !std::filesystem::is_regular_file(name)) {
    throw ConfigError("--target " + target_spec + ": " + name + ": file not found");
  }

  SessionLogSummary summary;
  const auto trajectories = read_sessions(log_path, logging_policy, &summary);
  if (trajectories.empty()) {
    throw Error(log_path + ": no sessions to evaluate on (decisions with a session id and a rewarded step 0" +
                (logging_policy.empty() ? std::string() : " of policy '" + logging_policy + "'") + ")");
  }
  std::unique_ptr<Policy> policy;
  if (kind == "model") {
    policy = load_model(name);
  } else {
    ConfigSection section(name, "command line");
    policy = make_policy(name, section, trajectories.front().steps.front().context.feature_dim());
  }
  SequentialEvaluation evaluation;
  try {
    evaluation = evaluate_sequential(trajectories, *policy, o);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(log_path + ": " + e.what());
  }
  if (vm->count("json")) {
    std::cout << sequential_json(evaluation, target_spec, o.gamma, o.alpha) << "\n";
    return 0;
  }
  std::printf("target %s, gamma %g: %zu sessions (%zu complete, %zu truncated), %zu steps\n\n",
              target_spec.c_str(), o.gamma, summary.sessions, summary.complete, summary.truncated,
              summary.steps);
  std::fputs(sequential_table(evaluation, o.alpha).c_str(), stdout);
  return 0;
}

}  // namespace recloop
