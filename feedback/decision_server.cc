// SPDX-License-Identifier: Apache-2.0
// Frontend/backend/worker layout after zguide ch. 3 ("Multithreaded Server");
// request and reply fields after the Azure Personalizer Rank API, whose
// "rewardActionId" and "ranking" an application can use unchanged.
#include "feedback/decision_server.h"

#include "core/error.h"
#include "core/rng.h"
#include "feedback/client.h"

#include <unistd.h>
#include <zmq_addon.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iterator>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <utility>

namespace recloop {
namespace {

using nlohmann::json;

// Bounds what a peer can make the server allocate: a request over
// max_request_bytes but within this size is read and refused with an error
// reply; ZeroMQ drops the connection of a peer sending more.
constexpr std::int64_t kHardMessageLimit = std::int64_t{64} << 20;

std::string clipped(std::string_view text) {
  constexpr std::size_t kShown = 60;
  if (text.size() <= kShown) return std::string(text);
  return std::string(text.substr(0, kShown)) + "...";
}

// The value of one feature: a finite number or a boolean.
double feature_value(const json& value, const std::string& where, const std::string& key) {
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  if (!value.is_number()) {
    throw RequestError(where + " feature '" + key + "' is " + clipped(value.dump()) +
                       ", not a number");
  }
  const double number = value.get<double>();
  if (!std::isfinite(number)) {
    throw RequestError(where + " feature '" + key + "' is not finite");
  }
  return number;
}

// Merges an object, or an array of objects, into key -> value.
std::map<std::string, double> feature_map(const json& features, const std::string& where) {
  std::map<std::string, double> merged;
  auto add_object = [&](const json& object) {
    if (!object.is_object()) {
      throw RequestError(where + " features must be an object or an array of objects, not " +
                         clipped(object.dump()));
    }
    for (const auto& [key, value] : object.items()) {
      if (!merged.emplace(key, feature_value(value, where, key)).second) {
        throw RequestError(where + " feature '" + key + "' is given twice");
      }
    }
  };
  if (features.is_array()) {
    for (const auto& object : features) add_object(object);
  } else {
    add_object(features);
  }
  return merged;
}

void fill(const std::map<std::string, double>& features, const std::vector<std::string>& names,
          int dim, const std::string& where, Eigen::Ref<Eigen::VectorXd> out) {
  if (names.empty()) {
    if (features.size() != static_cast<std::size_t>(dim)) {
      throw RequestError(where + " has " + std::to_string(features.size()) + " features, the " +
                         "server expects " + std::to_string(dim));
    }
    Eigen::Index i = 0;
    for (const auto& [key, value] : features) out[i++] = value;  // std::map: byte-wise key order
    return;
  }
  out.setZero();
  std::size_t found = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto it = features.find(names[i]);
    if (it == features.end()) continue;
    out[static_cast<Eigen::Index>(i)] = it->second;
    ++found;
  }
  if (found != features.size()) {
    for (const auto& [key, value] : features) {
      if (std::find(names.begin(), names.end(), key) == names.end()) {
        throw RequestError(where + " feature '" + key + "' is not one the server knows");
      }
    }
  }
}

ItemId item_id(const json& id, std::size_t index) {
  const std::string where = "actions[" + std::to_string(index) + "].id";
  if (id.is_number_unsigned()) return id.get<std::uint64_t>();
  if (id.is_number_integer()) {
    throw RequestError(where + " " + id.dump() + " is negative");
  }
  if (!id.is_string()) {
    throw RequestError(where + " must be a string or a non-negative integer, not " +
                       clipped(id.dump()));
  }
  const auto& text = id.get_ref<const std::string&>();
  if (text.empty()) throw RequestError(where + " is empty");
  ItemId value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool digits = std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits && ec == std::errc() && end == text.data() + text.size()) return value;
  return fnv1a64(text);
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string error_reply(const std::string& message) {
  return json{{"error", message}}.dump();
}

// Thrown by FastRankParser at anything outside the usual form of a request;
// parse_rank_request then hands the text to the tree parser, which decides.
struct Unusual {};

// One pass over a request in the usual form (RFC 8259 grammar; strings plain
// ASCII without escapes; no key twice), straight into a RankRequest. Numbers
// become the doubles nlohmann::json would make of them: an integer token is
// converted from its integer value (so "-0" is +0.0), any other token rounded
// correctly (std::from_chars, as strtod).
class FastRankParser {
 public:
  FastRankParser(std::string_view text, const FeatureSchema& schema, RankParseBuffers& buffers)
      : p_(text.data()), end_(text.data() + text.size()), schema_(schema), buffers_(buffers) {}

