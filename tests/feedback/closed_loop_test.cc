// SPDX-License-Identifier: Apache-2.0
// The closed loop with rankings and with delayed rewards: run_policy() on a
// simulated world, through a real collector on its own thread, read back from
// the SQLite log it wrote.
#include "feedback/closed_loop.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "core/error.h"
#include "feedback/client.h"
#include "feedback/collector.h"
#include "logging/event_log.h"
#include "logging/slate_log.h"
#include "policies/popularity_policy.h"
#include "policies/registry.h"
#include "policies/uniform_random.h"
#include "simulator/linear_click_world.h"
#include "simulator/population_world.h"
#include "tests/logging/fixtures.h"

using namespace recloop;
using Catch::Matchers::Contains;
using recloop::testing::TempDir;

namespace {

// A Collector serving on its own thread until destruction.
class RunningCollector {
 public:
  RunningCollector(zmq::context_t& zmq, CollectorOptions options)
      : collector_(zmq, std::move(options)), thread_([this] {
          try {
            collector_.run(stop_);
          } catch (...) {
            error_ = std::current_exception();
          }
        }) {}
  ~RunningCollector() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  Collector collector_;
  std::exception_ptr error_;
  std::thread thread_;
};

PopulationWorld::Config small_world(ChoiceModelKind kind) {
  PopulationWorld::Config config;
  config.n_items = 50;
  config.candidates = 8;
  config.n_users = 200;
  config.choice.kind = kind;
  return config;
}

RunConfig ranking_run(std::int64_t steps, std::int64_t slots) {
  RunConfig run;
  run.steps = steps;
  run.batch = 20;
  run.slots = slots;
  run.endpoint = "inproc://closed-loop-test";
  run.learner_endpoint = "inproc://closed-loop-test-learner";
  run.timeout_ms = 10000;
  return run;
}

RunConfig delayed_run(std::int64_t steps, double delay, const std::string& dist = "fixed") {
  RunConfig run = ranking_run(steps, 1);
  run.reward_delay = delay;
  run.reward_delay_dist = dist;
  return run;
}

// Runs `policy` on `world` through a collector writing `log_path`.
PolicyRun run_logged(std::unique_ptr<Policy> policy, Simulator& world, const RunConfig& run,
                     const std::string& log_path, const Progress& progress = {}) {
  zmq::context_t zmq;
  RunningCollector collector(zmq, CollectorOptions{.endpoint = run.endpoint,
                                                   .learner_endpoint = run.learner_endpoint,
                                                   .log_path = log_path});
  FeedbackClient client(zmq, run.endpoint);
  InteractionStream stream(zmq, run.learner_endpoint);
  return run_policy(std::move(policy), world, run, "test", client, stream, progress);
}

// The model version (updates learnt, for a PopularityPolicy) after every batch.
std::vector<std::uint64_t> versions_per_batch(const RunConfig& run, const std::string& log_path) {
  PopulationWorld world(small_world(ChoiceModelKind::kPositionBased));
  auto policy = std::make_unique<PopularityPolicy>();
  const Policy* model = policy.get();
  std::vector<std::uint64_t> versions;
  const auto result = run_logged(std::move(policy), world, run, log_path,
                                 [&](const std::string&, std::int64_t, std::int64_t) {
                                   versions.push_back(model->model_version());
                                 });
  versions.push_back(result.final_policy->model_version());
  return versions;
}

}  // namespace

