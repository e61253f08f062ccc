// SPDX-License-Identifier: Apache-2.0
// A small Markov decision process with closed-form values, for the tests of
// the reinforcement-learning trainers (policies/rl/). States are one-hot user
// features (U = states), actions one-hot item features (A = actions, the same
// candidates in every state), so phi(s, a) = [1; u; x_a; vec(x_a u')] holds the
// indicator of (s, a) and a linear Q can be any table: LSTD-Q, FQI and
// SlateQ must then recover the tabular values exactly (up to the ridge).
//
// The MDP (gamma = 0.9; after a step the episode ends with the remaining
// probability, 1 - sum_s' P(s'|s,a)); every probability is a multiple of 1/4,
// so a log with 4 k copies of each (s, a) holds the transitions in exact
// proportion:
//   s0: a0 -> s1 (1)                          r = 0.1
//       a1 -> s0 (1/2), s2 (1/4), end (1/4)   r = 0.5
//   s1: a0 -> s2 (3/4), end (1/4)             r = 1
//       a1 -> s0 (1)                          r = 0.2
//   s2: a0 -> end (1)                         r = 2
//       a1 -> s1 (1/2), s2 (1/2)              r = 0.25
// Q^pi solves (I - gamma P Pi) q = r over the 6 pairs; Q* is found by policy
// iteration with exact solves (a finite number of improvements, each exact).
#pragma once

#include <cstddef>
#include <vector>

#include <Eigen/Dense>

#include "core/rng.h"
#include "core/sampling.h"
#include "core/trajectory.h"
#include "core/types.h"

namespace recloop::testing {

struct SmallMdp {
  static constexpr int kStates = 3;
  static constexpr int kActions = 2;
  double gamma = 0.9;
  // next[s][a][s'] = P(s' | s, a); the rest of the mass ends the episode.
  double next[kStates][kActions][kStates] = {
      {{0.0, 1.0, 0.0}, {0.5, 0.0, 0.25}},
      {{0.0, 0.0, 0.75}, {1.0, 0.0, 0.0}},
      {{0.0, 0.0, 0.0}, {0.0, 0.5, 0.5}},
  };
  double reward[kStates][kActions] = {{0.1, 0.5}, {1.0, 0.2}, {2.0, 0.25}};

  static int index(int s, int a) { return s * kActions + a; }

  // The request in state s: user one-hot(s), candidates = the two actions.
  static Context context(int s) {
    Context c;
    c.user = Eigen::VectorXd::Zero(kStates);
    c.user[s] = 1.0;
    c.actions = Eigen::MatrixXd::Identity(kActions, kActions);
    c.items = {100, 101};
    return c;
  }
  static int state_of(const Context& c) {
    Eigen::Index s = 0;
    c.user.maxCoeff(&s);
    return static_cast<int>(s);
  }

  // pi[s][a] as a 3 x 2 matrix; Q^pi by the exact linear solve.
  Eigen::VectorXd q_pi(const Eigen::MatrixXd& pi) const {
    constexpr int n = kStates * kActions;
    Eigen::MatrixXd m = Eigen::MatrixXd::Identity(n, n);
    Eigen::VectorXd r(n);
    for (int s = 0; s < kStates; ++s) {
      for (int a = 0; a < kActions; ++a) {
        r[index(s, a)] = reward[s][a];
        for (int s2 = 0; s2 < kStates; ++s2) {
          for (int a2 = 0; a2 < kActions; ++a2) {
            m(index(s, a), index(s2, a2)) -= gamma * next[s][a][s2] * pi(s2, a2);
          }
        }
      }
    }
    return m.partialPivLu().solve(r);
  }

  static Eigen::MatrixXd greedy(const Eigen::VectorXd& q) {
    Eigen::MatrixXd pi = Eigen::MatrixXd::Zero(kStates, kActions);
    for (int s = 0; s < kStates; ++s) pi(s, q[index(s, 1)] > q[index(s, 0)] ? 1 : 0) = 1.0;
    return pi;
  }

  // Policy iteration to the optimal policy (stops when greedy is stable).
  Eigen::VectorXd q_star() const {
    Eigen::MatrixXd pi = Eigen::MatrixXd::Constant(kStates, kActions, 0.5);
    Eigen::VectorXd q = q_pi(pi);
    for (int i = 0; i < 100; ++i) {
      const Eigen::MatrixXd improved = greedy(q);
      if (improved == pi) break;
      pi = improved;
      q = q_pi(pi);
    }
    return q;
  }

  static TrajectoryStep step(int s, int a, double r, double probability) {
    TrajectoryStep t;
    t.context = context(s);
    t.action = static_cast<ActionId>(a);
    t.reward = r;
    t.probability = probability;
    return t;
  }

  // Every (s, a) `4 k` times, its successors in exact proportion: a move to
  // s' is a truncated two-step trajectory (the second step only names s' and
  // the logged next action next_action(s')), an end is a terminated one-step
  // trajectory. Logged probabilities: 1/2 (a uniform logger).
  template <typename NextAction>
  std::vector<Trajectory> exact_log(int k, NextAction next_action) const {
    std::vector<Trajectory> log;
    for (int s = 0; s < kStates; ++s) {
      for (int a = 0; a < kActions; ++a) {
        int moved = 0;
        for (int s2 = 0; s2 < kStates; ++s2) {
          const int count = static_cast<int>(next[s][a][s2] * 4 * k + 0.5);
          for (int c = 0; c < count; ++c, ++moved) {
            Trajectory t;
            t.terminated = false;
            t.steps = {step(s, a, reward[s][a], 0.5), step(s2, next_action(s2), 0.0, 0.5)};
            log.push_back(std::move(t));
          }
        }
        for (int c = moved; c < 4 * k; ++c) {
          Trajectory t;
          t.terminated = true;
          t.steps = {step(s, a, reward[s][a], 0.5)};
          log.push_back(std::move(t));
        }
      }
    }
    return log;
  }
  std::vector<Trajectory> exact_log(int k) const {
    return exact_log(k, [](int) { return 0; });
  }

  // `episodes` episodes from a uniform start state under a uniform logger,
  // cut (truncated) after max_steps steps.
  std::vector<Trajectory> sampled_log(std::size_t episodes, std::size_t max_steps, Rng& rng) const {
    std::vector<Trajectory> log;
    for (std::size_t e = 0; e < episodes; ++e) {
      Trajectory t;
      t.terminated = false;
      int s = static_cast<int>(uniform_index(rng, kStates));
      while (t.steps.size() < max_steps) {
        const int a = static_cast<int>(uniform_index(rng, kActions));
        t.steps.push_back(step(s, a, reward[s][a], 0.5));
        const double u = uniform01(rng);
        double total = 0.0;
        int s2 = -1;
        for (int c = 0; c < kStates && s2 < 0; ++c) {
          total += next[s][a][c];
          if (u < total) s2 = c;
        }
        if (s2 < 0) {
          t.terminated = true;
          break;
        }
        s = s2;
      }
      log.push_back(std::move(t));
    }
    return log;
  }
};

// Q of every (s, a) under a policy's Q function (values(context) per state).
template <typename Values>
Eigen::VectorXd tabulate(Values values) {
  Eigen::VectorXd q(SmallMdp::kStates * SmallMdp::kActions);
  for (int s = 0; s < SmallMdp::kStates; ++s) {
    const Eigen::VectorXd v = values(SmallMdp::context(s));
    for (int a = 0; a < SmallMdp::kActions; ++a) q[SmallMdp::index(s, a)] = v[a];
  }
  return q;
}

}  // namespace recloop::testing
