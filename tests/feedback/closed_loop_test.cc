// SPDX-License-Identifier: Apache-2.0
// The closed loop with rankings: run_policy() on a slate world, through a
// real collector on its own thread, read back from the SQLite log it wrote.
#include "feedback/closed_loop.h"

#include <atomic>
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

// Runs `policy` on `world` through a collector writing `log_path`.
PolicyRun run_logged(std::unique_ptr<Policy> policy, Simulator& world, const RunConfig& run,
                     const std::string& log_path) {
  zmq::context_t zmq;
  RunningCollector collector(zmq, CollectorOptions{.endpoint = run.endpoint,
                                                   .learner_endpoint = run.learner_endpoint,
                                                   .log_path = log_path});
  FeedbackClient client(zmq, run.endpoint);
  InteractionStream stream(zmq, run.learner_endpoint);
  return run_policy(std::move(policy), world, run, "test", client, stream, {});
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
