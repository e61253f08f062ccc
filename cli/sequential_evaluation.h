// SPDX-License-Identifier: Apache-2.0
// `recloop evaluate --sequential`: every sequential estimator of
// evaluation/sequential.h and evaluation/fitted_q.h for one target policy on
// logged sessions, with the weight diagnostics, as a table or JSON.
//
// The target's pmf at each logged state is Policy::probabilities(context).
// FQE (Le, Voloshin & Yue 2019) is fitted first, on the same trajectories and
// the same gamma, and its model Q̂ is the model of DR, WDR and MAGIC. Every
// estimate is of V(π) = E[Σ_t γ^t r_t] from the log's first states; with
// γ = 1 that is the expected session value (the sum of rewards).
//
// Pure computation apart from the printing functions.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/trajectory.h"
#include "evaluation/fitted_q.h"
#include "evaluation/sequential.h"
#include "policies/policy.h"

namespace recloop {

struct SequentialEvaluationOptions {
  double gamma = 1.0;
  double alpha = 0.05;
  double max_step_weight = std::numeric_limits<double>::infinity();
  std::size_t bootstrap_replicates = 200;  // WPDIS, WDR, MAGIC
  std::size_t fqe_bootstrap = 20;          // FQE's interval (0: none)
  int fqe_iterations = 100;
  double fqe_lambda = 1e-3;
  std::uint64_t seed = 0;
};

struct SequentialEvaluation {
  struct Row {
    std::string name;  // "pdis", "wpdis", "dr", "wdr", "magic", "fqe"
    SequentialEstimate estimate;
  };
  std::vector<Row> rows;
  std::size_t trajectories = 0;
  std::size_t transitions = 0;
  double fqe_last_change = 0.0;
  const SequentialEstimate& operator[](const std::string& name) const;  // throws if absent
};

// The target's pmf at every logged step.
TargetPmfs target_pmfs(const std::vector<Trajectory>& trajectories, const Policy& target);

// Throws std::invalid_argument as the estimators (no behaviour probability,
// shapes, options).
SequentialEvaluation evaluate_sequential(const std::vector<Trajectory>& trajectories,
                                         const Policy& target,
                                         const SequentialEvaluationOptions& options);

// The table `recloop evaluate --sequential` prints, and its JSON object.
std::string sequential_table(const SequentialEvaluation& evaluation, double alpha);
std::string sequential_json(const SequentialEvaluation& evaluation, const std::string& target,
                            double gamma, double alpha);

}  // namespace recloop

namespace recloop {

// `recloop evaluate --sequential --log FILE --target model:FILE|policy:NAME
// [--gamma G] [--json]`: the estimates above on the log's sessions
// (read_sessions, logging/session_log.h). Returns the exit code; throws
// ConfigError / Error for bad arguments or a log without sessions.
int run_sequential_evaluate(const std::vector<std::string>& args);

}  // namespace recloop
