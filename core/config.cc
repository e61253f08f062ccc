// SPDX-License-Identifier: Apache-2.0
#include "core/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "core/error.h"

namespace recloop {
namespace {

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string format_double(double value) {
  // Shortest text that reads back exactly (std::to_chars without a precision).
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += separator;
    out += words[i];
  }
  return out;
}

}  // namespace

ConfigSection::ConfigSection(std::string name, std::string source)
    : name_(std::move(name)), source_(std::move(source)) {}

void ConfigSection::set(const std::string& key, const std::string& value,
                        const std::string& origin) {
  values_[key] = trim(value);
  origins_[key] = origin.empty() ? source_ : origin;
  read_[key] = false;
}

std::string ConfigSection::where(const std::string& key) const {
  const auto origin = origins_.find(key);
  const auto value = values_.find(key);
  std::string out = (origin != origins_.end() ? origin->second : source_) + ": [" + name_ + "] " + key;
  if (value != values_.end()) out += " = '" + value->second + "'";
  return out;
}

const std::string* ConfigSection::find(const std::string& key, std::string default_text,
                                       std::string range, std::string_view doc) {
  const bool seen = std::any_of(described_.begin(), described_.end(),
                                [&](const KeyDoc& d) { return d.key == key; });
  if (!seen) described_.push_back({key, std::move(default_text), std::move(range), std::string(doc)});
  const auto it = values_.find(key);
  if (it == values_.end()) return nullptr;
  read_[key] = true;
  return &it->second;
}

double ConfigSection::get_double(const std::string& key, double fallback, double min, double max,
                                 std::string_view doc, bool min_exclusive) {
  std::string range(min_exclusive ? "(" : "[");
  range.append(format_double(min)).append(", ");
  range.append(std::isinf(max) ? std::string("inf)") : format_double(max) + "]");
  const std::string* text = find(key, format_double(fallback), range, doc);
  if (!text) return fallback;
  double value = 0.0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    throw ConfigError(where(key) + ": not a number");
  }
  const bool below = min_exclusive ? value <= min : value < min;
  if (below || value > max) throw ConfigError(where(key) + ": out of range " + range);
  return value;
}

long long ConfigSection::get_int(const std::string& key, long long fallback, long long min,
                                 long long max, std::string_view doc) {
  std::string range("[");
  range.append(std::to_string(min)).append(", ").append(std::to_string(max)).append("]");
  const std::string* text = find(key, std::to_string(fallback), range, doc);
  if (!text) return fallback;
  long long value = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end) throw ConfigError(where(key) + ": not a whole number");
  if (value < min || value > max) throw ConfigError(where(key) + ": out of range " + range);
  return value;
}

bool ConfigSection::get_bool(const std::string& key, bool fallback, std::string_view doc) {
  const std::string* text = find(key, fallback ? "true" : "false", "true or false", doc);
  if (!text) return fallback;
  if (*text == "true" || *text == "1" || *text == "yes") return true;
  if (*text == "false" || *text == "0" || *text == "no") return false;
  throw ConfigError(where(key) + ": expected true or false");
}

std::string ConfigSection::get_string(const std::string& key, const std::string& fallback,
                                      std::string_view doc) {
  const std::string* text = find(key, fallback, "text", doc);
  return text ? *text : fallback;
}

std::string ConfigSection::get_choice(const std::string& key, const std::string& fallback,
                                      const std::vector<std::string>& choices,
                                      std::string_view doc) {
  const std::string range = "one of: " + join(choices, ", ");
  const std::string* text = find(key, fallback, range, doc);
  if (!text) return fallback;
  if (std::find(choices.begin(), choices.end(), *text) == choices.end()) {
    throw ConfigError(where(key) + ": expected " + range);
  }
  return *text;
}

std::vector<std::string> ConfigSection::get_list(const std::string& key,
                                                 const std::string& fallback,
                                                 std::string_view doc) {
  const std::string* text = find(key, fallback, "comma-separated list", doc);
  const std::string& source = text ? *text : fallback;
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= source.size()) {
    const auto comma = source.find(',', start);
    const auto word = trim(std::string_view(source).substr(
        start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!word.empty()) words.push_back(word);
    else if (comma != std::string::npos || start != 0)
      throw ConfigError(where(key) + ": empty item in list");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return words;
}

void ConfigSection::reject_unknown() const {
  std::vector<std::string> unknown;
  for (const auto& [key, was_read] : read_) {
    if (!was_read) unknown.push_back(key);
  }
  if (unknown.empty()) return;
  std::vector<std::string> known;
  for (const auto& d : described_) known.push_back(d.key);
  const auto& first = unknown.front();
  const auto origin = origins_.find(first);
  throw ConfigError((origin != origins_.end() ? origin->second : source_) + ": [" + name_ +
                    "] unknown key" + (unknown.size() > 1 ? "s '" : " '") + join(unknown, "', '") +
                    "' (known: " + (known.empty() ? "none" : join(known, ", ")) + ")");
}

ConfigSection& Scenario::section(const std::string& name) {
  auto it = sections_.find(name);
  if (it == sections_.end()) it = sections_.emplace(name, ConfigSection(name, source_)).first;
  return it->second;
}

void Scenario::apply_override(const std::string& assignment) {
  const auto equals = assignment.find('=');
  const auto dot = assignment.find('.');
  if (equals == std::string::npos || dot == std::string::npos || dot > equals || dot == 0 ||
      dot + 1 == equals) {
    throw ConfigError("--set '" + assignment + "': expected section.key=value");
  }
  section(trim(assignment.substr(0, dot)))
      .set(trim(assignment.substr(dot + 1, equals - dot - 1)), assignment.substr(equals + 1),
           "--set");
}

void Scenario::reject_unknown_sections(const std::vector<std::string>& known) const {
  for (const auto& [name, section] : sections_) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw ConfigError(source_ + ": unknown section [" + name + "] (known: " + join(known, ", ") +
                        ")");
    }
  }
}

void Scenario::reject_unknown_keys() const {
  for (const auto& [name, section] : sections_) section.reject_unknown();
}

}  // namespace recloop
