#include "replay/diff.h"

#include <algorithm>
#include <iostream>
#include <set>
#include <tuple>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "kafka/kafka_io.h"
#include "pipeline.h"
#include "replay/replay.h"

namespace vigil {
namespace {

namespace pb = google::protobuf;

constexpr uint64_t kCheckpointEvery = 20000;  // as `vigil replay`: bounds the state held in memory

// One rule set's run: its pipeline over its own temporary RocksDB, and the alerts it made.
struct RuleRun {
  RuleRun(const v1::RulesConfig& config, const std::string& prefix)
      : dir(prefix), pipeline(MakePipeline(config, OpenRocksBackend(dir.path(), RocksOptions{}))) {}
  TempDir dir;
  Pipeline pipeline;
  std::vector<v1::Alert> alerts;
};

// A rule set's run fed from a file, line by line.
struct Side : RuleRun {
  Side(const v1::RulesConfig& config, const std::string& prefix, const std::string& source)
      : RuleRun(config, prefix),
        replayer(pipeline, source, [this](const v1::Alert& a) { alerts.push_back(a); },
                 [](const DeadLetter&) {}) {}
  void Checkpoint() {
    pipeline.core->PrepareCheckpoint();
    pipeline.store->Checkpoint(false);
  }
  LineReplayer replayer;
};

struct Window {
  Millis start, end;
};
Window WindowOf(const v1::Alert& alert) {
  return {ToMillis(alert.window_start()), ToMillis(alert.window_end())};
}

// Case key: rule, officer, subject.
std::tuple<std::string, std::string, std::string> CaseKey(const v1::Alert& alert) {
  return {alert.rule_id(), alert.officer_id(), alert.subject_id()};
}

// Indices of `alerts` grouped by case key, each group in window order (then id): deterministic
// whatever order the alerts were emitted in.
std::map<std::tuple<std::string, std::string, std::string>, std::vector<size_t>> GroupByCase(
    const std::vector<v1::Alert>& alerts) {
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < alerts.size(); ++i) groups[CaseKey(alerts[i])].push_back(i);
  for (auto& [key, indices] : groups) {
    std::sort(indices.begin(), indices.end(), [&](size_t x, size_t y) {
      Window wx = WindowOf(alerts[x]), wy = WindowOf(alerts[y]);
      return std::tie(wx.start, wx.end, alerts[x].alert_id()) <
             std::tie(wy.start, wy.end, alerts[y].alert_id());
    });
  }
  return groups;
}

struct Candidate {
  bool same_id;
  Millis overlap;
  size_t rank_a, rank_b;  // positions within the case group, for ties
  size_t a, b;
};

// Greedy matching within one case group (see diff.h).
void MatchGroup(const std::vector<v1::Alert>& a, const std::vector<size_t>& ga,
                const std::vector<v1::Alert>& b, const std::vector<size_t>& gb,
                std::vector<AlertMatch>& out) {
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < ga.size(); ++i) {
    for (size_t j = 0; j < gb.size(); ++j) {
      Window wa = WindowOf(a[ga[i]]), wb = WindowOf(b[gb[j]]);
      Millis overlap = std::min(wa.end, wb.end) - std::max(wa.start, wb.start);
      if (overlap < 0) continue;
      candidates.push_back({a[ga[i]].alert_id() == b[gb[j]].alert_id(), overlap, i, j, ga[i], gb[j]});
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& x, const Candidate& y) {
    return std::make_tuple(!x.same_id, -x.overlap, x.rank_a, x.rank_b) <
           std::make_tuple(!y.same_id, -y.overlap, y.rank_a, y.rank_b);
  });
  std::set<size_t> used_a, used_b;
  for (const auto& c : candidates) {
    if (used_a.count(c.a) || used_b.count(c.b)) continue;
    used_a.insert(c.a);
    used_b.insert(c.b);
    out.push_back({c.a, c.b});
  }
}

const pb::FieldDescriptor* RuleField(const std::string& rule_id) {
  return v1::RulesConfig::descriptor()->FindFieldByName(rule_id);
}

