// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the process-level tests of the live loop (collect, serve,
// rank, reward): loopback endpoints, whole-file reads and a small trained model.
// Not thread-safe where Catch2 assertions are involved (one test thread).
#pragma once

#include "core/types.h"
#include "policies/policy.h"

#include <memory>
#include <string>
#include <vector>

namespace recloop::testing {

// "PREFIX<port>" with a loopback TCP port that was free a moment ago; REQUIREs
// that a port was found.
std::string with_free_port(const std::string& prefix);

// "tcp://127.0.0.1:<port>" with a port that was free a moment ago.
std::string loopback_endpoint();

// The whole text of `path` ("" if it cannot be opened).
std::string read_file(const std::string& path);

// An epsilon-greedy policy (epsilon 0.3) over 2 user features and 1 action
// feature, trained on 200 interactions so that its greedy candidate among the
// four `items` is the first for a large first user feature and the second for
// a small one: its pmf is 1 - 0.3 + 0.3/4 = 0.775 on the greedy candidate and
// 0.075 on each other one.
std::unique_ptr<Policy> trained_epsilon_greedy(const std::vector<ItemId>& items);

// trained_epsilon_greedy() over items 10..13, saved as a model file at `path`.
void save_trained_model(const std::string& path);

}  // namespace recloop::testing
