#include "rules_config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "rulekit/alert_builder.h"

namespace vigil {
namespace {


#define VIGIL_DEFAULT(msg, field, value) \
  if (!(msg)->has_##field()) (msg)->set_##field(value)

void ApplyDefaults(v1::RulesConfig& c) {
  auto* t = c.mutable_time();
  VIGIL_DEFAULT(t, max_out_of_orderness_seconds, 300);
  VIGIL_DEFAULT(t, roster_grace_minutes, 120);
  VIGIL_DEFAULT(t, roster_lateness_hours, 168);
  VIGIL_DEFAULT(t, access_lateness_hours, 24);
  VIGIL_DEFAULT(t, complaint_lateness_hours, 24);

  auto* r1 = c.mutable_off_duty_access();
  VIGIL_DEFAULT(r1, enabled, true);
  auto* r2 = c.mutable_repeated_subject_lookup();
  VIGIL_DEFAULT(r2, enabled, true);
  VIGIL_DEFAULT(r2, severity, v1::Alert::MEDIUM);
  VIGIL_DEFAULT(r2, min_lookups, 3);
  VIGIL_DEFAULT(r2, window_days, 30);
  auto* r3 = c.mutable_complainant_lookup();
  VIGIL_DEFAULT(r3, enabled, true);
  VIGIL_DEFAULT(r3, severity, v1::Alert::HIGH);
  VIGIL_DEFAULT(r3, before_days, 7);
  VIGIL_DEFAULT(r3, after_days, 180);
  auto* r4 = c.mutable_complaint_accumulation();
  VIGIL_DEFAULT(r4, enabled, true);
  VIGIL_DEFAULT(r4, severity, v1::Alert::MEDIUM);
  VIGIL_DEFAULT(r4, min_complaints, 3);
  VIGIL_DEFAULT(r4, window_days, 365);
  auto* r5 = c.mutable_sensitive_complaint_pattern();
  VIGIL_DEFAULT(r5, enabled, true);
  VIGIL_DEFAULT(r5, severity, v1::Alert::HIGH);
  VIGIL_DEFAULT(r5, min_complaints, 2);
  VIGIL_DEFAULT(r5, window_days, 365);
  if (r5->categories_size() == 0) {
    r5->add_categories(v1::Complaint::SEXUAL_MISCONDUCT);
    r5->add_categories(v1::Complaint::ABUSE_OF_POSITION);
  }
  auto* r6 = c.mutable_impossible_travel();
  VIGIL_DEFAULT(r6, enabled, true);
  VIGIL_DEFAULT(r6, severity, v1::Alert::MEDIUM);
  VIGIL_DEFAULT(r6, min_km, 50);
  VIGIL_DEFAULT(r6, max_kmh, 300);
  auto* r7 = c.mutable_access_volume_spike();
  VIGIL_DEFAULT(r7, enabled, true);
  VIGIL_DEFAULT(r7, severity, v1::Alert::MEDIUM);
  VIGIL_DEFAULT(r7, min_count, 50);
  VIGIL_DEFAULT(r7, sigmas, 4);
  VIGIL_DEFAULT(r7, baseline_days, 28);
  VIGIL_DEFAULT(r7, min_history_days, 14);
  auto* r8 = c.mutable_overtime_overlap();
  VIGIL_DEFAULT(r8, enabled, true);
  VIGIL_DEFAULT(r8, severity, v1::Alert::MEDIUM);
  auto* r9 = c.mutable_bradford_factor();
  VIGIL_DEFAULT(r9, enabled, true);
  VIGIL_DEFAULT(r9, severity, v1::Alert::LOW);
  VIGIL_DEFAULT(r9, threshold, 250);
  VIGIL_DEFAULT(r9, window_days, 365);
  VIGIL_DEFAULT(r9, cooldown_days, 90);
}
#undef VIGIL_DEFAULT

// Collects range errors as "field: expected ..., got ...".
class RangeCheck {
 public:
  void AtLeast(const char* field, double value, double min) {
    if (!(value >= min)) Fail(field, "at least " + Num(min), value);
  }
  void Between(const char* field, double value, double min, double max) {
    if (!(value >= min && value <= max)) Fail(field, Num(min) + " to " + Num(max), value);
  }
  Status result() const {
    return error_.empty() ? Status::Ok() : Status::Error("rules file: " + error_);
  }

 private:
  static std::string Num(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }
  void Fail(const char* field, const std::string& expected, double value) {
    if (error_.empty()) error_ = std::string(field) + ": expected " + expected + ", got " + Num(value);
  }
  std::string error_;
};

Status CheckSeverity(const char* field, bool has, int severity) {
  if (has && (severity == v1::Alert::SEVERITY_UNSPECIFIED || !v1::Alert::Severity_IsValid(severity))) {
    return Status::Error(std::string("rules file: ") + field + ": expected LOW, MEDIUM or HIGH");
  }
  return Status::Ok();
}

Status CheckRanges(const v1::RulesConfig& c) {
  struct Sev { const char* field; bool has; int value; };
  const Sev severities[] = {
      {"offDutyAccess.severity", c.off_duty_access().has_severity(), c.off_duty_access().severity()},
      {"repeatedSubjectLookup.severity", c.repeated_subject_lookup().has_severity(), c.repeated_subject_lookup().severity()},
      {"complainantLookup.severity", c.complainant_lookup().has_severity(), c.complainant_lookup().severity()},
      {"complaintAccumulation.severity", c.complaint_accumulation().has_severity(), c.complaint_accumulation().severity()},
      {"sensitiveComplaintPattern.severity", c.sensitive_complaint_pattern().has_severity(), c.sensitive_complaint_pattern().severity()},
      {"impossibleTravel.severity", c.impossible_travel().has_severity(), c.impossible_travel().severity()},
      {"accessVolumeSpike.severity", c.access_volume_spike().has_severity(), c.access_volume_spike().severity()},
      {"overtimeOverlap.severity", c.overtime_overlap().has_severity(), c.overtime_overlap().severity()},
      {"bradfordFactor.severity", c.bradford_factor().has_severity(), c.bradford_factor().severity()},
  };
  for (const auto& s : severities) {
    Status status = CheckSeverity(s.field, s.has, s.value);
    if (!status.ok()) return status;
  }
  for (int category : c.sensitive_complaint_pattern().categories()) {
    if (category == v1::Complaint::CATEGORY_UNSPECIFIED || !v1::Complaint::Category_IsValid(category)) {
      return Status::Error("rules file: sensitiveComplaintPattern.categories: expected complaint "
                           "categories such as SEXUAL_MISCONDUCT, got " + std::to_string(category));
    }
  }
  const auto& t = c.time();
  RangeCheck check;
  check.Between("time.maxOutOfOrdernessSeconds", t.max_out_of_orderness_seconds(), 0, 7 * 86400);
  check.Between("time.rosterGraceMinutes", t.roster_grace_minutes(), 0, 7 * 1440);
  check.Between("time.rosterLatenessHours", t.roster_lateness_hours(), 0, 24 * 366);
  check.Between("time.accessLatenessHours", t.access_lateness_hours(), 0, 24 * 366);
  check.Between("time.complaintLatenessHours", t.complaint_lateness_hours(), 0, 24 * 366);
  const auto& r2 = c.repeated_subject_lookup();
  check.Between("repeatedSubjectLookup.minLookups", r2.min_lookups(), 1, 10000);
  check.Between("repeatedSubjectLookup.windowDays", r2.window_days(), 0, 3660);
  const auto& r3 = c.complainant_lookup();
  check.Between("complainantLookup.beforeDays", r3.before_days(), 0, 3660);
  check.Between("complainantLookup.afterDays", r3.after_days(), 0, 3660);
  const auto& r4 = c.complaint_accumulation();
  check.Between("complaintAccumulation.minComplaints", r4.min_complaints(), 1, 10000);
  check.Between("complaintAccumulation.windowDays", r4.window_days(), 0, 3660);
  const auto& r5 = c.sensitive_complaint_pattern();
  check.Between("sensitiveComplaintPattern.minComplaints", r5.min_complaints(), 1, 10000);
  check.Between("sensitiveComplaintPattern.windowDays", r5.window_days(), 0, 3660);
  const auto& r6 = c.impossible_travel();
  check.Between("impossibleTravel.minKm", r6.min_km(), 0, 40075);
  check.AtLeast("impossibleTravel.maxKmh", r6.max_kmh(), 1);
  const auto& r7 = c.access_volume_spike();
  check.Between("accessVolumeSpike.minCount", r7.min_count(), 1, 1000000);
  check.Between("accessVolumeSpike.sigmas", r7.sigmas(), 0, 1000);
  check.Between("accessVolumeSpike.baselineDays", r7.baseline_days(), 2, 366);
  check.Between("accessVolumeSpike.minHistoryDays", r7.min_history_days(), 0, 3660);
  const auto& r9 = c.bradford_factor();
  check.Between("bradfordFactor.threshold", r9.threshold(), 1, 1e9);
  check.Between("bradfordFactor.windowDays", r9.window_days(), 1, 3660);
  check.Between("bradfordFactor.cooldownDays", r9.cooldown_days(), 0, 3660);
  return check.result();
}

}  // namespace

Result<v1::RulesConfig> ParseRulesConfig(const std::string& json) {
  v1::RulesConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, &config, options);
  if (!status.ok()) return Status::Error("rules file: " + std::string(status.message()));
  ApplyDefaults(config);  // defaults are in range, so any range error names a value from the file
  Status ranges = CheckRanges(config);
  if (!ranges.ok()) return ranges;
  return config;
}

Result<v1::RulesConfig> LoadRulesConfig(const std::string& path) {
  if (path.empty()) return DefaultRulesConfig();
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read rules file " + path);
  std::stringstream text;
  text << in.rdbuf();
  Result<v1::RulesConfig> config = ParseRulesConfig(text.str());
  if (!config.ok()) return Status::Error(path + ": " + config.status().message());
  return config;
}

v1::RulesConfig DefaultRulesConfig() {
  v1::RulesConfig config;
  ApplyDefaults(config);
  return config;
}

namespace {

// What the rules do, and nothing else: the free-text descriptions go (`vigil rules --defaults`
// prints them, and its output loads back as the same rules) and the categories become a set.
v1::RulesConfig Canonical(const v1::RulesConfig& config) {
  v1::RulesConfig c = config;
  ApplyDefaults(c);  // a config built in code may leave fields out; a loaded one has none
  const google::protobuf::Descriptor* descriptor = c.GetDescriptor();
  const google::protobuf::Reflection* reflection = c.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    google::protobuf::Message* rule = reflection->MutableMessage(&c, descriptor->field(i));
    if (const auto* text = rule->GetDescriptor()->FindFieldByName("description")) {
      rule->GetReflection()->ClearField(rule, text);
    }
  }
  auto* categories = c.mutable_sensitive_complaint_pattern()->mutable_categories();
  std::sort(categories->begin(), categories->end());
  categories->erase(std::unique(categories->begin(), categories->end()), categories->end());
  return c;
}

}  // namespace

std::string RulesVersion(const v1::RulesConfig& config) {
  v1::RulesConfig canonical = Canonical(config);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    canonical.SerializeToCodedStream(&out);
  }
  return StableHash128(bytes).substr(0, 12);
}

TimeSettings TimeSettings::From(const v1::RulesConfig& config) {
  const auto& t = config.time();
  return TimeSettings{t.max_out_of_orderness_seconds() * kSecond, t.roster_grace_minutes() * kMinute,
                      t.roster_lateness_hours() * kHour, t.access_lateness_hours() * kHour,
                      t.complaint_lateness_hours() * kHour};
}

Millis TimeSettings::LatenessFor(Stream stream) const {
  switch (stream) {
    case Stream::kRoster: return roster_lateness;
    case Stream::kAccess: return access_lateness;
    case Stream::kComplaint: return complaint_lateness;
  }
  return access_lateness;
}

Millis TimeSettings::MaxLateness() const {
  return std::max({roster_lateness, access_lateness, complaint_lateness});
}

}  // namespace vigil
