// SPDX-License-Identifier: Apache-2.0
#include "feedback/closed_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "policies/ranker_registry.h"
#include "simulator/slate_simulator.h"

namespace recloop {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// (step, slot) of an event id "<prefix><step>" (slot 0) or "<prefix><step>/<slot>",
// where the prefix ends with ':'.
std::pair<std::uint64_t, std::uint64_t> position_of(const EventId& event_id) {
  const auto colon = event_id.rfind(':');
  const auto slash = event_id.find('/', colon);
  const std::uint64_t step = std::stoull(event_id.substr(colon + 1, slash - colon - 1));
  return {step, slash == EventId::npos ? 0 : std::stoull(event_id.substr(slash + 1))};
}

// The slate world of a ranking run: `world` as a SlateSimulator able to show
// `slots` items. Throws ConfigError otherwise.
SlateSimulator& slate_world(Simulator& world, std::size_t slots) {
  auto* slates = dynamic_cast<SlateSimulator*>(&world);
  if (slates == nullptr) {
    throw ConfigError("simulate: [run] slots = " + std::to_string(slots) + " needs a world that "
                      "shows slates (world = population); world '" + std::string(world.name()) +
                      "' shows one item per request");
  }
  if (slots > slates->max_slots()) {
    throw ConfigError("simulate: [run] slots = " + std::to_string(slots) + " exceeds the " +
                      std::to_string(slates->max_slots()) + " slots world '" +
                      std::string(world.name()) + "' can show");
  }
  return *slates;
}

// The best slate's exact reward: the `slots` candidates with the highest
// single-slot expected reward, best first. By the rearrangement inequality
// this maximises sum_k w_k r_(k) over slates whenever the value is linear in
// the marginals with non-increasing slot weights w_k (pbm, multi_click).
double best_slate_reward(const SlateSimulator& world, const Context& context, std::size_t slots,
                         std::vector<double>& rewards, std::vector<ActionId>& order) {
  rewards.resize(context.size());
  order.resize(context.size());
  for (ActionId a = 0; a < context.size(); ++a) {
    rewards[a] = world.expected_reward(context, a);
    order[a] = a;
  }
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(slots), order.end(),
                    [&](ActionId x, ActionId y) { return rewards[x] > rewards[y]; });
  return world.expected_slate_reward(context, std::span<const ActionId>(order.data(), slots));
}

// Delay, in requests, of request `step`'s reward (see the header). Geometric
// by inversion: with U uniform on [0, 1), floor(log(1 - U) / log(1 - p)) has
// P(d >= k) = (1 - p)^k, mean (1 - p) / p = M for p = 1 / (M + 1).
std::uint64_t reward_delay_of(const RunConfig& config, std::uint64_t step) {
  if (config.reward_delay_dist == "fixed") return static_cast<std::uint64_t>(config.reward_delay);
  const double u = uniform01(stream_seed(stream_seed(config.seed, 3), step));
  const double p = 1.0 / (config.reward_delay + 1.0);
  return static_cast<std::uint64_t>(std::floor(std::log1p(-u) / std::log1p(-p)));
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
  c.slots = section.get_int("slots", c.slots, 1, static_cast<long long>(SlateSimulator::kMaxSlots),
                            "items shown per request: 1 = one decision, > 1 = a ranking "
                            "(needs world = population)");
  c.ranker = section.get_choice("ranker", c.ranker, ranker_names(),
                                "how a policy's pmf becomes a ranking when slots > 1 "
                                "(keys in [ranker])");
  c.reward_delay = section.get_double("reward_delay", c.reward_delay, 0.0, 1'000'000.0,
                                      "mean delay of a request's reward, in requests (0 = sent "
                                      "with its decision)");
  c.reward_delay_dist = section.get_choice("reward_delay_dist", c.reward_delay_dist,
                                           {"fixed", "geometric"},
                                           "distribution of reward delays: fixed (reward_delay "
                                           "whole) or geometric with mean reward_delay");
  if (c.reward_delay_dist == "fixed" && c.reward_delay != std::floor(c.reward_delay)) {
    throw ConfigError(section.where("reward_delay") +
                      ": a fixed delay is a whole number of requests");
  }
  if (c.policies.empty()) throw ConfigError(section.where("policies") + ": no policy to run");
  return c;
}

