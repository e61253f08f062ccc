// SPDX-License-Identifier: Apache-2.0
// Request fields after the Azure Personalizer Rank API; see rank_request.h.
#include "feedback/rank_request.h"

#include "core/error.h"
#include "core/rng.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <utility>

namespace recloop {
namespace {

using nlohmann::json;

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

}  // namespace recloop
