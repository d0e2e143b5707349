#include "live/crash_points.h"

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

CrashPlan ReadPlan(const char* variable) {
  CrashPlan plan;
  const char* spec = std::getenv(variable);
  if (!spec) return plan;
  const char* colon = std::strrchr(spec, ':');
  plan.name = colon ? std::string(spec, colon) : std::string(spec);
  plan.hits_left = colon ? std::strtol(colon + 1, nullptr, 10) : 1;
  return plan;
}

// True the n-th time `name` is reached under `plan`.
bool Due(CrashPlan& plan, const char* name) {
  if (plan.name.empty() || plan.name != name) return false;
  return --plan.hits_left == 0;
}

}  // namespace

void CrashPoint(const char* name) {
  static CrashPlan crash = ReadPlan("VIGIL_CRASH_AT");
  static CrashPlan stop = ReadPlan("VIGIL_STOP_AT");
  if (Due(stop, name)) kill(getpid(), SIGTERM);
  if (Due(crash, name)) kill(getpid(), SIGKILL);
}

uint64_t PauseAfterRecords() {
  const char* records = std::getenv("VIGIL_PAUSE_AFTER");
  return records ? std::strtoull(records, nullptr, 10) : 0;
}

}  // namespace vigil
