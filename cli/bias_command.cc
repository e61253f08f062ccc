// SPDX-License-Identifier: Apache-2.0
// recloop bias --log LOG [--html REPORT] [--json]: how selected a log is, and
// how much propensity weighting corrects (evaluation/bias_report.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include <boost/program_options.hpp>

#include "cli/bias_html.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "core/error.h"
#include "evaluation/bias_report.h"
#include "logging/event_log.h"

namespace po = boost::program_options;

namespace recloop {
namespace {

void write_estimate(JsonWriter& out, const Estimate& e) {
  out.begin_object().key("value").value(e.value).key("std_error").value(e.std_error)
      .key("lower").value(e.lower).key("upper").value(e.upper).end_object();
}

std::uint64_t count(std::size_t n) { return static_cast<std::uint64_t>(n); }

std::string json_report(const BiasReport& report, const std::string& log_path) {
  JsonWriter out;
  out.begin_object().key("log").value(log_path);
  out.key("reference");
  if (report.reference.empty()) {
    out.value(std::numeric_limits<double>::quiet_NaN());  // written as null
  } else {
    out.value(report.reference);
  }
  out.key("policies").begin_array();
  for (const auto& b : report.policies) {
    out.begin_object().key("policy").value(b.policy).key("n").value(count(b.n))
        .key("uniform_logger").value(b.uniform_logger);
    out.key("naive");
    write_estimate(out, b.naive);
    out.key("ips");
    write_estimate(out, b.ips);
    out.key("snips");
    write_estimate(out, b.snips);
    out.key("slots").begin_array();
    for (const auto& s : b.slots) {
      out.begin_object().key("slot").value(count(s.slot)).key("n").value(count(s.n))
          .key("mean_reward").value(s.mean_reward).key("std_error").value(s.std_error)
          .key("ratio_to_first").value(s.ratio_to_first)
          .key("ratio_std_error").value(s.ratio_std_error)
          .end_object();
    }
    out.end_array();
    out.key("position_bias_confounded").value(!b.uniform_logger);
    const ExposureSummary& e = b.exposure;
    out.key("exposure").begin_object().key("catalogue").value(count(e.catalogue))
        .key("shown").value(count(e.shown)).key("coverage").value(e.coverage)
        .key("gini").value(e.gini)
        .key("top_items").value(count(e.top_items)).key("top_share").value(e.top_share)
        .key("uniform_top_share").value(e.uniform_top_share)
        .key("popularity_lift").value(e.popularity_lift).end_object();
    const PropensitySummary& p = b.propensities;
    out.key("propensities").begin_object().key("n").value(count(p.n)).key("min").value(p.min)
        .key("p05").value(p.p05).key("p25").value(p.p25).key("p50").value(p.p50)
        .key("p75").value(p.p75)
        .key("p95").value(p.p95).key("max").value(p.max)
        .key("effective_sample_size").value(p.effective_sample_size).end_object();
    out.key("weights").begin_object()
        .key("effective_sample_size").value(b.weights.effective_sample_size)
        .key("mean_weight").value(b.weights.mean_weight)
        .key("max_weight").value(b.weights.max_weight)
        .end_object();
    out.key("reward_levels").begin_array();
    for (const auto& l : b.levels) {
      out.begin_object().key("reward").value(l.reward).key("count").value(count(l.count))
          .key("naive_share").value(l.naive_share).key("weighted_share").value(l.weighted_share)
          .end_object();
    }
    out.end_array();
    out.key("warnings").begin_array();
    for (const auto& w : b.warnings) out.value(w);
    out.end_array().end_object();
  }
  out.end_array();
  out.key("gaps").begin_array();
  for (const auto& g : report.gaps) {
    out.begin_object().key("policy").value(g.policy).key("reference_value").value(g.reference_value)
        .key("naive_gap").value(g.naive_gap).key("naive_gap_std_error").value(g.naive_gap_std_error)
        .key("ips_gap").value(g.ips_gap).key("ips_gap_std_error").value(g.ips_gap_std_error)
        .key("snips_gap").value(g.snips_gap).key("snips_gap_std_error").value(g.snips_gap_std_error)
        .key("ips_closes").value(g.ips_closes).key("snips_closes").value(g.snips_closes)
        .end_object();
  }
  out.end_array().end_object();
  return out.str();
}

void print_table(const BiasReport& report, const std::string& log_path) {
  std::size_t total = 0;
  for (const auto& b : report.policies) total += b.n;
  std::printf("log %s: %zu rewarded decisions, %zu logging policies\n", log_path.c_str(), total,
              report.policies.size());
  if (!report.reference.empty()) {
    std::printf("reference (uniform-random logger, its mean is the ground truth): %s\n",
                report.reference.c_str());
  }
  std::printf("\nvalues: naive = mean logged reward; ips, snips = value under uniform exposure "
              "(95%% CI)\n");
  std::printf("%-22s %7s %26s %26s %26s\n", "policy", "n", "naive", "ips", "snips");
  auto ci = [](const Estimate& e) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.4f [%.4f, %.4f]", e.value, e.lower, e.upper);
    return std::string(buffer);
  };
  for (const auto& b : report.policies) {
    std::printf("%-22s %7zu %26s %26s %26s\n", b.policy.c_str(), b.n, ci(b.naive).c_str(),
                ci(b.ips).c_str(), ci(b.snips).c_str());
  }
  if (!report.gaps.empty()) {
    std::printf("\ndistance to the reference mean (estimate - reference, SE); "
                "closes = 1 - |gap|/|naive gap|\n");
    std::printf("%-22s %19s %19s %19s %11s %12s\n", "policy", "naive gap", "ips gap", "snips gap",
                "ips closes", "snips closes");
    for (const auto& g : report.gaps) {
      char naive[40], ips[40], snips[40];
      std::snprintf(naive, sizeof naive, "%+.4f (%.4f)", g.naive_gap, g.naive_gap_std_error);
      std::snprintf(ips, sizeof ips, "%+.4f (%.4f)", g.ips_gap, g.ips_gap_std_error);
      std::snprintf(snips, sizeof snips, "%+.4f (%.4f)", g.snips_gap, g.snips_gap_std_error);
      std::printf("%-22s %19s %19s %19s %10.1f%% %11.1f%%\n", g.policy.c_str(), naive, ips, snips,
                  100.0 * g.ips_closes, 100.0 * g.snips_closes);
    }
  }
  const PolicyBias* ref = nullptr;
  for (const auto& b : report.policies) {
    if (b.policy == report.reference) ref = &b;
  }
  for (const auto& b : report.policies) {
    std::printf("\n== %s (%s)\n", b.policy.c_str(),
                b.uniform_logger ? "uniform-random logger" : "selected: not uniform");
    std::printf("reward by slot (%s):\n",
                b.uniform_logger ? "placement randomised: the ratio to slot 0 is the position bias"
                                 : "confounded: the logger does not randomise placement");
    std::printf("  %4s %7s %10s %8s  %s\n", "slot", "n", "mean", "SE", "ratio to slot 0 (SE)");
    for (const auto& s : b.slots) {
      std::printf("  %4u %7zu %10.4f %8.4f  %.3f (%.3f)\n", s.slot, s.n, s.mean_reward, s.std_error,
                  s.ratio_to_first, s.ratio_std_error);
    }
    const ExposureSummary& e = b.exposure;
    std::printf("exposure: %zu of %zu items shown (coverage %.1f%%), Gini %.3f, "
                "top 10%% (%zu items) get %.1f%% of exposures vs %.1f%% uniform: "
                "popularity lift %.2f\n",
                e.shown, e.catalogue, 100.0 * e.coverage, e.gini, e.top_items, 100.0 * e.top_share,
                100.0 * e.uniform_top_share, e.popularity_lift);
    const PropensitySummary& p = b.propensities;
    std::printf("probabilities: min %.4g, p05 %.4g, p25 %.4g, median %.4g, p75 %.4g, p95 %.4g, "
                "max %.4g; ESS of 1/p weights %.1f of %zu\n",
                p.min, p.p05, p.p25, p.p50, p.p75, p.p95, p.max, p.effective_sample_size, p.n);
    std::printf("uniform-exposure weights: mean %.3f (about 1 if the probabilities are right), "
                "max %.3g\n",
                b.weights.mean_weight, b.weights.max_weight);
    if (!b.levels.empty()) {
      const bool with_ref = ref && ref != &b;
      std::printf("reward distribution:\n  %6s %7s %8s %9s%s\n", "reward", "count", "naive",
                  "weighted", with_ref ? "  reference" : "");
      for (const auto& l : b.levels) {
        std::printf("  %6g %7zu %7.1f%% %8.1f%%", l.reward, l.count, 100.0 * l.naive_share,
                    100.0 * l.weighted_share);
        if (with_ref) {
          double share = 0.0;
          for (const auto& r : ref->levels) {
            if (r.reward == l.reward) share = r.naive_share;
          }
          std::printf("  %9.1f%%", 100.0 * share);
        }
        std::printf("\n");
      }
    }
    for (const auto& w : b.warnings) std::printf("warning: %s\n", w.c_str());
  }
}

}  // namespace

