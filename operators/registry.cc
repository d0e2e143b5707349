#include "registry.h"

namespace vigil {

std::vector<std::unique_ptr<Operator>> BuildAllOperators(const v1::RulesConfig& config) {
  std::vector<std::unique_ptr<Operator>> ops;
  ops.push_back(MakeOffDutyAccess(config));
  ops.push_back(MakeRepeatedSubjectLookup(config));
  ops.push_back(MakeComplainantLookup(config));
  ops.push_back(MakeComplaintAccumulation(config));
  ops.push_back(MakeSensitiveComplaintPattern(config));
  ops.push_back(MakeImpossibleTravel(config));
  ops.push_back(MakeAccessVolumeSpike(config));
  ops.push_back(MakeOvertimeOverlap(config));
  ops.push_back(MakeBradfordFactor(config));
  return ops;
}

std::vector<std::unique_ptr<Operator>> BuildOperators(const v1::RulesConfig& config) {
  const bool enabled[] = {
      config.off_duty_access().enabled(),
      config.repeated_subject_lookup().enabled(),
      config.complainant_lookup().enabled(),
      config.complaint_accumulation().enabled(),
      config.sensitive_complaint_pattern().enabled(),
      config.impossible_travel().enabled(),
      config.access_volume_spike().enabled(),
      config.overtime_overlap().enabled(),
      config.bradford_factor().enabled(),
  };
  std::vector<std::unique_ptr<Operator>> all = BuildAllOperators(config);
  std::vector<std::unique_ptr<Operator>> ops;
  for (size_t i = 0; i < all.size(); ++i) {
    if (enabled[i]) ops.push_back(std::move(all[i]));
  }
  return ops;
}

}  // namespace vigil
