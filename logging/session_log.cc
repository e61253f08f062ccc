// SPDX-License-Identifier: Apache-2.0
#include "logging/session_log.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

// Every session decision with its joined reward, if any, in the order decisions were stored.
constexpr std::string_view kSessionRows =
    "SELECT d.event_id, d.action, d.item, d.probability, d.pmf, d.context, d.truth, d.session,"
    " d.step, d.slot, r.reward FROM decisions AS d LEFT JOIN rewards AS r"
    " ON r.event_id = d.event_id WHERE d.session <> ''";

struct PendingStep {
  std::uint32_t step = 0;
  bool rewarded = false;
  TrajectoryStep data;
};

}  // namespace

std::vector<Trajectory> read_sessions(const std::string& path, const std::string& policy,
                                      SessionLogSummary* summary) {
  { EventLog check(path); }  // schema check, migration of older versions
  SessionLogSummary counts;
  SqliteDatabase db(path);
  {
    SqliteStatement other(db, policy.empty()
                                  ? "SELECT COUNT(*) FROM decisions WHERE session = ''"
                                  : "SELECT COUNT(*) FROM decisions WHERE session = '' AND policy = ?1");
    StatementReset reset(other);
    if (!policy.empty()) other.bind_text(1, policy);
    if (other.step()) counts.other_decisions = static_cast<std::size_t>(other.column_int64(0));
  }
  std::string sql(kSessionRows);
  if (!policy.empty()) sql += " AND d.policy = ?1";
  sql += " ORDER BY d.seq";
  SqliteStatement rows(db, sql);
  StatementReset reset(rows);
  if (!policy.empty()) rows.bind_text(1, policy);

  auto corrupt = [&](std::string_view event_id, std::string_view what) {
    return Error("event log '" + path + "': event '" + std::string(event_id) + "': " +
                 std::string(what));
  };

  std::vector<std::string> order;  // sessions by first stored decision
  std::unordered_map<std::string, std::vector<PendingStep>> sessions;
  std::vector<double> truth;
  while (rows.step()) {
    const std::string_view event_id = rows.column_text(0);
    if (rows.column_int64(9) != 0) {
      ++counts.ranking_slots;
      continue;
    }
    const std::int64_t step = rows.column_int64(8);
    if (step < 0 || step > std::numeric_limits<std::uint32_t>::max()) {
      throw corrupt(event_id, "corrupt step column");
    }
    PendingStep p;
    p.step = static_cast<std::uint32_t>(step);
    TrajectoryStep& s = p.data;
    s.event_id.assign(event_id);
    if (!decode_context_into(rows.column_blob(5), s.context)) {
      throw corrupt(event_id, "corrupt context column");
    }
    const std::int64_t action = rows.column_int64(1);
    if (action < 0 || static_cast<std::uint64_t>(action) >= s.context.size()) {
      throw corrupt(event_id, "corrupt action column");
    }
    s.action = static_cast<ActionId>(action);
    if (static_cast<ItemId>(rows.column_int64(2)) != s.context.items[s.action]) {
      throw corrupt(event_id, "corrupt item column");
    }
    s.probability = rows.column_double(3);
    if (!(s.probability > 0.0 && s.probability <= 1.0)) {
      throw corrupt(event_id, "corrupt probability column");
    }
    if (!decode_doubles_into(rows.column_blob(4), s.pmf) ||
        (!s.pmf.empty() && s.pmf.size() != s.context.size())) {
      throw corrupt(event_id, "corrupt pmf column");
    }
    if (!rows.column_is_null(6)) {
      if (!decode_doubles_into(rows.column_blob(6), truth) ||
          (!truth.empty() && truth.size() != s.context.size())) {
        throw corrupt(event_id, "corrupt truth column");
      }
      if (!truth.empty()) s.expected_reward = truth[s.action];
    }
    if (!rows.column_is_null(10)) {
      p.rewarded = true;
      s.reward = rows.column_double(10);
    }
    const std::string session(rows.column_text(7));
    auto [it, is_new] = sessions.try_emplace(session);
    if (is_new) order.push_back(session);
    it->second.push_back(std::move(p));
  }

  std::vector<Trajectory> out;
  out.reserve(order.size());
  for (const std::string& name : order) {
    std::vector<PendingStep>& steps = sessions[name];
    std::stable_sort(steps.begin(), steps.end(),
                     [](const PendingStep& a, const PendingStep& b) { return a.step < b.step; });
    for (std::size_t k = 1; k < steps.size(); ++k) {
      if (steps[k].step == steps[k - 1].step) {
        throw corrupt(steps[k].data.event_id,
                      "session '" + name + "' holds step " + std::to_string(steps[k].step) +
                          " twice (also event '" + steps[k - 1].data.event_id + "')");
      }
    }
    Trajectory trajectory;
    trajectory.session = name;
    std::size_t kept = 0;
    while (kept < steps.size() && steps[kept].step == kept && steps[kept].rewarded) ++kept;
    trajectory.terminated = kept == steps.size();
    counts.dropped_steps += steps.size() - kept;
    if (kept == 0) {
      ++counts.unusable;
      continue;
    }
    trajectory.steps.reserve(kept);
    for (std::size_t k = 0; k < kept; ++k) {
      counts.with_truth += !std::isnan(steps[k].data.expected_reward);
      trajectory.steps.push_back(std::move(steps[k].data));
    }
    counts.steps += kept;
    ++(trajectory.terminated ? counts.complete : counts.truncated);
    out.push_back(std::move(trajectory));
  }
  counts.sessions = out.size();
  if (summary) *summary = counts;
  return out;
}

}  // namespace recloop
