// A `vigil` command run as a child process, as an operator (or a crash) would treat it: its
// stderr goes to a log file the test can wait on, and it can be signalled (SIGTERM, SIGKILL).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace vigil::testing {

class VigilProcess {
 public:
  // Starts `vigil <args...>` with `env` added to the environment; stderr and stdout to `log_path`.
  // Another program (a Prometheus server, say) when `binary` is given.
  VigilProcess(const std::vector<std::string>& args, const std::string& log_path,
               const std::map<std::string, std::string>& env = {},
               const std::string& binary = VIGIL_BINARY);
  ~VigilProcess();  // SIGKILLs the process if it still runs
  VigilProcess(const VigilProcess&) = delete;
  VigilProcess& operator=(const VigilProcess&) = delete;

  // Waits until the log contains `text` (true) or the process has exited (false); gives up after
  // `limit_ms` (a guard against a hung child, not a timing assertion).
  bool WaitForLog(const std::string& text, int limit_ms = 60000);
  bool Exited();  // without waiting
  void Signal(int signal);
  // Waits for the exit (at most limit_ms, then SIGKILL) and returns the raw waitpid status.
  int Wait(int limit_ms = 120000);
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
};

// "exit 0", "killed by signal 9", ...
std::string DescribeStatus(int status);

}  // namespace vigil::testing
