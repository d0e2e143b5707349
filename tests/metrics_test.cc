// The Prometheus text writer (engine/http/metrics.h) and the /metrics page built with it
// (engine/http/ops_server.h).
#include <doctest/doctest.h>

#include <cmath>

#include "http/metrics.h"
#include "http/ops_server.h"

namespace vigil::testing {

using http::MetricsText;
using Type = MetricsText::Type;

TEST_CASE("metrics: families have HELP and TYPE lines, then their samples with labels") {
  MetricsText out;
  out.Family("vigil_events_in_total", Type::kCounter, "Events accepted, by input topic.");
  out.Sample({{"topic", "vigil.access"}}, 12);
  out.Sample({{"topic", "vigil.roster"}, {"partition", "0"}}, 0);
  out.Gauge("vigil_watermark_lag_seconds", "Lag.", 1.5);
  Result<std::string> text = out.Finish();
  REQUIRE(text.ok());
  CHECK(*text ==
        "# HELP vigil_events_in_total Events accepted, by input topic.\n"
        "# TYPE vigil_events_in_total counter\n"
        "vigil_events_in_total{topic=\"vigil.access\"} 12\n"
        "vigil_events_in_total{topic=\"vigil.roster\",partition=\"0\"} 0\n"
        "# HELP vigil_watermark_lag_seconds Lag.\n"
        "# TYPE vigil_watermark_lag_seconds gauge\n"
        "vigil_watermark_lag_seconds 1.5\n");
}

TEST_CASE("metrics: label values escape backslash, double quote and line feed; HELP escapes \\ and line feed") {
  CHECK(http::EscapeLabelValue("a\\b\"c\nd") == "\"a\\\\b\\\"c\\nd\"");
  CHECK(http::EscapeLabelValue("") == "\"\"");
  CHECK(http::EscapeLabelValue("caf\xc3\xa9") == "\"caf\xc3\xa9\"");  // UTF-8 as is
  MetricsText out;
  out.Family("x", Type::kGauge, "say \"hi\"\\\nthere");
  out.Sample({{"rule", "a\"b"}}, 1);
  Result<std::string> text = out.Finish();
  REQUIRE(text.ok());
  CHECK(*text == "# HELP x say \"hi\"\\\\\\nthere\n# TYPE x gauge\nx{rule=\"a\\\"b\"} 1\n");
}

TEST_CASE("metrics: values are exact integers, shortest decimals, +Inf, -Inf and NaN") {
  CHECK(http::FormatMetricValue(0) == "0");
  CHECK(http::FormatMetricValue(18446744073709.0) == "18446744073709");
  CHECK(http::FormatMetricValue(0.1) == "0.1");
  CHECK(http::FormatMetricValue(-2.5) == "-2.5");
  CHECK(http::FormatMetricValue(INFINITY) == "+Inf");
  CHECK(http::FormatMetricValue(-INFINITY) == "-Inf");
  CHECK(http::FormatMetricValue(NAN) == "NaN");
}

TEST_CASE("metrics: a histogram writes cumulative buckets up to +Inf, its sum and its count") {
  Histogram histogram({1, 0.1});  // sorted by the histogram
  for (double v : {0.05, 0.1, 0.5, 3.0}) histogram.Observe(v);
  CHECK(histogram.CumulativeCounts() == std::vector<uint64_t>{2, 3, 4});
  MetricsText out;
  out.Family("vigil_checkpoint_duration_seconds", Type::kHistogram, "Durations.");
  out.HistogramSamples({{"kind", "x"}}, histogram);
  Result<std::string> text = out.Finish();
  REQUIRE(text.ok());
  CHECK(*text ==
        "# HELP vigil_checkpoint_duration_seconds Durations.\n"
        "# TYPE vigil_checkpoint_duration_seconds histogram\n"
        "vigil_checkpoint_duration_seconds_bucket{kind=\"x\",le=\"0.1\"} 2\n"
        "vigil_checkpoint_duration_seconds_bucket{kind=\"x\",le=\"1\"} 3\n"
        "vigil_checkpoint_duration_seconds_bucket{kind=\"x\",le=\"+Inf\"} 4\n"
        "vigil_checkpoint_duration_seconds_sum{kind=\"x\"} 3.65\n"
        "vigil_checkpoint_duration_seconds_count{kind=\"x\"} 4\n");
}

TEST_CASE("metrics: bad names, samples outside a family and a family twice are errors, not text") {
  CHECK(http::ValidMetricName("vigil:rate_5m"));
  CHECK_FALSE(http::ValidMetricName("9lives"));
  CHECK_FALSE(http::ValidMetricName("vigil-events"));
  CHECK(http::ValidLabelName("topic"));
  CHECK_FALSE(http::ValidLabelName("__name__"));
  CHECK_FALSE(http::ValidLabelName("a:b"));
  auto error_of = [](auto write) {
    MetricsText out;
    write(out);
    Result<std::string> text = out.Finish();
    return text.ok() ? std::string() : text.status().message();
  };
  CHECK(error_of([](MetricsText& o) { o.Counter("vigil events", "h", 1); }) ==
        "metrics: invalid metric name 'vigil events'");
  CHECK(error_of([](MetricsText& o) { o.Sample({}, 1); }) == "metrics: a sample before any metric family");
  CHECK(error_of([](MetricsText& o) {
          o.Gauge("g", "h", 1);
          o.Gauge("g", "h", 2);
        }) == "metrics: metric family 'g' declared twice");
  CHECK(error_of([](MetricsText& o) {
          o.Family("g", Type::kGauge, "h");
          o.Sample({{"le", "1"}}, 1);
        }) == "metrics: invalid label name 'le' on g");
  CHECK(error_of([](MetricsText& o) {
          o.Family("g", Type::kGauge, "h");
          o.HistogramSamples({}, Histogram({1}));
        }) == "metrics: histogram samples outside a histogram family (g)");
}

TEST_CASE("metrics: the /metrics page shows counters by topic, rule and reason, and no personal data") {
  Health health;
  health.Set(HealthState::kRunning);
  LiveMetrics m;
  m.processor.events_in = {5, 40, 2};
  m.processor.alerts_by_rule = {{"bradford_factor", 3}};
  m.processor.invalid = 4;
  m.processor.too_late = 1;
  m.lag = {{"vigil.access", 2, 17}};
  m.watermark = 1000000;
  m.assigned_partitions = 9;
  m.checkpoint_seconds.Observe(0.02);
  http::OpsEndpoints endpoints{&health, nullptr, Topics{}, 1500};
  Result<std::string> page = http::MetricsPage(endpoints, health.Get(), m, 1010000);
  REQUIRE(page.ok());
  INFO(*page);
  for (const char* line : {
           "vigil_events_in_total{topic=\"vigil.access\"} 40\n",
           "vigil_alerts_total{rule=\"bradford_factor\"} 3\n",
           "vigil_dead_letters_total{reason=\"invalid\"} 4\n",
           "vigil_dead_letters_total{reason=\"too_late\"} 1\n",
           "vigil_consumer_lag_records{topic=\"vigil.access\",partition=\"2\"} 17\n",
           "vigil_watermark_lag_seconds 10\n",
           "vigil_checkpoint_duration_seconds_count 1\n",
           "vigil_health_state{state=\"running\"} 1\n",
           "vigil_health_state{state=\"failed\"} 0\n",
           "vigil_ready 1\n",
           "process_start_time_seconds 1.5\n",
       }) {
    CHECK(page->find(line) != std::string::npos);
  }
  // Every label is one of the few the page uses.
  for (size_t at = page->find('{'); at != std::string::npos; at = page->find('{', at + 1)) {
    const std::string label = page->substr(at + 1, page->find('=', at) - at - 1);
    CHECK_MESSAGE((label == "topic" || label == "rule" || label == "reason" || label == "state" ||
                   label == "le"),
                  label);
  }
}

}  // namespace vigil::testing
