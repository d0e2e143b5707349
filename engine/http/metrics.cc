#include "http/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace vigil::http {

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  // Shortest text that reads back as the same double; integers come out without a fraction.
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, error == std::errc() ? end : buffer);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

namespace {

bool NameChars(std::string_view name, bool colons) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colons && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// HELP text escapes backslash and line feed only (the format's rule, unlike label values).
std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

const char* TypeName(MetricsText::Type type) {
  switch (type) {
    case MetricsText::Type::kCounter: return "counter";
    case MetricsText::Type::kGauge: return "gauge";
    case MetricsText::Type::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

bool ValidMetricName(std::string_view name) { return NameChars(name, /*colons=*/true); }
bool ValidLabelName(std::string_view name) {
  return NameChars(name, /*colons=*/false) && name.substr(0, 2) != "__";
}

void MetricsText::Fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

void MetricsText::Family(std::string_view name, Type type, std::string_view help) {
  if (!ValidMetricName(name)) return Fail("invalid metric name '" + std::string(name) + "'");
  if (std::find(declared_.begin(), declared_.end(), name) != declared_.end()) {
    return Fail("metric family '" + std::string(name) + "' declared twice");
  }
  family_ = name;
  type_ = type;
  declared_.push_back(family_);
  text_ += "# HELP " + family_ + " " + EscapeHelp(help) + "\n";
  text_ += "# TYPE " + family_ + " " + TypeName(type) + "\n";
}

void MetricsText::Line(std::string_view suffix, const Labels& labels, std::string_view extra_label,
                       std::string_view extra_value, double value) {
  std::string line = family_ + std::string(suffix);
  bool first = true;
  auto add = [&](std::string_view name, std::string_view label_value) {
    if (!ValidLabelName(name) || name == "le") {
      return Fail("invalid label name '" + std::string(name) + "' on " + family_);
    }
    line += first ? "{" : ",";
    first = false;
    line += std::string(name) + "=" + EscapeLabelValue(label_value);
  };
  for (const auto& [name, label_value] : labels) add(name, label_value);
  if (!extra_label.empty()) {  // `le`, the writer's own: exempt from the check above
    line += std::string(first ? "{" : ",") + std::string(extra_label) + "=" + EscapeLabelValue(extra_value);
    first = false;
  }
  if (!first) line += "}";
  text_ += line + " " + FormatMetricValue(value) + "\n";
}

void MetricsText::Sample(const Labels& labels, double value) {
  if (family_.empty()) return Fail("a sample before any metric family");
  if (type_ == Type::kHistogram) return Fail(family_ + " is a histogram: use HistogramSamples");
  Line("", labels, "", "", value);
}

void MetricsText::HistogramSamples(const Labels& labels, const vigil::Histogram& histogram) {
  if (family_.empty() || type_ != Type::kHistogram) {
    return Fail("histogram samples outside a histogram family (" + family_ + ")");
  }
  const std::vector<uint64_t> cumulative = histogram.CumulativeCounts();
  const std::vector<double>& bounds = histogram.upper_bounds();
  for (size_t i = 0; i < cumulative.size(); ++i) {
    const double le = i < bounds.size() ? bounds[i] : INFINITY;
    Line("_bucket", labels, "le", FormatMetricValue(le), static_cast<double>(cumulative[i]));
  }
  Line("_sum", labels, "", "", histogram.sum());
  Line("_count", labels, "", "", static_cast<double>(histogram.count()));
}

void MetricsText::Counter(std::string_view name, std::string_view help, double value) {
  Family(name, Type::kCounter, help);
  Sample({}, value);
}

void MetricsText::Gauge(std::string_view name, std::string_view help, double value) {
  Family(name, Type::kGauge, help);
  Sample({}, value);
}

Result<std::string> MetricsText::Finish() {
  if (!error_.empty()) return Status::Error("metrics: " + error_);
  return std::move(text_);
}

}  // namespace vigil::http