  RankRequest parse() {
    RankRequest parsed;
    buffers_.columns.clear();
    buffers_.items.clear();
    expect('{');
    unsigned seen = 0;
    std::uint64_t slots = 0, step = 0;
    if (!eat('}')) {
      do {
        const std::string_view key = string();
        expect(':');
        const unsigned bit = 1u << field_index(key);
        if (seen & bit) throw Unusual{};
        seen |= bit;
        switch (bit) {
          case kEventId: {
            const std::string_view id = string();
            if (id.empty() || id.size() > kMaxRequestEventIdBytes) throw Unusual{};
            parsed.event_id = EventId(id);
            break;
          }
          case kContextFeatures:
            parsed.context.user.resize(schema_.user_dim);
            collect_features();
            fill(schema_.context_names, schema_.user_dim, parsed.context.user.data());
            break;
          case kActions: actions(parsed); break;
          case kSlots: slots = unsigned_integer(); break;
          case kBaselineAction: parsed.baseline = id_value(); break;
          case kSessionId: {
            const std::string_view session = string();
            if (session.empty() || session.size() > kMaxRequestEventIdBytes ||
                session.find('\x7F') != std::string_view::npos) {
              throw Unusual{};
            }
            parsed.session = std::string(session);
            break;
          }
          case kStep: step = unsigned_integer(); break;
          case kDeferActivation: parsed.deferred = boolean(); break;
          case kSkipLearning: parsed.skip_learning = boolean(); break;
        }
      } while (eat(','));
      expect('}');
    }
    skip_space();
    if (p_ != end_ || !(seen & kActions)) throw Unusual{};

    const std::size_t k = parsed.ids.size();
    if (!(seen & kContextFeatures)) {
      parsed.context.user.resize(schema_.user_dim);
      buffers_.features.clear();
      fill(schema_.context_names, schema_.user_dim, parsed.context.user.data());
    }
    parsed.context.actions.resize(schema_.action_dim, static_cast<Eigen::Index>(k));
    std::copy(buffers_.columns.begin(), buffers_.columns.end(), parsed.context.actions.data());
    buffers_.items = parsed.context.items;
    std::sort(buffers_.items.begin(), buffers_.items.end());
    if (std::adjacent_find(buffers_.items.begin(), buffers_.items.end()) != buffers_.items.end()) {
      throw Unusual{};
    }
    if (seen & kSlots) {
      if (slots < 1 || slots > k) throw Unusual{};
      parsed.slots = static_cast<std::size_t>(slots);
    }
    if (parsed.baseline &&
        std::find(parsed.ids.begin(), parsed.ids.end(), *parsed.baseline) == parsed.ids.end()) {
      throw Unusual{};
    }
    if (seen & kStep) {
      if (step > 0xFFFFFFFFu || parsed.session.empty()) throw Unusual{};
      parsed.step = static_cast<std::uint32_t>(step);
    }
    return parsed;
  }

 private:
  // Top-level fields, one bit each.
  enum : unsigned {
    kEventId = 1u << 0, kContextFeatures = 1u << 1, kActions = 1u << 2, kSlots = 1u << 3,
    kBaselineAction = 1u << 4, kSessionId = 1u << 5, kStep = 1u << 6,
    kDeferActivation = 1u << 7, kSkipLearning = 1u << 8,
  };
  static unsigned field_index(std::string_view key) {
    static constexpr std::array<std::string_view, 9> kFields{
        "eventId", "contextFeatures", "actions", "slots",       "baselineAction",
        "sessionId", "step",          "deferActivation",        "skipLearning"};
    for (unsigned i = 0; i < kFields.size(); ++i) {
      if (kFields[i] == key) return i;
    }
    throw Unusual{};
  }

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    skip_space();
    if (p_ != end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) throw Unusual{};
  }
  char peek() {
    skip_space();
    if (p_ == end_) throw Unusual{};
    return *p_;
  }
  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // A string of printable ASCII without escapes, as it stands in the text.
  std::string_view string() {
    expect('"');
    const char* start = p_;
    while (p_ != end_) {
      const auto byte = static_cast<unsigned char>(*p_);
      if (byte == '"') return std::string_view(start, static_cast<std::size_t>(p_++ - start));
      if (byte == '\\' || byte < 0x20 || byte >= 0x80) break;
      ++p_;
    }
    throw Unusual{};
  }

