// complaint_accumulation (MISCONDUCT, MEDIUM).
//
// At least min_complaints (3) complaints against an officer within window (365 days), by
// received_at; every Complaint event is one complaint. Key: the officer. window_start/window_end
// are the first and last complaint counted; after an alert, the complaints up to and including its
// window_end no longer count towards the next alert for the same officer. Decided at each
// complaint as it is delivered in event-time order (rulekit::ComplaintCountRule over CountWindow).
#include "registry.h"
#include "rulekit/complaint_count.h"

namespace vigil {
namespace {

std::unique_ptr<Rule> Make(const v1::RulesConfig& config) {
  const auto& c = config.complaint_accumulation();
  rulekit::ComplaintCountSpec spec;
  spec.info = {"complaint_accumulation", v1::Alert::MISCONDUCT,
               "At least minComplaints complaints against one officer, of any category, received "
               "within windowDays. After an alert, the complaints it counted no longer count "
               "towards the next one for that officer."};
  spec.severity = c.severity();
  spec.window = c.window_days() * kDay;
  spec.min_complaints = c.min_complaints();
  spec.summary_suffix = ", at least " + std::to_string(c.min_complaints()) + " within " +
                        std::to_string(c.window_days()) + " days";
  return std::make_unique<rulekit::ComplaintCountRule>(std::move(spec));
}

bool Enabled(const v1::RulesConfig& config) { return config.complaint_accumulation().enabled(); }

}  // namespace

const RuleDescriptor kComplaintAccumulationRule = {"complaint_accumulation", v1::Alert::MISCONDUCT,
                                                   Enabled, Make};

}  // namespace vigil
