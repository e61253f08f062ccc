// SPDX-License-Identifier: Apache-2.0
// The selection-bias report on the shipped Coat data (the acceptance test:
// propensity weighting moves the self-selected mean towards the random
// ratings' mean), `recloop import coat` and `recloop bias` run as a user runs
// them, and the HTML report rendered by headless Chromium.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/bias_html.h"
#include "core/error.h"
#include "evaluation/bias_report.h"
#include "logging/coat_import.h"
#include "tests/logging/fixtures.h"
#include "tests/support/process.h"

using namespace recloop;
using Catch::Matchers::Contains;

namespace {

const std::string kBinary = RECLOOP_BINARY;
const std::string kCoat = std::string(RECLOOP_SOURCE_DIR) + "/data/coat";

const BiasReport& coat_report() {
  static const BiasReport report = [] {
    const CoatLog coat = read_coat(kCoat);
    BiasReportBuilder builder;
    for (const ImportedLog* part : {&coat.self_selected, &coat.random}) {
      for (const Interaction& i : to_interactions(*part)) builder.add(i);
    }
    return builder.report();
  }();
  return report;
}

const PolicyBias& find(const BiasReport& report, const std::string& policy) {
  for (const auto& b : report.policies) {
    if (b.policy == policy) return b;
  }
  FAIL("no policy " << policy);
  throw;
}

// The Coat log imported once by the real binary, with its HTML report.
struct CoatFiles {
  testing::TempDir dir;
  std::string log = dir.file("coat.db");
  std::string html = dir.file("coat.html");
  CoatFiles() {
    const auto imported = testing::run_command(kBinary + " import coat " + kCoat + " --out " + log);
    if (imported.exit_code != 0) throw Error("import coat failed: " + imported.err);
    const auto bias = testing::run_command(kBinary + " bias --log " + log + " --html " + html);
    if (bias.exit_code != 0) throw Error("bias failed: " + bias.err);
  }
};

const CoatFiles& coat_files() {
  static const CoatFiles files;
  return files;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE(
    "on Coat, propensity weighting moves the self-selected mean rating towards the random one",
    "[cli][integration]") {
  // The shipped data, computed by hand from the files (see logging/coat_import.h
  // for the weights): self-selected mean 2.6115 (n = 6960), random mean 2.2289
  // (n = 4640), IPS 2.4251, SNIPS 2.3309. Users rate the coats they like, so
  // the naive mean is too high; the learnt propensities remove most of that.
  const BiasReport& report = coat_report();
  REQUIRE(report.reference == kCoatRandomPolicy);
  REQUIRE(report.gaps.size() == 1);
  const BiasGap& g = report.gaps[0];
  CHECK(g.policy == kCoatSelfSelectedPolicy);
  INFO("naive gap " << g.naive_gap << " (SE " << g.naive_gap_std_error << "), IPS gap " << g.ips_gap
                    << " (SE " << g.ips_gap_std_error << "), SNIPS gap " << g.snips_gap << " (SE "
                    << g.snips_gap_std_error << ")");
  // Ratings 1..5 have a standard deviation near 1.2, so the SE of the
  // difference of the two means is about 1.2·sqrt(1/6960 + 1/4640) ≈ 0.023:
  // a naive gap of 0.38 is over 15 SE, far beyond chance.
  CHECK(g.naive_gap > 10.0 * g.naive_gap_std_error);
  CHECK(g.naive_gap > 0.3);
  // Weighting closes the gap: SNIPS to about a quarter of it, IPS to about half.
  CHECK(std::abs(g.snips_gap) < 0.5 * g.naive_gap);
  CHECK(std::abs(g.ips_gap) < 0.75 * g.naive_gap);
  CHECK(g.snips_closes > 0.5);
  // The same shift in the rating distribution: self-selection hides the 1-star
  // ratings (27% self-selected against 40% random); weighting restores most (37%).
  const PolicyBias& selected = find(report, kCoatSelfSelectedPolicy);
  const PolicyBias& random = find(report, kCoatRandomPolicy);
  REQUIRE(selected.levels.size() == 5);
  REQUIRE(random.levels.size() == 5);
  CHECK(selected.levels[0].reward == 1.0);
  const double truth = random.levels[0].naive_share;
  CHECK(std::abs(selected.levels[0].weighted_share - truth) <
        0.5 * std::abs(selected.levels[0].naive_share - truth));
  // The random ratings are a uniform logger: their weights are all 1.
  CHECK(random.uniform_logger);
  CHECK(random.weights.effective_sample_size == Approx(4640.0));
  CHECK_FALSE(selected.uniform_logger);
  CHECK(selected.exposure.catalogue == 300);
  CHECK(selected.exposure.gini > random.exposure.gini);
}

TEST_CASE("recloop bias prints the Coat report as tables and as JSON", "[cli][integration]") {
  const CoatFiles& files = coat_files();
  const auto table = testing::run_command(kBinary + " bias --log " + files.log);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("reference (uniform-random logger") && Contains("coat_random"));
  CHECK_THAT(table.out, Contains("coat_self_selected") && Contains("snips closes") &&
                            Contains("reward distribution") && Contains("Gini"));
  const auto json = testing::run_command(kBinary + " bias --json --log " + files.log);
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Contains("\"reference\":\"coat_random\"") && Contains("\"gaps\":[{") &&
                           Contains("\"popularity_lift\":") && Contains("\"reward_levels\":[{"));
  CHECK(json.out.find('\n') == json.out.size() - 1);
}

