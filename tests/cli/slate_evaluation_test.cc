// SPDX-License-Identifier: Apache-2.0
// Rankings through the live feedback path and back out as off-policy
// estimates: a ranker ranks L = 3 of K = 5 candidates per request, every
// slot's decision and reward travel through a FeedbackClient to a real
// Collector, and the slate estimators score a different ranker from the log.
#include "cli/slate_evaluation.h"

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/rng.h"
#include "core/sampling.h"
#include "evaluation/slate_registry.h"
#include "feedback/client.h"
#include "feedback/collector.h"
#include "logging/slate_log.h"
#include "policies/epsilon_greedy_ranker.h"
#include "policies/plackett_luce_ranker.h"
#include "tests/logging/fixtures.h"
#include "tests/policies/ranker_fixtures.h"
#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t kCandidates = 5;
constexpr std::size_t kSlots = 3;
constexpr int kFlushTimeoutMs = 20000;

// The position-based click model (Craswell, Zoeter, Taylor & Ramsey 2008, "An
// experimental comparison of click position-bias models", WSDM): a click on
// slot k needs the slot examined (theta_k) and the item attractive (attr_i),
// independently: P(click | item i at slot k) = theta_k * attr_i.
const std::vector<double> kTheta = {1.0, 0.6, 0.3};
const std::vector<double> kAttraction = {0.9, 0.7, 0.5, 0.3, 0.1};  // candidate = item id

// The exact value of a ranker under the click model: the expected clicks per
// ranking, sum_k sum_i P(i at k) theta_k attr_i.
double exact_value(const Ranker& ranker, const Context& context) {
  const Eigen::MatrixXd marginals = ranker.marginals(context, kSlots);
  double value = 0.0;
  for (std::size_t k = 0; k < kSlots; ++k) {
    for (std::size_t i = 0; i < kCandidates; ++i) {
      value += marginals(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) * kTheta[k] *
               kAttraction[i];
    }
  }
  return value;
}

// The request every ranking answers: items 0 .. K-1, one user feature.
Context request() { return testing::first_items_context(kCandidates); }

// The logging ranker: epsilon-greedy with epsilon = 0.8 over scores that put
// the least attractive items first, so every ranking has probability >= (0.8 /
// 5)(0.8 / 4)(0.8 / 3) = 0.0085 and the logger's value is low.
std::unique_ptr<Ranker> logging_ranker() {
  Scorer reversed = [](const Context& context) {
    std::vector<double> scores(context.size());
    for (std::size_t a = 0; a < context.size(); ++a) scores[a] = static_cast<double>(a);
    return scores;
  };
  return std::make_unique<EpsilonGreedyRanker>(reversed, "reversed", EpsilonGreedyRanker::Config{0.8});
}

// The target: Plackett-Luce over weights favouring the attractive items.
std::unique_ptr<Ranker> target_ranker() {
  return std::make_unique<PlackettLuceRanker>(testing::weighted_policy({8.0, 4.0, 2.0, 1.0, 1.0}));
}

// A Collector serving on its own thread until finish().
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
    if (thread_.joinable()) finish();
  }
  CollectorStats finish() {
    stop_ = true;
    thread_.join();
    if (error_) std::rethrow_exception(error_);
    return collector_.stats();
  }

 private:
  std::atomic<bool> stop_{false};
  Collector collector_;
  std::exception_ptr error_;
  std::thread thread_;
};

// Logs `n` rankings of the logging ranker with click-model rewards through a
// client and a collector into `path`; returns the rankings by event id.
std::map<EventId, Ranking> log_rankings(const std::string& path, int n, std::uint64_t seed) {
  zmq::context_t zmq;
  CollectorOptions options;
  options.endpoint = "inproc://rankings";
  options.log_path = path;
  RunningCollector running(zmq, options);
  FeedbackClient client(zmq, "inproc://rankings");
  const auto logger = logging_ranker();
  const Context context = request();
  Rng clicks(seed);
  std::map<EventId, Ranking> rankings;
  for (int i = 0; i < n; ++i) {
    const EventId id = "page-" + std::to_string(i);
    Ranking ranking = logger->rank(context, kSlots, id, seed);
    for (std::size_t k = 0; k < kSlots; ++k) {
      LoggedDecision logged;
      logged.decision = slot_decision(ranking, k);
      logged.context = context;
      // The simulator's truth at this slot: E[click | candidate a at slot k].
      for (std::size_t a = 0; a < kCandidates; ++a) logged.truth.push_back(kTheta[k] * kAttraction[a]);
      logged.timestamp_us = 1'700'000'000'000'000 + i;
      client.send(logged);
      const double p = kTheta[k] * kAttraction[ranking.actions[k]];
      client.send(Reward{logged.decision.event_id, uniform01(clicks) < p ? 1.0 : 0.0,
                         logged.timestamp_us + 1});
    }
    rankings.emplace(id, std::move(ranking));
  }
  REQUIRE(client.flush(kFlushTimeoutMs));
  const CollectorStats stats = running.finish();
  REQUIRE(stats.decisions == kSlots * static_cast<std::size_t>(n));
  REQUIRE(stats.joined == kSlots * static_cast<std::size_t>(n));
  REQUIRE(stats.rejected_frames == 0);
  return rankings;
}