  // A number token: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  struct Token {
    std::string_view text;
    bool integer = true;  // no fraction or exponent
  };
  Token number() {
    skip_space();
    const char* start = p_;
    auto digit = [this] { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; };
    auto digits = [&] {
      if (!digit()) throw Unusual{};
      while (digit()) ++p_;
    };
    Token token;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ != end_ && *p_ == '0') {
      ++p_;
    } else {
      digits();
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      digits();
      token.integer = false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      digits();
      token.integer = false;
    }
    token.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return token;
  }

  std::uint64_t unsigned_integer() {
    if (peek() == '-') throw Unusual{};
    const Token token = number();
    std::uint64_t value = 0;
    const auto [end, ec] =
        std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
    if (!token.integer || ec != std::errc() || end != token.text.data() + token.text.size()) {
      throw Unusual{};
    }
    return value;
  }

  bool boolean() {
    skip_space();
    if (literal("true")) return true;
    if (literal("false")) return false;
    throw Unusual{};
  }

  // A feature value: a finite number, or a boolean (true = 1).
  double value() {
    const char c = peek();
    if (c == 't' || c == 'f') return boolean() ? 1.0 : 0.0;
    const Token token = number();
    const char* first = token.text.data();
    const char* last = first + token.text.size();
    if (token.integer) {
      // nlohmann::json keeps an integer token that fits as an integer.
      const bool negative = *first == '-';
      std::uint64_t magnitude = 0;
      const auto [end, ec] = std::from_chars(first + (negative ? 1 : 0), last, magnitude);
      if (ec == std::errc() && end == last &&
          (!negative || magnitude <= (std::uint64_t{1} << 63))) {
        if (!negative || magnitude == 0) return static_cast<double>(magnitude);
        return -static_cast<double>(magnitude);
      }
    }
    double number = 0.0;
    const auto [end, ec] = std::from_chars(first, last, number);
    if (ec != std::errc() || end != last || !std::isfinite(number)) throw Unusual{};
    return number;
  }

  // A candidate id as nlohmann::json: a string or a non-negative integer.
  json id_value() {
    if (peek() == '"') return json(std::string(string()));
    return json(unsigned_integer());
  }

  // Reads an object or an array of objects of features into buffers_.features.
  void collect_features() {
    buffers_.features.clear();
    if (peek() == '[') {
      ++p_;
      if (eat(']')) return;
      do {
        feature_object();
      } while (eat(','));
      expect(']');
    } else {
      feature_object();
    }
  }
  void feature_object() {
    expect('{');
    if (eat('}')) return;
    do {
      const std::string_view key = string();
      expect(':');
      buffers_.features.emplace_back(key, value());
    } while (eat(','));
    expect('}');
  }

  // buffers_.features into out[0 .. dim): see FeatureSchema.
  void fill(const std::vector<std::string>& names, int dim, double* out) {
    auto& features = buffers_.features;
    std::sort(features.begin(), features.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (std::adjacent_find(features.begin(), features.end(), [](const auto& a, const auto& b) {
          return a.first == b.first;
        }) != features.end()) {
      throw Unusual{};
    }
    if (names.empty()) {
      if (features.size() != static_cast<std::size_t>(dim)) throw Unusual{};
      for (std::size_t i = 0; i < features.size(); ++i) out[i] = features[i].second;
      return;
    }
    std::size_t found = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string_view name = names[i];
      const auto it = std::lower_bound(features.begin(), features.end(), name,
                                       [](const auto& a, std::string_view b) { return a.first < b; });
      if (it != features.end() && it->first == name) {
        out[i] = it->second;
        ++found;
      } else {
        out[i] = 0.0;
      }
    }
    if (found != features.size()) throw Unusual{};
  }

  void actions(RankRequest& parsed) {
    expect('[');
    if (eat(']')) throw Unusual{};
    const auto dim = static_cast<std::size_t>(schema_.action_dim);
    do {
      expect('{');
      bool has_id = false, has_features = false;
      if (!eat('}')) {
        do {
          const std::string_view key = string();
          expect(':');
          if (key == "id" && !has_id) {
            has_id = true;
            parsed.ids.push_back(id_value());
          } else if (key == "features" && !has_features) {
            has_features = true;
            collect_features();
            buffers_.columns.resize(buffers_.columns.size() + dim);
            fill(schema_.action_names, schema_.action_dim, buffers_.columns.data() + buffers_.columns.size() - dim);
          } else {
            throw Unusual{};
          }
        } while (eat(','));
        expect('}');
      }
      if (!has_id) throw Unusual{};
      if (!has_features) {
        buffers_.features.clear();
        buffers_.columns.resize(buffers_.columns.size() + dim);
        fill(schema_.action_names, schema_.action_dim, buffers_.columns.data() + buffers_.columns.size() - dim);
      }
      const json& id = parsed.ids.back();
      if (id.is_string()) {
        const auto& text = id.get_ref<const std::string&>();
        if (text.empty()) throw Unusual{};
        ItemId number = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        const bool digits =
            std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        parsed.context.items.push_back(digits && ec == std::errc() && end == text.data() + text.size()
                                           ? number
                                           : fnv1a64(text));
      } else {
        parsed.context.items.push_back(id.get<std::uint64_t>());
      }
    } while (eat(','));
    expect(']');
  }

  const char* p_;
  const char* end_;
  const FeatureSchema& schema_;
  RankParseBuffers& buffers_;
};

