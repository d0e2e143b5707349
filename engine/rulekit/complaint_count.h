// ComplaintCountRule: the rule behind every "N complaints against an officer within W" rule
// (operators/complaint_accumulation.cc, sensitive_complaint_pattern.cc).
//
// Contract (rules 4 and 5): at least min_complaints complaints against an officer, of the chosen
// categories, within `window` (inclusive, by received_at); every Complaint event is one complaint.
// Key: the officer; window_start/window_end are the first and last complaint counted; re-alert as
// in rule 2. One CountWindow per officer, decided at each complaint in event-time order. The rules
// themselves only say which complaints count and how to word the alert.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rulekit/count_window.h"
#include "runtime/rule.h"

namespace vigil::rulekit {

struct ComplaintCountSpec {
  RuleInfo info;
  v1::Alert::Severity severity = v1::Alert::MEDIUM;
  Millis window = 0;
  int min_complaints = 1;
  std::vector<int> categories;  // the complaint categories that count; empty: every category
  std::string summary_suffix;   // appended to the summary sentence, before its full stop
};

class ComplaintCountRule final : public Rule {
 public:
  explicit ComplaintCountRule(ComplaintCountSpec spec);

  const RuleInfo& info() const override { return spec_.info; }
  uint32_t streams() const override { return StreamBit(Stream::kComplaint); }
  std::unique_ptr<RuleState> NewState() const override;
  void OnEvent(const EventView& event, RuleContext& ctx) const override;
  void OnTimer(Millis at, uint32_t tag, RuleContext& ctx) const override;

 private:
  bool Counts(int32_t category) const;
  void Alert(const std::vector<Ref>& counted, RuleContext& ctx) const;

  ComplaintCountSpec spec_;  // categories sorted, without repeats
  CountWindow window_;
  std::string category_names_;  // "sexual misconduct or abuse of position"; empty for all
};

}  // namespace vigil::rulekit
