// SPDX-License-Identifier: Apache-2.0
// `recloop simulate SCENARIO --live`: the scenario's simulated world drives a
// running live system (`recloop serve` and `recloop collect`) over the same
// sockets and protocol an application uses. For each request it builds the
// JSON rank request from the world's Context, asks the servers with a
// RankClient, reads the chosen item and its probability from the reply, draws
// the reward for that item from the world and reports it to the collector with
// a FeedbackClient, keyed by the reply's event id. At the end it compares what
// was served with the world's exact expected rewards (ground truth).
//
// Request fields: "contextFeatures" {"user_0": x_0, ..., "user_{U-1}": ...},
// each candidate {"id": <item id>, "features": {"a_0": ..., "a_{A-1}": ...}};
// only the candidates the world marks available are sent. The server must
// therefore be started with
//   --context-features user_0,...,user_{U-1} --action-features a_0,...,a_{A-1}
// (or --user-dim U --action-dim A when U, A <= 10, where the byte-wise key
// order is the index order); simulate --live prints the exact flags.
// Single-slot requests only ([run] slots = 1); the world's state (clock,
// sessions) is its own per thread: each of T threads runs one world built
// from the same [simulator] section, seeded from [run] seed and the thread.
#pragma once

#include "core/types.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace recloop {

// The rank request for `context` offering the candidates `offered` (indices
// into context.items), without an eventId (the RankClient adds one).
nlohmann::json live_rank_request(const Context& context, const std::vector<ActionId>& offered);

// The server flags whose feature schema matches live_rank_request() for
// contexts of `user_dim` user and `action_dim` action features.
std::string live_schema_flags(int user_dim, int action_dim);

// True if `args` asks for the live mode (holds "--live").
bool wants_live_simulation(const std::vector<std::string>& args);

// The verb: `recloop simulate [SCENARIO] --live --server ENDPOINT[,ENDPOINT]
// --collector ENDPOINT [--requests N] [--rate R] [--threads T] ...`.
int run_simulate_live(const std::vector<std::string>& args);

}  // namespace recloop
