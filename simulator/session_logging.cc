// SPDX-License-Identifier: Apache-2.0
#include "simulator/session_logging.h"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {
namespace {

void check_pmf(const std::vector<double>& pmf, std::size_t candidates, std::uint64_t session,
               std::uint64_t step) {
  const auto where = [&] {
    return " (session " + std::to_string(session) + ", step " + std::to_string(step) + ")";
  };
  if (pmf.size() != candidates) {
    throw std::invalid_argument("behaviour pmf has " + std::to_string(pmf.size()) +
                                " entries for " + std::to_string(candidates) + " candidates" +
                                where());
  }
  double total = 0.0;
  for (double p : pmf) {
    if (!std::isfinite(p) || p < 0.0) {
      throw std::invalid_argument("behaviour pmf has entry " + std::to_string(p) + where());
    }
    total += p;
  }
  if (std::abs(total - 1.0) > 1e-6) {
    throw std::invalid_argument("behaviour pmf sums to " + std::to_string(total) + where());
  }
}

}  // namespace

std::vector<Trajectory> log_sessions(SessionSimulator& world, const BehaviourPmf& behaviour,
                                     const SessionLoggingOptions& options,
                                     const StepObserver& observe) {
  Rng unused(0);  // a session's randomness comes from its own streams (session_simulator.h)
  std::vector<Trajectory> out;
  out.reserve(options.sessions);
  for (std::size_t i = 0; i < options.sessions; ++i) {
    const std::uint64_t session = options.first_session + i;
    const std::uint64_t seeds = stream_seed(options.decision_seed, session);
    Trajectory trajectory;
    trajectory.session = std::to_string(session);
    Context context = world.begin(session);
    for (std::uint64_t t = 0;; ++t) {
      std::vector<double> pmf = behaviour(context);
      check_pmf(pmf, context.size(), session, t);
      const auto action = static_cast<ActionId>(sample_index(pmf, stream_seed(seeds, t)));
      TrajectoryStep step;
      step.expected_reward = world.expected_reward(context, action);
      Transition transition = world.step(context, action, unused);
      step.action = action;
      step.probability = pmf[action];
      step.pmf = std::move(pmf);
      step.reward = transition.reward;
      step.event_id = trajectory.session + ":" + std::to_string(t);
      step.context = std::move(context);
      trajectory.steps.push_back(std::move(step));
      if (observe) observe(trajectory.steps.back());
      if (transition.done) break;
      context = std::move(transition.next);
    }
    trajectory.terminated = true;
    out.push_back(std::move(trajectory));
  }
  return out;
}

void to_logged(const std::vector<Trajectory>& trajectories, std::string_view policy,
               std::vector<LoggedDecision>& decisions, std::vector<Reward>& rewards) {
  for (const Trajectory& trajectory : trajectories) {
    for (std::size_t t = 0; t < trajectory.steps.size(); ++t) {
      const TrajectoryStep& step = trajectory.steps[t];
      LoggedDecision logged;
      Decision& d = logged.decision;
      d.event_id = step.event_id.empty() ? trajectory.session + ":" + std::to_string(t)
                                         : step.event_id;
      d.action = step.action;
      d.item = step.context.items[step.action];
      d.probability = step.probability;
      d.pmf = step.pmf;
      d.policy = std::string(policy);
      d.session = trajectory.session;
      d.step = static_cast<std::uint32_t>(t);
      logged.context = step.context;
      logged.timestamp_us = static_cast<std::int64_t>(t);
      rewards.push_back({d.event_id, step.reward, logged.timestamp_us});
      decisions.push_back(std::move(logged));
    }
  }
}

}  // namespace recloop
