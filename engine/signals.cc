#include "signals.h"

#include <csignal>

namespace vigil {
namespace {
std::atomic<bool> stop_flag{false};
extern "C" void OnStopSignal(int) { stop_flag.store(true); }
}  // namespace

const std::atomic<bool>& StopRequested() {
  static const bool installed = [] {
    std::signal(SIGINT, OnStopSignal);
    std::signal(SIGTERM, OnStopSignal);
    return true;
  }();
  (void)installed;
  return stop_flag;
}

}  // namespace vigil
