// SPDX-License-Identifier: Apache-2.0
// Training a policy from interactions logged by a different policy. A log
// holds, per request, the logging policy's choice a_t, its probability
// p_t = mu(a_t | x_t) and the reward r_t, and nothing about the other
// candidates. Feeding such a log to update() fits the logged choices as they
// came, so a learner inherits the logging policy's bias: candidates that
// policy rarely chose are rarely learnt. The trainer corrects for it with
// importance weights w_t = min(1 / p_t, max_weight) (clipping trades a bias
// for bounded variance, Ionides 2008; Bottou et al. 2013), in one of four ways:
//
//   direct  update(logged) unchanged: no correction, the baseline.
//   ips     every candidate a gets the regression target
//             y_a = w_t r_t 1[a = a_t],
//           an unbiased estimate of E[r | x_t, a] when unclipped (Horvitz &
//           Thompson 1952; as a reduction to regression, Bietti, Agarwal &
//           Langford 2021, JMLR, "A contextual bandit bake-off", the IPS
//           loss estimator).
//   dr      every candidate a gets the doubly robust target
//             y_a = rhat(x_t, a) + w_t (r_t - rhat(x_t, a)) 1[a = a_t],
//           with rhat the learner's own reward estimate before the step (as
//           VW's cb_adf dr does): unbiased when unclipped, whatever rhat,
//           and with far less variance than ips where rhat is good (Dudik,
//           Langford & Li 2011, ICML, "Doubly robust policy evaluation and
//           learning", sec. 2; Bietti et al. 2021, the DR loss estimator).
//   replay  any policy, not just a regression learner: the logged interaction
//           is passed to update() with probability
//             min(1, pi(a_t | x_t) / (M p_t)),   M = max_weight, or K when unset,
//           where pi is the learner's current pmf. Accepted interactions are
//           distributed as if the learner had chosen them itself (rejection
//           sampling: P(a, accepted | x) = pi(a | x) / M), generalising the
//           replay method of Li, Chu, Langford & Wang 2011 (WSDM, Alg. 1) from
//           uniform to known logging probabilities. The acceptance draw is
//           seeded by (seed, event id), so training replays exactly.
//
// ips and dr need the policy to be a RegressionLearner (regression_learner.h),
// possibly inside a ProbabilityFloor; every learn() is then one update of the
// policy (model_version + 1) touching all K candidates.
// Not thread-safe; the policy must outlive the trainer and is only changed
// through it while training.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/types.h"
#include "policies/policy.h"
#include "policies/regression_learner.h"

namespace recloop {

class OffPolicyTrainer {
 public:
  enum class Targets { kDirect, kIps, kDr, kReplay };

  struct Config {
    Targets targets = Targets::kDr;  // how logged rewards become learning steps (see above)
    // Importance weights 1/p are clipped at this value, >= 1 (infinity: no clipping).
    double max_weight = std::numeric_limits<double>::infinity();
    std::uint64_t seed = 0;  // seeds replay's acceptance draws, with the event id
    bool operator==(const Config&) const = default;
    // Reads `targets` (direct, ips, dr, replay), `max_weight` and `seed`.
    // Throws ConfigError naming the key, its value and range on bad input.
    static Config from(ConfigSection& section);
  };

  struct Stats {
    std::uint64_t seen = 0;     // interactions passed to learn()
    std::uint64_t used = 0;     // of which the policy learnt from (all but replay's rejections)
    std::uint64_t clipped = 0;  // of which had 1/p > max_weight
  };

  // Throws std::invalid_argument if max_weight is NaN or < 1, or if targets
  // are ips or dr and `policy` (or the policy inside its ProbabilityFloor) is
  // not a RegressionLearner.
  OffPolicyTrainer(Policy& policy, const Config& config);

  // One logged interaction: returns true if the policy learnt from it.
  // Throws recloop::Error naming the event if its logged probability is not in
  // (0, 1], its action is outside its context or its reward is not finite:
  // a log is input, not our own data.
  bool learn(const Interaction& logged);

  const Stats& stats() const { return stats_; }
  const Config& config() const { return config_; }

 private:
  Policy& policy_;
  RegressionLearner* learner_;  // null unless targets are ips or dr
  Config config_;
  Stats stats_;
  std::vector<double> targets_;  // workspace, one per candidate
  Context available_;            // workspace: the available candidates of a masked context
};

// "direct", "ips", "dr", "replay".
std::string_view targets_name(OffPolicyTrainer::Targets targets);

}  // namespace recloop
