// SPDX-License-Identifier: Apache-2.0
#include "simulator/session_value.h"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "core/rng.h"
#include "core/sampling.h"

namespace recloop {
namespace {

// Phi^-1(0.975): the 95% two-sided normal interval.
constexpr double kNormal975 = 1.959963984540054;

}  // namespace

SessionPolicy deterministic_policy(std::string name,
                                   std::function<ActionId(const Context&)> choose) {
  return {std::move(name),
          [choose = std::move(choose)](const Context& context, std::uint64_t) {
            return choose(context);
          }};
}

SessionPolicy stochastic_policy(std::string name,
                                std::function<std::vector<double>(const Context&)> pmf) {
  return {std::move(name), [pmf = std::move(pmf)](const Context& context, std::uint64_t seed) {
            const auto p = pmf(context);
            return static_cast<ActionId>(sample_index(p, seed));
          }};
}

SessionRecord run_session(SessionSimulator& world, std::uint64_t session,
                          const SessionPolicy& policy, std::uint64_t decision_seed,
                          std::vector<SessionStep>* trajectory) {
  Rng unused(0);  // the session's randomness comes from its own streams (session_simulator.h)
  const std::uint64_t decisions = stream_seed(decision_seed, session);
  SessionRecord record;
  record.session = session;
  Context context = world.begin(session);
  for (std::uint64_t t = 0;; ++t) {
    const ActionId action = policy.decide(context, stream_seed(decisions, t));
    if (action >= context.size()) {
      throw std::invalid_argument("session policy '" + policy.name + "' chose candidate " +
                                  std::to_string(action) + " of " +
                                  std::to_string(context.size()) + " (session " +
                                  std::to_string(session) + ", step " + std::to_string(t) + ")");
    }
    const double expected = world.expected_reward(context, action);
    Transition transition = world.step(context, action, unused);
    if (t == 0) record.first_expected_reward = expected;
    record.value += transition.reward;
    record.expected_value += expected;
    if (trajectory != nullptr) {
      trajectory->push_back({std::move(context), action, transition.reward, expected,
                             transition.done});
    }
    if (transition.done) break;
    context = std::move(transition.next);
  }
  const SessionOutcome outcome = world.outcome();
  record.steps = outcome.steps;
  record.return_days = outcome.return_days;
  record.expected_return_days = outcome.expected_return_days;
  return record;
}

ValueSummary summarize(std::span<const double> values) {
  if (values.size() < 2) {
    throw std::invalid_argument("summarize: need at least two values, got " +
                                std::to_string(values.size()));
  }
  const auto n = static_cast<double>(values.size());
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= n;
  double squares = 0.0;
  for (double v : values) squares += (v - mean) * (v - mean);
  ValueSummary s;
  s.n = values.size();
  s.mean = mean;
  s.std_error = std::sqrt(squares / (n - 1.0) / n);
  s.lower = mean - kNormal975 * s.std_error;
  s.upper = mean + kNormal975 * s.std_error;
  return s;
}

ValueSummary paired_difference(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size()) {
    throw std::invalid_argument("paired_difference: " + std::to_string(a.size()) + " and " +
                                std::to_string(b.size()) + " values");
  }
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return summarize(d);
}

SessionComparison compare_policies(SessionSimulator& world,
                                   std::span<const SessionPolicy> policies,
                                   std::uint64_t first_session, std::size_t sessions,
                                   std::uint64_t decision_seed) {
  if (sessions < 2 || policies.empty()) {
    throw std::invalid_argument("compare_policies: need at least one policy and two sessions");
  }
  SessionComparison out;
  std::vector<std::vector<double>> values, expected;
  for (const auto& policy : policies) {
    out.names.push_back(policy.name);
    auto& records = out.records.emplace_back();
    auto& v = values.emplace_back();
    auto& e = expected.emplace_back();
    records.reserve(sessions);
    for (std::size_t i = 0; i < sessions; ++i) {
      records.push_back(run_session(world, first_session + i, policy, decision_seed));
      v.push_back(records.back().value);
      e.push_back(records.back().expected_value);
    }
    out.value.push_back(summarize(v));
    out.expected_value.push_back(summarize(e));
  }
  for (std::size_t p = 0; p < policies.size(); ++p) {
    for (std::size_t q = p + 1; q < policies.size(); ++q) {
      out.differences.push_back({p, q, paired_difference(values[p], values[q]),
                                 paired_difference(expected[p], expected[q])});
    }
  }
  return out;
}

}  // namespace recloop