// JSON text written as nlohmann::json::dump() writes it (ensure_ascii off).
void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          std::array<char, 7> escaped{};
          std::snprintf(escaped.data(), escaped.size(), "\\u%04x", static_cast<unsigned>(c));
          out.append(escaped.data(), 6);
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_unsigned(std::string& out, std::uint64_t value) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), end);
}

// Layout after nlohmann's dtoa_impl::format_buffer (see append_json_double).
void append_double_impl(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  if (value == 0.0) {
    out += std::signbit(value) ? "-0.0" : "0.0";
    return;
  }
  std::array<char, 40> buffer{};
  const auto [end, ec] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
  const char* p = buffer.data();
  if (*p == '-') {
    out += '-';
    ++p;
  }
  std::array<char, 20> digits{};
  int k = 0;
  for (; p != end && *p != 'e'; ++p) {
    if (*p != '.') digits[static_cast<std::size_t>(k++)] = *p;
  }
  int exponent = 0;
  std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exponent);
  const int n = exponent + 1;  // position of the decimal point after the first digit
  const char* d = digits.data();
  constexpr int kMaxExp = 15, kMinExp = -4;
  if (k <= n && n <= kMaxExp) {
    out.append(d, static_cast<std::size_t>(k));
    out.append(static_cast<std::size_t>(n - k), '0');
    out += ".0";
  } else if (0 < n && n <= kMaxExp) {
    out.append(d, static_cast<std::size_t>(n));
    out += '.';
    out.append(d + n, static_cast<std::size_t>(k - n));
  } else if (kMinExp < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(d, static_cast<std::size_t>(k));
  } else {
    out += d[0];
    if (k > 1) {
      out += '.';
      out.append(d + 1, static_cast<std::size_t>(k - 1));
    }
    const int e = n - 1;
    out += e < 0 ? "e-" : "e+";
    const int magnitude = e < 0 ? -e : e;
    if (magnitude < 10) out += '0';
    append_unsigned(out, static_cast<std::uint64_t>(magnitude));
  }
}

// A candidate id as given: a string or an unsigned integer from either parser;
// anything else (a baseline 17.0 equal to id 17) as nlohmann writes it.
void append_id(std::string& out, const json& id) {
  if (id.is_string()) {
    append_string(out, id.get_ref<const std::string&>());
  } else if (id.is_number_unsigned()) {
    append_unsigned(out, id.get<std::uint64_t>());
  } else {
    out += id.dump();
  }
}

// `"key":` with the comma before it unless it is the object's first.
void append_key(std::string& out, std::string_view key) {
  const char last = out.back();
  if (last != '{' && last != '[') out += ',';
  out += '"';
  out += key;
  out += "\":";
}

}  // namespace

FeatureSchema FeatureSchema::from_names(std::vector<std::string> context_names,
                                        std::vector<std::string> action_names, int user_dim,
                                        int action_dim) {
  for (const auto* names : {&context_names, &action_names}) {
    std::set<std::string> seen;
    for (const auto& name : *names) {
      if (name.empty()) throw ConfigError("feature list holds an empty name");
      if (!seen.insert(name).second) throw ConfigError("feature '" + name + "' is listed twice");
    }
  }
  FeatureSchema schema;
  schema.user_dim = context_names.empty() ? user_dim : static_cast<int>(context_names.size());
  schema.action_dim = action_names.empty() ? action_dim : static_cast<int>(action_names.size());
  schema.context_names = std::move(context_names);
  schema.action_names = std::move(action_names);
  if (schema.user_dim < 0 || schema.action_dim < 0) {
    throw ConfigError("feature dimensions must be >= 0");
  }
  return schema;
}

