// SPDX-License-Identifier: Apache-2.0
// Text format after the Prometheus exposition format documentation, "Text
// format details" (version 0.0.4): HELP and TYPE lines, then one line per
// sample, `name{label="value",...} value`.
#include "feedback/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace recloop {
namespace {

bool is_name_start(char c, bool colon_allowed) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (colon_allowed && c == ':');
}

bool is_name_char(char c, bool colon_allowed) {
  return is_name_start(c, colon_allowed) || (c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty() || !is_name_start(name.front(), colon_allowed)) return false;
  for (char c : name) {
    if (!is_name_char(c, colon_allowed)) return false;
  }
  return true;
}

void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_double(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char text[32];
    const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
    out.append(text, ec == std::errc() ? end : text);
  }
}

std::string rendered_labels(const MetricLabels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first;
    out += "=\"";
    append_escaped(out, labels[i].second, true);
    out += '"';
  }
  out += '}';
  return out;
}

std::string_view type_name(int type) {
  switch (type) {
    case 0:
      return "counter";
    case 1:
      return "gauge";
    default:
      return "summary";
  }
}

}  // namespace

struct MetricsRegistry::Series {
  MetricLabels labels;
  std::string label_text;  // rendered once, at registration
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Summary> summary;
  std::function<std::uint64_t()> read_count;
  std::function<double()> read_value;
};

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  Type type = Type::counter;
  std::vector<std::unique_ptr<Series>> series;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Series& MetricsRegistry::series(std::string_view name, std::string_view help,
                                                 Type type, MetricLabels labels, bool must_be_new) {
  if (!valid_name(name, true)) {
    throw std::invalid_argument("metric name '" + std::string(name) +
                                "' is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& label = labels[i].first;
    if (!valid_name(label, false) || label.rfind("__", 0) == 0) {
      throw std::invalid_argument("metric " + std::string(name) + ": label name '" + label +
                                  "' is not [a-zA-Z_][a-zA-Z0-9_]* without a leading __");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].first == label) {
        throw std::invalid_argument("metric " + std::string(name) + ": label '" + label +
                                    "' given twice");
      }
    }
  }
  Family* family = nullptr;
  if (auto found = by_name_.find(name); found != by_name_.end()) {
    family = found->second;
    if (family->type != type || family->help != help) {
      throw std::invalid_argument("metric " + std::string(name) +
                                  " is already registered with another type or help text");
    }
  } else {
    auto created = std::make_unique<Family>();
    created->name = std::string(name);
    created->help = std::string(help);
    created->type = type;
    family = created.get();
    families_.push_back(std::move(created));
    by_name_.emplace(family->name, family);
  }
  for (auto& existing : family->series) {
    if (existing->labels != labels) continue;
    if (must_be_new || existing->read_count || existing->read_value) {
      throw std::invalid_argument("metric " + std::string(name) + rendered_labels(labels) +
                                  " is registered twice");
    }
    return *existing;
  }
  auto created = std::make_unique<Series>();
  created->label_text = rendered_labels(labels);
  created->labels = std::move(labels);
  family->series.push_back(std::move(created));
  return *family->series.back();
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  MetricLabels labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Series& s = series(name, help, Type::counter, std::move(labels), false);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, MetricLabels labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Series& s = series(name, help, Type::gauge, std::move(labels), false);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Summary& MetricsRegistry::summary(std::string_view name, std::string_view help,
                                  MetricLabels labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Series& s = series(name, help, Type::summary, std::move(labels), false);
  if (!s.summary) s.summary = std::make_unique<Summary>();
  return *s.summary;
}

void MetricsRegistry::counter_function(std::string_view name, std::string_view help,
                                       MetricLabels labels, std::function<std::uint64_t()> read) {
  if (!read) throw std::invalid_argument("metric " + std::string(name) + ": no read function");
  std::lock_guard<std::mutex> lock(mutex_);
  Series& s = series(name, help, Type::counter, std::move(labels), true);
  s.read_count = std::move(read);
}

void MetricsRegistry::gauge_function(std::string_view name, std::string_view help,
                                     MetricLabels labels, std::function<double()> read) {
  if (!read) throw std::invalid_argument("metric " + std::string(name) + ": no read function");
  std::lock_guard<std::mutex> lock(mutex_);
  Series& s = series(name, help, Type::gauge, std::move(labels), true);
  s.read_value = std::move(read);
}

std::string MetricsRegistry::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& family : families_) {
    out += "# HELP ";
    out += family->name;
    out += ' ';
    append_escaped(out, family->help, false);
    out += "\n# TYPE ";
    out += family->name;
    out += ' ';
    out += type_name(static_cast<int>(family->type));
    out += '\n';
    for (const auto& s : family->series) {
      if (family->type == Type::summary) {
        const std::uint64_t count = s->summary ? s->summary->count() : 0;
        const double sum = s->summary ? s->summary->sum() : 0.0;
        out += family->name + "_sum" + s->label_text + ' ';
        append_double(out, sum);
        out += '\n' + family->name + "_count" + s->label_text + ' ' + std::to_string(count) + '\n';
        continue;
      }
      out += family->name;
      out += s->label_text;
      out += ' ';
      if (s->counter) {
        out += std::to_string(s->counter->value());
      } else if (s->read_count) {
        out += std::to_string(s->read_count());
      } else if (s->gauge) {
        append_double(out, s->gauge->value());
      } else if (s->read_value) {
        append_double(out, s->read_value());
      }
      out += '\n';
    }
  }
  return out;
}

namespace {

[[noreturn]] void bad_line(std::size_t line, const std::string& what) {
  throw std::invalid_argument("metrics text line " + std::to_string(line) + ": " + what);
}

double parse_value(std::string_view text, std::size_t line) {
  if (text == "NaN") return std::nan("");
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  double value = 0.0;
  const char* first = text.data();
  if (!text.empty() && text.front() == '+') ++first;
  const auto [end, ec] = std::from_chars(first, text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || first == end) {
    bad_line(line, "value '" + std::string(text) + "' is not a number");
  }
  return value;
}

}  // namespace

std::vector<MetricSample> parse_metrics_text(std::string_view text) {
  std::vector<MetricSample> samples;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;

    MetricSample sample;
    std::size_t i = 0;
    while (i < line.size() && is_name_char(line[i], true)) ++i;
    sample.name = std::string(line.substr(0, i));
    if (!valid_name(sample.name, true)) bad_line(line_number, "no metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        const std::size_t start = i;
        while (i < line.size() && is_name_char(line[i], false)) ++i;
        std::string label(line.substr(start, i - start));
        if (label.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          bad_line(line_number, "malformed label in " + sample.name);
        }
        i += 2;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          const char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\' && i < line.size()) {
            const char e = line[i++];
            value += e == 'n' ? '\n' : e;
          } else {
            value += c;
          }
        }
        if (!closed) bad_line(line_number, "unterminated label value in " + sample.name);
        sample.labels.emplace_back(std::move(label), std::move(value));
      }
    }
    while (i < line.size() && line[i] == ' ') ++i;
    std::string_view rest = line.substr(i);
    const std::size_t space = rest.find(' ');
    if (rest.empty()) bad_line(line_number, "no value for " + sample.name);
    sample.value = parse_value(rest.substr(0, space), line_number);
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace recloop
