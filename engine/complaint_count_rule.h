// ComplaintCountRule: the operator behind every "N complaints against an officer within W" rule
// (complaint_accumulation, sensitive_complaint_pattern). One CountWindow per officer over the
// complaints of the chosen categories, decided at each complaint in event-time order, re-alert as
// in rule 2. The rules themselves (operators/) only say which complaints count and how to word
// the alert.
#pragma once

#include <set>
#include <string>

#include "count_window.h"
#include "operator.h"

namespace vigil {

struct ComplaintCountSpec {
  RuleInfo info;
  v1::Alert::Severity severity = v1::Alert::MEDIUM;
  Millis window = 0;
  int min_complaints = 1;
  std::set<int> categories;     // the complaint categories that count; empty: every category
  std::string summary_suffix;   // appended to the summary sentence, before its full stop
};

class ComplaintCountRule final : public Operator {
 public:
  explicit ComplaintCountRule(ComplaintCountSpec spec);

  const RuleInfo& info() const override { return spec_.info; }
  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override;
  void OnTimer(Millis at, std::string_view key, std::string_view payload,
               OperatorContext& ctx) const override;

 private:
  void Alert(const std::string& officer, const std::vector<state::EventRef>& counted,
             OperatorContext& ctx) const;

  ComplaintCountSpec spec_;
  CountWindow window_;
  std::string category_names_;  // "sexual misconduct or abuse of position"; empty for all
};

}  // namespace vigil