RankRequest parse_rank_request_tree(std::string_view text, const FeatureSchema& schema) {
  json request = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) throw RequestError("request is not valid JSON");
  if (!request.is_object()) throw RequestError("request must be a JSON object");
  static const std::set<std::string> kKnown{"eventId",   "contextFeatures", "actions",
                                            "slots",     "baselineAction",  "sessionId",
                                            "step",      "deferActivation", "skipLearning"};
  for (const auto& [key, value] : request.items()) {
    if (kKnown.count(key) == 0) throw RequestError("unknown field '" + clipped(key) + "'");
  }

  RankRequest parsed;
  if (const auto it = request.find("eventId"); it != request.end()) {
    if (!it->is_string()) throw RequestError("eventId must be a string");
    const auto& id = it->get_ref<const std::string&>();
    if (id.empty() || id.size() > kMaxRequestEventIdBytes) {
      throw RequestError("eventId must have 1 .. " + std::to_string(kMaxRequestEventIdBytes) +
                         " bytes, has " + std::to_string(id.size()));
    }
    parsed.event_id = id;
  }

  const auto actions = request.find("actions");
  if (actions == request.end() || !actions->is_array() || actions->empty()) {
    throw RequestError("actions must be a non-empty array");
  }
  const std::size_t k = actions->size();
  Context& context = parsed.context;
  context.user.resize(schema.user_dim);
  if (const auto it = request.find("contextFeatures"); it != request.end()) {
    fill(feature_map(*it, "contextFeatures"), schema.context_names, schema.user_dim,
         "contextFeatures", context.user);
  } else {
    fill({}, schema.context_names, schema.user_dim, "contextFeatures", context.user);
  }
  context.actions.resize(schema.action_dim, static_cast<Eigen::Index>(k));
  context.items.reserve(k);
  parsed.ids.reserve(k);
  std::set<ItemId> seen;
  for (std::size_t a = 0; a < k; ++a) {
    const json& action = (*actions)[a];
    const std::string where = "actions[" + std::to_string(a) + "]";
    if (!action.is_object()) throw RequestError(where + " must be an object");
    const auto id = action.find("id");
    if (id == action.end()) throw RequestError(where + " has no id");
    const ItemId item = item_id(*id, a);
    if (!seen.insert(item).second) {
      throw RequestError(where + ".id " + clipped(id->dump()) + " repeats an earlier candidate");
    }
    for (const auto& [key, value] : action.items()) {
      if (key != "id" && key != "features") {
        throw RequestError(where + " has unknown field '" + clipped(key) + "'");
      }
    }
    const auto features = action.find("features");
    fill(features == action.end() ? std::map<std::string, double>{}
                                  : feature_map(*features, where),
         schema.action_names, schema.action_dim, where, context.actions.col(static_cast<Eigen::Index>(a)));
    context.items.push_back(item);
    parsed.ids.push_back(*id);
  }

  if (const auto it = request.find("slots"); it != request.end()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() < 1 || it->get<std::uint64_t>() > k) {
      throw RequestError("slots must be an integer in 1 .. " + std::to_string(k) +
                         " (the number of actions), not " + clipped(it->dump()));
    }
    parsed.slots = static_cast<std::size_t>(it->get<std::uint64_t>());
  }
  if (const auto it = request.find("baselineAction"); it != request.end()) {
    if (std::find(parsed.ids.begin(), parsed.ids.end(), *it) == parsed.ids.end()) {
      throw RequestError("baselineAction " + clipped(it->dump()) + " is not one of the actions");
    }
    parsed.baseline = *it;
  }
  if (const auto it = request.find("sessionId"); it != request.end()) {
    if (!it->is_string()) throw RequestError("sessionId must be a string, not " + clipped(it->dump()));
    const auto& session = it->get_ref<const std::string&>();
    if (session.empty() || session.size() > kMaxRequestEventIdBytes) {
      throw RequestError("sessionId must have 1 .. " + std::to_string(kMaxRequestEventIdBytes) +
                         " bytes, has " + std::to_string(session.size()));
    }
    if (std::any_of(session.begin(), session.end(), [](char c) {
          const auto byte = static_cast<unsigned char>(c);
          return byte < 0x20 || byte == 0x7F;
        })) {
      throw RequestError("sessionId holds a control character");
    }
    parsed.session = session;
  }
  if (const auto it = request.find("step"); it != request.end()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 0xFFFFFFFFu) {
      throw RequestError("step must be an integer in 0 .. 4294967295, not " + clipped(it->dump()));
    }
    if (parsed.session.empty()) throw RequestError("step is given without a sessionId");
    parsed.step = static_cast<std::uint32_t>(it->get<std::uint64_t>());
  }
  for (const auto& [key, flag] : {std::pair{"deferActivation", &parsed.deferred},
                                  std::pair{"skipLearning", &parsed.skip_learning}}) {
    if (const auto it = request.find(key); it != request.end()) {
      if (!it->is_boolean()) {
        throw RequestError(std::string(key) + " must be true or false, not " + clipped(it->dump()));
      }
      *flag = it->get<bool>();
    }
  }
  return parsed;
}

void append_json_double(std::string& out, double value) { append_double_impl(out, value); }

RankRequest parse_rank_request(std::string_view text, const FeatureSchema& schema,
                               RankParseBuffers& buffers) {
  try {
    return FastRankParser(text, schema, buffers).parse();
  } catch (const Unusual&) {
    return parse_rank_request_tree(text, schema);
  }
}

RankRequest parse_rank_request(std::string_view text, const FeatureSchema& schema) {
  RankParseBuffers buffers;
  return parse_rank_request(text, schema, buffers);
}

