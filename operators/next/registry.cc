#include "next/registry.h"

namespace vigil {

// Weak while the rules move to the new core one by one: a rule not yet written is left out.
// TODO(issue 11): drop once all nine exist.
extern const RuleDescriptor kOffDutyAccessRule __attribute__((weak));
extern const RuleDescriptor kRepeatedSubjectLookupRule __attribute__((weak));
extern const RuleDescriptor kComplainantLookupRule __attribute__((weak));
extern const RuleDescriptor kComplaintAccumulationRule __attribute__((weak));
extern const RuleDescriptor kSensitiveComplaintPatternRule __attribute__((weak));
extern const RuleDescriptor kImpossibleTravelRule __attribute__((weak));
extern const RuleDescriptor kAccessVolumeSpikeRule __attribute__((weak));
extern const RuleDescriptor kOvertimeOverlapRule __attribute__((weak));
extern const RuleDescriptor kBradfordFactorRule __attribute__((weak));

const std::vector<const RuleDescriptor*>& RuleCatalogue() {
  static const std::vector<const RuleDescriptor*> catalogue = {
      &kOffDutyAccessRule,         &kRepeatedSubjectLookupRule, &kComplainantLookupRule,
      &kComplaintAccumulationRule, &kSensitiveComplaintPatternRule, &kImpossibleTravelRule,
      &kAccessVolumeSpikeRule,     &kOvertimeOverlapRule,       &kBradfordFactorRule,
  };
  return catalogue;
}

std::vector<std::unique_ptr<Rule>> BuildRules(const v1::RulesConfig& config) {
  std::vector<std::unique_ptr<Rule>> rules;
  for (const RuleDescriptor* rule : RuleCatalogue()) {
    if (rule && rule->enabled(config)) rules.push_back(rule->make(config));
  }
  return rules;
}

}  // namespace vigil
