// SPDX-License-Identifier: Apache-2.0
#include "cli/bias_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace recloop {
namespace {

// z_{0.975}: half-width of a 95% normal interval in standard errors.
constexpr double kZ95 = 1.959963984540054;
constexpr const char* kColors[] = {"#4477aa", "#ee6677", "#228833",
                                   "#ccbb44", "#66ccee", "#aa3377"};

std::string number(double x, const char* format = "%.4g") {
  if (!std::isfinite(x)) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, x);
  return buffer;
}

std::string percent(double share) {
  return std::isfinite(share) ? number(100.0 * share, "%.1f") + "%" : "n/a";
}

// Coordinates in SVG user units, two decimals.
std::string at(double x) { return number(x, "%.2f"); }

// A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals over `span`.
double nice_step(double span, int ticks) {
  if (!(span > 0.0)) return 1.0;
  const double raw = span / ticks;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10.0 * power;
}

struct Series {
  std::string name;
  std::vector<double> values;
  std::vector<double> errors;  // half-width of an error bar per value, or empty
};

struct Frame {
  double width = 640, height = 300;
  double left = 64, right = 16, top = 36, bottom = 64;
  double plot_width() const { return width - left - right; }
  double plot_height() const { return height - top - bottom; }
};

std::string svg_open(const Frame& f, const std::string& title, const std::string& id) {
  return "<svg id=\"" + escape_html(id) + "\" class=\"chart\" width=\"" + at(f.width) +
         "\" height=\"" + at(f.height) + "\" viewBox=\"0 0 " + at(f.width) + " " + at(f.height) +
         "\" role=\"img\" aria-label=\"" + escape_html(title) + "\">\n<title>" +
         escape_html(title) + "</title>\n<text x=\"" + at(f.width / 2) +
         "\" y=\"20\" text-anchor=\"middle\" class=\"ct\">" + escape_html(title) + "</text>\n";
}

std::string text(double x, double y, const std::string& content, const char* anchor = "middle",
                 const std::string& extra = {}) {
  return "<text x=\"" + at(x) + "\" y=\"" + at(y) + "\" text-anchor=\"" + anchor + "\"" + extra +
         ">" + escape_html(content) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + at(x1) + "\" y1=\"" + at(y1) + "\" x2=\"" + at(x2) + "\" y2=\"" + at(y2) +
         "\" " + style + "/>\n";
}

// Horizontal grid lines and labels of a y axis over [lo, hi]; returns the y of a value.
struct YAxis {
  double lo, hi;
  const Frame* f;
  double y(double v) const { return f->top + f->plot_height() * (1.0 - (v - lo) / (hi - lo)); }
};

YAxis y_axis(const Frame& f, double lo, double hi, const std::string& label, std::string& svg) {
  if (!(hi > lo)) hi = lo + 1.0;
  const double step = nice_step(hi - lo, 5);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  YAxis axis{lo, hi, &f};
  for (double v = lo; v <= hi + step * 1e-6; v += step) {
    const double y = axis.y(v);
    svg += line(f.left, y, f.left + f.plot_width(), y, "class=\"grid\"");
    svg += text(f.left - 6, y + 4, number(std::abs(v) < step * 1e-9 ? 0.0 : v), "end");
  }
  const double mid = f.top + f.plot_height() / 2;
  svg += text(14, mid, label, "middle", " transform=\"rotate(-90 14 " + at(mid) + ")\"");
  svg += line(f.left, f.top, f.left, f.top + f.plot_height(), "class=\"axis\"");
  return axis;
}

