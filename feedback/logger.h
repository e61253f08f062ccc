// SPDX-License-Identifier: Apache-2.0
// Structured log lines for the live processes (serve, collect, learn), one
// event per line in logfmt:
//
//   ts=2026-12-04T21:35:00.123456Z level=warn component=collector msg="rejected frame" peer=3 reason="bad tag"
//
// Keys are fixed words; a value is written bare when it has no space, quote,
// '=' or control character, else quoted with \" \\ \n \t escaped, so every
// line splits back into its fields. Levels, lowest first: debug, info, warn,
// error; lines below the logger's level are skipped before any formatting.
//
// There is no global logger: a command makes one (its sink is usually
// std::cerr) and hands it, or a copy naming another component, to what it
// runs. A default-constructed Logger writes nothing. Thread safety: every
// member is const and safe to call concurrently; copies share the sink and its
// mutex, so concurrent lines never interleave.
#pragma once

#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace recloop {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

// "debug", "info", "warn" or "error"; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);
std::string_view to_string(LogLevel level);

using LogField = std::pair<std::string_view, std::string>;

class Logger {
 public:
  // Writes nothing.
  Logger() = default;
  // Writes lines at `level` and above to `out`, which must outlive every copy.
  Logger(std::ostream& out, LogLevel level, std::string component);

  // The same sink and level, another component name.
  Logger for_component(std::string component) const;

  bool enabled(LogLevel level) const { return sink_ && level >= level_; }
  void log(LogLevel level, std::string_view message,
           std::initializer_list<LogField> fields = {}) const;
  void debug(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    log(LogLevel::debug, message, fields);
  }
  void info(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    log(LogLevel::info, message, fields);
  }
  void warn(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    log(LogLevel::warn, message, fields);
  }
  void error(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    log(LogLevel::error, message, fields);
  }

 private:
  struct Sink {
    std::ostream* out;
    std::mutex mutex;
  };
  std::shared_ptr<Sink> sink_;
  LogLevel level_ = LogLevel::info;
  std::string component_;
};

}  // namespace recloop
