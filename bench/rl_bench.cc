// SPDX-License-Identifier: Apache-2.0
// Training throughput and decision latency of the reinforcement-learning
// policies (policies/rl/) at the size of scenarios/streaming_fatigue.ini: its
// [simulator] section is read from the file and the session world built from
// it, which gives U = 17 state features (6 observed user features, 8
// fatigues, step, clicks, skips) and A = 16 item features (log popularity, 6
// item-vector rows, 8 category rows, clickbait), K = 10 candidates; phi has
// d = 1 + U + A + U A = 306 entries. The log: 4000 sessions of that world
// under a uniform logger (probability 1/10), cut at 30 steps, about 40,000
// transitions, built once outside the timed region.
//
// train/...  one pass of each trainer's inner loop over the whole log per
// iteration; items_per_second = transitions per second, GFLOPs = the
// counts below times that rate:
//   lstdq      one LSTD-Q solve for the greedy policy of a trained Q (LSPI's
//              iteration): per transition, the next state's K values
//              2 (U A + K A) = 864, its pmf-mean item 2 K A = 320, writing two
//              phi 2 d = 612, and the block product's share 2 d^2 = 187,272:
//              ~1.9e5 FLOP; per solve the LU 2/3 d^3 = 1.9e7 (amortised).
//   slateq     one fitted-Q sweep (Q-learning, slates of 1, given choice
//              model): per transition two scorers on s' 4 (U A + K A) = 1,728,
//              K sigmoids and products ~40, phi and the moment 3 d = 918:
//              ~2.7e3 FLOP; per sweep the Cholesky solve 2 d^2 = 1.9e5.
//              The Gram matrix (d^2 per transition, once per training) is not
//              in the sweep.
//   reinforce  one epoch of the policy (propensities logged): per step the
//              pmf 2 (U A + K A) + K exp = ~900, the gradient 2 K A + 2 U A =
//              864, Adam ~10 (U A + A) = 2,880: ~4.6e3 FLOP.
//   behaviour  one epoch of the behaviour head (BCQ's model, and REINFORCE's
//              when propensities are missing), batches of 32: ~1.7e3 FLOP per
//              step plus Adam's 2,880 per batch.
// decide/... choose() (pmf + sampling) on the logged requests, one per
// iteration, with the median and 99th percentile (counters median_us, p99_us):
//   lspi       the K values 2 (U A + K A) + K = ~880 FLOP;
//   bcq        those plus the behaviour logits, ~1,760 FLOP and K logs;
//   slateq     two scorers and K sigmoids, ~1,800 FLOP;
//   reinforce  ~880 FLOP and K exponentials.
// At ~1e9 FLOP/s per core a decision's arithmetic is ~1-2 µs; what is left
// of the measured latency is allocation and the sampler.
//
//   cmake -S . -B build -DRECLOOP_BENCH=ON && cmake --build build --target rl_bench
//   build/bench/rl_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/rng.h"
#include "core/sampling.h"
#include "core/trajectory.h"
#include "policies/rl/bcq.h"
#include "policies/rl/lstdq.h"
#include "policies/rl/reinforce.h"
#include "policies/rl/slateq.h"
#include "simulator/registry.h"
#include "simulator/session_simulator.h"

