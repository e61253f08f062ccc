// SPDX-License-Identifier: Apache-2.0
// Configuration as the algorithms see it: named sections of key = value text.
// Each algorithm's Config struct is filled by reading its section with typed
// getters that state the default, the allowed range and a one-line meaning.
// Every getter records what it read, so the same code (a) fills a Config,
// (b) lists the keys for `--help`-style documentation, and (c) lets
// reject_unknown() name any key that nothing read: a typo fails fast.
// Not thread-safe; a section is read once, at start-up.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace recloop {

// What a getter learnt about one key: enough to document it.
struct KeyDoc {
  std::string key;
  std::string default_value;
  std::string range;  // e.g. "[0, 1]", "> 0", "one of: a, b"
  std::string doc;
};

class ConfigSection {
 public:
  // `name` is the section ("lin_ucb"); `source` names where values come from
  // ("scenarios/default.ini"), for error messages.
  explicit ConfigSection(std::string name = {}, std::string source = "<built-in defaults>");

  // Sets `key`; `origin` overrides the source in messages (e.g. "--set").
  void set(const std::string& key, const std::string& value, const std::string& origin = {});
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  // Typed getters: the value if present (validated), else `fallback`.
  // Throw ConfigError naming source, section, key, value and range on bad input.
  double get_double(const std::string& key, double fallback, double min, double max,
                    std::string_view doc, bool min_exclusive = false);
  long long get_int(const std::string& key, long long fallback, long long min, long long max,
                    std::string_view doc);
  bool get_bool(const std::string& key, bool fallback, std::string_view doc);
  std::string get_string(const std::string& key, const std::string& fallback,
                         std::string_view doc);
  // A string restricted to one of `choices`.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices, std::string_view doc);
  // A comma-separated list of words (spaces around commas ignored).
  std::vector<std::string> get_list(const std::string& key, const std::string& fallback,
                                    std::string_view doc);

  // Throws ConfigError if any key was set that no getter read.
  void reject_unknown() const;

  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }
  // "scenarios/x.ini: [lin_ucb] alpha = 'abc'": where a key's value came from.
  std::string where(const std::string& key) const;
  const std::vector<KeyDoc>& described() const { return described_; }
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  const std::string* find(const std::string& key, std::string default_text, std::string range,
                          std::string_view doc);

  std::string name_;
  std::string source_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> origins_;
  std::map<std::string, bool> read_;
  std::vector<KeyDoc> described_;
};

// A whole scenario: sections by name, in a stable order.
class Scenario {
 public:
  explicit Scenario(std::string source = "<built-in defaults>") : source_(std::move(source)) {}
  // The section named `name`, created empty when the scenario has none.
  ConfigSection& section(const std::string& name);
  bool has_section(const std::string& name) const { return sections_.count(name) != 0; }
  // Applies "section.key=value" (as given to --set). Throws ConfigError on bad syntax.
  void apply_override(const std::string& assignment);
  // Throws ConfigError naming every section that is not in `known`.
  void reject_unknown_sections(const std::vector<std::string>& known) const;
  // Calls reject_unknown() on every section.
  void reject_unknown_keys() const;
  const std::string& source() const { return source_; }
  const std::map<std::string, ConfigSection>& sections() const { return sections_; }

 private:
  std::string source_;
  std::map<std::string, ConfigSection> sections_;
};

}  // namespace recloop