// A singular scalar field's value as the rules file writes it (rule messages hold no others).
std::string FieldText(const pb::Message& message, const pb::FieldDescriptor* field) {
  const pb::Reflection* r = message.GetReflection();
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_BOOL: return r->GetBool(message, field) ? "true" : "false";
    case pb::FieldDescriptor::CPPTYPE_INT32: return std::to_string(r->GetInt32(message, field));
    case pb::FieldDescriptor::CPPTYPE_INT64: return std::to_string(r->GetInt64(message, field));
    case pb::FieldDescriptor::CPPTYPE_ENUM: return r->GetEnum(message, field)->name();
    case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
      std::string text = std::to_string(r->GetDouble(message, field));
      text.erase(text.find_last_not_of('0') + 1);
      if (text.back() == '.') text.pop_back();
      return text;
    }
    default: return r->GetString(message, field);
  }
}

std::string RepeatedText(const pb::Message& message, const pb::FieldDescriptor* field) {
  const pb::Reflection* r = message.GetReflection();
  std::string text = "[";
  for (int i = 0; i < r->FieldSize(message, field); ++i) {
    if (i) text += ",";
    text += field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM
                ? r->GetRepeatedEnum(message, field, i)->name()
                : std::to_string(r->GetRepeatedInt32(message, field, i));
  }
  return text + "]";
}

std::string ValueText(const pb::Message& message, const pb::FieldDescriptor* field) {
  return field->is_repeated() ? RepeatedText(message, field) : FieldText(message, field);
}

// The setting each rule's score is compared with to fire (score >= setting), where there is one.
const std::map<std::string, std::string>& ThresholdFields() {
  static const std::map<std::string, std::string> fields = {
      {"repeated_subject_lookup", "min_lookups"},   {"complaint_accumulation", "min_complaints"},
      {"sensitive_complaint_pattern", "min_complaints"}, {"bradford_factor", "threshold"},
      {"access_volume_spike", "min_count"},         {"impossible_travel", "min_km"},
  };
  return fields;
}

double NumberOf(const pb::Message& message, const pb::FieldDescriptor* field) {
  const pb::Reflection* r = message.GetReflection();
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32: return r->GetInt32(message, field);
    case pb::FieldDescriptor::CPPTYPE_INT64: return static_cast<double>(r->GetInt64(message, field));
    default: return r->GetDouble(message, field);
  }
}

// Why `other` (named `other_name`) made no alert for this case, when its settings show it.
std::string WhyNot(const v1::Alert& alert, const v1::RulesConfig& other, const std::string& other_name) {
  const pb::FieldDescriptor* rule = RuleField(alert.rule_id());
  if (!rule) return "";
  const pb::Message& settings = other.GetReflection()->GetMessage(other, rule);
  const pb::FieldDescriptor* enabled = settings.GetDescriptor()->FindFieldByName("enabled");
  if (enabled && !settings.GetReflection()->GetBool(settings, enabled)) {
    return "the rule is disabled under " + other_name;
  }
  auto threshold = ThresholdFields().find(alert.rule_id());
  if (threshold == ThresholdFields().end()) return "";
  const pb::FieldDescriptor* field = settings.GetDescriptor()->FindFieldByName(threshold->second);
  if (!field || NumberOf(settings, field) <= alert.score()) return "";
  std::string score = FieldText(alert, alert.GetDescriptor()->FindFieldByName("score"));
  return "score " + score + " is below " + other_name + "'s " + field->json_name() + " " +
         ValueText(settings, field);
}

void CountSet(const std::vector<v1::Alert>& alerts, bool is_a, std::map<std::string, RuleDiff>& rules,
              std::map<std::string, std::set<std::string>>& officers) {
  for (const auto& alert : alerts) {
    RuleDiff& rule = rules[alert.rule_id()];
    WeekCounts& week = rule.weeks[IsoWeek(ToMillis(alert.window_end()))];
    ++(is_a ? rule.a : rule.b);
    ++(is_a ? week.a : week.b);
    officers[alert.rule_id()].insert(alert.officer_id());
  }
}