TEST_CASE("a ranking run logs every slot with its marginal and conditional", "[feedback][integration]") {
  // Plackett-Luce over the uniform pmf is a uniformly random ranking of the
  // K = 8 candidates: every slot's marginal is 1/K and slot k's conditional
  // is 1/(K - k), whatever was placed above.
  TempDir dir;
  const auto path = dir.file("rankings.db");
  PopulationWorld world(small_world(ChoiceModelKind::kPositionBased));
  const auto run = run_logged(std::make_unique<UniformRandom>(), world, ranking_run(60, 3), path);
  REQUIRE(run.events == 60);
  REQUIRE(run.slots == 3);
  SlateLogSummary summary;
  const auto slates = read_slates(path, "", &summary);
  REQUIRE(slates.size() == 60);
  REQUIRE(summary.incomplete == 0);
  REQUIRE(summary.other_decisions == 0);
  double clicks = 0.0;
  for (const auto& slate : slates) {
    REQUIRE(slate.policy == "plackett_luce:uniform");
    REQUIRE(slate.event_id.rfind("test:uniform:", 0) == 0);
    REQUIRE(slate.slots.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) {
      REQUIRE(slate.slots[k].marginal == Approx(1.0 / 8.0).margin(1e-12));
      REQUIRE(slate.slots[k].conditional == Approx(1.0 / (8.0 - static_cast<double>(k))).margin(1e-12));
      clicks += slate.slots[k].reward;
    }
  }
  REQUIRE(clicks == run.clicks);
}

TEST_CASE("a ranking run on a choice model linear in the marginals reports the exact value and regret",
          "[feedback][integration]") {
  TempDir dir;
  PopulationWorld world(small_world(ChoiceModelKind::kPositionBased));
  const auto run = run_logged(std::make_unique<UniformRandom>(), world, ranking_run(60, 3),
                              dir.file("pbm.db"));
  REQUIRE(run.value_exact);
  REQUIRE(run.has_oracle);
  // pbm shows at most one click per request: values are probabilities.
  REQUIRE(run.value() > 0.0);
  REQUIRE(run.value() <= 1.0);
  // The best slate beats a random one on every request, so the cumulative
  // regret never decreases along the curve and ends positive.
  double last = 0.0;
  for (const auto& point : run.curve) {
    REQUIRE(point.cumulative_regret >= last - 1e-12);
    last = point.cumulative_regret;
  }
  REQUIRE(run.regret() > 0.0);
}

TEST_CASE("a ranking run on a cascade world reports the drawn slates' value and no regret",
          "[feedback][integration]") {
  TempDir dir;
  PopulationWorld world(small_world(ChoiceModelKind::kCascade));
  const auto run = run_logged(std::make_unique<UniformRandom>(), world, ranking_run(40, 3),
                              dir.file("cascade.db"));
  REQUIRE_FALSE(run.value_exact);
  REQUIRE_FALSE(run.has_oracle);
  REQUIRE(run.value() > 0.0);
  REQUIRE(run.value() <= 1.0);
  REQUIRE(run.oracle_sum == 0.0);
}

TEST_CASE("a ranking policy learns from every slot of every request", "[feedback][integration]") {
  // The popularity policy counts its updates as its model version.
  TempDir dir;
  PopulationWorld world(small_world(ChoiceModelKind::kMultiClick));
  const auto run = run_logged(std::make_unique<PopularityPolicy>(), world, ranking_run(50, 4),
                              dir.file("updates.db"));
  REQUIRE(run.final_policy->model_version() == 50 * 4);
  REQUIRE(run.value_exact);
  // Independent clicks on 4 slots: between 0 and 4 per request.
  REQUIRE(run.value() > 0.0);
  REQUIRE(run.value() <= 4.0);
}

TEST_CASE("one slot on a slate world is the single decision of Policy::choose", "[feedback][integration]") {
  TempDir dir;
  const auto path = dir.file("single.db");
  PopulationWorld world(small_world(ChoiceModelKind::kPositionBased));
  const auto run = run_logged(std::make_unique<UniformRandom>(), world, ranking_run(30, 1), path);
  REQUIRE(run.slots == 1);
  REQUIRE(run.value_exact);
  EventLog log(path);
  REQUIRE(log.has_event("test:uniform:0"));
  REQUIRE_FALSE(log.has_event("test:uniform:0/0"));
  REQUIRE(log.interaction_count() == 30);
}