// Removes a log file and its WAL companions at scope exit.
struct LogFile {
  std::string path = testing::temp_path("rankings.db");
  ~LogFile() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
};

// The number after "\"<key>\":{\"value\":" in one-line JSON output.
double json_value(const std::string& out, const std::string& key, const std::string& field) {
  const std::string object = "\"" + key + "\":{";
  const auto start = out.find(object);
  REQUIRE(start != std::string::npos);
  const auto at = out.find("\"" + field + "\":", start);
  REQUIRE(at != std::string::npos);
  return std::strtod(out.c_str() + at + field.size() + 3, nullptr);
}

}  // namespace

TEST_CASE("rankings logged slot by slot through the collector are scored off-policy",
          "[cli][integration][statistical]") {
  LogFile file;
  constexpr int kRankings = 4000;
  const auto rankings = log_rankings(file.path, kRankings, 2024);

  // Every slot row came back under "<id>/<k>" with the marginal and the
  // conditional the ranker recorded; their product is the ranking's probability.
  SlateLogSummary summary;
  const std::vector<LoggedSlate> log = read_slates(file.path, {}, &summary);
  REQUIRE(summary.slates == static_cast<std::size_t>(kRankings));
  REQUIRE(summary.incomplete == 0);
  REQUIRE(summary.other_decisions == 0);
  REQUIRE(summary.unknown_conditionals == 0);
  REQUIRE(log.size() == static_cast<std::size_t>(kRankings));
  for (const LoggedSlate& logged : log) {
    const Ranking& ranking = rankings.at(logged.event_id);
    REQUIRE(logged.policy == ranking.policy);
    REQUIRE(logged.slots.size() == kSlots);
    for (std::size_t k = 0; k < kSlots; ++k) {
      const LoggedSlot& s = logged.slots[k];
      REQUIRE(s.action == ranking.actions[k]);
      REQUIRE(s.item == ranking.items[k]);
      REQUIRE(s.marginal == ranking.marginal[k]);
      REQUIRE(s.conditional == ranking.conditional[k]);
    }
    REQUIRE(logged.probability() == ranking.probability);
  }

  // The target's value under the click model is known exactly; each estimate
  // must cover it. Tolerance: each estimator is a mean (or a ratio of means)
  // of n = 4000 i.i.d. rankings, so (V̂ - V) / SE is asymptotically standard
  // normal and |V̂ - V| <= 4 SE fails with probability 6e-5 per estimator
  // (seeds fixed, so the outcome is reproducible). Every estimator is
  // unbiased here: the position-based model is a special case of the
  // item-position model (independent IPS) and of the cascade assumption
  // (RIPS: slot k's reward depends on slots 0..k only).
  const auto target = target_ranker();
  const double truth = exact_value(*target, request());
  const double logger_truth = exact_value(*logging_ranker(), request());
  const SlateEvaluation result = evaluate_slates(log, *target, kSlots, slate_estimator_names());
  REQUIRE(result.n == static_cast<std::size_t>(kRankings));
  REQUIRE(result.skipped.empty());
  REQUIRE(result.estimates.size() == slate_estimator_names().size());
  // The logged rewards estimate the logger's value, not the target's.
  CHECK(std::abs(result.naive.value - logger_truth) <= 4.0 * result.naive.std_error);
  for (const auto& [name, e] : result.estimates) {
    INFO(name << ": " << e.value << " ± " << e.std_error << ", exact " << truth << ", logger "
              << logger_truth);
    CHECK(std::isfinite(e.std_error));
    CHECK(std::abs(e.value - truth) <= 4.0 * e.std_error);
    // Precise enough to tell the target from the logger: otherwise the check
    // above could not fail.
    CHECK(std::abs(truth - logger_truth) > 4.0 * e.std_error);
  }
}

