// SPDX-License-Identifier: Apache-2.0
// The reinforcement-learning policies trained offline from logged sessions
// (core/trajectory.h), and how the registry reaches them.
//
//   trainer (header)                     policy            registry name
//   train_lspi()        lstdq.h          LinearQPolicy     "lspi"
//   train_bcq()         bcq.h            LinearQPolicy     "bcq"
//   train_slateq()      slateq.h         SlateQPolicy      "slateq"
//   train_reinforce_topk() reinforce.h   ReinforcePolicy   "reinforce_topk"
//
// Each trainer takes the trajectories and an options struct and returns a
// Policy: probabilities() is a valid pmf (ties shared), update() is a no-op
// that leaves model_version() (the number of transitions trained on)
// unchanged, save() writes everything load_policy() needs for a
// bit-identical policy. So a trained policy is saved with save_model()
// (policies/model_file.h) and served with `recloop serve --model FILE`.
//
// They are not in policy_names(): make_policy() cannot build one from a
// config section (there is nothing to learn online from), and says so.
//
//   std::vector<Trajectory> log = ...;          // logged sessions
//   LspiOptions options;                        // gamma, ridge, iterations, rule
//   options.rule.epsilon = 0.05;                // how it will decide
//   LspiResult result = train_lspi(log, options);
//   save_model(*result.policy, "lspi.model");   // recloop serve --model lspi.model
//
// Options shared in spirit: gamma (discount), ridge (the closed-form
// solves), epochs / learning_rate / seed (the gradient-trained models),
// ScoreRule (epsilon-greedy with ties shared, or a softmax temperature) for
// the value-based policies' decisions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policies/policy.h"

namespace recloop {

class ModelReader;

// "lspi", "bcq", "slateq", "reinforce_topk".
std::vector<std::string> trained_policy_names();
bool is_trained_policy_name(const std::string& name);

// Rebuilds a trained policy saved under `name`; nullptr when `name` is not
// one of trained_policy_names(). Throws recloop::Error on bad data.
std::unique_ptr<Policy> load_trained_policy(const std::string& name, ModelReader& in);

// The paper each follows (for `recloop policies`); empty for other names.
std::string trained_policy_reference(const std::string& name);

}  // namespace recloop
