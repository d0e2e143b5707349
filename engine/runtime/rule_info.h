// What a rule says about itself: shared by the rule interfaces and `vigil rules`.
#pragma once

#include <string>

#include "alert.pb.h"

namespace vigil {

struct RuleInfo {
  std::string rule_id;
  v1::Alert::Kind kind;
  std::string description;  // one paragraph, as in `vigil rules --defaults`
};

}  // namespace vigil
