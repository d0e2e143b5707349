// The synthetic force's plan as others see it: the plan JSON, the labels file, and how alerts are
// matched against the plan (synthetic_force.h). Kept apart from generation and planting because it
// needs none of their internals, only PlantedPattern.
#include <map>
#include <set>

#include "json_text.h"
#include "synthetic_force.h"

namespace vigil {

std::string PlanToJson(const SyntheticForceOptions& options, const std::vector<PlantedPattern>& plan) {
  std::string out = "{\"options\": {\"officers\": " + std::to_string(options.officers) +
                    ", \"days\": " + std::to_string(options.days) +
                    ", \"start\": " + JsonQuote(FormatTime(options.start)) +
                    ", \"seed\": " + std::to_string(options.seed) +
                    ", \"accessPerShift\": " + std::to_string(options.access_per_shift) +
                    ", \"accessPerOfficerDay\": " +
                    (options.access_per_shift > 0 ? std::string("null") : std::to_string(options.access_per_officer_day)) +
                    ", \"benignRate\": " + std::to_string(options.benign_rate) + "},\n \"patterns\": [";
  for (size_t i = 0; i < plan.size(); ++i) {
    const PlantedPattern& p = plan[i];
    out += std::string(i ? ",\n" : "\n") + "  {\"ruleId\": " + JsonQuote(p.rule_id) +
           ", \"officerId\": " + JsonQuote(p.officer_id) + ", \"subjectId\": " + JsonQuote(p.subject_id) +
           ", \"windowEndDay\": " + JsonQuote(FormatDay(p.window_end_day)) +
           ", \"nearMiss\": " + (p.near_miss ? "true" : "false") +
           ", \"benign\": " + (p.benign ? "true" : "false") + ", \"note\": " + JsonQuote(p.note) + "}";
  }
  return out + "\n]}\n";
}

std::vector<CaseLabel> LabelsOf(const std::vector<PlantedPattern>& plan) {
  std::vector<CaseLabel> labels;
  std::set<std::pair<std::string, std::string>> seen;  // (officer, rule): a re-alert is one case
  for (const PlantedPattern& p : plan) {
    if (p.near_miss || !seen.insert({p.officer_id, p.rule_id}).second) continue;
    labels.push_back({p.officer_id, p.rule_id, !p.benign, (p.benign ? "benign: " : "planted: ") + p.note});
  }
  return labels;
}

std::string LabelsToNdjson(const std::vector<CaseLabel>& labels) {
  std::string out;
  for (const CaseLabel& l : labels) {
    out += "{\"officerId\": " + JsonQuote(l.officer_id) + ", \"ruleId\": " + JsonQuote(l.rule_id) +
           ", \"label\": " + JsonQuote(l.true_positive ? "true_positive" : "false_positive") +
           ", \"why\": " + JsonQuote(l.why) + "}\n";
  }
  return out;
}

namespace {

std::string MatchKey(const std::string& officer, const std::string& subject, Millis day) {
  return officer + " " + subject + " " + FormatDay(day);
}

struct Expected {
  std::string note;
  bool benign = false;
};

}  // namespace

std::vector<RuleTally> MatchAlerts(const std::vector<PlantedPattern>& plan,
                                   const std::vector<v1::Alert>& alerts) {
  std::map<std::string, RuleTally> tallies;
  std::map<std::string, std::multimap<std::string, Expected>> open;  // rule -> key -> pattern
  std::map<std::string, std::map<std::string, std::string>> near;
  for (const PlantedPattern& p : plan) {
    RuleTally& t = tallies[p.rule_id];
    t.rule_id = p.rule_id;
    const std::string k = MatchKey(p.officer_id, p.subject_id, p.window_end_day);
    if (p.near_miss) {
      near[p.rule_id][k] = p.note;
    } else {
      ++(p.benign ? t.benign : t.planted);
      open[p.rule_id].emplace(k, Expected{p.note, p.benign});
    }
  }
  std::map<std::pair<std::string, std::string>, bool> labels;  // (officer, rule) -> true positive
  for (const CaseLabel& l : LabelsOf(plan)) labels[{l.officer_id, l.rule_id}] = l.true_positive;

  for (const v1::Alert& a : alerts) {
    RuleTally& t = tallies[a.rule_id()];
    t.rule_id = a.rule_id();
    if (auto l = labels.find({a.officer_id(), a.rule_id()}); l != labels.end()) {
      ++(l->second ? t.on_planted : t.on_benign);
    }
    const std::string k = MatchKey(a.officer_id(), a.subject_id(), ToMillis(a.window_end()));
    auto& waiting = open[a.rule_id()];
    if (auto it = waiting.find(k); it != waiting.end()) {
      ++(it->second.benign ? t.benign_found : t.found);
      waiting.erase(it);
      continue;
    }
    ++t.unexpected;
    auto n = near[a.rule_id()].find(k);
    if (n != near[a.rule_id()].end()) {
      ++t.near_miss_hits;
      t.unexpected_keys.push_back(k + " [near miss: " + n->second + "]");
    } else {
      t.unexpected_keys.push_back(k);
    }
  }
  std::vector<RuleTally> out;
  for (auto& [rule, t] : tallies) {
    t.missed = (t.planted - t.found) + (t.benign - t.benign_found);
    for (const auto& [k, e] : open[rule]) {
      t.missed_keys.push_back(k + " [" + (e.benign ? "benign: " : "") + e.note + "]");
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace vigil
