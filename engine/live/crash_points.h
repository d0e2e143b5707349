// Crash points: named places in the checkpoint protocol where the crash test kills the engine.
//
// With VIGIL_CRASH_AT=<name>:<n> in the environment, the n-th time execution reaches
// CrashPoint("<name>") the process kills itself with SIGKILL: no destructor, no flush, exactly as
// an operator's `kill -9` or a power cut would leave it. Without the variable (always, in
// production) a crash point does nothing but compare one pointer.
//
// VIGIL_STOP_AT=<name>:<n> sends SIGTERM instead (once): a graceful stop requested at a known
// place, for the graceful-stop test, which must stop an engine part way however fast it runs.
//
// VIGIL_PAUSE_AFTER=<records> makes `vigil run` read at most that many records of each input
// partition, then carry on checkpointing and publishing as if the input had ended
// (LiveOptions::read_limit): with it a fault test decides how much input each run sees, so that a
// faster engine cannot read everything before the fault lands.
#pragma once

#include <cstdint>

namespace vigil {

void CrashPoint(const char* name);

// VIGIL_PAUSE_AFTER's value, or 0 when it is not set.
uint64_t PauseAfterRecords();

}  // namespace vigil