// Without rule sets (a or b null) the settings are unknown.
UnmatchedAlert Unmatched(const v1::Alert& alert, const v1::RulesConfig* a, const v1::RulesConfig* b,
                         bool a_is_other) {
  if (!a || !b) return {alert, {}, "", false};
  return {alert, SettingDifferences(alert.rule_id(), *a, *b),
          WhyNot(alert, a_is_other ? *a : *b, a_is_other ? "A" : "B")};
}

DiffResult Compare(const std::vector<v1::Alert>& a, const std::vector<v1::Alert>& b,
                   const v1::RulesConfig* config_a, const v1::RulesConfig* config_b) {
  DiffResult result;
  for (const auto& id : RuleIds()) result.rules[id];
  std::map<std::string, std::set<std::string>> officers;
  CountSet(a, true, result.rules, officers);
  CountSet(b, false, result.rules, officers);
  result.matches = MatchAlerts(a, b);
  std::vector<bool> matched_a(a.size()), matched_b(b.size());
  for (const auto& m : result.matches) {
    matched_a[m.a] = matched_b[m.b] = true;
    ++result.rules[a[m.a].rule_id()].matched;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (matched_a[i]) continue;
    ++result.rules[a[i].rule_id()].only_a;
    result.only_a.push_back(Unmatched(a[i], config_a, config_b, false));
  }
  for (size_t j = 0; j < b.size(); ++j) {
    if (matched_b[j]) continue;
    ++result.rules[b[j].rule_id()].only_b;
    result.only_b.push_back(Unmatched(b[j], config_a, config_b, true));
  }
  for (auto& [rule, set] : officers) result.rules[rule].officers = set.size();
  return result;
}

// Keeps `alert` when its window_end lies in [from, to] and its id is new.
void TakeTopicAlert(v1::Alert alert, Millis from, Millis to, std::set<std::string>& ids,
                    TopicAlerts& out) {
  const Millis end = ToMillis(alert.window_end());
  if (end < from || end > to) {
    ++out.outside;
  } else if (!ids.insert(alert.alert_id()).second) {
    ++out.duplicates;
  } else {
    out.rules_versions.insert(alert.rules_version());
    out.alerts.push_back(std::move(alert));
  }
}

// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string StringField(const pb::Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it == object.fields().end() ? "" : it->second.string_value();
}

Result<Label> ParseLabelLine(const std::string& line) {
  pb::Struct object;
  if (!pb::util::JsonStringToMessage(line, &object).ok()) return Status::Error("not a JSON object");
  for (const auto& [name, value] : object.fields()) {
    // "why": the synthetic force's note on a case (vigil generate --labels); read, not used.
    if (name != "alertId" && name != "officerId" && name != "ruleId" && name != "outcome" &&
        name != "label" && name != "why") {
      return Status::Error("unknown field '" + name + "'");
    }
    if (value.kind_case() != pb::Value::kStringValue) return Status::Error(name + " is not a string");
  }
  Label label{StringField(object, "alertId"), StringField(object, "officerId"),
              StringField(object, "ruleId"), StringField(object, "label")};
  if (label.rule_id.empty()) return Status::Error("ruleId is missing");
  if (!RuleField(label.rule_id) || label.rule_id == "time") {
    return Status::Error("ruleId '" + label.rule_id + "' is not a rule");
  }
  if (label.alert_id.empty() && label.officer_id.empty()) {
    return Status::Error("a label needs an alertId or an officerId");
  }
  if (label.label != "true_positive" && label.label != "false_positive" && label.label != "duplicate") {
    return Status::Error("label must be true_positive, false_positive or duplicate, got '" +
                         label.label + "'");
  }
  return label;
}

// Whether `set` has an alert for the case of `label`; `partner` maps an alert id of the other
// set to the id of this set's alert matched to it.
bool Alerted(const Label& label, const std::vector<v1::Alert>& set,
             const std::map<std::string, std::string>& partner) {
  if (!label.alert_id.empty()) {
    std::string id = label.alert_id;
    if (auto it = partner.find(id); it != partner.end()) id = it->second;
    return std::any_of(set.begin(), set.end(), [&](const v1::Alert& a) { return a.alert_id() == id; });
  }
  return std::any_of(set.begin(), set.end(), [&](const v1::Alert& a) {
    return a.rule_id() == label.rule_id && a.officer_id() == label.officer_id;
  });
}

