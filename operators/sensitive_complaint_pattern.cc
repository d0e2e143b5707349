// sensitive_complaint_pattern (MISCONDUCT, HIGH).
//
// At least min_complaints (2) complaints against an officer in one of `categories`
// (SEXUAL_MISCONDUCT, ABUSE_OF_POSITION) within window (365 days), by received_at. Key: the
// officer. window_start/window_end are the first and last complaint counted; after an alert, the
// complaints up to and including its window_end no longer count towards the next alert for the
// same officer. Decided at each such complaint in event-time order (rulekit::ComplaintCountRule).
#include "registry.h"
#include "rulekit/complaint_count.h"

namespace vigil {
namespace {

std::unique_ptr<Rule> Make(const v1::RulesConfig& config) {
  const auto& c = config.sensitive_complaint_pattern();
  rulekit::ComplaintCountSpec spec;
  spec.info = {"sensitive_complaint_pattern", v1::Alert::MISCONDUCT,
               "At least minComplaints complaints against one officer in the sensitive categories "
               "(by default sexual misconduct and abuse of position) received within windowDays. "
               "After an alert, the complaints it counted no longer count towards the next one "
               "for that officer."};
  spec.severity = c.severity();
  spec.window = c.window_days() * kDay;
  spec.min_complaints = c.min_complaints();
  spec.categories = {c.categories().begin(), c.categories().end()};
  return std::make_unique<rulekit::ComplaintCountRule>(std::move(spec));
}

bool Enabled(const v1::RulesConfig& config) {
  return config.sensitive_complaint_pattern().enabled();
}

}  // namespace

const RuleDescriptor kSensitiveComplaintPatternRule = {"sensitive_complaint_pattern",
                                                       v1::Alert::MISCONDUCT, Enabled, Make};

}  // namespace vigil
