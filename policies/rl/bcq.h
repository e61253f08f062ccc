// SPDX-License-Identifier: Apache-2.0
// Discrete batch-constrained Q-learning (BCQ; Fujimoto, Conti, Ghavamzadeh &
// Pineau 2019, "Benchmarking batch deep reinforcement learning algorithms",
// NeurIPS Deep RL workshop, sec. 4, eq. 2-3), with a linear Q: a policy
// trained on a narrow log must not exploit actions the logger (almost) never
// took, whose Q values are extrapolation, not evidence.
//
//   1. The behaviour model G(a | s): the behaviour head of rl_common.h
//      (bilinear softmax, maximum likelihood of the logged actions).
//   2. Eligible actions at s: G(a | s) / max_b G(b | s) >= threshold (tau).
//   3. Q by LSPI (lstdq.h) in which every greedy step, in the LSTD-Q target
//      and in the decision, maximises over the eligible actions only: the
//      fixed point of Q(s,a) = r + gamma max_{a' eligible at s'} Q(s', a')
//      within the linear span (eq. 2 with the constrained max).
//   4. The policy ("bcq", LinearQPolicy): its ScoreRule over the eligible
//      candidates; the others get probability exactly 0 (also with epsilon).
// threshold -> 0 admits every candidate (plain LSPI); threshold = 1 keeps
// only the behaviour model's most likely action (imitation).
//
// Thread safety: a trained policy is immutable (const members may be called
// concurrently); the trainers are functions of their arguments only.
#pragma once

#include <vector>

#include "core/trajectory.h"
#include "policies/rl/lstdq.h"
#include "policies/rl/rl_common.h"

namespace recloop {

struct BcqOptions {
  LspiOptions lspi;             // Q fitting and the decision rule
  BehaviourOptions behaviour;   // the behaviour model's fit
  double threshold = 0.3;       // tau, (0, 1]
};

struct BcqResult {
  std::unique_ptr<LinearQPolicy> policy;  // name() == "bcq"
  int iterations = 0;
  bool converged = false;
};

// Throws std::invalid_argument for bad options or trajectories, Error as lstdq().
BcqResult train_bcq(const std::vector<Trajectory>& trajectories, const BcqOptions& options);

}  // namespace recloop
