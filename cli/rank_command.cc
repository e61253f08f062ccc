// SPDX-License-Identifier: Apache-2.0
// `recloop rank`: sends one rank request to a decision server and prints the
// reply. `recloop reward`: reports one reward to a collector and waits for its
// acknowledgement. Both are the application's side of the live loop, for
// scripts and for trying a server by hand.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "core/error.h"
#include "feedback/client.h"

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
  std::string endpoint = "tcp://127.0.0.1:5570", json_text, file;
  int timeout_ms = 5000;
  po::options_description described(
      "recloop rank: send one rank request (JSON, see feedback/decision_server.h) to a\n"
      "decision server and print its reply. Exit status 0 for a decision, 1 for an error\n"
      "reply or no reply within the timeout.\n\n"
      "usage: recloop rank [--server ENDPOINT] (--json TEXT | --file PATH)\n\n"
      "options");
  described.add_options()
      ("help,h", "print this help and exit")
      ("server", po::value(&endpoint)->value_name("ENDPOINT")->default_value(endpoint),
       "decision server to ask")
      ("json", po::value(&json_text)->value_name("TEXT"), "the request")
      ("file", po::value(&file)->value_name("PATH"), "read the request from PATH (- = stdin)")
      ("timeout-ms", po::value(&timeout_ms)->value_name("MS")->default_value(timeout_ms),
       "how long to wait for the reply");
  const po::positional_options_description no_positionals;  // so stray words are errors
  const auto command_line = parse_command_line(args, described, described, &no_positionals,
                                               " (see recloop rank --help)");
  if (!command_line) return 0;
  const po::variables_map& values = *command_line;
  if (values.count("json") == values.count("file")) {
    throw ConfigError("give exactly one of --json TEXT and --file PATH");
  }
  if (timeout_ms < 1) throw ConfigError("--timeout-ms must be >= 1");
  const std::string request = file.empty() ? json_text : read_request(file);

  zmq::context_t zmq(1);
  zmq::socket_t socket(zmq, zmq::socket_type::req);
  socket.set(zmq::sockopt::linger, 0);
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw ConfigError("--server " + endpoint + ": " + e.what());
  }
  socket.send(zmq::buffer(request), zmq::send_flags::none);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) {
    throw Error("no reply from " + endpoint + " within " + std::to_string(timeout_ms) + " ms");
  }
  zmq::message_t reply;
  if (!socket.recv(reply)) throw Error("no reply from " + endpoint);
  const std::string text = reply.to_string();
  std::printf("%s\n", text.c_str());
  const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_object() && !parsed.contains("error") ? 0 : 1;
}

int run_reward(const std::vector<std::string>& args) {
  std::string endpoint = "tcp://127.0.0.1:5555", event_id;
  double value = std::nan("");
  int timeout_ms = 5000;
  long long timestamp_us = -1;
  po::options_description described(
      "recloop reward: report one reward to a collector and wait until it is stored\n"
      "(acknowledged). Exit status 1 when no acknowledgement comes within the timeout.\n\n"
      "usage: recloop reward [--collector ENDPOINT] --event ID --value R\n\n"
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
       "how long to wait for the acknowledgement");
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

  Reward reward;
  reward.event_id = event_id;
  reward.value = value;
  reward.timestamp_us =
      timestamp_us >= 0 ? timestamp_us
                        : std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  zmq::context_t zmq(1);
  FeedbackClient client(zmq, endpoint, {.resend_timeout_ms = std::max(1, timeout_ms / 5)});
  client.send(reward);
  if (!client.flush(timeout_ms)) {
    throw Error("no acknowledgement from " + endpoint + " within " + std::to_string(timeout_ms) +
                " ms: reward for '" + event_id + "' may not be stored");
  }
  std::printf("reward %s = %g stored by %s\n", event_id.c_str(), value, endpoint.c_str());
  return 0;
}

}  // namespace recloop
