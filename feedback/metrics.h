// SPDX-License-Identifier: Apache-2.0
// Counters and gauges of the live processes (serve, collect, learn), and their
// rendering in the Prometheus text exposition format, version 0.0.4:
//
//   # HELP recloop_decisions_total New decisions stored.
//   # TYPE recloop_decisions_total counter
//   recloop_decisions_total 1200
//   # HELP recloop_policy_reward Rewards of joined interactions, by logging policy.
//   # TYPE recloop_policy_reward summary
//   recloop_policy_reward_sum{policy="lin_ucb"} 431.5
//   recloop_policy_reward_count{policy="lin_ucb"} 1200
//
// A metric is a family (name, help, type) of series, one per label set. Four
// kinds of series:
//   - Counter: a monotone count; add() is one relaxed atomic add.
//   - Gauge: a value that goes up and down; set() is one atomic store, add() a
//     compare-exchange loop (lock-free).
//   - Summary: count and sum of observations (a Prometheus summary without
//     quantiles), rendered as NAME_sum and NAME_count.
//   - a read function: called at every render, for counts that already live
//     elsewhere (Collector::stats(), DecisionServer::stats()).
// Families render in registration order, series in registration order within
// their family, so the text is deterministic.
//
// Thread safety: registering and rendering take the registry's mutex; the
// Counter, Gauge and Summary references a registration returns stay valid for
// the registry's lifetime and are updated without any lock, from any thread.
// Read functions run on the rendering thread, under the mutex, so they must be
// safe to call from it and must not call back into the registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace recloop {

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Count and sum are two atomics: a render racing an observe() may see the sum
// updated and not yet the count. The mean read from one scrape is then off by
// at most one observation; the next scrape is consistent again.
class Summary {
 public:
  void observe(double value) {
    sum_.add(value);
    count_.add();
  }
  std::uint64_t count() const { return count_.value(); }
  double sum() const { return sum_.value(); }

 private:
  Counter count_;
  Gauge sum_;
};

// Label name and value pairs, rendered in the order given.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The series of `name` with `labels`, created on first use; later calls
  // with the same name and labels return the same object. Throws
  // std::invalid_argument for a name outside [a-zA-Z_:][a-zA-Z0-9_:]*, a label
  // name outside [a-zA-Z_][a-zA-Z0-9_]* (or starting with "__", or given
  // twice), or a name already registered with another type or help text.
  Counter& counter(std::string_view name, std::string_view help, MetricLabels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, MetricLabels labels = {});
  Summary& summary(std::string_view name, std::string_view help, MetricLabels labels = {});

  // A series whose value is read when rendering. Throws as above, and also
  // when the series already exists.
  void counter_function(std::string_view name, std::string_view help, MetricLabels labels,
                        std::function<std::uint64_t()> read);
  void gauge_function(std::string_view name, std::string_view help, MetricLabels labels,
                      std::function<double()> read);

  // Every family in the text format 0.0.4, each line ending in '\n'. Help
  // text escapes '\' and newline; label values escape '\', '"' and newline.
  // Counts print as integers; other values in the shortest form that reads
  // back to the same double, or NaN, +Inf, -Inf.
  std::string render() const;

 private:
  enum class Type { counter, gauge, summary };
  struct Series;
  struct Family;
  // Finds or adds the series; the caller holds mutex_.
  Series& series(std::string_view name, std::string_view help, Type type, MetricLabels labels,
                 bool must_be_new);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;  // registration order
  std::map<std::string, Family*, std::less<>> by_name_;
};

// One sample line of the text format, as read back by parse_metrics_text().
struct MetricSample {
  std::string name;  // with its _sum/_count suffix, if any
  MetricLabels labels;
  double value = 0.0;
};

// Reads the sample lines of a text-format 0.0.4 exposition (comments and blank
// lines skipped; an optional timestamp after the value ignored). Throws
// std::invalid_argument naming the line number and what was wrong.
std::vector<MetricSample> parse_metrics_text(std::string_view text);

}  // namespace recloop
