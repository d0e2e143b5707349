#include "registry.h"

namespace vigil {

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
    if (rule->enabled(config)) rules.push_back(rule->make(config));
  }
  return rules;
}

}  // namespace vigil
