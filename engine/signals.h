// SIGINT/SIGTERM as a flag that long-running commands poll: finish the batch, checkpoint, leave.
// SIGHUP as a second flag, for commands that re-read their configuration on it.
#pragma once

#include <atomic>

namespace vigil {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& StopRequested();
// Installs the SIGHUP handler (once) and returns its flag: set by each SIGHUP, cleared by the
// command when it has acted on it (exchange(false)).
std::atomic<bool>& ReloadRequested();

}  // namespace vigil