TEST_CASE("more than one slot on a world that shows one item is a configuration error",
          "[feedback][integration]") {
  zmq::context_t zmq;
  const RunConfig run = ranking_run(10, 2);
  FeedbackClient client(zmq, run.endpoint);
  InteractionStream stream(zmq, run.learner_endpoint);
  LinearClickWorld world(LinearClickWorld::Config{});
  REQUIRE_THROWS_AS(
      run_policy(std::make_unique<UniformRandom>(), world, run, "test", client, stream, {}),
      ConfigError);
  REQUIRE_THROWS_WITH(
      run_policy(std::make_unique<UniformRandom>(), world, run, "test", client, stream, {}),
      Contains("slots = 2") && Contains("linear_click"));
}

TEST_CASE("a ranking longer than the world can show is a configuration error",
          "[feedback][integration]") {
  zmq::context_t zmq;
  const RunConfig run = ranking_run(10, 9);
  FeedbackClient client(zmq, run.endpoint);
  InteractionStream stream(zmq, run.learner_endpoint);
  PopulationWorld world(small_world(ChoiceModelKind::kPositionBased));
  REQUIRE_THROWS_WITH(
      run_policy(std::make_unique<UniformRandom>(), world, run, "test", client, stream, {}),
      Contains("slots = 9") && Contains("population"));
}

TEST_CASE("without a reward delay every batch learns from all of its requests", "[feedback][integration]") {
  TempDir dir;
  const RunConfig run = delayed_run(100, 0.0);
  const auto versions = versions_per_batch(run, dir.file("none.db"));
  REQUIRE(versions == std::vector<std::uint64_t>{20, 40, 60, 80, 100, 100});
}

TEST_CASE("with a fixed reward delay D the policy has learnt t - D interactions after t requests",
          "[feedback][integration]") {
  // Request s's reward is sent just before request s + D is decided, so after
  // t requests the rewards of requests 0 .. t - D - 1 have been learnt; the
  // last D rewards are learnt after the last request.
  TempDir dir;
  const std::uint64_t delay = 50;
  RunConfig run = delayed_run(200, static_cast<double>(delay));
  const auto versions = versions_per_batch(run, dir.file("fixed.db"));
  REQUIRE(versions.size() == 200 / 20 + 1);
  for (std::size_t b = 0; b + 1 < versions.size(); ++b) {
    const std::uint64_t t = (b + 1) * 20;
    INFO("after " << t << " requests");
    REQUIRE(versions[b] == (t > delay ? t - delay : 0));
  }
  REQUIRE(versions.back() == 200);
}

TEST_CASE("a fixed reward delay reports its mean and D rewards outstanding", "[feedback][integration]") {
  TempDir dir;
  PopulationWorld world(small_world(ChoiceModelKind::kPositionBased));
  const auto run = run_logged(std::make_unique<UniformRandom>(), world, delayed_run(120, 30.0),
                              dir.file("report.db"));
  REQUIRE(run.mean_delay() == 30.0);
  REQUIRE(run.max_outstanding == 30);
}

TEST_CASE("every delayed reward reaches the log exactly once", "[feedback][integration]") {
  TempDir dir;
  for (const std::string dist : {"fixed", "geometric"}) {
    for (const std::int64_t slots : {1, 3}) {
      INFO(dist << " delays, " << slots << " slots");
      const auto path = dir.file(dist + std::to_string(slots) + ".db");
      RunConfig config = delayed_run(150, 40.0, dist);
      config.slots = slots;
      PopulationWorld world(small_world(ChoiceModelKind::kMultiClick));
      const auto run = run_logged(std::make_unique<PopularityPolicy>(), world, config, path);
      const auto rows = static_cast<std::size_t>(150 * slots);
      EventLog log(path);
      REQUIRE(log.decision_count() == rows);
      REQUIRE(log.reward_count() == rows);
      REQUIRE(log.interaction_count() == rows);
      REQUIRE(log.unrewarded_count() == 0);
      double clicks = 0.0;
      log.for_each([&](const Interaction& i) { clicks += i.reward; });
      REQUIRE(clicks == run.clicks);
      // The policy learnt from every interaction, each once.
      REQUIRE(run.final_policy->model_version() == rows);
    }
  }
}