int run_bias(const std::vector<std::string>& args) {
  po::options_description options(
      "recloop bias --log LOG [--html REPORT] [--json] [options]\n\n"
      "Measures the selection bias of a decision log, per logging policy: the naive\n"
      "mean reward against the value under uniform exposure estimated with IPS and\n"
      "SNIPS from the logged probabilities; mean reward by slot and the position bias\n"
      "it suggests; exposure across items (coverage, Gini, popularity lift of the top\n"
      "10%); the logged probabilities (quantiles, effective sample size); and, for\n"
      "discrete rewards such as 1..5 ratings, the reward distribution naive and\n"
      "weighted. When the log also holds a uniform-random logger (Coat's random\n"
      "ratings, OBD's random campaign), its mean is the ground truth and the report\n"
      "shows how much of the naive mean's distance to it the weighting closes.\n"
      "Items are told apart by item id: import catalogues whose ids overlap (OBD's\n"
      "men and women campaigns) into separate logs.\n\n"
      "options");
  std::string log_path, html_path, policy, reference;
  options.add_options()
      ("help,h", "show this help")
      ("log", po::value(&log_path), "decision log (SQLite) to read")
      ("html", po::value(&html_path), "also write a self-contained HTML report with charts here")
      ("json", "print one JSON object instead of tables")
      ("policy", po::value(&policy), "only this logging policy's decisions")
      ("reference", po::value(&reference),
       "the uniform-random logging policy whose mean is the ground truth (default: the only "
       "uniform logger, if exactly one of several policies is)");
  const auto command_line = parse_command_line(args, options, options);
  if (!command_line) return 0;
  const po::variables_map& vm = *command_line;
  if (log_path.empty()) throw ConfigError("--log LOG is required");
  if (!std::filesystem::is_regular_file(log_path)) {
    throw ConfigError(log_path + ": log file not found");
  }

  BiasReportBuilder builder;
  {
    EventLog log(log_path);
    log.for_each([&](const Interaction& i) { builder.add(i); }, policy);
  }
  const auto policies = builder.policies();
  if (policies.empty()) {
    throw Error(log_path + ": no rewarded decisions" +
                (policy.empty() ? std::string() : " of policy '" + policy + "'"));
  }
  if (!reference.empty() &&
      std::find(policies.begin(), policies.end(), reference) == policies.end()) {
    throw ConfigError("--reference '" + reference + "': no such logging policy in " + log_path);
  }
  const BiasReport report = builder.report(reference);

  if (!html_path.empty()) {
    std::ofstream out(html_path);
    if (!out) throw Error(html_path + ": cannot write");
    out << render_bias_html(report, log_path);
    out.close();
    if (!out) throw Error(html_path + ": write failed");
  }
  if (vm.count("json")) {
    std::cout << json_report(report, log_path) << "\n";
  } else {
    print_table(report, log_path);
    if (!html_path.empty()) std::printf("\nHTML report: %s\n", html_path.c_str());
  }
  return 0;
}

}  // namespace recloop
