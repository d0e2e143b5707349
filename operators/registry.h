// The rule catalogue: every detection rule Vigil knows, built from a complete RulesConfig.
#pragma once

#include <memory>
#include <vector>

#include "operator.h"
#include "rules.pb.h"

namespace vigil {

// The enabled rules of `config` (which must be complete: see LoadRulesConfig).
std::vector<std::unique_ptr<Operator>> BuildOperators(const v1::RulesConfig& config);
// Every rule, enabled or not, in contract order.
std::vector<std::unique_ptr<Operator>> BuildAllOperators(const v1::RulesConfig& config);

// One factory per rule file.
std::unique_ptr<Operator> MakeOffDutyAccess(const v1::RulesConfig& config);
std::unique_ptr<Operator> MakeRepeatedSubjectLookup(const v1::RulesConfig& config);
std::unique_ptr<Operator> MakeComplainantLookup(const v1::RulesConfig& config);
std::unique_ptr<Operator> MakeComplaintAccumulation(const v1::RulesConfig& config);
std::unique_ptr<Operator> MakeSensitiveComplaintPattern(const v1::RulesConfig& config);
std::unique_ptr<Operator> MakeImpossibleTravel(const v1::RulesConfig& config);
std::unique_ptr<Operator> MakeAccessVolumeSpike(const v1::RulesConfig& config);
std::unique_ptr<Operator> MakeOvertimeOverlap(const v1::RulesConfig& config);
std::unique_ptr<Operator> MakeBradfordFactor(const v1::RulesConfig& config);

}  // namespace vigil
