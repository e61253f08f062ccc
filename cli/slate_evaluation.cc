// SPDX-License-Identifier: Apache-2.0
#include "cli/command_line.h"
#include "cli/slate_evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>

#include <boost/program_options.hpp>

#include "cli/json_writer.h"
#include "cli/scenario_config.h"
#include "core/config.h"
#include "core/error.h"
#include "evaluation/exact_sum.h"
#include "evaluation/slate_registry.h"
#include "evaluation/statistics.h"
#include "policies/model_file.h"
#include "policies/ranker_registry.h"
#include "policies/registry.h"

namespace po = boost::program_options;

namespace recloop {
namespace {

void write_estimate(JsonWriter& out, const Estimate& e) {
  out.begin_object().key("value").value(e.value).key("std_error").value(e.std_error)
      .key("lower").value(e.lower).key("upper").value(e.upper).end_object();
}

// Slot k of `logged` as the single-slot interaction a base policy learns from.
Interaction slot_interaction(const LoggedSlate& logged, std::size_t k) {
  const LoggedSlot& s = logged.slots[k];
  Interaction interaction;
  interaction.event_id = logged.event_id + "/" + std::to_string(k);
  interaction.context = logged.context;
  interaction.action = s.action;
  interaction.probability = s.marginal;
  interaction.conditional = s.conditional;
  interaction.reward = s.reward;
  interaction.policy = logged.policy;
  interaction.slot = static_cast<std::uint32_t>(k);
  return interaction;
}

}  // namespace

SlateInteraction slate_interaction(const LoggedSlate& logged, const Ranker& target,
                                   std::size_t slots) {
  if (slots == 0 || logged.slots.size() < slots) {
    throw std::invalid_argument("ranking '" + logged.event_id + "' has " +
                                std::to_string(logged.slots.size()) + " slots, " +
                                std::to_string(slots) + " are scored");
  }
  std::vector<ActionId> shown;
  for (std::size_t k = 0; k < slots; ++k) shown.push_back(logged.slots[k].action);
  Eigen::MatrixXd marginals;
  std::vector<double> conditionals;
  try {
    marginals = target.marginals(logged.context, slots);
    conditionals = target.conditionals(logged.context, shown);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("ranking '" + logged.event_id + "': " + e.what());
  }
  SlateInteraction slate;
  slate.event_id = logged.event_id;
  for (std::size_t k = 0; k < slots; ++k) {
    const LoggedSlot& s = logged.slots[k];
    SlateSlot& out = slate.slots.emplace_back();
    out.action = s.action;
    out.logged_conditional = s.conditional;
    out.logged_marginal = s.marginal;
    out.target_conditional = conditionals[k];
    out.target_marginal =
        marginals(static_cast<Eigen::Index>(s.action), static_cast<Eigen::Index>(k));
    out.reward = s.reward;
  }
  return slate;
}

SlateEvaluation evaluate_slates(const std::vector<LoggedSlate>& log, const Ranker& target,
                                std::size_t slots, const std::vector<std::string>& estimators,
                                double alpha) {
  bool conditionals_known = true;
  for (const LoggedSlate& logged : log) {
    for (std::size_t k = 0; k < std::min(slots, logged.slots.size()); ++k) {
      conditionals_known = conditionals_known && logged.slots[k].conditional > 0.0;
    }
  }
  SlateEvaluation result;
  std::vector<std::unique_ptr<SlateEstimator>> running;
  for (const auto& name : estimators) {
    auto estimator = make_slate_estimator(name);  // throws for an unknown name
    if (!conditionals_known && slate_estimator_needs_conditionals(name)) {
      result.skipped.emplace_back(name, "some rankings were logged without their conditionals");
      continue;
    }
    running.push_back(std::move(estimator));
  }
  RunningMoments naive;
  ExactSum weight_sum, weight_squares;
  for (const LoggedSlate& logged : log) {
    const SlateInteraction slate = slate_interaction(logged, target, slots);
    double value = 0.0;
    double weight = 1.0;
    for (const SlateSlot& s : slate.slots) {
      value += s.reward;
      weight *= conditionals_known ? s.target_conditional / s.logged_conditional : 0.0;
    }
    naive.add(value);
    weight_sum.add(weight);
    weight_squares.add(weight * weight);
    result.max_weight = std::max(result.max_weight, weight);
    for (auto& estimator : running) estimator->add(slate);
  }
  result.n = log.size();
  result.naive = mean_estimate(naive, alpha);
  if (conditionals_known && weight_squares.value() > 0.0) {
    result.effective_sample_size = weight_sum.value() * weight_sum.value() / weight_squares.value();
  }
  for (const auto& estimator : running) {
    result.estimates.emplace_back(std::string(estimator->name()), estimator->estimate(alpha));
  }
  return result;
}

int run_slate_evaluate(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop evaluate --log FILE --target RANKER:BASE --slots L [options]\n\n"
      "Estimates the value (expected sum of the first L slots' rewards per ranking) of\n"
      "a target ranker from a log of rankings written by another ranker: slot k of a\n"
      "ranking logged as event '<id>/<k>' with its marginal and conditional\n"
      "probability. RANKER is one of plackett_luce, epsilon_greedy, top_k (settings:\n"
      "--set ranker.KEY=VALUE); BASE, the policy it orders by, is one of:\n"
      "  NAME or policy:NAME  a registry policy, trained on the slots of the first\n"
      "                       --train-fraction of the rankings, scored on the rest\n"
      "  model:FILE           a model saved by `recloop train`, scored on every ranking\n"
      "Rankings with fewer than L slots are an error; longer ones are scored on their\n"
      "first L slots.\n\n"
      "options");
  std::string log_path, target_spec, logging_policy, scenario_path;
  std::string estimator_list;
  for (const auto& name : slate_estimator_names()) {
    estimator_list += (estimator_list.empty() ? "" : ",") + name;
  }
  std::vector<std::string> overrides;
  double train_fraction = 0.5;
  std::size_t slots = 0;
  options.add_options()
      ("help,h", "show this help")
      ("log", po::value(&log_path), "log of rankings (SQLite) to read")
      ("target", po::value(&target_spec), "target ranker: RANKER:NAME, RANKER:policy:NAME or RANKER:model:FILE")
      ("slots", po::value(&slots), "number of leading slots L to score, >= 1")
      ("logging-policy", po::value(&logging_policy), "use only rankings this ranker made ('<ranker>:<base>')")
      ("train-fraction", po::value(&train_fraction)->default_value(0.5),
       "policy bases: share of the rankings, in [0, 1), the base learns from first")
      ("estimators", po::value(&estimator_list)->default_value(estimator_list),
       "comma-separated slate estimators")
      ("scenario", po::value(&scenario_path), "scenario file holding the base's [POLICY] and a [ranker] section")
      ("set", po::value(&overrides)->composing(), "override a setting: POLICY.key=value or ranker.key=value")
      ("json", "print one JSON object instead of a table");
  const auto command_line = parse_command_line(args, options, options);
  if (!command_line) return 0;
  const po::variables_map& vm = *command_line;
  if (log_path.empty()) throw ConfigError("--log FILE is required");
  if (target_spec.empty()) throw ConfigError("--target RANKER:BASE is required");
  if (slots < 1) throw ConfigError("--slots " + std::to_string(slots) + ": must be at least 1");
  if (!(train_fraction >= 0.0 && train_fraction < 1.0)) {
    throw ConfigError("--train-fraction " + std::to_string(train_fraction) + ": must be in [0, 1)");
  }
  if (!std::filesystem::is_regular_file(log_path)) throw ConfigError(log_path + ": log file not found");
  ConfigSection estimator_option("evaluate", "command line");
  estimator_option.set("estimators", estimator_list, "--estimators");
  const auto estimators = estimator_option.get_list("estimators", "", "estimators");
  for (const auto& name : estimators) make_slate_estimator(name);  // unknown names fail early

