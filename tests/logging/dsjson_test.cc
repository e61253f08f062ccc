// SPDX-License-Identifier: Apache-2.0
// DSJSON import and export: the handwritten sample in tests/data/dsjson, every
// kind of bad line, and export -> import round trips through SQLite logs.
#include "logging/dsjson.h"

#include "core/error.h"
#include "tests/logging/fixtures.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace recloop;
using recloop::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

const std::string kSample = std::string(RECLOOP_SOURCE_DIR) + "/tests/data/dsjson/sample.dsjson";

// A valid labelled line over two actions; tests break one field at a time.
const std::string kGoodLine =
    R"({"_label_cost":-1,"_label_probability":0.75,"_label_Action":2,"_labelIndex":1,)"
    R"("Timestamp":"2021-01-01T00:00:00Z","Version":"1","EventId":"e1","a":[2,1],)"
    R"("c":{"U":{"x":1},"_multi":[{"I":{"y":1}},{"I":{"y":2}}]},"p":[0.75,0.25]})";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The message read_dsjson throws for `text` read as file "bad.dsjson".
std::string error_for(const std::string& text) {
  std::istringstream in(text);
  try {
    read_dsjson(in, "bad.dsjson");
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no error for: " << text);
  return {};
}

// "e<seed>" (built up, as GCC 12 warns falsely on "e" + std::to_string(seed)).
std::string event_id(int seed) {
  std::string id = "e";
  id += std::to_string(seed);
  return id;
}

// Every stored decision of a log file, as export reads it.
std::vector<DsjsonEvent> stored_events(const std::string& path) {
  std::vector<DsjsonEvent> events;
  for_each_logged_event(path, [&](const DsjsonEvent& e) { events.push_back(e); });
  return events;
}

// The fields a round trip must keep: context, action, probability, pmf,
// reward, and also the event id, timestamp and skip-learn mark.
void require_same_events(const std::vector<DsjsonEvent>& expected, const std::vector<DsjsonEvent>& actual) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const LoggedDecision& e = expected[i].logged;
    const LoggedDecision& a = actual[i].logged;
    INFO("event " << e.decision.event_id);
    CHECK(a.decision.event_id == e.decision.event_id);
    CHECK(a.context.user == e.context.user);
    CHECK(a.context.actions == e.context.actions);
    CHECK(a.context.items == e.context.items);
    CHECK(a.decision.action == e.decision.action);
    CHECK(a.decision.item == e.decision.item);
    CHECK(a.decision.probability == e.decision.probability);
    CHECK(a.decision.pmf == e.decision.pmf);
    CHECK(actual[i].reward == expected[i].reward);
    CHECK(actual[i].skip_learn == expected[i].skip_learn);
    CHECK(a.timestamp_us == e.timestamp_us);
  }
}

}  // namespace

