// SPDX-License-Identifier: Apache-2.0
// `recloop keygen` and CurveZMQ between processes: a collector started with
// keys stores the reward of a listed client and gives an unlisted one nothing.
#include "feedback/curve.h"
#include "tests/logging/fixtures.h"
#include "tests/support/live_fixtures.h"
#include "tests/support/process.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using namespace recloop;
using recloop::testing::run_command;
using recloop::testing::TempDir;
using recloop::testing::loopback_endpoint;
using recloop::testing::read_file;

namespace {

const std::string kBinary = RECLOOP_BINARY;

}  // namespace

TEST_CASE("recloop keygen writes a key pair and a public key, and will not overwrite them",
          "[cli][integration]") {
  TempDir dir;
  const std::string stem = dir.file("alice");
  const auto made = run_command(kBinary + " keygen --out " + stem);
  REQUIRE(made.exit_code == 0);
  struct stat info {};
  REQUIRE(::stat((stem + ".key").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  const KeyPair keys = load_key_pair(stem + ".key");
  CHECK(load_public_key(stem + ".pub") == keys.public_key);
  // stdout is the authorized-keys line for the new key.
  CHECK(made.out == keys.public_key + " alice\n");

  const auto again = run_command(kBinary + " keygen --out " + stem);
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains(stem + ".key exists") && Catch::Contains("--force"));
  CHECK(load_key_pair(stem + ".key").secret_key == keys.secret_key);
  CHECK(run_command(kBinary + " keygen --force --out " + stem).exit_code == 0);
  CHECK(load_key_pair(stem + ".key").secret_key != keys.secret_key);
}

TEST_CASE("recloop collect with keys stores a listed client's reward and ignores an unlisted one",
          "[cli][integration]") {
  TempDir dir;
  const std::string d = dir.file("");
  const std::string authorized = dir.file("collector.authorized");
  REQUIRE(run_command(kBinary + " keygen --out " + d + "collector").exit_code == 0);
  // keygen's stdout is the line that admits the new key.
  const auto alice = run_command(kBinary + " keygen --out " + d + "alice");
  REQUIRE(alice.exit_code == 0);
  std::ofstream(authorized) << "# clients of the collector\n" << alice.out;
  REQUIRE(run_command(kBinary + " keygen --out " + d + "mallory").exit_code == 0);

  const std::string endpoint = loopback_endpoint();
  const std::string output = dir.file("collect.out");
  recloop::testing::RecloopProcess collector(
      {"collect", "--log", dir.file("events.db"), "--bind", endpoint, "--curve-key",
       d + "collector.key", "--curve-authorized", authorized},
      output);
  auto reward = [&](const std::string& who, const std::string& event, int timeout_ms) {
    return run_command(kBinary + " reward --collector " + endpoint + " --event " + event +
                       " --value 1 --timeout-ms " + std::to_string(timeout_ms) + " --curve-key " +
                       d + who + ".key --curve-server-key " + d + "collector.pub");
  };
  // The collector may still be starting: the client resends until acked.
  const auto stored = reward("alice", "e-alice", 10000);
  CHECK(stored.exit_code == 0);
  CHECK_THAT(stored.out, Catch::Contains("stored"));
  const auto refused = reward("mallory", "e-mallory", 300);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("no acknowledgement") && Catch::Contains("CurveZMQ"));

  const int status = collector.stop(SIGTERM);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  const std::string printed = read_file(output);
  CHECK_THAT(printed, Catch::Contains("CurveZMQ on, 1 authorized key"));
  CHECK_THAT(printed, Catch::Contains("rejected client") &&
                          Catch::Contains(load_public_key(d + "mallory.pub")));
  CHECK_THAT(printed, Catch::Contains("rewards=1 "));
}

TEST_CASE("recloop collect refuses a non-loopback endpoint without keys unless --insecure",
          "[cli][integration]") {
  TempDir dir;
  const auto refused =
      run_command(kBinary + " collect --log " + dir.file("events.db") + " --bind tcp://0.0.0.0:5999");
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("--bind tcp://0.0.0.0:5999") &&
                              Catch::Contains("--insecure"));
}