TEST_CASE("reward delays do not change a non-learning policy's exact value", "[feedback][integration]") {
  // Requests and clicks come from their own seeded streams and the delays
  // from a third, so a policy whose choices ignore feedback sees the same
  // run bit for bit.
  TempDir dir;
  LinearClickWorld fresh(LinearClickWorld::Config{});
  const auto base = run_logged(std::make_unique<UniformRandom>(), fresh, delayed_run(300, 0.0),
                               dir.file("base.db"));
  for (const std::string dist : {"fixed", "geometric"}) {
    INFO(dist);
    LinearClickWorld world(LinearClickWorld::Config{});
    const auto run = run_logged(std::make_unique<UniformRandom>(), world,
                                delayed_run(300, 70.0, dist), dir.file(dist + ".db"));
    REQUIRE(run.value_sum == base.value_sum);
    REQUIRE(run.oracle_sum == base.oracle_sum);
    REQUIRE(run.clicks == base.clicks);
  }
}

TEST_CASE("a learning policy with a long reward delay has no less regret than without",
          "[feedback][integration]") {
  // A deterministic comparison on one seed (the default, 7), not a theorem:
  // with a delay of 1500 of 2000 requests epsilon-greedy serves every request
  // with a model learnt from at most its first 500, on the same requests and
  // clicks as without delay, and on this seed that costs regret.
  TempDir dir;
  auto regret_with = [&](double delay) {
    LinearClickWorld world(LinearClickWorld::Config{});
    ConfigSection section("epsilon_greedy");
    RunConfig config = delayed_run(2000, delay);
    config.batch = 50;
    return run_logged(make_policy("epsilon_greedy", section, world.feature_dim()), world, config,
                      dir.file("eg" + std::to_string(static_cast<int>(delay)) + ".db"))
        .regret();
  };
  const double prompt = regret_with(0.0);
  const double late = regret_with(1500.0);
  REQUIRE(late >= prompt);
}

TEST_CASE("geometric reward delays have the configured mean and are the same for every policy",
          "[feedback][integration][statistical]") {
  // n = 2000 geometric delays with mean M = 5 have variance M (M + 1) = 30,
  // so their mean has standard error sqrt(30 / 2000) = 0.122; 4 standard
  // errors allow 0.49.
  TempDir dir;
  PopulationWorld uniform_world(small_world(ChoiceModelKind::kPositionBased));
  RunConfig config = delayed_run(2000, 5.0, "geometric");
  config.batch = 200;
  const auto uniform = run_logged(std::make_unique<UniformRandom>(), uniform_world, config,
                                  dir.file("u.db"));
  PopulationWorld popular_world(small_world(ChoiceModelKind::kPositionBased));
  const auto popular = run_logged(std::make_unique<PopularityPolicy>(), popular_world, config,
                                  dir.file("p.db"));
  REQUIRE(std::abs(uniform.mean_delay() - 5.0) < 0.49);
  REQUIRE(popular.mean_delay() == uniform.mean_delay());
  REQUIRE(popular.max_outstanding == uniform.max_outstanding);
}

TEST_CASE("a fixed reward delay that is not a whole number of requests is a configuration error",
          "[feedback]") {
  ConfigSection section("run", "scenario.ini");
  section.set("reward_delay", "2.5");
  REQUIRE_THROWS_WITH(RunConfig::from(section), Contains("scenario.ini") &&
                                                    Contains("reward_delay") && Contains("whole"));
  ConfigSection geometric("run", "scenario.ini");
  geometric.set("reward_delay", "2.5");
  geometric.set("reward_delay_dist", "geometric");
  REQUIRE(RunConfig::from(geometric).reward_delay == 2.5);
}