DecisionServer::DecisionServer(zmq::context_t& zmq, DecisionServerOptions options,
                               FeatureSchema schema, PolicySnapshot first)
    : zmq_(zmq),
      options_(std::move(options)),
      schema_(std::move(schema)),
      frontend_(zmq, zmq::socket_type::router) {
  if (options_.threads < 1) throw std::invalid_argument("DecisionServer: threads must be >= 1");
  if (options_.poll_timeout_ms < 1 || options_.flush_timeout_ms < 0 ||
      options_.resend_timeout_ms < 1) {
    throw std::invalid_argument("DecisionServer: timeouts out of range");
  }
  if (options_.max_request_bytes < 2) {
    throw std::invalid_argument("DecisionServer: max_request_bytes must be >= 2");
  }
  if (!first.policy) throw std::invalid_argument("DecisionServer: no policy");
  snapshot_ = std::make_shared<const PolicySnapshot>(std::move(first));

  // An identifier, not a random draw: the start time and process id make the
  // prefix of generated event ids differ between servers and restarts.
  const auto started = std::chrono::system_clock::now().time_since_epoch().count();
  const std::uint64_t tag =
      splitmix64(static_cast<std::uint64_t>(started) ^ (static_cast<std::uint64_t>(::getpid()) << 40));
  std::array<char, 17> hex{};
  std::snprintf(hex.data(), hex.size(), "%016llx", static_cast<unsigned long long>(tag));
  id_prefix_ = hex.data();
  backend_endpoint_ = "inproc://recloop-decision-workers-" + id_prefix_;

  frontend_.set(zmq::sockopt::linger, 0);
  frontend_.set(zmq::sockopt::maxmsgsize,
                std::max<std::int64_t>(kHardMessageLimit,
                                       static_cast<std::int64_t>(options_.max_request_bytes) + 4096));
  if (options_.curve) apply_server_keys(zmq, frontend_, *options_.curve, "decision-server");
  try {
    frontend_.bind(options_.endpoint);
  } catch (const zmq::error_t& e) {
    throw Error("decision server: cannot bind '" + options_.endpoint + "': " + e.what());
  }
  endpoint_ = frontend_.get(zmq::sockopt::last_endpoint);
}

DecisionServer::~DecisionServer() = default;

void DecisionServer::publish(PolicySnapshot next) {
  if (!next.policy) throw std::invalid_argument("DecisionServer::publish: no policy");
  auto fresh = std::make_shared<const PolicySnapshot>(std::move(next));
  {
    std::lock_guard<std::mutex> lock(publish_mutex_);
    snapshot_.swap(fresh);
    publications_.fetch_add(1, std::memory_order_release);
  }
  swaps_.fetch_add(1, std::memory_order_relaxed);
}  // `fresh` (the old snapshot) is released here, outside the lock

std::shared_ptr<const PolicySnapshot> DecisionServer::snapshot() const {
  std::lock_guard<std::mutex> lock(publish_mutex_);
  return snapshot_;
}

const PolicySnapshot& DecisionServer::current(SnapshotView& view) const {
  if (publications_.load(std::memory_order_acquire) != view.publication) {
    std::lock_guard<std::mutex> lock(publish_mutex_);
    view.snapshot = snapshot_;
    view.publication = publications_.load(std::memory_order_relaxed);
  }
  return *view.snapshot;
}

DecisionServerStats DecisionServer::stats() const {
  DecisionServerStats s;
  s.requests = requests_.load();
  s.answered = answered_.load();
  s.rejected = rejected_.load();
  s.failed = failed_.load();
  s.forwarded = forwarded_.load();
  s.unacknowledged = unacknowledged_.load();
  s.swaps = swaps_.load();
  s.apprentice_decisions = apprentice_decisions_.load();
  s.apprentice_agreements = apprentice_agreements_.load();
  s.explored = explored_.load();
  s.probability_sum = probability_sum_.load();
  return s;
}

