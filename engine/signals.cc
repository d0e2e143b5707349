#include "signals.h"

#include <csignal>

namespace vigil {
namespace {
std::atomic<bool> stop_flag{false};
std::atomic<bool> reload_flag{false};
extern "C" void OnStopSignal(int) { stop_flag.store(true); }
extern "C" void OnReloadSignal(int) { reload_flag.store(true); }
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

std::atomic<bool>& ReloadRequested() {
  static const bool installed = [] {
    std::signal(SIGHUP, OnReloadSignal);
    return true;
  }();
  (void)installed;
  return reload_flag;
}

}  // namespace vigil