// Grouped bar chart: one group per category, one bar per series, optional
// error bars; every `label_every`-th category is labelled.
std::string bar_chart(const std::string& id, const std::string& title,
                      const std::vector<std::string>& categories, const std::vector<Series>& series,
                      const std::string& x_label, const std::string& y_label,
                      std::size_t label_every = 1) {
  Frame f;
  f.width = std::max(420.0, std::min(900.0, 120.0 + 28.0 * categories.size() * series.size()));
  // About 6 units per character of the 11-unit legend text.
  auto legend_width = [](const std::string& name) {
    return 24.0 + 6.2 * static_cast<double>(name.size());
  };
  if (series.size() > 1) {
    double legend = f.left + f.right;
    for (const Series& s : series) legend += legend_width(s.name);
    f.width = std::max(f.width, legend);
  }
  std::string svg = svg_open(f, title, id);
  double lo = 0.0, hi = 0.0;
  for (const Series& s : series) {
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      if (!std::isfinite(s.values[i])) continue;
      const double e = s.errors.empty() || !std::isfinite(s.errors[i]) ? 0.0 : s.errors[i];
      lo = std::min(lo, s.values[i] - e);
      hi = std::max(hi, s.values[i] + e);
    }
  }
  const YAxis axis = y_axis(f, lo, hi, y_label, svg);
  const double group = f.plot_width() / std::max<std::size_t>(1, categories.size());
  const double bar = group * 0.8 / std::max<std::size_t>(1, series.size());
  for (std::size_t c = 0; c < categories.size(); ++c) {
    const double x0 = f.left + group * c + group * 0.1;
    for (std::size_t s = 0; s < series.size(); ++s) {
      const double v = c < series[s].values.size() ? series[s].values[c] : NAN;
      if (!std::isfinite(v)) continue;
      const double x = x0 + bar * s;
      const double y0 = axis.y(0.0), y1 = axis.y(v);
      svg += "<rect x=\"" + at(x) + "\" y=\"" + at(std::min(y0, y1)) + "\" width=\"" +
             at(std::max(1.0, bar - 1)) + "\" height=\"" + at(std::abs(y1 - y0)) + "\" fill=\"" +
             kColors[s % std::size(kColors)] + "\"><title>" +
             escape_html(series[s].name + " " + categories[c] + ": " + number(v)) +
             "</title></rect>\n";
      if (!series[s].errors.empty() && std::isfinite(series[s].errors[c]) &&
          series[s].errors[c] > 0.0) {
        const double e = series[s].errors[c], xm = x + bar / 2;
        svg += line(xm, axis.y(v - e), xm, axis.y(v + e), "class=\"err\"");
        svg += line(xm - bar / 4, axis.y(v + e), xm + bar / 4, axis.y(v + e), "class=\"err\"");
        svg += line(xm - bar / 4, axis.y(v - e), xm + bar / 4, axis.y(v - e), "class=\"err\"");
      }
    }
    if (c % label_every == 0) {
      svg += text(f.left + group * c + group / 2, f.top + f.plot_height() + 16, categories[c]);
    }
  }
  svg += line(f.left, axis.y(0.0), f.left + f.plot_width(), axis.y(0.0), "class=\"axis\"");
  svg += text(f.left + f.plot_width() / 2, f.height - 30, x_label);
  if (series.size() > 1) {
    double x = f.left;
    for (std::size_t s = 0; s < series.size(); ++s) {
      svg += "<rect x=\"" + at(x) + "\" y=\"" + at(f.height - 16) +
             "\" width=\"10\" height=\"10\" fill=\"" + kColors[s % std::size(kColors)] + "\"/>\n";
      svg += text(x + 14, f.height - 7, series[s].name, "start");
      x += legend_width(series[s].name);
    }
  }
  return svg + "</svg>\n";
}

struct EstimateRow {
  std::string label;
  std::size_t color = 0;
  Estimate estimate;
};

// Point estimates with their confidence intervals, one row each, on an axis
// zoomed to the intervals so that gaps of a few hundredths stay visible; the
// reference value is a dashed vertical line.
std::string estimate_chart(const std::string& id, const std::string& title,
                           const std::vector<EstimateRow>& rows, double reference,
                           const std::string& reference_label) {
  Frame f;
  f.left = 220;
  f.right = 24;
  f.top = 48;
  f.bottom = 44;
  f.height = f.top + f.bottom + 24.0 * static_cast<double>(rows.size());
  std::string svg = svg_open(f, title, id);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& r : rows) {
    for (const double v : {r.estimate.lower, r.estimate.upper, r.estimate.value}) {
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  }
  if (std::isfinite(reference)) lo = std::min(lo, reference), hi = std::max(hi, reference);
  if (!(hi > lo)) lo -= 0.5, hi += 0.5;
  const double step = nice_step(hi - lo, 5);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  auto x_of = [&](double v) { return f.left + f.plot_width() * (v - lo) / (hi - lo); };
  const double bottom = f.top + f.plot_height();
  for (double v = lo; v <= hi + step * 1e-6; v += step) {
    svg += line(x_of(v), f.top, x_of(v), bottom, "class=\"grid\"");
    svg += text(x_of(v), bottom + 16, number(std::abs(v) < step * 1e-9 ? 0.0 : v));
  }
  svg += line(f.left, bottom, f.left + f.plot_width(), bottom, "class=\"axis\"");
  svg += text(f.left + f.plot_width() / 2, f.height - 8, "mean reward (95% CI)");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double y = f.top + 24.0 * static_cast<double>(i) + 12;
    const Estimate& e = rows[i].estimate;
    const char* color = kColors[rows[i].color % std::size(kColors)];
    svg += text(f.left - 8, y + 4, rows[i].label, "end");
    if (!std::isfinite(e.value)) continue;
    if (std::isfinite(e.lower) && std::isfinite(e.upper)) {
      svg += line(x_of(e.lower), y, x_of(e.upper), y,
                  std::string("stroke=\"") + color + "\" stroke-width=\"2\"");
      svg +=
          line(x_of(e.lower), y - 5, x_of(e.lower), y + 5, std::string("stroke=\"") + color + "\"");
      svg +=
          line(x_of(e.upper), y - 5, x_of(e.upper), y + 5, std::string("stroke=\"") + color + "\"");
    }
    svg += "<circle cx=\"" + at(x_of(e.value)) + "\" cy=\"" + at(y) + "\" r=\"4.5\" fill=\"" +
           color + "\"><title>" +
           escape_html(rows[i].label + ": " + number(e.value) + " [" + number(e.lower) + ", " +
                       number(e.upper) + "]") +
           "</title></circle>\n";
  }
  if (std::isfinite(reference)) {
    svg += line(x_of(reference), f.top - 6, x_of(reference), bottom, "class=\"ref\"");
    svg += text(x_of(reference), f.top - 10, reference_label, "middle", " class=\"reftext\"");
  }
  return svg + "</svg>\n";
}

