// SPDX-License-Identifier: Apache-2.0
#include "logging/slate_log.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/codec.h"
#include "core/error.h"
#include "logging/event_log.h"
#include "logging/sqlite_statement.h"

namespace recloop {
namespace {

// Every decision with its reward, if any, in the order decisions were stored.
constexpr std::string_view kSlotRows =
    "SELECT d.event_id, d.policy, d.action, d.item, d.slot, d.probability, d.conditional,"
    " d.context, r.reward FROM decisions AS d LEFT JOIN rewards AS r ON r.event_id = d.event_id";

// The ranking id and slot of "<id>/<k>" when k is a plain decimal (no sign,
// no leading zero) equal to the stored slot; nullopt otherwise.
std::optional<std::string_view> ranking_id(std::string_view event_id, std::int64_t slot) {
  const auto slash = event_id.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view digits = event_id.substr(slash + 1);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  std::uint32_t k = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (std::int64_t{k} != slot) return std::nullopt;
  return event_id.substr(0, slash);
}

// A ranking while its slots are being collected.
struct PartialSlate {
  LoggedSlate slate;
  std::string context_blob;  // slot rows must all carry these bytes
  std::vector<std::optional<LoggedSlot>> slots;
  bool missing_reward = false;
};

}  // namespace

double LoggedSlate::probability() const {
  double p = 1.0;
  for (const LoggedSlot& s : slots) p *= s.conditional;
  return p;
}

std::vector<LoggedSlate> read_slates(const std::string& path, const std::string& policy,
                                     SlateLogSummary* summary) {
  { EventLog check(path); }  // schema check, migration of older versions
  SqliteDatabase db(path);
  std::string sql(kSlotRows);
  if (!policy.empty()) sql += " WHERE d.policy = ?1";
  sql += " ORDER BY d.seq";
  SqliteStatement rows(db, sql);
  StatementReset reset(rows);
  if (!policy.empty()) rows.bind_text(1, policy);

  auto corrupt = [&](std::string_view event_id, std::string_view what) {
    return Error("event log '" + path + "': event '" + std::string(event_id) + "': " +
                 std::string(what));
  };

  SlateLogSummary counts;
  std::vector<PartialSlate> partial;
  std::unordered_map<std::string, std::size_t> index;
  while (rows.step()) {
    const std::string_view event_id = rows.column_text(0);
    const std::int64_t slot = rows.column_int64(4);
    const auto id = ranking_id(event_id, slot);
    if (!id) {
      ++counts.other_decisions;
      continue;
    }
    auto [it, is_new] = index.try_emplace(std::string(*id), partial.size());
    if (is_new) {
      PartialSlate& p = partial.emplace_back();
      p.slate.event_id.assign(*id);
      p.slate.policy.assign(rows.column_text(1));
      p.context_blob.assign(rows.column_blob(7));
      auto context = decode_context(p.context_blob);
      if (!context) throw corrupt(event_id, "corrupt context column");
      p.slate.context = std::move(*context);
    }
    PartialSlate& p = partial[it->second];
    if (rows.column_text(1) != p.slate.policy) {
      throw corrupt(event_id, "policy '" + std::string(rows.column_text(1)) +
                                  "' differs from the ranking's first slot ('" + p.slate.policy +
                                  "')");
    }
    if (rows.column_blob(7) != p.context_blob) {
      throw corrupt(event_id, "context differs from the ranking's first slot");
    }
    if (static_cast<std::uint64_t>(slot) >= p.slate.context.size()) {
      throw corrupt(event_id, "slot " + std::to_string(slot) + " of a request with " +
                                  std::to_string(p.slate.context.size()) + " candidates");
    }
    if (rows.column_is_null(8)) {
      p.missing_reward = true;
      continue;
    }
    const std::int64_t action = rows.column_int64(2);
    LoggedSlot s;
    if (action < 0 || static_cast<std::uint64_t>(action) >= p.slate.context.size()) {
      throw corrupt(event_id, "corrupt action column");
    }
    s.action = static_cast<ActionId>(action);
    s.item = static_cast<ItemId>(rows.column_int64(3));
    if (s.item != p.slate.context.items[s.action]) throw corrupt(event_id, "corrupt item column");
    s.marginal = rows.column_double(5);
    if (!(s.marginal > 0.0 && s.marginal <= 1.0)) {
      throw corrupt(event_id, "corrupt probability column");
    }
    s.conditional = logged_conditional(static_cast<std::uint32_t>(slot), s.marginal,
                                       rows.column_double(6));
    if (!(s.conditional >= 0.0 && s.conditional <= 1.0)) {
      throw corrupt(event_id, "corrupt conditional column");
    }
    s.reward = rows.column_double(8);
    const auto k = static_cast<std::size_t>(slot);
    if (k >= p.slots.size()) p.slots.resize(k + 1);
    p.slots[k] = s;
  }

  std::vector<LoggedSlate> slates;
  slates.reserve(partial.size());
  for (PartialSlate& p : partial) {
    bool complete = !p.missing_reward;
    for (const auto& s : p.slots) complete = complete && s.has_value();
    if (!complete || p.slots.empty()) {
      ++counts.incomplete;
      continue;
    }
    bool unknown = false;
    for (const auto& s : p.slots) {
      p.slate.slots.push_back(*s);
      unknown = unknown || s->conditional == 0.0;
    }
    counts.unknown_conditionals += unknown;
    slates.push_back(std::move(p.slate));
  }
  counts.slates = slates.size();
  if (summary) *summary = counts;
  return slates;
}

}  // namespace recloop
