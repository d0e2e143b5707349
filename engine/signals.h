// SIGINT/SIGTERM as a flag that long-running commands poll: finish the batch, checkpoint, leave.
#pragma once

#include <atomic>

namespace vigil {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& StopRequested();

}  // namespace vigil