TEST_CASE("the DSJSON sample maps features, actions, pmf, rewards and skip-learn as documented",
          "[logging][integration]") {
  const DsjsonLog log = read_dsjson(kSample);
  REQUIRE(log.events.size() == 3);
  CHECK(log.skipped_blank_lines == 1);
  // Names in natural order; strings are one-hot, booleans 1 / 0, arrays by position.
  CHECK(log.user_features ==
        std::vector<std::string>{"GUser.age", "GUser.city=Bergen", "GUser.city=Oslo", "GUser.member", "hour"});
  CHECK(log.action_features == std::vector<std::string>{"TAction.price", "TAction.topic=news",
                                                        "TAction.topic=sport", "emb[0]", "emb[1]"});

  const DsjsonEvent& first = log.events[0];
  const Context& c = first.logged.context;
  CHECK(c.user == (Eigen::VectorXd(5) << 30, 0, 1, 1, 9).finished());
  REQUIRE(c.actions.rows() == 5);
  REQUIRE(c.actions.cols() == 3);
  CHECK(c.actions.col(0) == (Eigen::VectorXd(5) << 1.5, 1, 0, 0, 0).finished());
  CHECK(c.actions.col(1) == (Eigen::VectorXd(5) << 2.5, 0, 1, 0, 0).finished());
  CHECK(c.actions.col(2) == (Eigen::VectorXd(5) << 0.5, 1, 0, 0.1, 0.2).finished());
  CHECK(c.items == std::vector<ItemId>{0, 1, 2});
  // a = [2, 1, 3], p = [0.5, 0.25, 0.25]: action index 1 was chosen with 0.5.
  CHECK(first.logged.decision.event_id == "ev-1");
  CHECK(first.logged.decision.action == 1);
  CHECK(first.logged.decision.probability == 0.5);
  CHECK(first.logged.decision.pmf == std::vector<double>{0.25, 0.5, 0.25});
  CHECK(first.logged.decision.policy == "dsjson");
  CHECK(first.reward == std::optional<double>(1.0));  // cost -1
  CHECK_FALSE(first.skip_learn);
  // 2021-02-04 is 18662 days after 1970-01-01; 16:31:29 is 59489 s into the day.
  CHECK(first.logged.timestamp_us == (18662LL * 86400 + 59489) * 1'000'000 + 246'000);

  const DsjsonEvent& second = log.events[1];  // no label: a decision without reward
  CHECK_FALSE(second.reward.has_value());
  CHECK(second.logged.context.user == (Eigen::VectorXd(5) << 41, 1, 0, 0, 0).finished());
  CHECK(second.logged.decision.action == 2);
  CHECK(second.logged.decision.pmf == std::vector<double>{0.1, 0.1, 0.8});

  const DsjsonEvent& third = log.events[2];  // _skipLearn: kept under its own policy name
  CHECK(third.skip_learn);
  CHECK(third.logged.decision.policy == "dsjson_skip_learn");
  CHECK(third.reward == std::optional<double>(0.0));
  CHECK(third.logged.decision.action == 0);

  const auto interactions = to_interactions(log);
  REQUIRE(interactions.size() == 2);
  CHECK(interactions[0].event_id == "ev-1");
  CHECK(interactions[1].event_id == "ev-3");
}

TEST_CASE("DSJSON _item keys become the candidates' item ids", "[logging]") {
  std::istringstream in(replaced(replaced(kGoodLine, R"({"I":{"y":1}})", R"({"_item":70,"I":{"y":1}})"),
                                 R"({"I":{"y":2}})", R"({"_item":18446744073709551615,"I":{"y":2}})"));
  const DsjsonLog log = read_dsjson(in, "items.dsjson");
  REQUIRE(log.events.size() == 1);
  CHECK(log.events[0].logged.context.items == std::vector<ItemId>{70, 18446744073709551615ull});
  CHECK(log.events[0].logged.decision.item == 18446744073709551615ull);
}

TEST_CASE("a valid DSJSON line is accepted by the checks the bad-line tests rely on", "[logging]") {
  std::istringstream in(kGoodLine);
  const DsjsonLog log = read_dsjson(in, "good.dsjson");
  REQUIRE(log.events.size() == 1);
  CHECK(log.events[0].reward == std::optional<double>(1.0));
}

TEST_CASE("a DSJSON line without p is rejected naming file, line and field", "[logging]") {
  const std::string line = replaced(kGoodLine, R"(,"p":[0.75,0.25])", "");
  const std::string what = error_for("\n" + line);
  CHECK_THAT(what, Contains("bad.dsjson:2:") && Contains("field 'p'") && Contains("missing"));
}

TEST_CASE("a DSJSON chosen probability of zero or above one is rejected", "[logging]") {
  CHECK_THAT(error_for(replaced(kGoodLine, R"("p":[0.75,0.25])", R"("p":[0,1])")),
             Contains("bad.dsjson:1:") && Contains("field 'p[0]'") && Contains("outside (0, 1]"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("p":[0.75,0.25])", R"("p":[1.5,-0.5])")),
             Contains("field 'p[0]'") && Contains("outside (0, 1]"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("p":[0.75,0.25])", R"("p":[0.75,1.25])")),
             Contains("field 'p[1]'") && Contains("outside [0, 1]"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("p":[0.75,0.25])", R"("p":[0.75,0.5])")),
             Contains("field 'p'") && Contains("sum to"));
}

TEST_CASE("DSJSON a and p of different lengths are rejected", "[logging]") {
  CHECK_THAT(error_for(replaced(kGoodLine, R"("p":[0.75,0.25])", R"("p":[0.75,0.125,0.125])")),
             Contains("bad.dsjson:1:") && Contains("field 'p'") && Contains("has 3 entries but a has 2"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("a":[2,1])", R"("a":[2,2])")),
             Contains("field 'a[1]'") && Contains("listed twice"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("a":[2,1])", R"("a":[3,1])")),
             Contains("field 'a[0]'") && Contains("1..2"));
}

TEST_CASE("a NaN DSJSON cost is rejected", "[logging]") {
  CHECK_THAT(error_for(replaced(kGoodLine, R"("_label_cost":-1)", R"("_label_cost":"NaN")")),
             Contains("bad.dsjson:1:") && Contains("field '_label_cost'") && Contains("NaN"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("_label_cost":-1)", R"("_label_cost":"high")")),
             Contains("field '_label_cost'") && Contains("expected a number"));
}

TEST_CASE("invalid JSON in a DSJSON file is rejected naming the line", "[logging]") {
  const std::string what = error_for(kGoodLine + "\n" + kGoodLine.substr(0, 40) + "\n");
  CHECK_THAT(what, Contains("bad.dsjson:2:") && Contains("invalid JSON") && Contains("at column"));
  CHECK(what.find('\n') == std::string::npos);
  CHECK_THAT(error_for(replaced(kGoodLine, R"("_label_cost":-1)", R"("_label_cost":-1e999)")),
             Contains("bad.dsjson:1:") && Contains("invalid JSON") && Contains("1e999"));
}

TEST_CASE("DSJSON labels that contradict a or p are rejected", "[logging]") {
  CHECK_THAT(error_for(replaced(kGoodLine, R"("_label_Action":2)", R"("_label_Action":1)")),
             Contains("field '_label_Action'"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("_labelIndex":1)", R"("_labelIndex":0)")),
             Contains("field '_labelIndex'"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("_label_probability":0.75)", R"("_label_probability":0.5)")),
             Contains("field '_label_probability'"));
}

TEST_CASE("DSJSON lines without EventId, c or _multi, or with a repeated EventId, are rejected",
          "[logging]") {
  CHECK_THAT(error_for(replaced(kGoodLine, R"("EventId":"e1",)", "")), Contains("field 'EventId'"));
  CHECK_THAT(error_for(kGoodLine + "\n" + kGoodLine), Contains("bad.dsjson:2:") && Contains("repeats line 1"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("_multi")", R"("_many")")), Contains("field 'c._multi'"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("Timestamp":"2021-01-01T00:00:00Z")", R"("Timestamp":"yesterday")")),
             Contains("field 'Timestamp'"));
  CHECK_THAT(error_for(replaced(kGoodLine, R"("Version":"1")", R"("pdrop":0.5)")), Contains("field 'pdrop'"));
}

TEST_CASE("DSJSON timestamps format and parse back to the microsecond", "[logging]") {
  for (const std::int64_t us : {std::int64_t{0}, std::int64_t{1'612'456'289'246'000}, std::int64_t{-1},
                                std::int64_t{4'102'444'799'999'999}}) {
    INFO(us);
    CHECK(parse_dsjson_timestamp(format_dsjson_timestamp(us)) == std::optional<std::int64_t>(us));
  }
  CHECK(format_dsjson_timestamp(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(parse_dsjson_timestamp("1970-01-01T01:00:00+01:00") == std::optional<std::int64_t>(0));
  CHECK_FALSE(parse_dsjson_timestamp("1970-02-30T00:00:00Z").has_value());
}

TEST_CASE("an exported DSJSON sample imports back to the same events", "[logging][integration]") {
  TempDir dir;
  const DsjsonLog original = read_dsjson(kSample);
  {
    EventLog log(dir.file("a.db"));
    CHECK(write_dsjson_events(log, original, 2) == 3);
    CHECK(log.decision_count() == 3);
    CHECK(log.reward_count() == 2);
  }
  {
    std::ofstream out(dir.file("a.dsjson"));
    const auto counts = export_dsjson(dir.file("a.db"), out);
    CHECK(counts.lines == 3);
    CHECK(counts.labelled == 2);
    CHECK(counts.skip_learn == 1);
  }
  const DsjsonLog again = read_dsjson(dir.file("a.dsjson"));
  require_same_events(original.events, again.events);
  // Names differ (the export numbers columns u0.., i0..) but columns keep their order.
  CHECK(again.user_features.size() == original.user_features.size());
  CHECK(again.action_features.front() == "Item.i0");
}

TEST_CASE("a log of decisions with rewards, without rewards and without pmf round-trips through DSJSON",
          "[logging][integration]") {
  TempDir dir;
  {
    EventLog log(dir.file("a.db"));
    std::vector<LoggedDecision> decisions;
    for (int seed = 1; seed <= 6; ++seed) {
      decisions.push_back(recloop::testing::sample_decision(event_id(seed), "lin_ucb", 3 + seed % 3,
                                                            seed));
    }
    decisions[1].decision.pmf = {0.0, 0.0, 1.0, 0.0, 0.0};  // a greedy pmf with zeros (seed 2: n = 5, action 2)
    decisions[1].decision.probability = 1.0;
    // Rewards for all but e4; e4 stays a decision without reward.
    std::vector<Reward> rewards;
    for (int seed : {1, 2, 3, 5, 6}) rewards.push_back({event_id(seed), 0.125 * seed - 0.3, 5});
    log.write(decisions, rewards);
  }
  const auto original = stored_events(dir.file("a.db"));
  REQUIRE(original.size() == 6);
  REQUIRE(original[1].logged.decision.pmf[2] == 1.0);
  {
    std::ofstream out(dir.file("a.dsjson"));
    export_dsjson(dir.file("a.db"), out);
  }
  {
    EventLog log(dir.file("b.db"));
    write_dsjson_events(log, read_dsjson(dir.file("a.dsjson")));
  }
  const auto imported = stored_events(dir.file("b.db"));
  require_same_events(original, imported);
  CHECK_FALSE(imported[3].reward.has_value());
  CHECK(imported[0].logged.decision.policy == "dsjson");
}

TEST_CASE("a decision stored without pmf exports its other candidates with the remaining mass",
          "[logging]") {
  DsjsonEvent event;
  event.logged = recloop::testing::sample_decision("e1", "obd_random", 4, 1);
  event.logged.decision.pmf.clear();
  event.logged.decision.probability = 0.625;  // action 1 of 4; 0.375 / 3 is exact
  event.reward = 1.0;
  std::istringstream in(to_dsjson_line(event));
  const DsjsonLog log = read_dsjson(in, "line");
  REQUIRE(log.events.size() == 1);
  CHECK(log.events[0].logged.decision.pmf == std::vector<double>{0.125, 0.625, 0.125, 0.125});
}

TEST_CASE("an exported line puts the label before c and the chosen action first", "[logging]") {
  DsjsonEvent event;
  event.logged = recloop::testing::sample_decision("e7", "uniform", 4, 2);  // action 2 of 4
  event.reward = 2.0;
  const std::string line = to_dsjson_line(event);
  // VW attaches the _label_* keys when "c" ends, so they must come first.
  CHECK(line.find(R"("_label_cost":-2.0)") < line.find(R"("c":)"));
  CHECK(line.find(R"("_labelIndex":2)") < line.find(R"("c":)"));
  CHECK_THAT(line, Contains(R"("_label_Action":3)") && Contains(R"("a":[3,1,2,4])") &&
                       Contains(R"("p":[0.25,0.25,0.25,0.25])") && Contains(R"("_skipLearn":false)") &&
                       Contains(R"("Version":"1")") && Contains(R"("EventId":"e7")"));
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("exporting a missing log is an error naming it", "[logging]") {
  std::ostringstream out;
  CHECK_THROWS_WITH(export_dsjson("/nonexistent/run.db", out), Contains("/nonexistent/run.db"));
}

TEST_CASE("feature columns keep numeric order past ten (u2 before u10)", "[logging]") {
  DsjsonEvent event;
  event.logged = recloop::testing::sample_decision("e1", "uniform", 3, 1);
  event.logged.context.user = Eigen::VectorXd::LinSpaced(12, 1.0, 12.0);
  event.logged.context.actions =
      Eigen::MatrixXd::NullaryExpr(11, 3, [](Eigen::Index i, Eigen::Index j) { return 0.1 * i - 0.37 * j; });
  std::istringstream in(to_dsjson_line(event));
  const DsjsonLog log = read_dsjson(in, "line");
  REQUIRE(log.events.size() == 1);
  CHECK(log.user_features[2] == "User.u2");
  CHECK(log.user_features[10] == "User.u10");
  CHECK(log.events[0].logged.context.user == event.logged.context.user);
  CHECK(log.events[0].logged.context.actions == event.logged.context.actions);
}