TEST_CASE("recloop evaluate --slots scores a target ranker from a log of rankings",
          "[cli][integration]") {
  LogFile file;
  log_rankings(file.path, 600, 7);
  // plackett_luce over the untrained uniform policy ranks uniformly at random:
  // every candidate has marginal 1/K at every slot, so the exact value is
  // sum_k theta_k * mean(attr) = 1.9 * 0.5 = 0.95.
  const double truth = 0.95;
  const auto result = testing::run_command(
      std::string(RECLOOP_BINARY) + " evaluate --log " + file.path +
      " --target plackett_luce:uniform --slots 3 --train-fraction 0 --json");
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  for (const auto& name : slate_estimator_names()) REQUIRE_THAT(result.out, Contains("\"" + name + "\":{"));
  REQUIRE_THAT(result.out, Contains("\"scored_on\":600"));
  // As above: 4 standard errors.
  for (const std::string name : {"independent_ips", "slate_ips"}) {
    const double value = json_value(result.out, name, "value");
    const double se = json_value(result.out, name, "std_error");
    INFO(name << ": " << value << " ± " << se);
    CHECK(std::abs(value - truth) <= 4.0 * se);
  }
}

TEST_CASE("recloop evaluate --slots refuses too many slots and a target without a base",
          "[cli][integration]") {
  LogFile file;
  log_rankings(file.path, 5, 3);
  const std::string command = std::string(RECLOOP_BINARY) + " evaluate --log " + file.path;
  const auto too_many = testing::run_command(command + " --target plackett_luce:uniform --slots 4");
  REQUIRE(too_many.exit_code == 2);
  REQUIRE_THAT(too_many.err, Contains("--slots 4") && Contains("page-"));
  const auto no_base = testing::run_command(command + " --target plackett_luce --slots 3");
  REQUIRE(no_base.exit_code == 2);
  REQUIRE_THAT(no_base.err, Contains("RANKER:BASE"));
  const auto unknown = testing::run_command(command + " --target plackett_luce:uniform --slots 3 "
                                                      "--estimators rips,magic");
  REQUIRE(unknown.exit_code == 2);
  REQUIRE_THAT(unknown.err, Contains("magic"));
}

TEST_CASE("rankings logged without conditionals are scored by the independent estimators only",
          "[cli]") {
  // Two rankings as a version 2 log reads back: the conditional known at slot
  // 0 (the marginal) and not recorded (0) below.
  const auto target = target_ranker();
  std::vector<LoggedSlate> log(2);
  for (std::size_t i = 0; i < log.size(); ++i) {
    LoggedSlate& logged = log[i];
    logged.event_id = "old-" + std::to_string(i);
    logged.context = request();
    for (std::size_t k = 0; k < kSlots; ++k) {
      LoggedSlot s;
      s.action = static_cast<ActionId>(k + i);
      s.item = s.action;
      s.marginal = 0.2;
      s.conditional = k == 0 ? 0.2 : 0.0;
      s.reward = 1.0;
      logged.slots.push_back(s);
    }
  }
  const SlateEvaluation result = evaluate_slates(log, *target, kSlots, slate_estimator_names());
  REQUIRE(result.estimates.size() == 2);
  CHECK(result.estimates[0].first == "independent_ips");
  CHECK(result.estimates[1].first == "independent_snips");
  REQUIRE(result.skipped.size() == 4);
  for (const auto& [name, reason] : result.skipped) {
    CHECK(slate_estimator_needs_conditionals(name));
    CHECK_THAT(reason, Contains("conditionals"));
  }
  // Independent IPS: the mean over rankings of sum_k pi(a_k at k) / 0.2.
  const Eigen::MatrixXd m = target->marginals(request(), kSlots);
  double expected = 0.0;
  for (std::size_t i = 0; i < log.size(); ++i) {
    for (std::size_t k = 0; k < kSlots; ++k) {
      expected += m(static_cast<Eigen::Index>(k + i), static_cast<Eigen::Index>(k)) / 0.2;
    }
  }
  CHECK(result.estimates[0].second.value == Approx(expected / 2.0).epsilon(1e-12));
}
