// SPDX-License-Identifier: Apache-2.0
// `recloop rank`: sends one rank request to a decision server and prints the
// reply. `recloop reward`: reports one reward to a collector and waits for its
// acknowledgement. Both are the application's side of the live loop, for
// scripts and for trying a server by hand.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "core/error.h"
#include "feedback/client.h"
#include "feedback/curve.h"
#include "feedback/rank_client.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace recloop {
namespace {

namespace po = boost::program_options;

std::string read_request(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read the request file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int run_rank(const std::vector<std::string>& args) {
  std::vector<std::string> servers;
  std::string json_text, file, curve_key, curve_server_key;
  int timeout_ms = 2500, retries = 3;
  po::options_description described(
      "recloop rank: send one rank request (JSON, see feedback/decision_server.h) to a\n"
      "decision server and print its reply. With no reply within --timeout-ms the request\n"
      "is sent again on a new connection, to the next --server if several are given, up\n"
      "to --retries more times, under the same eventId (one is added when the request has\n"
      "none). Exit status 0 for a decision, 1 for an error reply or no reply at all.\n\n"
      "usage: recloop rank [--server ENDPOINT[,ENDPOINT...]]... (--json TEXT | --file PATH)\n"
      "                    [--curve-key FILE --curve-server-key FILE]\n\n"
      "options");
  described.add_options()
      ("help,h", "print this help and exit")
      ("server", po::value(&servers)->value_name("ENDPOINT"),
       "decision server to ask; repeat it or give a comma list for failover "
       "(default tcp://127.0.0.1:5570)")
      ("json", po::value(&json_text)->value_name("TEXT"), "the request")
      ("file", po::value(&file)->value_name("PATH"), "read the request from PATH (- = stdin)")
      ("timeout-ms", po::value(&timeout_ms)->value_name("MS")->default_value(timeout_ms),
       "how long to wait for each attempt's reply")
      ("retries", po::value(&retries)->value_name("N")->default_value(retries),
       "further attempts after a timeout")
      ("curve-key", po::value(&curve_key)->value_name("FILE"),
       "CurveZMQ: this client's key pair (recloop keygen)")
      ("curve-server-key", po::value(&curve_server_key)->value_name("FILE"),
       "CurveZMQ: the decision servers' public key (their .pub file)");
  const po::positional_options_description no_positionals;  // so stray words are errors
  const auto command_line = parse_command_line(args, described, described, &no_positionals,
                                               " (see recloop rank --help)");
  if (!command_line) return 0;
  const po::variables_map& values = *command_line;
  if (values.count("json") == values.count("file")) {
    throw ConfigError("give exactly one of --json TEXT and --file PATH");
  }
  if (timeout_ms < 1) throw ConfigError("--timeout-ms must be >= 1, not " + std::to_string(timeout_ms));
  if (retries < 0) throw ConfigError("--retries must be >= 0, not " + std::to_string(retries));
  RankClientOptions options{.timeout_ms = timeout_ms, .retries = retries};
  options.curve = client_keys_from_flags(curve_key, curve_server_key, "--curve-server-key");
  try {
    options.endpoints = servers.empty() ? std::vector<std::string>{"tcp://127.0.0.1:5570"}
                                        : split_endpoints(servers);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("--server: ") + e.what());
  }
  const std::string request = file.empty() ? json_text : read_request(file);
  const auto parsed = nlohmann::json::parse(request, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    throw ConfigError((file.empty() ? std::string("--json") : file) +
                      ": the request is not a JSON object");
  }

  zmq::context_t zmq(1);
  RankClient client(zmq, options);
  const auto reply = client.rank(parsed);
  if (!reply) {
    std::string tried;
    for (const auto& endpoint : options.endpoints) tried += (tried.empty() ? "" : ", ") + endpoint;
    throw Error("no reply from " + tried + " in " + std::to_string(1 + retries) +
                " attempts of " + std::to_string(timeout_ms) + " ms");
  }
  std::printf("%s\n", reply->text.c_str());
  if (reply->attempts > 1) {
    std::fprintf(stderr, "recloop rank: answered by %s after %d attempts\n",
                 reply->endpoint.c_str(), reply->attempts);
  }
  return reply->ok() ? 0 : 1;
}

int run_reward(const std::vector<std::string>& args) {
  std::string endpoint = "tcp://127.0.0.1:5555", event_id, curve_key, curve_server_key;
  double value = std::nan("");
  int timeout_ms = 5000;
  long long timestamp_us = -1;
  po::options_description described(
      "recloop reward: report one reward to a collector and wait until it is stored\n"
      "(acknowledged). Exit status 1 when no acknowledgement comes within the timeout.\n\n"
      "usage: recloop reward [--collector ENDPOINT] --event ID --value R\n"
      "                      [--curve-key FILE --curve-server-key FILE]\n\n"
      "options");
  described.add_options()
      ("help,h", "print this help and exit")
      ("collector", po::value(&endpoint)->value_name("ENDPOINT")->default_value(endpoint),
       "collector to send to")
      ("event", po::value(&event_id)->value_name("ID"),
       "event id of the decision (a ranking slot's: <eventId>/<slot>)")
      ("value", po::value(&value)->value_name("R"), "the reward, a finite number")
      ("timestamp-us", po::value(&timestamp_us)->value_name("US"),
       "microseconds since the Unix epoch (default: now)")
      ("timeout-ms", po::value(&timeout_ms)->value_name("MS")->default_value(timeout_ms),
       "how long to wait for the acknowledgement")
      ("curve-key", po::value(&curve_key)->value_name("FILE"),
       "CurveZMQ: this client's key pair (recloop keygen)")
      ("curve-server-key", po::value(&curve_server_key)->value_name("FILE"),
       "CurveZMQ: the collector's public key (its .pub file)");
  const po::positional_options_description no_positionals;  // so stray words are errors
  if (!parse_command_line(args, described, described, &no_positionals,
                          " (see recloop reward --help)")) {
    return 0;
  }
  if (event_id.empty()) throw ConfigError("--event ID is required");
  if (event_id.size() > kMaxEventIdBytes) {
    throw ConfigError("--event has " + std::to_string(event_id.size()) + " bytes, at most " +
                      std::to_string(kMaxEventIdBytes) + " are allowed");
  }
  if (!std::isfinite(value)) throw ConfigError("--value R is required and must be finite");
  if (timeout_ms < 1) throw ConfigError("--timeout-ms must be >= 1");
  auto curve = client_keys_from_flags(curve_key, curve_server_key, "--curve-server-key");

  Reward reward;
  reward.event_id = event_id;
  reward.value = value;
  reward.timestamp_us =
      timestamp_us >= 0 ? timestamp_us
                        : std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  zmq::context_t zmq(1);
  const bool keyed = curve.has_value();
  FeedbackClient client(
      zmq, endpoint, {.resend_timeout_ms = std::max(1, timeout_ms / 5), .curve = std::move(curve)});
  client.send(reward);
  if (!client.flush(timeout_ms)) {
    throw Error("no acknowledgement from " + endpoint + " within " + std::to_string(timeout_ms) +
                " ms: reward for '" + event_id + "' may not be stored" +
                (keyed ? " (CurveZMQ: is this key in the collector's --curve-authorized, and "
                         "--curve-server-key its .pub?)"
                       : ""));
  }
  std::printf("reward %s = %g stored by %s\n", event_id.c_str(), value, endpoint.c_str());
  return 0;
}

}  // namespace recloop