  const auto colon = target_spec.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == target_spec.size()) {
    throw ConfigError("--target '" + target_spec + "': expected RANKER:BASE, e.g. plackett_luce:uniform");
  }
  const std::string ranker_name = target_spec.substr(0, colon);
  std::string base_kind = "policy", base_name = target_spec.substr(colon + 1);
  if (const auto inner = base_name.find(':'); inner != std::string::npos) {
    base_kind = base_name.substr(0, inner);
    base_name = base_name.substr(inner + 1);
  }
  if (base_kind != "policy" && base_kind != "model") {
    throw ConfigError("--target '" + target_spec + "': base '" + base_kind +
                      ":' is neither policy: nor model:");
  }
  if (base_name.empty()) throw ConfigError("--target '" + target_spec + "': no base policy named");
  if (base_kind == "model" && !std::filesystem::is_regular_file(base_name)) {
    throw ConfigError("--target " + target_spec + ": " + base_name + ": file not found");
  }

  SlateLogSummary summary;
  const std::vector<LoggedSlate> log = read_slates(log_path, logging_policy, &summary);
  if (log.size() < 2) {
    throw Error(log_path + ": " + std::to_string(log.size()) + " complete rankings" +
                (logging_policy.empty() ? std::string() : " of ranker '" + logging_policy + "'") +
                "; need at least 2 to estimate (" + std::to_string(summary.incomplete) +
                " incomplete, " + std::to_string(summary.other_decisions) +
                " decisions not in rankings)");
  }
  for (const LoggedSlate& logged : log) {
    if (logged.slots.size() < slots) {
      throw ConfigError("--slots " + std::to_string(slots) + ": ranking '" + logged.event_id +
                        "' in " + log_path + " has only " + std::to_string(logged.slots.size()) +
                        " slots");
    }
  }

  Scenario scenario = scenario_path.empty() ? default_scenario() : load_scenario(scenario_path);
  for (const auto& assignment : overrides) scenario.apply_override(assignment);
  std::shared_ptr<Policy> base;
  std::size_t n_train = 0;
  if (base_kind == "policy") {
    base = make_policy(base_name, scenario.section(base_name), log.front().context.feature_dim());
    n_train = static_cast<std::size_t>(std::floor(train_fraction * static_cast<double>(log.size())));
    for (std::size_t i = 0; i < n_train; ++i) {
      for (std::size_t k = 0; k < log[i].slots.size(); ++k) base->update(slot_interaction(log[i], k));
    }
  } else {
    base = load_model(base_name);
  }
  const auto ranker = make_ranker(ranker_name, scenario.section("ranker"), base);
  const std::vector<LoggedSlate> held_out(log.begin() + static_cast<std::ptrdiff_t>(n_train), log.end());
  if (held_out.size() < 2) throw Error("fewer than 2 rankings left to score on; lower --train-fraction");
  SlateEvaluation result;
  try {
    result = evaluate_slates(held_out, *ranker, slots, estimators);
  } catch (const std::invalid_argument& e) {
    throw Error(log_path + ": " + e.what());
  }

  if (vm.count("json")) {
    JsonWriter out;
    out.begin_object();
    out.key("log").value(log_path);
    out.key("target").value(target_spec);
    out.key("slots").value(static_cast<std::uint64_t>(slots));
    out.key("trained_on").value(static_cast<std::uint64_t>(n_train));
    out.key("scored_on").value(static_cast<std::uint64_t>(result.n));
    out.key("incomplete_rankings").value(static_cast<std::uint64_t>(summary.incomplete));
    out.key("naive").begin_object().key("value").value(result.naive.value)
        .key("std_error").value(result.naive.std_error).end_object();
    for (const auto& [name, e] : result.estimates) {
      out.key(name);
      write_estimate(out, e);
    }
    out.key("skipped").begin_object();
    for (const auto& [name, reason] : result.skipped) out.key(name).value(reason);
    out.end_object();
    out.key("ranking_weights").begin_object()
        .key("effective_sample_size").value(result.effective_sample_size)
        .key("max_weight").value(result.max_weight).end_object();
    out.end_object();
    std::cout << out.str() << "\n";
    return 0;
  }
  std::printf("target %s over %zu slots: trained on %zu rankings, scored on %zu\n",
              target_spec.c_str(), slots, n_train, result.n);
  std::printf("log: %zu complete rankings, %zu incomplete, %zu decisions not in rankings\n",
              summary.slates, summary.incomplete, summary.other_decisions);
  std::printf("naive mean of logged ranking rewards: %.4f (SE %.4f)\n\n", result.naive.value,
              result.naive.std_error);
  std::printf("%-18s %10s %10s %22s\n", "estimator", "value", "std error", "95% CI");
  for (const auto& [name, e] : result.estimates) {
    std::printf("%-18s %10.4f %10.4f     [%7.4f, %7.4f]\n", name.c_str(), e.value, e.std_error,
                e.lower, e.upper);
  }
  for (const auto& [name, reason] : result.skipped) {
    std::printf("%-18s skipped: %s\n", name.c_str(), reason.c_str());
  }
  if (result.skipped.empty()) {
    std::printf("\nwhole-ranking weights: effective sample size %.1f of %zu, max %.3f\n",
                result.effective_sample_size, result.n, result.max_weight);
  }
  return 0;
}

}  // namespace recloop
