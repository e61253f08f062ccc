// SPDX-License-Identifier: Apache-2.0
// `recloop train --algo lspi|bcq|reinforce|slateq`: one entry point from
// logged sessions (core/trajectory.h, read by logging/session_log.h) to a
// trained reinforcement-learning policy (policies/rl/rl_policy.h), with the
// options the command line exposes. The policy is saved with save_model()
// (policies/model_file.h) and served by `recloop serve --model FILE` like
// any other.
//
//   algo        trainer                     registry name
//   lspi        train_lspi (lstdq.h)        "lspi"
//   bcq         train_bcq (bcq.h)           "bcq"
//   reinforce   train_reinforce_topk        "reinforce_topk"
//   slateq      train_slateq (slateq.h)     "slateq"
//
// Pure computation; thread-safe for distinct inputs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/trajectory.h"
#include "policies/policy.h"

namespace recloop {

struct RlTrainOptions {
  std::string algo = "lspi";
  double gamma = 0.9;          // discount of the trained objective, [0, 1)
  double epsilon = 0.0;        // decision rule of lspi/bcq/slateq: epsilon-greedy share
  double temperature = 0.0;    // ... or a softmax over Q (> 0)
  double ridge = 1e-3;         // lspi/bcq/slateq ridge
  int iterations = 30;         // lspi/bcq policy iterations, slateq sweeps
  double threshold = 0.3;      // bcq: eligibility threshold tau
  int epochs = 10;             // reinforce (and the behaviour head of bcq)
  double learning_rate = 0.01; // reinforce
  double cap = 10.0;           // reinforce: importance weight cap
  int top_k = 1;               // reinforce: K of the top-K correction
  std::uint64_t seed = 1;      // shuffles of the gradient-trained models
};

// "lspi", "bcq", "reinforce", "slateq".
std::vector<std::string> rl_algorithms();

struct RlTrainResult {
  std::unique_ptr<Policy> policy;
  int iterations = 0;       // lspi/bcq: LSTD-Q solves made; 0 for the others
  bool converged = true;    // lspi/bcq: false when stopped at the iteration limit;
                            // always true for the others (not reported by their trainers)
};

// Throws ConfigError for an unknown algorithm, std::invalid_argument for bad
// options or trajectories (from the trainers).
RlTrainResult train_rl_policy(const std::vector<Trajectory>& trajectories,
                              const RlTrainOptions& options);

}  // namespace recloop

namespace recloop {

// `recloop train --algo NAME --log FILE --out MODEL [options]`: reads the
// log's sessions (read_sessions, logging/session_log.h), trains, saves the
// model file and prints one line. Returns the exit code; throws ConfigError /
// Error for bad arguments or a log without sessions.
int run_rl_train(const std::vector<std::string>& args);

}  // namespace recloop