void Score(const Label& label, bool alerted, LabelScore& score) {
  if (label.label == "true_positive") ++(alerted ? score.tp : score.misses);
  if (alerted && label.label == "false_positive") ++score.fp;
  if (alerted && label.label == "duplicate") ++score.duplicates;
}

}  // namespace

DiffReplay ReplayBoth(std::istream& in, const std::string& source_name, const v1::RulesConfig& a,
                      const v1::RulesConfig& b, bool progress) {
  Side side_a(a, "vigil-diff-a-", source_name), side_b(b, "vigil-diff-b-", source_name);
  const Millis started = SystemClock().NowMillis();
  Millis last_progress = started;
  std::string line;
  while (std::getline(in, line)) {
    Status fed = side_a.replayer.Feed(line);
    side_b.replayer.Feed(line);  // the same line: the same verdict, reported once
    if (!fed.ok()) std::cerr << fed.message() << " (line skipped)\n";
    if (side_a.replayer.lines() % kCheckpointEvery != 0) continue;
    side_a.Checkpoint();
    side_b.Checkpoint();
    Millis now = SystemClock().NowMillis();
    if (progress && now - last_progress >= 2000) {
      std::cerr << "diff: " << side_a.replayer.lines() << " lines, " << side_a.alerts.size()
                << " alerts under A, " << side_b.alerts.size() << " under B\n";
      last_progress = now;
    }
  }
  side_a.replayer.Finish();
  side_b.replayer.Finish();
  return {std::move(side_a.alerts), std::move(side_b.alerts), side_a.replayer.lines(),
          side_a.replayer.skipped()};
}

Result<DiffReplay> ReplayBothFromKafka(const KafkaRangeOptions& range, const v1::RulesConfig& a,
                                       const v1::RulesConfig& b) {
  RuleRun run_a(a, "vigil-diff-a-"), run_b(b, "vigil-diff-b-");
  KafkaRangeOptions options = range;
  options.time = WiderMargins(TimeSettings::From(a), TimeSettings::From(b));
  RuleRun* runs[2] = {&run_a, &run_b};
  Result<RangeReport> read = FeedKafkaRange(
      options, {&run_a.pipeline, &run_b.pipeline},
      [&](size_t i, const v1::Alert& alert) { runs[i]->alerts.push_back(alert); },
      [](size_t, const DeadLetter&) {});  // counted in the report; diff keeps no dead letters
  if (!read.ok()) return read.status();
  return DiffReplay{std::move(run_a.alerts), std::move(run_b.alerts), read->records, read->invalid};
}

Result<TopicAlerts> ReadAlertTopic(const std::string& brokers, const std::string& topic, Millis from,
                                   Millis to) {
  TopicAlerts out;
  std::set<std::string> ids;
  Status read = ReadTopic(brokers, topic, ReadOptions{}, [&](const rd_kafka_message_t& m) {
    ++out.records;
    v1::Alert alert;
    if (!m.payload || !alert.ParseFromArray(m.payload, static_cast<int>(m.len))) {
      ++out.invalid;
      return;
    }
    TakeTopicAlert(std::move(alert), from, to, ids, out);
  });
  if (!read.ok()) return Status::Error("reading " + topic + ": " + read.message());
  return out;
}

std::vector<AlertMatch> MatchAlerts(const std::vector<v1::Alert>& a,
                                    const std::vector<v1::Alert>& b) {
  auto groups_b = GroupByCase(b);
  std::vector<AlertMatch> matches;
  for (const auto& [key, ga] : GroupByCase(a)) {
    auto gb = groups_b.find(key);
    if (gb != groups_b.end()) MatchGroup(a, ga, b, gb->second, matches);
  }
  std::sort(matches.begin(), matches.end(),
            [](const AlertMatch& x, const AlertMatch& y) { return x.a < y.a; });
  return matches;
}

