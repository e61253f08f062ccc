// SPDX-License-Identifier: Apache-2.0
// recloop train --log FILE --policy NAME --out MODEL [options]
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/rl_train.h"
#include "cli/scenario_config.h"
#include "core/config.h"
#include "core/error.h"
#include "logging/event_log.h"
#include "policies/model_file.h"
#include "policies/off_policy_trainer.h"
#include "policies/registry.h"

namespace po = boost::program_options;

namespace recloop {

int run_train(const std::vector<std::string>& args) {
  // --algo trains a reinforcement-learning policy from the log's sessions (cli/rl_train.h).
  for (const auto& a : args) {
    if (a == "--algo" || a.rfind("--algo=", 0) == 0) return run_rl_train(args);
  }
  po::options_description options(
      "recloop train --log FILE --policy NAME --out MODEL [options]\n\n"
      "Trains a policy from a decision log written by another (logging) policy and\n"
      "saves it as a model file. Logged rewards are importance weighted by the logged\n"
      "probabilities, so the policy learns what each candidate is worth rather than\n"
      "what the logging policy liked to show:\n"
      "  dr      doubly robust reward targets for every candidate (default)\n"
      "  ips     inverse-propensity reward targets for every candidate\n"
      "  replay  rejection sampling towards the policy's own choices (any policy)\n"
      "  direct  the logged rewards as they are, no correction\n"
      "dr and ips need a policy built on a reward regression (see recloop policies).\n"
      "With --algo lspi|bcq|reinforce|slateq, trains a reinforcement-learning policy\n"
      "from the log's sessions instead (recloop train --algo lspi --help).\n\n"
      "options");
  std::string log_path, policy_name, out_path, logging_policy, scenario_path;
  std::string targets = "dr", max_weight;
  std::vector<std::string> overrides;
  long long seed = 0;
  options.add_options()
      ("help,h", "show this help")
      ("log", po::value(&log_path), "decision log (SQLite) to read")
      ("policy", po::value(&policy_name), "policy to train (see recloop policies)")
      ("out", po::value(&out_path), "model file to write (replaced atomically)")
      ("logging-policy", po::value(&logging_policy), "use only decisions this policy made")
      ("targets", po::value(&targets)->default_value(targets), "dr, ips, replay or direct")
      ("max-weight", po::value(&max_weight), "clip importance weights 1/p at W >= 1 (default: no clipping)")
      ("seed", po::value(&seed)->default_value(0), "seed of replay's acceptance draws")
      ("scenario", po::value(&scenario_path), "scenario file holding the policy's [NAME] section")
      ("set", po::value(&overrides)->composing(), "override a policy setting: NAME.key=value");
  if (!parse_command_line(args, options, options)) return 0;
  if (log_path.empty()) throw ConfigError("--log FILE is required");
  if (policy_name.empty()) throw ConfigError("--policy NAME is required");
  if (out_path.empty()) throw ConfigError("--out MODEL is required");
  if (!std::filesystem::is_regular_file(log_path)) throw ConfigError(log_path + ": log file not found");

  ConfigSection train("train", "command line");
  train.set("targets", targets, "--targets");
  if (!max_weight.empty()) train.set("max_weight", max_weight, "--max-weight");
  train.set("seed", std::to_string(seed), "--seed");
  const auto trainer_config = OffPolicyTrainer::Config::from(train);

  Scenario scenario = scenario_path.empty() ? default_scenario() : load_scenario(scenario_path);
  for (const auto& assignment : overrides) scenario.apply_override(assignment);
  ConfigSection& section = scenario.section(policy_name);
  // Built once up front (for any feature dimension), so a bad name, setting or
  // kind of targets fails before the log is read.
  const auto probe = make_policy(policy_name, section, 4);
  try {
    OffPolicyTrainer check(*probe, trainer_config);
  } catch (const std::invalid_argument& e) {
    throw ConfigError("--targets " + targets + ": " + e.what());
  }

  std::unique_ptr<Policy> policy;
  std::unique_ptr<OffPolicyTrainer> trainer;
  int feature_dim = 0;
  {
    EventLog log(log_path);
    log.for_each(
        [&](const Interaction& i) {
          if (!policy) {
            feature_dim = i.context.feature_dim();
            policy = make_policy(policy_name, section, feature_dim);
            trainer = std::make_unique<OffPolicyTrainer>(*policy, trainer_config);
          }
          if (i.context.feature_dim() != feature_dim) {
            throw Error(log_path + ": event '" + i.event_id + "' has feature_dim " +
                        std::to_string(i.context.feature_dim()) + ", earlier events " +
                        std::to_string(feature_dim));
          }
          trainer->learn(i);
        },
        logging_policy);
  }
  if (!policy) {
    throw Error(log_path + ": no rewarded decisions" +
                (logging_policy.empty() ? std::string() : " of policy '" + logging_policy + "'") +
                " to train on");
  }
  save_model(*policy, out_path);
  const auto& stats = trainer->stats();
  std::printf("trained %s on %llu of %llu interactions (%s targets, %llu weights clipped): "
              "model version %llu saved to %s\n",
              policy_name.c_str(), static_cast<unsigned long long>(stats.used),
              static_cast<unsigned long long>(stats.seen),
              std::string(targets_name(trainer_config.targets)).c_str(),
              static_cast<unsigned long long>(stats.clipped),
              static_cast<unsigned long long>(policy->model_version()), out_path.c_str());
  return 0;
}

}  // namespace recloop
