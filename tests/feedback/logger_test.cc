// SPDX-License-Identifier: Apache-2.0
#include "feedback/logger.h"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

namespace recloop {
namespace {

TEST_CASE("A log line carries level, component, message and quoted fields in logfmt") {
  std::ostringstream out;
  const Logger log(out, LogLevel::info, "collector");
  log.warn("rejected frame", {{"peer", "3"}, {"reason", "bad \"tag\""}});
  const std::string line = out.str();
  CHECK(line.rfind("ts=", 0) == 0);
  CHECK(line.find(" level=warn component=collector msg=\"rejected frame\" peer=3 "
                  "reason=\"bad \\\"tag\\\"\"\n") != std::string::npos);
}

TEST_CASE("Lines below the logger's level are not written") {
  std::ostringstream out;
  const Logger log(out, LogLevel::warn, "server");
  log.info("started");
  CHECK(out.str().empty());
  log.error("failed");
  CHECK(out.str().find("level=error") != std::string::npos);
}

TEST_CASE("A default logger writes nothing and a component copy shares the sink") {
  const Logger silent;
  CHECK_FALSE(silent.enabled(LogLevel::error));
  std::ostringstream out;
  const Logger log(out, LogLevel::debug, "a");
  log.for_component("b").debug("x");
  CHECK(out.str().find("component=b msg=x") != std::string::npos);
}

TEST_CASE("Log levels parse from their names only") {
  CHECK(parse_log_level("warn") == LogLevel::warn);
  CHECK_FALSE(parse_log_level("verbose").has_value());
}

}  // namespace
}  // namespace recloop
