// SPDX-License-Identifier: Apache-2.0
// recloop evaluate --log FILE --target SPEC [options]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "cli/offline_evaluation.h"
#include "cli/scenario_config.h"
#include "cli/sequential_evaluation.h"
#include "cli/slate_evaluation.h"
#include "core/config.h"
#include "core/error.h"
#include "evaluation/probability_table.h"
#include "logging/event_log.h"
#include "policies/model_file.h"
#include "policies/registry.h"

namespace po = boost::program_options;

namespace recloop {
namespace {

void write_estimate(JsonWriter& out, const Estimate& e, const EstimateBounds* bounds) {
  out.begin_object().key("value").value(e.value).key("std_error").value(e.std_error)
      .key("lower").value(e.lower).key("upper").value(e.upper);
  if (bounds) {
    out.key("bootstrap").begin_object()
        .key("lower").value(bounds->bootstrap_lower).key("upper").value(bounds->bootstrap_upper)
        .key("std_error").value(bounds->bootstrap_std_error).end_object();
    out.key("safe_lower_bound").value(bounds->safe_lower);
  }
  out.end_object();
}

// "[lower, upper]" in a fixed width, or "-" when not computed.
std::string interval_text(double lower, double upper) {
  if (std::isnan(lower) || std::isnan(upper)) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "[%7.4f, %7.4f]", lower, upper);
  return text;
}

std::string number_text(double value) {
  if (std::isnan(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", value);
  return text;
}

void write_weights(JsonWriter& out, const WeightReport& w) {
  out.begin_object()
      .key("effective_sample_size").value(w.effective_sample_size)
      .key("mean_weight").value(w.mean_weight)
      .key("max_weight").value(w.max_weight)
      .key("p50").value(w.p50).key("p90").value(w.p90).key("p99").value(w.p99)
      .key("share_target_never_takes").value(w.share_target_never_takes)
      .key("target_mass_outside_logger").value(w.target_mass_outside_logger)
      .key("n_with_logged_pmf").value(static_cast<std::uint64_t>(w.n_with_logged_pmf))
      .end_object();
}

}  // namespace

int run_evaluate(const std::vector<std::string>& args) {
  // --sequential estimates session values from the log's sessions (cli/sequential_evaluation.h).
  for (const auto& a : args) {
    if (a == "--sequential") return run_sequential_evaluate(args);
  }
  // Logs of rankings: `--slots L` hands over to cli/slate_evaluation.h.
  for (const auto& arg : args) {
    if (arg == "--slots" || arg.starts_with("--slots=")) return run_slate_evaluate(args);
  }
  po::options_description options(
      "recloop evaluate --log FILE --target SPEC [options]\n\n"
      "Estimates the value (expected reward per request) of a target policy from a\n"
      "decision log written by another policy, with a confidence interval per\n"
      "estimator and diagnostics of the importance weights. SPEC is one of:\n"
      "  policy:NAME  (or plain NAME) a registry policy, trained on the first\n"
      "               --train-fraction of the log (in logged order), scored on the rest\n"
      "  model:FILE   a model saved by `recloop train`, scored on the whole log\n"
      "  table:FILE   a fixed probability table item,slot,probability[,segment]\n"
      "               (see `recloop table`), scored on the whole log\n"
      "When the log was written by the simulator, the exact value is shown beside the\n"
      "estimates. Decisions whose reward has not arrived are not scored; their\n"
      "count is printed (json: unrewarded_decisions).\n"
      "With --sequential, estimates whole-session values from the log's sessions\n"
      "instead (recloop evaluate --sequential --help).\n\n"
      "Beside each estimate's normal 95% interval, for naive, ips, snips, dm, dr and\n"
      "dr_cross_fit (\"-\" for the others):\n"
      "  bootstrap    the 95% percentile interval of a Poisson bootstrap with\n"
      "               --bootstrap replicates drawn from --bootstrap-seed: the same\n"
      "               seed gives the same interval, whatever the order of the log\n"
      "  safe lower   a lower bound on the value that holds with probability >= 95%\n"
      "               (empirical Bernstein, Maurer & Pontil 2009), not for snips; it\n"
      "               takes the range of the per-row terms from the log. Deploy the\n"
      "               target only if this beats the current policy's value.\n\n"
      "options");
  std::string log_path, target_spec, logging_policy, scenario_path, reward_model = "ridge";
  std::string estimator_list = "ips,snips,dm,dr,dr_cross_fit";
  std::vector<std::string> overrides;
  double train_fraction = 0.5;
  std::size_t bootstrap_replicates = 2000;
  std::uint64_t bootstrap_seed = 0;
  options.add_options()
      ("help,h", "show this help")
      ("log", po::value(&log_path), "decision log (SQLite) to read")
      ("target", po::value(&target_spec), "target: policy:NAME, NAME, model:FILE or table:FILE.csv")
      ("logging-policy", po::value(&logging_policy), "use only decisions this policy made")
      ("train-fraction", po::value(&train_fraction)->default_value(0.5),
       "policy targets: share of the log, in [0, 1), the target learns from first")
      ("estimators", po::value(&estimator_list)->default_value(estimator_list),
       "comma-separated estimators (naive, ips, snips, dm, dr, and the others of the registry)")
      ("reward-model", po::value(&reward_model)->default_value(reward_model),
       "reward model of dm/dr: ridge (joint features) or tabular (mean reward per item)")
      ("scenario", po::value(&scenario_path), "scenario file holding the target's [POLICY] section")
      ("set", po::value(&overrides)->composing(), "override a target setting: POLICY.key=value")
      ("bootstrap", po::value(&bootstrap_replicates)->default_value(bootstrap_replicates),
       "bootstrap replicates B (>= 10), or 0 for no bootstrap interval and no safe lower bound")
      ("bootstrap-seed", po::value(&bootstrap_seed)->default_value(bootstrap_seed),
       "seed of the bootstrap replicates")
      ("json", "print one JSON object instead of a table");
  const auto command_line = parse_command_line(args, options, options);
  if (!command_line) return 0;
  const po::variables_map& vm = *command_line;
  if (log_path.empty()) throw ConfigError("--log FILE is required");
  if (target_spec.empty()) throw ConfigError("--target SPEC is required");
  if (!(train_fraction >= 0.0 && train_fraction < 1.0)) {
    throw ConfigError("--train-fraction " + std::to_string(train_fraction) + ": must be in [0, 1)");
  }
  if (bootstrap_replicates != 0 && bootstrap_replicates < 10) {
    throw ConfigError("--bootstrap " + std::to_string(bootstrap_replicates) +
                      ": expected 0 (off) or at least 10 replicates");
  }
  if (reward_model != "ridge" && reward_model != "tabular") {
    throw ConfigError("--reward-model '" + reward_model + "': expected ridge or tabular");
  }
  if (!std::filesystem::is_regular_file(log_path)) throw ConfigError(log_path + ": log file not found");
  ConfigSection estimator_option("evaluate", "command line");
  estimator_option.set("estimators", estimator_list, "--estimators");
  const auto estimators = estimator_option.get_list("estimators", "", "estimators");

  std::string kind = "policy", target_name = target_spec;
  if (const auto colon = target_spec.find(':'); colon != std::string::npos) {
    kind = target_spec.substr(0, colon);
    target_name = target_spec.substr(colon + 1);
  }
  if (kind != "policy" && kind != "model" && kind != "table") {
    throw ConfigError("--target '" + target_spec + "': expected policy:NAME, model:FILE or table:FILE");
  }
  if (target_name.empty()) throw ConfigError("--target '" + target_spec + "': nothing after ':'");
  if (kind != "policy" && !std::filesystem::is_regular_file(target_name)) {
    throw ConfigError("--target " + target_spec + ": " + target_name + ": file not found");
  }

  std::vector<Interaction> log;
  std::size_t unrewarded = 0;  // decisions whose reward has not arrived: not scored, but said
  {
    EventLog event_log(log_path);
    event_log.for_each([&](const Interaction& i) { log.push_back(i); }, logging_policy);
    unrewarded = event_log.unrewarded_count(logging_policy);
  }
  if (log.size() < 2) {
    throw Error(log_path + ": " + std::to_string(log.size()) + " rewarded decisions" +
                (logging_policy.empty() ? std::string() : " of policy '" + logging_policy + "'") +
                (unrewarded ? " (and " + std::to_string(unrewarded) + " without a reward)" : "") +
                "; need at least 2 to estimate");
  }

  std::size_t n_train = 0;
  std::unique_ptr<Policy> policy;
  std::unique_ptr<ProbabilityTable> table;
  TargetPmf target;
  if (kind == "policy") {
    Scenario scenario = scenario_path.empty() ? default_scenario() : load_scenario(scenario_path);
    for (const auto& assignment : overrides) scenario.apply_override(assignment);
    policy = make_policy(target_name, scenario.section(target_name), log.front().context.feature_dim());
    n_train = static_cast<std::size_t>(std::floor(train_fraction * static_cast<double>(log.size())));
    for (std::size_t i = 0; i < n_train; ++i) policy->update(log[i]);
  } else if (kind == "model") {
    policy = load_model(target_name);
  } else {
    table = std::make_unique<ProbabilityTable>(ProbabilityTable::load_csv(target_name));
  }
  if (policy) {
    target = [&](const Interaction& i) { return policy->probabilities(i.context); };
  } else {
    target = [&](const Interaction& i) { return table->pmf(i); };
  }
  const std::vector<Interaction> held_out(log.begin() + static_cast<std::ptrdiff_t>(n_train), log.end());
  if (held_out.size() < 2) throw Error("fewer than 2 interactions left to score on; lower --train-fraction");
  const auto result = evaluate_offline(held_out, target, target_spec, estimators, 0.05,
                                       reward_model == "tabular" ? RewardModelKind::tabular
                                                                 : RewardModelKind::ridge,
                                       {.replicates = bootstrap_replicates, .seed = bootstrap_seed});

  if (vm.count("json")) {
    JsonWriter out;
    out.begin_object();
    out.key("log").value(log_path);
    out.key("target").value(target_spec);
    out.key("trained_on").value(static_cast<std::uint64_t>(n_train));
    out.key("scored_on").value(static_cast<std::uint64_t>(result.n));
    out.key("unrewarded_decisions").value(static_cast<std::uint64_t>(unrewarded));
    out.key("bootstrap_replicates").value(static_cast<std::uint64_t>(bootstrap_replicates));
    out.key("bootstrap_seed").value(bootstrap_seed);
    if (result.has_truth) out.key("exact_value").value(result.exact_value);
    out.key("naive").begin_object().key("value").value(result.naive.value)
        .key("std_error").value(result.naive.std_error).end_object();
    for (std::size_t k = 0; k < result.estimates.size(); ++k) {
      out.key(result.estimates[k].first);
      write_estimate(out, result.estimates[k].second,
                     result.bounds.empty() ? nullptr : &result.bounds[k]);
    }
    out.key("diagnostics");
    write_weights(out, result.weights);
    out.key("warnings").begin_array();
    for (const auto& warning : result.warnings) out.value(warning);
    out.end_array();
    out.end_object();
    std::cout << out.str() << "\n";
    return 0;
  }
  std::printf("target %s: trained on %zu interactions, scored on %zu\n", target_spec.c_str(),
              n_train, result.n);
  if (unrewarded > 0) {
    std::printf("%zu %s without a reward %s not scored\n", unrewarded,
                unrewarded == 1 ? "decision" : "decisions", unrewarded == 1 ? "was" : "were");
  }
  if (result.has_truth) std::printf("exact value (simulator truth): %.4f\n", result.exact_value);
  std::printf("naive mean of logged rewards: %.4f (SE %.4f)\n\n", result.naive.value,
              result.naive.std_error);
  std::printf("%-12s %9s %9s  %-18s  %-18s  %s\n", "estimator", "value", "std error",
              "95% CI (normal)", "95% CI (bootstrap)", "95% safe lower");
  for (std::size_t k = 0; k < result.estimates.size(); ++k) {
    const auto& [name, e] = result.estimates[k];
    const EstimateBounds bounds = result.bounds.empty() ? EstimateBounds{} : result.bounds[k];
    std::printf("%-12s %9.4f %9.4f  %-18s  %-18s  %s\n", name.c_str(), e.value, e.std_error,
                interval_text(e.lower, e.upper).c_str(),
                interval_text(bounds.bootstrap_lower, bounds.bootstrap_upper).c_str(),
                number_text(bounds.safe_lower).c_str());
  }
  if (bootstrap_replicates > 0) {
    std::printf("(bootstrap: %zu replicates, seed %llu)\n", bootstrap_replicates,
                static_cast<unsigned long long>(bootstrap_seed));
  }
  const WeightReport& w = result.weights;
  std::printf("\nimportance weights: effective sample size %.1f of %zu, mean %.3f, max %.3f, "
              "p50 %.3f, p90 %.3f, p99 %.3f\n", w.effective_sample_size, w.n, w.mean_weight,
              w.max_weight, w.p50, w.p90, w.p99);
  std::printf("share of logged actions the target never takes: %.3f\n", w.share_target_never_takes);
  if (w.n_with_logged_pmf > 0) {
    std::printf("target mass on actions the logger never takes: %.3f\n", w.target_mass_outside_logger);
  }
  for (const auto& warning : result.warnings) std::printf("warning: %s\n", warning.c_str());
  return 0;
}

}  // namespace recloop