PolicyRun run_policy(std::unique_ptr<Policy> policy, Simulator& world, const RunConfig& config,
                     const std::string& run_tag, FeedbackClient& client,
                     InteractionStream& stream, const Progress& progress,
                     const RankerFactory& ranker_factory) {
  PolicyRun run;
  run.policy = std::string(policy->name());
  const auto slots = static_cast<std::size_t>(config.slots);
  run.slots = slots;
  // Rankings: the ranker reads the policy it does not own, which outlives it.
  SlateSimulator* slates = nullptr;
  std::unique_ptr<Ranker> ranker;
  if (slots > 1) {
    slates = &slate_world(world, slots);
    const std::shared_ptr<const Policy> base(std::shared_ptr<void>(), policy.get());
    if (ranker_factory) {
      ranker = ranker_factory(base);
    } else {
      ConfigSection defaults("ranker");
      ranker = make_ranker(config.ranker, defaults, base);
    }
  }
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
  std::vector<double> slot_rewards(slots);
  std::vector<double> single_rewards;
  std::vector<ActionId> order;

  // Rewards sent since the last update, as positions step * slots + slot in
  // the order they were sent, and their joined interactions by position.
  std::vector<std::uint64_t> sent;
  std::map<std::uint64_t, Interaction> pending;
  // Held rewards by the request at which they are due, in the order drawn.
  struct Held { std::uint64_t position; Reward reward; };
  std::multimap<std::uint64_t, Held> held;
  const bool delayed = config.reward_delay > 0.0;
  const auto send_reward = [&](std::uint64_t position, const Reward& reward) {
    client.send(reward);
    sent.push_back(position);
  };
  const auto send_due = [&](std::uint64_t now) {
    while (!held.empty() && held.begin()->first <= now) {
      Held& h = held.begin()->second;
      h.reward.timestamp_us = now_us();
      send_reward(h.position, h.reward);
      held.erase(held.begin());
    }
  };
  // Waits until every reward sent since the last update is acknowledged and
  // joined, then learns from them in the order they were sent (for rewards
  // without delay: request order, and slot order within a request), whatever
  // order the collector's batches produced them in, so the run does not
  // depend on timing.
  const auto learn = [&] {
    if (!client.flush(static_cast<int>(config.timeout_ms))) {
      throw Error("simulate: the collector at " + config.endpoint + " did not acknowledge " +
                  std::to_string(client.unacknowledged()) + " events within " +
                  std::to_string(config.timeout_ms) + " ms");
    }
    const std::set<std::uint64_t> expected(sent.begin(), sent.end());
    while (pending.size() < expected.size()) {
      auto interaction = stream.receive(static_cast<int>(config.timeout_ms));
      if (!interaction) {
        throw Error("simulate: no joined interaction from " + config.learner_endpoint +
                    " within " + std::to_string(config.timeout_ms) + " ms (" +
                    std::to_string(pending.size()) + " of " + std::to_string(expected.size()) + ")");
      }
      if (interaction->event_id.rfind(prefix, 0) != 0) continue;  // another run's event
      const auto [step, slot] = position_of(interaction->event_id);
      if (slot >= slots || expected.count(step * slots + slot) == 0) continue;
      pending.emplace(step * slots + slot, std::move(*interaction));
    }
    for (const auto position : sent) policy->update(pending.at(position));
    pending.clear();
    sent.clear();
  };
  for (std::uint64_t start = 0; start < steps; start += static_cast<std::uint64_t>(config.batch)) {
    const std::uint64_t end = std::min(steps, start + static_cast<std::uint64_t>(config.batch));
    for (std::uint64_t step = start; step < end; ++step) {
      send_due(step);
      const std::uint64_t delay = delayed ? reward_delay_of(config, step) : 0;
      run.delay_sum += static_cast<double>(delay);
      LoggedDecision logged;
      logged.context = world.next_context(context_rng);
      const EventId event_id = prefix + std::to_string(step);
      double value = 0.0, best = 0.0;
      if (slots == 1) {
        logged.decision = policy->choose(logged.context, event_id, config.seed);
        logged.truth.resize(logged.context.size());
        for (ActionId a = 0; a < logged.context.size(); ++a) {
          logged.truth[a] = world.expected_reward(logged.context, a);
          value += logged.decision.pmf[a] * logged.truth[a];
          best = std::max(best, logged.truth[a]);
        }
        const double reward = world.draw_reward(logged.context, logged.decision.action, reward_rng);
        logged.timestamp_us = now_us();
        client.send(logged);
        const Reward drawn{logged.decision.event_id, reward, logged.timestamp_us};
        if (delay == 0) {
          send_reward(step, drawn);
        } else {
          held.emplace(step + delay, Held{step, drawn});
        }
        run.clicks += reward;
      } else {
        if (logged.context.size() < slots) {
          throw ConfigError("simulate: [run] slots = " + std::to_string(slots) + " but request " +
                            std::to_string(step) + " offers only " +
                            std::to_string(logged.context.size()) + " candidates");
        }
        const Ranking ranking = ranker->rank(logged.context, slots, event_id, config.seed);
        slates->draw_slate_rewards(logged.context, ranking.actions, reward_rng, slot_rewards);
        // Value: exact from the marginals when the choice model allows it,
        // else the drawn slate's exact expected reward (unbiased for the value).
        if (const auto exact = slates->value_from_marginals(logged.context, ranking.slot_pmfs)) {
          value = *exact;
          best = best_slate_reward(*slates, logged.context, slots, single_rewards, order);
        } else {
          value = slates->expected_slate_reward(logged.context, ranking.actions);
          run.value_exact = false;
          run.has_oracle = false;
        }
        // Per-slot truth depends on the rest of the slate, so none is logged.
        logged.timestamp_us = now_us();
        for (std::size_t k = 0; k < slots; ++k) {
          logged.decision = slot_decision(ranking, k);
          client.send(logged);
          const Reward drawn{logged.decision.event_id, slot_rewards[k], logged.timestamp_us};
          if (delay == 0) {
            send_reward(step * slots + k, drawn);
          } else {
            held.emplace(step + delay, Held{step * slots + k, drawn});
          }
          run.clicks += slot_rewards[k];
        }
      }
      run.max_outstanding = std::max<std::uint64_t>(run.max_outstanding, held.size());
      ++run.events;
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
    learn();
    if (progress) progress(run.policy, static_cast<std::int64_t>(end), config.steps);
  }
  // Rewards still held after the last request: sent now, nothing is lost.
  if (!held.empty()) {
    send_due(held.rbegin()->first);
    learn();
  }
  ranker.reset();
  run.final_policy = std::move(policy);
  return run;
}

}  // namespace recloop