// The Lorenz curve of exposure: share of exposures held by the least-shown
// share of items, against the diagonal of even exposure.
std::string lorenz_chart(const std::string& id, const std::string& title,
                         const std::vector<std::size_t>& sorted_counts) {
  Frame f;
  f.width = 360;
  f.height = 340;
  std::string svg = svg_open(f, title, id);
  const YAxis axis = y_axis(f, 0.0, 1.0, "share of exposures", svg);
  auto x_of = [&](double share) { return f.left + f.plot_width() * share; };
  for (int t = 0; t <= 4; ++t)
    svg += text(x_of(t / 4.0), f.top + f.plot_height() + 16, number(t / 4.0));
  svg += line(x_of(0), axis.y(0), x_of(1), axis.y(1), "class=\"ref\"");
  double total = 0.0;
  for (const std::size_t c : sorted_counts) total += static_cast<double>(c);
  std::string points = at(x_of(0)) + "," + at(axis.y(0));
  double cumulative = 0.0;
  const double n = static_cast<double>(sorted_counts.size());
  for (std::size_t i = 0; i < sorted_counts.size(); ++i) {
    cumulative += static_cast<double>(sorted_counts[i]);
    points += ' ';
    points += at(x_of(static_cast<double>(i + 1) / n));
    points += ',';
    points += at(axis.y(total > 0 ? cumulative / total : 0.0));
  }
  svg += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + kColors[0] +
         "\" stroke-width=\"2\"/>\n";
  svg += text(f.left + f.plot_width() / 2, f.height - 30, "share of items, least shown first");
  svg += text(x_of(0.05), axis.y(0.9), "dashed: even exposure", "start", " class=\"reftext\"");
  return svg + "</svg>\n";
}

std::string row(const std::vector<std::string>& cells, const char* tag = "td") {
  std::string out = "<tr>";
  for (const auto& c : cells)
    out += std::string("<") + tag + ">" + escape_html(c) + "</" + tag + ">";
  return out + "</tr>\n";
}

std::string with_ci(const Estimate& e) {
  return number(e.value) + " [" + number(e.lower) + ", " + number(e.upper) + "]";
}

const PolicyBias* find(const BiasReport& report, const std::string& policy) {
  for (const auto& b : report.policies) {
    if (b.policy == policy) return &b;
  }
  return nullptr;
}

