// SPDX-License-Identifier: Apache-2.0
#include "feedback/closed_loop.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>

#include "core/error.h"
#include "core/rng.h"

namespace recloop {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t step_of(const EventId& event_id) {
  const auto colon = event_id.rfind(':');
  return std::stoull(event_id.substr(colon + 1));
}

}  // namespace

RunConfig RunConfig::from(ConfigSection& section) {
  RunConfig c;
  c.steps = section.get_int("steps", c.steps, 1, 1'000'000'000, "requests per policy");
  c.policies = section.get_list("policies", "uniform, epsilon_greedy, lin_ucb",
                                "policies to run, in order (the first 'uniform' also writes the "
                                "log the off-policy estimates use)");
  c.seed = static_cast<std::uint64_t>(section.get_int(
      "seed", static_cast<long long>(c.seed), 0, (1LL << 62), "seed of requests, clicks and decisions"));
  c.batch = section.get_int("batch", c.batch, 1, 1'000'000,
                            "requests decided before their feedback is learnt");
  c.endpoint = section.get_string("endpoint", c.endpoint,
                                  "collector endpoint; inproc:// starts one in this process");
  c.learner_endpoint = section.get_string("learner_endpoint", c.learner_endpoint,
                                          "where the collector streams joined interactions");
  c.timeout_ms = section.get_int("timeout_ms", c.timeout_ms, 100, 3'600'000,
                                 "longest wait for the collector, in milliseconds");
  c.curve_points = section.get_int("curve_points", c.curve_points, 1, 10'000,
                                   "learning-curve points reported per policy");
  if (c.policies.empty()) throw ConfigError(section.where("policies") + ": no policy to run");
  return c;
}

PolicyRun run_policy(std::unique_ptr<Policy> policy, Simulator& world, const RunConfig& config,
                     const std::string& run_tag, FeedbackClient& client,
                     InteractionStream& stream, const Progress& progress) {
  PolicyRun run;
  run.policy = std::string(policy->name());
  // Common random numbers: every policy sees the same request stream and the
  // same click noise (one engine output per click), so differences between
  // policies are not sampling noise of the world.
  Rng context_rng(stream_seed(config.seed, 1));
  Rng reward_rng(stream_seed(config.seed, 2));
  const auto steps = static_cast<std::uint64_t>(config.steps);
  const auto curve_every = std::max<std::uint64_t>(1, steps / static_cast<std::uint64_t>(config.curve_points));
  const std::string prefix = run_tag + ":" + run.policy + ":";
  double window_value = 0.0;
  std::uint64_t window_n = 0;

  std::map<std::uint64_t, Interaction> pending;
  for (std::uint64_t start = 0; start < steps; start += static_cast<std::uint64_t>(config.batch)) {
    const std::uint64_t end = std::min(steps, start + static_cast<std::uint64_t>(config.batch));
    for (std::uint64_t step = start; step < end; ++step) {
      LoggedDecision logged;
      logged.context = world.next_context(context_rng);
      logged.decision = policy->choose(logged.context, prefix + std::to_string(step), config.seed);
      logged.truth.resize(logged.context.size());
      double value = 0.0, best = 0.0;
      for (ActionId a = 0; a < logged.context.size(); ++a) {
        logged.truth[a] = world.expected_reward(logged.context, a);
        value += logged.decision.pmf[a] * logged.truth[a];
        best = std::max(best, logged.truth[a]);
      }
      const double reward = world.draw_reward(logged.context, logged.decision.action, reward_rng);
      logged.timestamp_us = now_us();
      client.send(logged);
      client.send(Reward{logged.decision.event_id, reward, logged.timestamp_us});
      ++run.events;
      run.clicks += reward;
      run.value_sum += value;
      run.oracle_sum += best;
      window_value += value;
      ++window_n;
      if ((step + 1) % curve_every == 0 || step + 1 == steps) {
        run.curve.push_back({step + 1, run.regret(), window_value / static_cast<double>(window_n)});
        window_value = 0.0;
        window_n = 0;
      }
    }
    if (!client.flush(static_cast<int>(config.timeout_ms))) {
      throw Error("simulate: the collector at " + config.endpoint + " did not acknowledge " +
                  std::to_string(client.unacknowledged()) + " events within " +
                  std::to_string(config.timeout_ms) + " ms");
    }
    // Updates are applied in request order, whatever order the collector's
    // batches produced them in, so the run does not depend on timing.
    const auto expected = end - start;
    while (pending.size() < expected) {
      auto interaction = stream.receive(static_cast<int>(config.timeout_ms));
      if (!interaction) {
        throw Error("simulate: no joined interaction from " + config.learner_endpoint +
                    " within " + std::to_string(config.timeout_ms) + " ms (" +
                    std::to_string(pending.size()) + " of " + std::to_string(expected) + ")");
      }
      if (interaction->event_id.rfind(prefix, 0) != 0) continue;  // another run's event
      const auto step = step_of(interaction->event_id);
      if (step < start || step >= end) continue;
      pending.emplace(step, std::move(*interaction));
    }
    for (auto& [step, interaction] : pending) policy->update(interaction);
    pending.clear();
    if (progress) progress(run.policy, static_cast<std::int64_t>(end), config.steps);
  }
  run.final_policy = std::move(policy);
  return run;
}

}  // namespace recloop
