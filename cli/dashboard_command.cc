// `vigil dashboard`: option parsing, signals and reporting around Dashboard
// (engine/http/dashboard.h; the design and API are engine/http/DASHBOARD.md).
#include <chrono>
#include <iostream>
#include <thread>

#include "cli.h"
#include "commands.h"
#include "dashboard.h"
#include "signals.h"
#include "tokens.h"

namespace vigil {

int DashboardCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"brokers", "HOST:PORT", "Kafka bootstrap servers", ""},
      {"listen", "ADDRESS:PORT", "serve HTTP there (an IP address; port 0: any free port)", "127.0.0.1:8080"},
      {"tokens", "FILE", "tokens file: one `TOKEN NAME ROLE[,ROLE...]` a line, `#` comments; roles "
                         "misconduct, welfare, reviewer, auditor", ""},
      {"group", "ID", "group.id the dashboard shows to Kafka tools (it joins no group, commits nothing)",
       "vigil-dashboard"},
  };
  const std::string usage = Usage(
      "vigil dashboard --brokers HOST:PORT --tokens FILE [--listen ADDRESS:PORT] [--group ID]",
      "Serves the reviewers' live page and its API (engine/http/DASHBOARD.md): alerts arriving\n"
      "(Server-Sent Events, resumable), officer timelines, counts per rule and severity, review\n"
      "decisions. Reads every partition of vigil.alerts, vigil.reviews and vigil.audit from the\n"
      "beginning and follows them; run as many dashboards as you like. Every request needs\n"
      "`Authorization: Bearer TOKEN`; a token's roles decide which alerts it sees (misconduct,\n"
      "welfare), whether it records decisions (reviewer, published to vigil.reviews) and reads\n"
      "the audit (auditor). Every view of alerts is first recorded on vigil.audit with the\n"
      "token's NAME; a timeline also needs a purpose. Prints its URL on the first line.\n"
      "SIGHUP re-reads the tokens file (a bad file keeps the old tokens); SIGINT/SIGTERM stop.",
      specs);
  Args args;
  if (int code = ParseCommandLine("dashboard", specs, usage, argc, argv, {"brokers", "tokens"}, args);
      code >= 0) {
    return code;
  }
  DashboardOptions options;
  options.brokers = args.Get("brokers");
  options.listen = args.Get("listen");
  options.tokens_path = args.Get("tokens");
  options.group = args.Get("group");
  if (Status tokens = http::TokenStore().Reload(options.tokens_path); !tokens.ok()) {
    std::cerr << "vigil dashboard: " << tokens.message() << "\n";
    return 2;
  }
  const auto& stop = StopRequested();
  auto& reload = ReloadRequested();
  Result<std::unique_ptr<Dashboard>> dashboard = Dashboard::Start(options);
  if (!dashboard.ok()) {
    std::cerr << "vigil dashboard: " << dashboard.status().message() << "\n";
    return 1;
  }
  std::cout << (*dashboard)->url() << std::endl;  // first line: the address, for scripts
  std::cerr << "dashboard: serving " << (*dashboard)->url() << " from " << options.brokers
            << "; SIGHUP re-reads " << options.tokens_path << ", Ctrl-C stops\n";
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (reload.exchange(false)) {
      Status reloaded = (*dashboard)->ReloadTokens();
      std::cerr << "dashboard: " << (reloaded.ok() ? "tokens re-read from " + options.tokens_path
                                                   : reloaded.message() + "; the old tokens stay")
                << "\n";
    }
  }
  dashboard->reset();
  std::cerr << "dashboard: stopped\n";
  return 0;
}

}  // namespace vigil
