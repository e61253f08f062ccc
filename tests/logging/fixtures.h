// SPDX-License-Identifier: Apache-2.0
// Shared by the logging and feedback tests: a private temporary directory and
// small, fully specified events.
#pragma once

#include "core/types.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace recloop::testing {

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/recloop-test-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A decision over `n` candidates whose features and pmf depend on `seed`, so
// two events differ in every field a codec could mix up.
inline LoggedDecision sample_decision(const std::string& event_id,
                                      const std::string& policy = "uniform", int n = 4,
                                      int seed = 1) {
  LoggedDecision logged;
  logged.context.user = Eigen::VectorXd::LinSpaced(3, -1.0, 1.0 + seed);
  logged.context.actions.resize(2, n);
  for (int a = 0; a < n; ++a) {
    logged.context.actions(0, a) = 0.25 * a + seed;
    logged.context.actions(1, a) = -0.5 * a;
    logged.context.items.push_back(100u * static_cast<ItemId>(seed) + static_cast<ItemId>(a));
  }
  Decision& d = logged.decision;
  d.event_id = event_id;
  d.pmf.assign(static_cast<std::size_t>(n), 1.0 / n);
  d.action = static_cast<ActionId>(seed % n);
  d.item = logged.context.items[d.action];
  d.probability = d.pmf[d.action];
  d.policy = policy;
  d.model_version = static_cast<std::uint64_t>(seed) * 7u;
  for (int a = 0; a < n; ++a) logged.truth.push_back(0.1 * a + 0.01 * seed);
  logged.timestamp_us = 1'700'000'000'000'000 + seed;
  return logged;
}

inline Reward sample_reward(const std::string& event_id, double value = 1.0) {
  return Reward{event_id, value, 1'700'000'000'500'000};
}

}  // namespace recloop::testing
