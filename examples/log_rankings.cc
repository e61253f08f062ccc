// SPDX-License-Identifier: Apache-2.0
// Example client: logs rankings through a running `recloop collect`, one decision
// per slot ("<event>/<k>", probability = marginal, conditional = P(item at k |
// items above)), with clicks from a position-based model. Usage:
//   log_rankings [ENDPOINT [N_RANKINGS]]   (default tcp://127.0.0.1:5560, 5000)
#include <cstdio>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>
#include "core/rng.h"
#include "core/sampling.h"
#include "feedback/client.h"
#include "policies/epsilon_greedy_ranker.h"
#include "policies/ranker.h"

using namespace recloop;

int main(int argc, char** argv) {
  const std::string endpoint = argc > 1 ? argv[1] : "tcp://127.0.0.1:5560";
  const int n = argc > 2 ? std::stoi(argv[2]) : 5000;
  const std::vector<double> theta = {1.0, 0.6, 0.3};          // P(slot k examined)
  const std::vector<double> attr = {0.9, 0.7, 0.5, 0.3, 0.1};  // P(click | item examined)
  Context context;
  context.user = Eigen::VectorXd::Zero(1);
  context.actions = Eigen::MatrixXd::Zero(1, 5);
  context.items = {0, 1, 2, 3, 4};
  // The logging ranker: epsilon-greedy (epsilon 0.8) preferring the *least* attractive items.
  Scorer reversed = [](const Context& c) {
    std::vector<double> s(c.size());
    for (std::size_t a = 0; a < c.size(); ++a) s[a] = static_cast<double>(a);
    return s;
  };
  EpsilonGreedyRanker logger(reversed, "reversed", EpsilonGreedyRanker::Config{0.8});
  zmq::context_t zmq;
  FeedbackClient client(zmq, endpoint);
  Rng clicks(2024);
  for (int i = 0; i < n; ++i) {
    const Ranking ranking = logger.rank(context, 3, "page-" + std::to_string(i), /*run_seed=*/7);
    for (std::size_t k = 0; k < 3; ++k) {
      LoggedDecision logged{slot_decision(ranking, k), context, {}, 1'700'000'000'000'000 + i};
      client.send(logged);
      const double p = theta[k] * attr[ranking.actions[k]];
      client.send(Reward{logged.decision.event_id, uniform01(clicks) < p ? 1.0 : 0.0,
                         logged.timestamp_us});
    }
  }
  if (!client.flush(30000)) return 1;
  std::printf("sent %d rankings of 3 slots\n", n);
  return 0;
}