void DecisionServer::note_rejection(std::string_view reason) {
  if (!options_.logger.enabled(LogLevel::warn)) return;
  const std::int64_t now = now_us();
  std::int64_t last = last_rejection_log_us_.load(std::memory_order_relaxed);
  if ((last != 0 && now - last < 1'000'000) ||
      !last_rejection_log_us_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    unlogged_rejections_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::uint64_t unlogged = unlogged_rejections_.exchange(0, std::memory_order_relaxed);
  options_.logger.warn("rejected request", {{"reason", std::string(reason)},
                                            {"not_logged_since", std::to_string(unlogged)}});
}

EventId DecisionServer::next_event_id() {
  return id_prefix_ + "-" + std::to_string(next_id_.fetch_add(1, std::memory_order_relaxed));
}

std::string DecisionServer::answer(std::string_view body, std::vector<LoggedDecision>& decisions) {
  SnapshotView view;
  RankParseBuffers buffers;
  std::string reply;
  answer(body, decisions, view, buffers, reply);
  return reply;
}

void DecisionServer::answer(std::string_view body, std::vector<LoggedDecision>& decisions,
                            SnapshotView& view, RankParseBuffers& buffers, std::string& reply) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  reply.clear();
  RankRequest request;
  try {
    if (body.size() > options_.max_request_bytes) {
      throw RequestError("request has " + std::to_string(body.size()) + " bytes, more than the " +
                         std::to_string(options_.max_request_bytes) + " allowed");
    }
    request = parse_rank_request(body, schema_, buffers);
  } catch (const RequestError& e) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    note_rejection(e.what());
    reply = error_reply(e.what());
    return;
  }
  // One look: the whole request decides with this snapshot, which `view`
  // keeps alive until this worker sees the next publication.
  const PolicySnapshot* snapshot = &current(view);
  if (request.slots && !snapshot->ranker) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    note_rejection("slots without a ranker");
    reply = error_reply("slots: this server has no ranker (start it with --ranker)");
    return;
  }
  const EventId event_id = request.event_id ? *request.event_id : next_event_id();
  const std::int64_t timestamp = now_us();
  // The chosen action (slot 0's for a ranking) and its pmf, for the exploration counters.
  bool explored = false;
  double logged_probability = 0.0;
  auto note_choice = [&](const Decision& decision) {
    if (decision.action < decision.pmf.size()) {
      explored = decision.pmf[decision.action] <
                 *std::max_element(decision.pmf.begin(), decision.pmf.end());
    }
    logged_probability = decision.probability;
  };
  // The request's session and flags go on every decision it logs.
  auto mark = [&request](Decision& decision) {
    decision.session = request.session;
    decision.step = request.step;
    decision.deferred = request.deferred;
    decision.skip_learning = request.skip_learning;
  };
  // The reply's fields in byte-wise key order, as nlohmann::json wrote them
  // (its objects are std::maps), so that replies stay byte-for-byte the same.
  auto head = [&](bool apprentice) {
    reply += '{';
    if (apprentice) {
      append_key(reply, "apprentice");
      reply += "true";
    }
    if (request.baseline) {
      append_key(reply, "baselineAction");
      append_id(reply, *request.baseline);
    }
    append_key(reply, "eventId");
    append_string(reply, event_id);
    append_key(reply, "modelVersion");
    append_unsigned(reply, snapshot->version);
  };
  bool apprenticed = false, agreed = false;
  try {
    if (!request.slots) {
      Decision decision = snapshot->policy->choose(request.context, event_id, options_.run_seed);
      decision.model_version = snapshot->version;
      mark(decision);
      const ActionId policy_action = decision.action;
      if (options_.apprentice && request.baseline) {
        // Apprentice mode (header): serve and log the baseline with its real
        // probability under the deterministic rule that chose it, 1; the
        // policy's own draw is only reported and counted.
        const auto baseline = static_cast<ActionId>(
            std::find(request.ids.begin(), request.ids.end(), *request.baseline) -
            request.ids.begin());
        apprenticed = true;
        agreed = decision.action == baseline;
        decision.action = baseline;
        decision.item = request.context.items[baseline];
        decision.probability = 1.0;
        decision.pmf.assign(request.ids.size(), 0.0);
        decision.pmf[baseline] = 1.0;
        decision.policy = kBaselinePolicy;
      }
      std::vector<std::size_t>& order = buffers.order;
      order.resize(request.ids.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      const std::size_t chosen = decision.action;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (a == chosen) return b != chosen;
        if (b == chosen) return false;
        return decision.pmf[a] > decision.pmf[b];
      });
      head(apprenticed);
      append_key(reply, "policy");
      append_string(reply, decision.policy);
      if (apprenticed) {
        append_key(reply, "policyActionId");
        append_id(reply, request.ids[policy_action]);
      }
      append_key(reply, "ranking");
      reply += '[';
      for (const std::size_t a : order) {
        if (reply.back() != '[') reply += ',';
        reply += '{';
        append_key(reply, "id");
        append_id(reply, request.ids[a]);
        append_key(reply, "probability");
        append_json_double(reply, decision.pmf[a]);
        reply += '}';
      }
      reply += ']';
      append_key(reply, "rewardActionId");
      append_id(reply, request.ids[decision.action]);
      reply += '}';
      note_choice(decision);
      decisions.push_back({std::move(decision), std::move(request.context), {}, timestamp});
    } else {
      const Ranking drawn =
          snapshot->ranker->rank(request.context, *request.slots, event_id, options_.run_seed);
      head(false);
      append_key(reply, "policy");
      append_string(reply, drawn.policy);
      append_key(reply, "ranking");
      reply += '[';
      for (std::size_t k = 0; k < drawn.actions.size(); ++k) {
        Decision decision = slot_decision(drawn, k);
        decision.model_version = snapshot->version;
        mark(decision);
        if (k == 0) note_choice(decision);
        if (k > 0) reply += ',';
        reply += '{';
        append_key(reply, "conditional");
        append_json_double(reply, decision.conditional);
        append_key(reply, "eventId");
        append_string(reply, decision.event_id);
        append_key(reply, "id");
        append_id(reply, request.ids[decision.action]);
        append_key(reply, "probability");
        append_json_double(reply, decision.probability);
        reply += '}';
        decisions.push_back({std::move(decision), request.context, {}, timestamp});
      }
      reply += ']';
      append_key(reply, "rewardActionId");
      append_id(reply, request.ids[drawn.actions.front()]);
      append_key(reply, "slots");
      append_unsigned(reply, drawn.actions.size());
      reply += '}';
    }
  } catch (const std::exception& e) {
    // A policy refusing the context (e.g. a model of another dimension) or a
    // contract check failing: the request cannot be answered, the server goes on.
    decisions.clear();
    failed_.fetch_add(1, std::memory_order_relaxed);
    reply = error_reply(std::string("decision failed: ") + e.what());
    return;
  }
  answered_.fetch_add(1, std::memory_order_relaxed);
  if (apprenticed) {
    apprentice_decisions_.fetch_add(1, std::memory_order_relaxed);
    if (agreed) apprentice_agreements_.fetch_add(1, std::memory_order_relaxed);
  }
  if (explored) explored_.fetch_add(1, std::memory_order_relaxed);
  probability_sum_.fetch_add(logged_probability, std::memory_order_relaxed);
}

