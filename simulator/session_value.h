// SPDX-License-Identifier: Apache-2.0
// Ground truth for sessions: the value of a policy over whole sessions
// (SessionSimulator, session_simulator.h), and the comparison of policies
// under common random numbers.
//
// Session i (i = first_session, first_session + 1, ...) is begun with
// world.begin(i) for every policy, so each policy meets the same user with
// the same candidates at step t and the same exogenous noise (outcome
// uniforms, interest drift, leave uniform, return time): only the policy's
// own choices, and what they cause, differ. A policy that draws its action
// gets a decision seed stream_seed(stream_seed(decision_seed, i), t), also the
// same for every policy (so two stochastic policies share their decision
// uniforms too).
//
// Value of a session: the sum of its drawn rewards (undiscounted return).
// Expected value given the trajectory: the sum over its steps of the exact
// E[reward | state, action] (world.expected_reward): the same mean, less
// noise, since it removes the reward draws of the states actually visited.
//
// Comparison. With N sessions, per policy p the mean value V_p, its standard
// error sd/sqrt(N) (sd with N - 1) and the 95% normal interval V_p +- 1.96 SE;
// per pair (p, q) the same for the paired differences d_i = V_p,i - V_q,i.
// Pairing removes the variance the two policies share (the user, the
// candidates, the noise), so Var(mean d) = (Var V_p + Var V_q - 2 Cov) / N,
// much less than the unpaired sum when the policies are alike; a policy
// compared with itself has d_i = 0 exactly.
// Not thread-safe (the world holds one session's state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/types.h"
#include "simulator/session_simulator.h"

namespace recloop {

// A decision rule for sessions: the action for `context`, given the
// decision's seed (for policies that draw their action; others ignore it).
struct SessionPolicy {
  std::string name;
  std::function<ActionId(const Context& context, std::uint64_t seed)> decide;
};

// A deterministic rule.
SessionPolicy deterministic_policy(std::string name,
                                   std::function<ActionId(const Context&)> choose);
// A stochastic rule: the action is drawn from pmf(context) with our inverse-CDF
// sampler, sample_index(pmf, seed) (core/sampling.h).
SessionPolicy stochastic_policy(std::string name,
                                std::function<std::vector<double>(const Context&)> pmf);

// One request of a recorded trajectory: the state features and candidates
// the policy saw, its action, the drawn reward and the exact expected reward.
// The next step's context is the next entry; the last entry has done = true.
struct SessionStep {
  Context context;
  ActionId action = 0;
  double reward = 0.0;
  double expected_reward = 0.0;
  bool done = false;
};

struct SessionRecord {
  std::uint64_t session = 0;
  std::uint64_t steps = 0;
  double value = 0.0;                  // sum of drawn rewards
  double expected_value = 0.0;         // sum of exact expected rewards along the trajectory
  double first_expected_reward = 0.0;  // exact expected reward of the first step
  double return_days = 0.0;            // SessionOutcome
  double expected_return_days = 0.0;
};

// Runs session `session` of `world` under `policy`; appends its steps to
// `trajectory` when given. Throws std::invalid_argument (naming the policy)
// for an action out of range.
SessionRecord run_session(SessionSimulator& world, std::uint64_t session,
                          const SessionPolicy& policy, std::uint64_t decision_seed = 0,
                          std::vector<SessionStep>* trajectory = nullptr);

// Mean, standard error (sd with n - 1, over sqrt(n)) and 95% normal interval.
struct ValueSummary {
  double mean = 0.0;
  double std_error = 0.0;
  double lower = 0.0;
  double upper = 0.0;
  std::size_t n = 0;
};
// Throws std::invalid_argument for fewer than two values.
ValueSummary summarize(std::span<const double> values);
// summarize() of a_i - b_i; a and b of equal length.
ValueSummary paired_difference(std::span<const double> a, std::span<const double> b);

struct SessionComparison {
  struct Difference {
    std::size_t first = 0;   // index of policy p
    std::size_t second = 0;  // index of policy q: the difference is p - q
    ValueSummary value;
    ValueSummary expected_value;
  };
  std::vector<std::string> names;
  std::vector<std::vector<SessionRecord>> records;  // [policy][session]
  std::vector<ValueSummary> value;                   // per policy
  std::vector<ValueSummary> expected_value;          // per policy
  std::vector<Difference> differences;               // every pair p < q
};

// Runs sessions first_session .. first_session + sessions - 1 under every
// policy (common random numbers, header) and compares them. sessions >= 2.
SessionComparison compare_policies(SessionSimulator& world,
                                   std::span<const SessionPolicy> policies,
                                   std::uint64_t first_session, std::size_t sessions,
                                   std::uint64_t decision_seed = 0);

}  // namespace recloop