namespace recloop {
namespace {

constexpr std::size_t kSessions = 4000;
constexpr std::size_t kMaxSteps = 30;

// The [simulator] section of the scenario file (key = value lines; ';' comments).
ConfigSection simulator_section(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("rl_bench: cannot read " + path);
  ConfigSection section("simulator", path);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == ';' || line[first] == '#') continue;
    if (line[first] == '[') {
      inside = line.compare(first, 11, "[simulator]") == 0;
      continue;
    }
    const auto eq = line.find('=');
    if (!inside || eq == std::string::npos) continue;
    const auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    section.set(trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return section;
}

struct Workload {
  std::vector<Trajectory> log;
  std::vector<Context> requests;  // every logged request, for the decisions
  std::size_t transitions = 0;
  int user_dim = 0;
  int action_dim = 0;
};

const Workload& workload() {
  static const Workload built = [] {
    ConfigSection section =
        simulator_section(std::string(RECLOOP_SOURCE_DIR) + "/scenarios/streaming_fatigue.ini");
    auto world = make_session_simulator(section);
    Workload w;
    Rng rng(5);
    for (std::uint64_t s = 0; s < kSessions; ++s) {
      Trajectory t;
      t.session = std::to_string(s);
      Context context = world->begin(s);
      t.terminated = false;
      while (t.steps.size() < kMaxSteps) {
        TrajectoryStep step;
        step.action = static_cast<ActionId>(uniform_index(rng, context.size()));
        step.probability = 1.0 / static_cast<double>(context.size());
        step.context = context;
        Transition next = world->step(context, step.action, rng);
        step.reward = next.reward;
        w.requests.push_back(step.context);
        t.steps.push_back(std::move(step));
        if (next.done) {
          t.terminated = true;
          break;
        }
        context = std::move(next.next);
      }
      w.log.push_back(std::move(t));
    }
    w.transitions = transition_count(w.log);
    w.user_dim = static_cast<int>(w.requests.front().user.size());
    w.action_dim = static_cast<int>(w.requests.front().actions.rows());
    return w;
  }();
  return built;
}

void set_rate(benchmark::State& state, std::size_t transitions, double flop_per_transition) {
  const auto items = static_cast<double>(state.iterations()) * static_cast<double>(transitions);
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
  state.counters["GFLOPs"] =
      benchmark::Counter(items * flop_per_transition * 1e-9, benchmark::Counter::kIsRate);
  state.counters["transitions"] = static_cast<double>(transitions);
  state.counters["d"] = static_cast<double>(1 + workload().user_dim + workload().action_dim +
                                            workload().user_dim * workload().action_dim);
}

// A trained policy of each kind, shared by the decision benchmarks.
std::unique_ptr<LinearQPolicy> trained_lspi() {
  LspiOptions options;
  options.lstdq.ridge = 1.0;
  options.max_iterations = 3;
  return train_lspi(workload().log, options).policy;
}

void BM_train_lstdq(benchmark::State& state) {
  const auto& w = workload();
  const auto policy = trained_lspi();
  const LstdqOptions options{0.9, 1.0};
  for (auto _ : state) {
    auto theta = lstdq(
        w.log, [&policy](const Context& c) { return policy->greedy(c); }, options);
    benchmark::DoNotOptimize(theta.data());
  }
  set_rate(state, w.transitions, 1.9e5);
}

void BM_train_slateq(benchmark::State& state) {
  const auto& w = workload();
  const SlateChoiceModel choice = fit_choice_model(w.log, {});
  SlateQOptions options;
  options.iterations = 1;
  for (auto _ : state) {
    auto policy = train_slateq(w.log, options, &choice);
    benchmark::DoNotOptimize(policy.get());
  }
  // The timed call also builds and factors the Gram matrix once (d^2 per
  // transition, 2/3 d^3): counted in the FLOP figure as 2.7e3 + 9.4e4.
  set_rate(state, w.transitions, 2.7e3 + 9.4e4);
}

void BM_train_reinforce(benchmark::State& state) {
  const auto& w = workload();
  ReinforceOptions options;
  options.epochs = 1;
  options.top_k = 2;
  for (auto _ : state) {
    TopKReinforceTrainer trainer(w.user_dim, w.action_dim, options);
    trainer.train(w.log);
    benchmark::DoNotOptimize(trainer.policy_model().parameters().data());
  }
  set_rate(state, w.transitions, 4.6e3);
}

void BM_train_behaviour(benchmark::State& state) {
  const auto& w = workload();
  BehaviourOptions options;
  options.epochs = 1;
  for (auto _ : state) {
    auto model = fit_behaviour(w.log, w.user_dim, w.action_dim, options);
    benchmark::DoNotOptimize(model.parameters().data());
  }
  set_rate(state, w.transitions, 1.7e3 + 2880.0 / 32.0);
}

void decide(benchmark::State& state, const Policy& policy) {
  const auto& w = workload();
  std::vector<double> samples;
  std::size_t i = 0;
  for (auto _ : state) {
    const Context& context = w.requests[i % w.requests.size()];
    const auto start = std::chrono::steady_clock::now();
    auto decision = policy.choose(context, "bench", i++);
    const auto stop = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(decision.action);
    samples.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    return samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * samples.size()))];
  };
  state.counters["median_us"] = at(0.5);
  state.counters["p99_us"] = at(0.99);
}

void BM_decide_lspi(benchmark::State& state) {
  static const auto policy = trained_lspi();
  decide(state, *policy);
}

void BM_decide_bcq(benchmark::State& state) {
  static const auto policy = [] {
    BcqOptions options;
    options.lspi.lstdq.ridge = 1.0;
    options.lspi.max_iterations = 3;
    options.behaviour.epochs = 2;
    return train_bcq(workload().log, options).policy;
  }();
  decide(state, *policy);
}

void BM_decide_slateq(benchmark::State& state) {
  static const auto policy = [] {
    SlateQOptions options;
    options.iterations = 5;
    options.choice.epochs = 2;
    return train_slateq(workload().log, options);
  }();
  decide(state, *policy);
}

void BM_decide_reinforce(benchmark::State& state) {
  static const auto policy = [] {
    ReinforceOptions options;
    options.epochs = 2;
    return train_reinforce_topk(workload().log, options);
  }();
  decide(state, *policy);
}

BENCHMARK(BM_train_lstdq)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_train_slateq)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_train_reinforce)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_train_behaviour)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_decide_lspi);
BENCHMARK(BM_decide_bcq);
BENCHMARK(BM_decide_slateq);
BENCHMARK(BM_decide_reinforce);

}  // namespace
}  // namespace recloop

BENCHMARK_MAIN();