std::string policy_section(const BiasReport& report, const PolicyBias& b, std::size_t index) {
  const std::string id = "p" + std::to_string(index);
  const PolicyBias* ref = report.reference.empty() || report.reference == b.policy
                              ? nullptr
                              : find(report, report.reference);
  std::string html =
      "<section>\n<h2>Logging policy " + escape_html(b.policy) + "</h2>\n<p>" +
      std::to_string(b.n) + " rewarded decisions; " +
      (b.uniform_logger ? "a uniform-random logger (every probability is 1/candidates)."
                        : "not uniform: its choices are selected.") +
      "</p>\n";

  html += "<h3>Reward by slot</h3>\n";
  std::vector<std::string> slot_names;
  Series rates{"mean reward", {}, {}};
  for (const auto& s : b.slots) {
    slot_names.push_back(std::to_string(s.slot));
    rates.values.push_back(s.mean_reward);
    rates.errors.push_back(kZ95 * s.std_error);
  }
  html += bar_chart(id + "-slots", "Mean reward by slot (95% CI)", slot_names, {rates},
                    "slot (0 = first)", "mean reward");
  html +=
      "<table>\n" + row({"slot", "n", "mean reward", "SE", "ratio to slot 0", "SE of ratio"}, "th");
  for (const auto& s : b.slots) {
    html += row({std::to_string(s.slot), std::to_string(s.n), number(s.mean_reward),
                 number(s.std_error), number(s.ratio_to_first), number(s.ratio_std_error)});
  }
  html += "</table>\n<p class=\"note\">" +
          std::string(
              b.uniform_logger
                  ? "The logger places items at random, so the ratio of a slot's mean reward to "
                    "slot 0's estimates the position bias (examination) of that slot."
                  : "The logger does not randomise placement: better items may be put in better "
                    "slots, so the ratio to slot 0 mixes position bias with item quality "
                    "(confounded).") +
          "</p>\n";

  const ExposureSummary& e = b.exposure;
  html += "<h3>Exposure across items</h3>\n<div class=\"row\">" +
          lorenz_chart(id + "-lorenz", "Lorenz curve of exposure", e.sorted_counts) + "<table>\n" +
          row({"measure", "value"}, "th") +
          row({"items offered (catalogue)", std::to_string(e.catalogue)}) +
          row({"items ever shown", std::to_string(e.shown)}) +
          row({"coverage", percent(e.coverage)}) +
          row({"Gini of exposure", number(e.gini, "%.3f")}) +
          row({"top 10% items", std::to_string(e.top_items)}) +
          row({"their share of exposures", percent(e.top_share)}) +
          row({"their share under even exposure", percent(e.uniform_top_share)}) +
          row({"popularity lift", number(e.popularity_lift, "%.2f")}) + "</table></div>\n";

  const PropensitySummary& p = b.propensities;
  html += "<h3>Logged probabilities</h3>\n";
  std::vector<std::string> bins;
  Series counts{"decisions", {}, {}};
  for (const auto& bin : p.histogram) {
    bins.push_back(number(bin.lower, "%.2g"));
    counts.values.push_back(static_cast<double>(bin.count));
  }
  html += bar_chart(id + "-propensities", "Histogram of logged probabilities (log scale bins)",
                    bins, {counts}, "probability (lower bin edge)", "decisions", 4);
  html +=
      "<table>\n" +
      row({"min", "p05", "p25", "median", "p75", "p95", "max", "ESS of 1/p", "n"}, "th") +
      row({number(p.min), number(p.p05), number(p.p25), number(p.p50), number(p.p75), number(p.p95),
           number(p.max), number(p.effective_sample_size, "%.1f"), std::to_string(p.n)}) +
      "</table>\n";
  const WeightReport& w = b.weights;
  html += "<p>Importance weights of uniform exposure, (1/candidates)/p: effective sample size " +
          number(w.effective_sample_size, "%.1f") + " of " + std::to_string(w.n) + ", mean " +
          number(w.mean_weight, "%.3f") + " (about 1 when the probabilities are right), max " +
          number(w.max_weight, "%.3g") + ".</p>\n";
  for (const auto& warning : b.warnings)
    html += "<p class=\"warn\">Warning: " + escape_html(warning) + "</p>\n";

  if (!b.levels.empty()) {
    html += "<h3>Reward distribution</h3>\n";
    std::vector<double> values;
    for (const auto& l : b.levels) values.push_back(l.reward);
    if (ref) {
      for (const auto& l : ref->levels) values.push_back(l.reward);
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    auto share = [](const PolicyBias& of, double value, bool weighted) {
      for (const auto& l : of.levels) {
        if (l.reward == value) return weighted ? l.weighted_share : l.naive_share;
      }
      return 0.0;
    };
    std::vector<std::string> labels;
    Series naive{"naive (" + b.policy + ")", {}, {}},
        weighted{"weighted to uniform exposure", {}, {}};
    Series truth{ref ? "reference (" + ref->policy + ")" : std::string(), {}, {}};
    std::string table = "<table>\n" + row({"reward", "count", "naive share", "weighted share",
                                           ref ? "reference share" : ""},
                                          "th");
    for (const double v : values) {
      labels.push_back(number(v));
      naive.values.push_back(share(b, v, false));
      weighted.values.push_back(share(b, v, true));
      if (ref) truth.values.push_back(share(*ref, v, false));
      std::size_t count = 0;
      for (const auto& l : b.levels) {
        if (l.reward == v) count = l.count;
      }
      table += row({number(v), std::to_string(count), percent(naive.values.back()),
                    percent(weighted.values.back()), ref ? percent(truth.values.back()) : ""});
    }
    std::vector<Series> series{naive, weighted};
    if (ref) series.push_back(truth);
    html +=
        bar_chart(id + "-levels",
                  "Reward distribution: naive, weighted" + std::string(ref ? ", reference" : ""),
                  labels, series, "reward", "share of decisions");
    html += table + "</table>\n";
  }
  return html + "</section>\n";
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_bias_html(const BiasReport& report, const std::string& source) {
  std::size_t total = 0;
  for (const auto& b : report.policies) total += b.n;
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>recloop bias: " +
      escape_html(source) +
      "</title>\n<style>\n"
      "body{font-family:sans-serif;margin:24px;max-width:1000px;color:#222}\n"
      "table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #bbb;padding:3px "
      "8px;"
      "text-align:right}th{background:#eee}td:first-child{text-align:left}\n"
      "svg.chart{display:block;margin:8px 0;font-size:11px}.ct{font-size:13px;font-weight:bold}\n"
      ".grid{stroke:#ddd}.axis{stroke:#444}.err{stroke:#222;stroke-width:1.2}\n"
      ".ref{stroke:#444;stroke-dasharray:5,4;stroke-width:1.5}.reftext{fill:#444}\n"
      ".note{color:#555}.warn{color:#a00}.row{display:flex;gap:24px;align-items:flex-start}\n"
      "section{border-top:2px solid #ccc;margin-top:24px}\n"
      "</style>\n</head>\n<body>\n<h1>Selection bias report</h1>\n<p>Log <code>" +
      escape_html(source) + "</code>: " + std::to_string(total) + " rewarded decisions from " +
      std::to_string(report.policies.size()) + " logging " +
      (report.policies.size() == 1 ? "policy" : "policies") + ".</p>\n";

  html +=
      "<h2>Naive and corrected values</h2>\n<p>The naive value is the mean logged reward: the "
      "logger's own value, shaped by what it chose to show. IPS and SNIPS reweight each logged "
      "reward by (1/candidates)/probability to estimate the value under uniform exposure (every "
      "candidate equally likely), which a uniform-random logger measures directly.";
  const PolicyBias* ref = report.reference.empty() ? nullptr : find(report, report.reference);
  if (ref) {
    html += " The reference is the uniform-random logger <code>" + escape_html(ref->policy) +
            "</code>: its mean reward, " + number(ref->naive.value) + " (SE " +
            number(ref->naive.std_error) + "), is the ground truth the others are held against.";
  }
  html += "</p>\n";
  std::vector<EstimateRow> rows;
  for (const auto& b : report.policies) {
    rows.push_back({b.policy + " · naive", 0, b.naive});
    rows.push_back({b.policy + " · IPS", 1, b.ips});
    rows.push_back({b.policy + " · SNIPS", 2, b.snips});
  }
  html += estimate_chart("values", "Naive and weighted value estimates", rows,
                         ref ? ref->naive.value : NAN,
                         ref ? "reference mean " + number(ref->naive.value) : std::string());
  html +=
      "<table>\n" + row({"policy", "n", "naive [95% CI]", "IPS [95% CI]", "SNIPS [95% CI]"}, "th");
  for (const auto& b : report.policies) {
    html +=
        row({b.policy, std::to_string(b.n), with_ci(b.naive), with_ci(b.ips), with_ci(b.snips)});
  }
  html += "</table>\n";
  if (!report.gaps.empty()) {
    html += "<h3>Distance to the reference</h3>\n<table>\n" +
            row({"policy", "naive gap (SE)", "IPS gap (SE)", "SNIPS gap (SE)", "IPS closes",
                 "SNIPS closes"},
                "th");
    for (const auto& g : report.gaps) {
      auto gap = [](double v, double se) {
        return number(v, "%+.4f") + " (" + number(se, "%.4f") + ")";
      };
      html += row({g.policy, gap(g.naive_gap, g.naive_gap_std_error),
                   gap(g.ips_gap, g.ips_gap_std_error), gap(g.snips_gap, g.snips_gap_std_error),
                   percent(g.ips_closes), percent(g.snips_closes)});
    }
    html +=
        "</table>\n<p class=\"note\">Gap = estimate minus the reference mean. \"Closes\" = 1 - "
        "|weighted gap| / |naive gap|: the share of the naive mean's distance to the truth that "
        "propensity weighting removes.</p>\n";
  }
  for (std::size_t i = 0; i < report.policies.size(); ++i)
    html += policy_section(report, report.policies[i], i);
  html +=
      "<p class=\"note\">Made by recloop bias. Self-contained: no scripts, fonts or images are "
      "loaded.</p>\n</body>\n</html>\n";
  return html;
}

}  // namespace recloop