void DecisionServer::work(const std::atomic<bool>& stop) {
  zmq::socket_t socket(zmq_, zmq::socket_type::rep);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(backend_endpoint_);
  std::unique_ptr<FeedbackClient> client;
  if (!options_.collector_endpoint.empty()) {
    client = std::make_unique<FeedbackClient>(
        zmq_, options_.collector_endpoint,
        ClientOptions{.resend_timeout_ms = options_.resend_timeout_ms, .curve = options_.collector_curve});
  }
  std::vector<LoggedDecision> decisions;
  std::vector<zmq::message_t> parts;
  SnapshotView view;
  RankParseBuffers buffers;  // reused by every request of this worker
  std::string reply;
  while (!stop.load()) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    int ready = 0;
    try {
      ready = zmq::poll(&item, 1, std::chrono::milliseconds(options_.poll_timeout_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    if (ready > 0 && (item.revents & ZMQ_POLLIN)) {
      parts.clear();
      if (!zmq::recv_multipart(socket, std::back_inserter(parts))) continue;
      decisions.clear();
      if (parts.size() != 1) {
        requests_.fetch_add(1, std::memory_order_relaxed);
        rejected_.fetch_add(1, std::memory_order_relaxed);
        note_rejection("request of " + std::to_string(parts.size()) + " message parts");
        reply = error_reply("a request is one message part holding JSON, not " +
                            std::to_string(parts.size()) + " parts");
      } else {
        answer(parts.front().to_string_view(), decisions, view, buffers, reply);
      }
      socket.send(zmq::buffer(reply), zmq::send_flags::none);
      if (client) {
        for (const auto& decision : decisions) client->send(decision);
        forwarded_.fetch_add(decisions.size(), std::memory_order_relaxed);
      }
    }
    if (client) client->poll(0);
  }
  if (client) {
    client->flush(options_.flush_timeout_ms);
    unacknowledged_.fetch_add(client->unacknowledged(), std::memory_order_relaxed);
  }
}

void DecisionServer::run(const std::atomic<bool>& stop) {
  zmq::socket_t backend(zmq_, zmq::socket_type::dealer);
  backend.set(zmq::sockopt::linger, 0);
  backend.bind(backend_endpoint_);

  // Workers stop on their own flag, raised after the frontend has stopped, so
  // none is left waiting on a backend that is gone.
  std::atomic<bool> stop_workers{false};
  std::atomic<bool> worker_failed{false};
  std::vector<std::thread> workers;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  workers.reserve(static_cast<std::size_t>(options_.threads));
  for (int t = 0; t < options_.threads; ++t) {
    workers.emplace_back([&] {
      try {
        work(stop_workers);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        worker_failed.store(true);
      }
    });
  }

  std::vector<zmq::message_t> parts;
  auto forward = [&parts](zmq::socket_t& from, zmq::socket_t& to) {
    parts.clear();
    if (!zmq::recv_multipart(from, std::back_inserter(parts), zmq::recv_flags::dontwait)) return;
    zmq::send_multipart(to, parts);
  };
  // A failed worker (say, a collector endpoint that cannot be used) stops the
  // server rather than leaving it to serve with fewer workers.
  while (!stop.load() && !worker_failed.load()) {
    std::array<zmq::pollitem_t, 2> items{{{frontend_.handle(), 0, ZMQ_POLLIN, 0},
                                          {backend.handle(), 0, ZMQ_POLLIN, 0}}};
    int ready = 0;
    try {
      ready = zmq::poll(items.data(), items.size(), std::chrono::milliseconds(options_.poll_timeout_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    if (ready <= 0) continue;
    if (items[0].revents & ZMQ_POLLIN) forward(frontend_, backend);
    if (items[1].revents & ZMQ_POLLIN) forward(backend, frontend_);
  }
  stop_workers.store(true);
  for (auto& worker : workers) worker.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace recloop