TEST_CASE("recloop bias and import coat report bad input in one line", "[cli][integration]") {
  testing::TempDir dir;
  const auto missing = testing::run_command(kBinary + " bias --log " + dir.file("none.db"));
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("none.db: log file not found"));
  const auto reference =
      testing::run_command(kBinary + " bias --log " + coat_files().log + " --reference nobody");
  CHECK(reference.exit_code == 2);
  CHECK_THAT(reference.err, Contains("--reference 'nobody'"));
  const auto no_dir = testing::run_command(kBinary + " import coat " + dir.file("nowhere") +
                                           " --out " + dir.file("x.db"));
  CHECK(no_dir.exit_code == 1);
  CHECK_THAT(no_dir.err, Contains("nowhere: not a directory"));
  CHECK(occurrences(no_dir.err, "\n") == 1);
  const auto help = testing::run_command(kBinary + " bias --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Contains("--html") && Contains("--json") && Contains("--reference"));
}

TEST_CASE("the HTML report escapes text from the log and names no URL", "[cli]") {
  CHECK(escape_html("<a href=\"x\">'&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  BiasReportBuilder builder;
  Interaction i;
  i.event_id = "e";
  i.context.user = Eigen::VectorXd::Zero(1);
  i.context.actions = Eigen::MatrixXd::Zero(0, 2);
  i.context.items = {1, 2};
  i.probability = 0.5;
  i.reward = 1.0;
  i.policy = "<script>alert('x')</script>";
  builder.add(i);
  i.action = 1;
  i.reward = 0.0;
  builder.add(i);
  const std::string html = render_bias_html(builder.report(), "log \"<b>\".db");
  CHECK(html.find("<script") == std::string::npos);
  CHECK_THAT(html, Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  CHECK_THAT(html, Contains("log &quot;&lt;b&gt;&quot;.db"));
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  // Values, slots, Lorenz curve, propensities, and the distribution of the 0/1 rewards.
  CHECK(occurrences(html, "<svg") == 5);
}

TEST_CASE("the Coat HTML report renders in headless Chromium with its charts and headings",
          "[cli][integration]") {
  const CoatFiles& files = coat_files();
  const std::string html = read_all(files.html);
  REQUIRE_FALSE(html.empty());
  // Self-contained: nothing to fetch.
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  // scripts/install-deps.sh installs Debian's chromium.
  REQUIRE(testing::run_command("command -v chromium").exit_code == 0);
  const std::string profile = files.dir.file("chromium-profile");
  const auto dom = testing::run_command(
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
      "--disable-component-update --disable-sync --no-first-run --user-data-dir=" +
      profile + " --dump-dom file://" + files.html + " 2>/dev/null");
  REQUIRE(dom.exit_code == 0);
  CHECK_THAT(dom.out, Contains("<h1>Selection bias report</h1>"));
  CHECK_THAT(dom.out, Contains("<h2>Naive and corrected values</h2>"));
  CHECK_THAT(dom.out, Contains("<h2>Logging policy coat_self_selected</h2>"));
  CHECK_THAT(dom.out, Contains("<h3>Reward distribution</h3>"));
  CHECK_THAT(dom.out, Contains("<h3>Exposure across items</h3>"));
  // One value chart, then per policy: slots, Lorenz curve, propensity histogram, rating
  // distribution.
  CHECK(occurrences(dom.out, "<svg") == 1 + 2 * 4);
  CHECK_THAT(dom.out, Contains("<svg id=\"values\"") && Contains("<svg id=\"p1-levels\"") &&
                          Contains("<polyline") && Contains("<rect"));
}
