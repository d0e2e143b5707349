// The rule catalogue of the new core: every detection rule Vigil knows, one descriptor per rule
// file (operators/<rule>.cc), listed once here in contract order.
#pragma once

#include <memory>
#include <vector>

#include "rules.pb.h"
#include "runtime/rule.h"

namespace vigil {

// Every rule, in contract order.
const std::vector<const RuleDescriptor*>& RuleCatalogue();
// The enabled rules of `config` (which must be complete: see LoadRulesConfig), in contract order.
std::vector<std::unique_ptr<Rule>> BuildRules(const v1::RulesConfig& config);

// One descriptor per rule file.
extern const RuleDescriptor kOffDutyAccessRule;
extern const RuleDescriptor kRepeatedSubjectLookupRule;
extern const RuleDescriptor kComplainantLookupRule;
extern const RuleDescriptor kComplaintAccumulationRule;
extern const RuleDescriptor kSensitiveComplaintPatternRule;
extern const RuleDescriptor kImpossibleTravelRule;
extern const RuleDescriptor kAccessVolumeSpikeRule;
extern const RuleDescriptor kOvertimeOverlapRule;
extern const RuleDescriptor kBradfordFactorRule;

}  // namespace vigil
