// SPDX-License-Identifier: Apache-2.0
#include "cli/rl_train.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>

#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "core/error.h"
#include "logging/session_log.h"
#include "policies/model_file.h"
#include "policies/rl/bcq.h"
#include "policies/rl/lstdq.h"
#include "policies/rl/reinforce.h"
#include "policies/rl/slateq.h"

namespace recloop {

std::vector<std::string> rl_algorithms() { return {"lspi", "bcq", "reinforce", "slateq"}; }

RlTrainResult train_rl_policy(const std::vector<Trajectory>& trajectories,
                              const RlTrainOptions& options) {
  const ScoreRule rule{.epsilon = options.epsilon, .temperature = options.temperature};
  RlTrainResult result;
  if (options.algo == "lspi" || options.algo == "bcq") {
    LspiOptions lspi;
    lspi.lstdq.gamma = options.gamma;
    lspi.lstdq.ridge = options.ridge;
    lspi.max_iterations = options.iterations;
    lspi.rule = rule;
    if (options.algo == "lspi") {
      LspiResult r = train_lspi(trajectories, lspi);
      result.policy = std::move(r.policy);
      result.iterations = r.iterations;
      result.converged = r.converged;
    } else {
      BcqOptions bcq;
      bcq.lspi = lspi;
      bcq.threshold = options.threshold;
      bcq.behaviour.epochs = options.epochs;
      bcq.behaviour.seed = options.seed;
      BcqResult r = train_bcq(trajectories, bcq);
      result.policy = std::move(r.policy);
      result.iterations = r.iterations;
      result.converged = r.converged;
    }
  } else if (options.algo == "reinforce") {
    ReinforceOptions reinforce;
    reinforce.gamma = options.gamma;
    reinforce.epochs = options.epochs;
    reinforce.learning_rate = options.learning_rate;
    reinforce.cap = options.cap;
    reinforce.top_k = options.top_k;
    reinforce.seed = options.seed;
    reinforce.behaviour.seed = options.seed;
    result.policy = train_reinforce_topk(trajectories, reinforce);
  } else if (options.algo == "slateq") {
    SlateQOptions slateq;
    slateq.gamma = options.gamma;
    slateq.ridge = options.ridge;
    slateq.iterations = options.iterations;
    slateq.rule = rule;
    result.policy = train_slateq(trajectories, slateq);
  } else {
    throw ConfigError("--algo: unknown algorithm '" + options.algo +
                      "' (known: lspi, bcq, reinforce, slateq)");
  }
  return result;
}

int run_rl_train(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options(
      "recloop train --algo lspi|bcq|reinforce|slateq --log FILE --out MODEL [options]\n\n"
      "Trains a reinforcement-learning policy offline from the sessions of a log\n"
      "(decisions with a session id and step, written by any other policy) and saves\n"
      "it as a model file that recloop serve --model, recloop sessions --model and\n"
      "recloop evaluate --sequential --target model:FILE read:\n"
      "  lspi       least-squares policy iteration on a linear Q (Lagoudakis & Parr 2003)\n"
      "  bcq        LSPI restricted to actions the logger plausibly took (Fujimoto et al. 2019)\n"
      "  reinforce  off-policy top-K REINFORCE with capped importance weights (Chen et al. 2019)\n"
      "  slateq     SlateQ's item-wise Q decomposition (Ie et al. 2019)\n"
      "A session is read as complete when its steps run 0, 1, ..., n-1, all rewarded;\n"
      "a gap or a missing reward truncates it there.\n\n"
      "options");
  RlTrainOptions o;
  std::string log_path, out_path, logging_policy;
  long long seed = 1;
  options.add_options()
      ("help,h", "show this help")
      ("algo", po::value(&o.algo), "lspi, bcq, reinforce or slateq")
      ("log", po::value(&log_path), "event log (SQLite) with sessions")
      ("out", po::value(&out_path), "model file to write (replaced atomically)")
      ("logging-policy", po::value(&logging_policy), "use only decisions this policy made")
      ("gamma", po::value(&o.gamma)->default_value(o.gamma), "discount, [0, 1)")
      ("epsilon", po::value(&o.epsilon)->default_value(o.epsilon), "lspi/bcq/slateq: epsilon-greedy share of the trained policy")
      ("temperature", po::value(&o.temperature)->default_value(o.temperature), "lspi/bcq/slateq: softmax over Q instead (> 0)")
      ("ridge", po::value(&o.ridge)->default_value(o.ridge), "lspi/bcq/slateq: ridge")
      ("iterations", po::value(&o.iterations)->default_value(o.iterations), "lspi/bcq: policy iterations at most; slateq: sweeps")
      ("threshold", po::value(&o.threshold)->default_value(o.threshold), "bcq: eligibility threshold in (0, 1]")
      ("epochs", po::value(&o.epochs)->default_value(o.epochs), "reinforce, bcq's behaviour model: epochs")
      ("learning-rate", po::value(&o.learning_rate)->default_value(o.learning_rate), "reinforce: Adam step size")
      ("cap", po::value(&o.cap)->default_value(o.cap), "reinforce: importance weight cap")
      ("top-k", po::value(&o.top_k)->default_value(o.top_k), "reinforce: K of the top-K correction")
      ("seed", po::value(&seed)->default_value(seed), "seed of the shuffles");
  if (!parse_command_line(args, options, options)) return 0;
  if (log_path.empty()) throw ConfigError("--log FILE is required");
  if (out_path.empty()) throw ConfigError("--out MODEL is required");
  if (!std::filesystem::is_regular_file(log_path)) throw ConfigError(log_path + ": log file not found");
  const auto algos = rl_algorithms();
  if (std::find(algos.begin(), algos.end(), o.algo) == algos.end()) {
    throw ConfigError("--algo: unknown algorithm '" + o.algo + "' (known: lspi, bcq, reinforce, slateq)");
  }
  if (seed < 0) throw ConfigError("--seed: must be >= 0, got " + std::to_string(seed));
  o.seed = static_cast<std::uint64_t>(seed);

  SessionLogSummary summary;
  const auto trajectories = read_sessions(log_path, logging_policy, &summary);
  if (trajectories.empty()) {
    throw Error(log_path + ": no sessions to train on (decisions with a session id and a rewarded step 0" +
                (logging_policy.empty() ? std::string() : " of policy '" + logging_policy + "'") + ")");
  }
  RlTrainResult result;
  try {
    result = train_rl_policy(trajectories, o);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("recloop train --algo ") + o.algo + ": " + e.what());
  }
  save_model(*result.policy, out_path);
  std::printf("trained %s on %zu sessions (%zu steps; %zu complete, %zu truncated, %zu dropped steps)",
              std::string(result.policy->name()).c_str(), summary.sessions, summary.steps,
              summary.complete, summary.truncated, summary.dropped_steps);
  if (o.algo == "lspi" || o.algo == "bcq") {
    std::printf(", %d policy iterations%s", result.iterations,
                result.converged ? "" : " (not converged)");
  }
  std::printf(": model version %llu saved to %s\n",
              static_cast<unsigned long long>(result.policy->model_version()), out_path.c_str());
  return 0;
}

}  // namespace recloop