std::string IsoWeek(Millis t) {
  const int64_t days = FloorTo(t, kDay) / kDay;
  const int64_t weekday = ((days + 3) % 7 + 7) % 7;  // Monday 0; 1970-01-01 was a Thursday
  const int64_t thursday = days - weekday + 3;       // its week's Thursday decides the year
  int64_t year;
  unsigned month, day;
  CivilFromDays(thursday, year, month, day);
  const int64_t week = (thursday - DaysFromCivil(year, 1, 1)) / 7 + 1;
  char text[16];
  std::snprintf(text, sizeof text, "%04lld-W%02lld", static_cast<long long>(year),
                static_cast<long long>(week));
  return text;
}

std::vector<std::string> RuleIds() {
  std::vector<std::string> ids;
  const pb::Descriptor* config = v1::RulesConfig::descriptor();
  for (int i = 0; i < config->field_count(); ++i) {
    if (config->field(i)->name() != "time") ids.push_back(config->field(i)->name());
  }
  return ids;
}

std::vector<std::string> SettingDifferences(const std::string& rule_id, const v1::RulesConfig& a,
                                            const v1::RulesConfig& b) {
  const pb::FieldDescriptor* rule = RuleField(rule_id);
  if (!rule) return {};
  const pb::Message& ma = a.GetReflection()->GetMessage(a, rule);
  const pb::Message& mb = b.GetReflection()->GetMessage(b, rule);
  std::vector<std::string> out;
  for (int i = 0; i < ma.GetDescriptor()->field_count(); ++i) {
    const pb::FieldDescriptor* field = ma.GetDescriptor()->field(i);
    if (field->name() == "description") continue;
    std::string va = ValueText(ma, field), vb = ValueText(mb, field);
    if (va != vb) out.push_back(field->json_name() + ": A " + va + ", B " + vb);
  }
  return out;
}

DiffResult CompareAlerts(const std::vector<v1::Alert>& a, const std::vector<v1::Alert>& b,
                         const v1::RulesConfig& config_a, const v1::RulesConfig& config_b) {
  return Compare(a, b, &config_a, &config_b);
}

DiffResult CompareAlerts(const std::vector<v1::Alert>& a, const std::vector<v1::Alert>& b) {
  return Compare(a, b, nullptr, nullptr);
}

Result<std::vector<Label>> ParseLabels(std::istream& in, const std::string& name) {
  std::vector<Label> labels;
  std::map<std::string, size_t> position;  // key of a case -> its index in labels
  std::string line;
  for (uint64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<Label> label = ParseLabelLine(line);
    if (!label.ok()) {
      return Status::Error(name + ":" + std::to_string(number) + ": " + label.status().message());
    }
    std::string key = label->alert_id.empty()
                          ? "officer\n" + label->officer_id + "\n" + label->rule_id
                          : "alert\n" + label->alert_id;
    auto [it, inserted] = position.emplace(key, labels.size());
    if (inserted) {
      labels.push_back(*label);
    } else {
      labels[it->second] = *label;
    }
  }
  return labels;
}

std::optional<double> LabelScore::Precision() const {
  if (tp + fp == 0) return std::nullopt;
  return static_cast<double>(tp) / static_cast<double>(tp + fp);
}

std::optional<double> LabelScore::Recall() const {
  if (tp + misses == 0) return std::nullopt;
  return static_cast<double>(tp) / static_cast<double>(tp + misses);
}

std::map<std::string, RuleLabels> ScoreLabels(const std::vector<Label>& labels,
                                              const std::vector<v1::Alert>& a,
                                              const std::vector<v1::Alert>& b,
                                              const std::vector<AlertMatch>& matches) {
  std::map<std::string, std::string> partner_in_a, partner_in_b;  // other set's id -> this set's
  for (const auto& m : matches) {
    partner_in_a[b[m.b].alert_id()] = a[m.a].alert_id();
    partner_in_b[a[m.a].alert_id()] = b[m.b].alert_id();
  }
  std::map<std::string, RuleLabels> scores;
  for (const auto& label : labels) {
    RuleLabels& rule = scores[label.rule_id];
    if (label.label != "duplicate") ++rule.support;
    Score(label, Alerted(label, a, partner_in_a), rule.a);
    Score(label, Alerted(label, b, partner_in_b), rule.b);
  }
  return scores;
}

}  // namespace vigil
