#include "registry.h"

namespace vigil {

std::vector<std::unique_ptr<Operator>> BuildAllOperators(const v1::RulesConfig& config) {
  std::vector<std::unique_ptr<Operator>> ops;
  ops.push_back(MakeOffDutyAccess(config));
  ops.push_back(MakeRepeatedSubjectLookup(config));
  ops.push_back(MakeComplainantLookup(config));
  return ops;
}

std::vector<std::unique_ptr<Operator>> BuildOperators(const v1::RulesConfig& config) {
  const bool enabled[] = {
      config.off_duty_access().enabled(),
      config.repeated_subject_lookup().enabled(),
      config.complainant_lookup().enabled(),
  };
  std::vector<std::unique_ptr<Operator>> all = BuildAllOperators(config);
  std::vector<std::unique_ptr<Operator>> ops;
  for (size_t i = 0; i < all.size(); ++i) {
    if (enabled[i]) ops.push_back(std::move(all[i]));
  }
  return ops;
}

}  // namespace vigil
