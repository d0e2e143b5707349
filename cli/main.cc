// The `vigil` command: replay, run, produce, consume, dev-broker, demo, rules, generate, dashboard.
#include <google/protobuf/stubs/logging.h>

#include <atomic>
#include <iostream>
#include <map>
#include <string>

#include "commands.h"
#include "status.h"

namespace {

const char kOverview[] =
    "usage: vigil COMMAND [options]   (vigil COMMAND --help for a command's options)\n"
    "\n"
    "Vigil correlates roster, system-access and complaint events per officer and emits\n"
    "misconduct-pattern and welfare alerts, by event time, explaining each one.\n"
    "\n"
    "commands:\n"
    "  replay       run the rules over an NDJSON event file, write alerts as NDJSON\n"
    "  run          run live against Kafka (state in RocksDB), publish alerts to vigil.alerts\n"
    "  produce      publish an NDJSON event file to the input topics\n"
    "  consume      print a Vigil topic as NDJSON\n"
    "  dev-broker   serve a local Kafka endpoint (librdkafka's mock cluster)\n"
    "  demo         everything on one machine: broker, synthetic force, live alerts\n"
    "  rules        print the rules file with every default (--defaults)\n"
    "  generate     write a synthetic force (rosters, system use, complaints) as NDJSON\n"
    "  dashboard    serve the reviewers' live page and API over HTTP (tokens, roles, audit)\n"
    "  diff         run two rule sets over one history: alerts gained and lost, per rule and week\n"
    "\n"
    "Exit status: 0 success, 1 failure while running, 2 bad usage or configuration.\n";

// Protobuf logs an error for every record whose string field is not UTF-8; each such record is
// already reported (and dead-lettered) by Vigil, so a flood of bad input must not flood the log.
void ThrottledProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                          const std::string& message) {
  static std::atomic<uint64_t> count{0};
  uint64_t n = ++count;
  if (level < google::protobuf::LOGLEVEL_FATAL && n > 20 && n % 1000 != 0) return;
  std::cerr << "protobuf (" << file << ":" << line << "): " << message
            << (n == 20 ? " (further protobuf messages: every 1000th)" : "") << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    std::cout << kOverview;
    return argc < 2 ? 2 : 0;
  }
  const std::map<std::string, int (*)(int, char**)> commands = {
      {"replay", vigil::ReplayCommand},     {"run", vigil::RunCommand},
      {"produce", vigil::ProduceCommand},   {"consume", vigil::ConsumeCommand},
      {"dev-broker", vigil::DevBrokerCommand}, {"demo", vigil::DemoCommand},
      {"rules", vigil::RulesCommand},       {"generate", vigil::GenerateCommand},
      {"dashboard", vigil::DashboardCommand},
      {"diff", vigil::DiffCommand},
  };
  google::protobuf::SetLogHandler(&ThrottledProtobufLog);
  auto it = commands.find(argv[1]);
  if (it == commands.end()) {
    std::cerr << "vigil: unknown command '" << argv[1] << "'\n\n" << kOverview;
    return 2;
  }
  try {
    return it->second(argc, argv);
  } catch (const vigil::FatalError& e) {
    std::cerr << "vigil " << argv[1] << ": fatal: " << e.what() << "\n";
    return 1;
  }
}
