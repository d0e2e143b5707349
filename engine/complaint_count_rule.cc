#include "complaint_count_rule.h"

#include <cctype>

#include "alert_builder.h"

namespace vigil {
namespace {

std::string CategoryName(int category) {
  std::string name = v1::Complaint::Category_Name(static_cast<v1::Complaint::Category>(category));
  for (char& c : name) c = c == '_' ? ' ' : static_cast<char>(std::tolower(c));
  return name;
}

}  // namespace

ComplaintCountRule::ComplaintCountRule(ComplaintCountSpec spec)
    : spec_(std::move(spec)), window_(spec_.window, spec_.min_complaints) {
  for (int category : spec_.categories) {
    if (!category_names_.empty()) category_names_ += " or ";
    category_names_ += CategoryName(category);
  }
}

void ComplaintCountRule::OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const {
  if (!event.envelope().has_complaint()) return;
  const auto& complaint = event.envelope().complaint();
  if (!spec_.categories.empty() && !spec_.categories.count(complaint.category())) return;
  const std::string& officer = complaint.officer_id();
  if (auto counted = window_.AddAt(ctx, officer, event.ref(), ctx.time().complaint_lateness)) {
    Alert(officer, *counted, ctx);
  }
}

void ComplaintCountRule::OnTimer(Millis, std::string_view key, std::string_view,
                                 OperatorContext& ctx) const {
  window_.ExpireAt(ctx, key, ctx.time().complaint_lateness);
}

void ComplaintCountRule::Alert(const std::string& officer,
                               const std::vector<state::EventRef>& counted,
                               OperatorContext& ctx) const {
  AlertSpec alert;
  alert.rule_id = spec_.info.rule_id;
  alert.kind = spec_.info.kind;
  alert.severity = spec_.severity;
  alert.officer_id = officer;
  SetCounted(alert, counted);
  alert.summary = "Officer " + officer + " received " + std::to_string(counted.size()) +
                  " complaints" + (category_names_.empty() ? "" : " of " + category_names_) +
                  " in " + FormatSpan(alert.window_end - alert.window_start) + " (" +
                  FormatTime(alert.window_start) + " to " + FormatTime(alert.window_end) + ")" +
                  spec_.summary_suffix + ".";
  ctx.Emit(BuildAlert(alert));
}

}  // namespace vigil
