#include "crash_points.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace vigil {
namespace {

struct CrashPlan {
  std::string name;  // empty: no crash planned
  long hits_left = 0;
};

CrashPlan ReadPlan() {
  CrashPlan plan;
  const char* spec = std::getenv("VIGIL_CRASH_AT");
  if (!spec) return plan;
  const char* colon = std::strrchr(spec, ':');
  plan.name = colon ? std::string(spec, colon) : std::string(spec);
  plan.hits_left = colon ? std::strtol(colon + 1, nullptr, 10) : 1;
  return plan;
}

}  // namespace

void CrashPoint(const char* name) {
  static CrashPlan plan = ReadPlan();
  if (plan.name.empty() || plan.name != name) return;
  if (--plan.hits_left > 0) return;
  kill(getpid(), SIGKILL);
}

}  // namespace vigil
