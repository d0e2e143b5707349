// MetricsText: writes metrics in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), for GET /metrics. A family is
// declared once with its HELP and TYPE lines, then its samples follow; label values are escaped
// (backslash, double quote, line feed) and HELP text too (backslash, line feed).
//
// Names are the program's, not a client's, but a wrong one would make Prometheus reject the whole
// scrape: the first invalid metric or label name, a sample outside its family, or a family declared
// twice is kept, and Finish() returns it as the error instead of the text.
//
// Not thread-safe: one writer per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "histogram.h"
#include "status.h"

namespace vigil::http {

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricsText {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // The HELP and TYPE lines of a family; its samples must follow before the next Family().
  void Family(std::string_view name, Type type, std::string_view help);
  // A counter or gauge sample of the current family.
  void Sample(const Labels& labels, double value);
  // A histogram family's samples: _bucket{le=...} lines, _sum and _count.
  void HistogramSamples(const Labels& labels, const vigil::Histogram& histogram);

  // Shorthands for a family of one unlabelled sample.
  void Counter(std::string_view name, std::string_view help, double value);
  void Gauge(std::string_view name, std::string_view help, double value);

  // The text, or the first error.
  Result<std::string> Finish();

 private:
  void Line(std::string_view suffix, const Labels& labels, std::string_view extra_label,
            std::string_view extra_value, double value);
  void Fail(std::string message);

  std::string text_;
  std::string family_;
  Type type_ = Type::kGauge;
  std::vector<std::string> declared_;
  std::string error_;
};

// The exposition format's spelling of a value: integers without a fraction, "+Inf", "NaN".
std::string FormatMetricValue(double value);
// A label value between double quotes, with \, " and line feed escaped.
std::string EscapeLabelValue(std::string_view value);
bool ValidMetricName(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool ValidLabelName(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*, not starting "__"

// The Content-Type of a response in this format.
inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace vigil::http
