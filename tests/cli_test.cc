// The commands as a user runs them: `vigil dev-broker` in its own process, then `vigil produce`,
// `vigil run --until-caught-up` and `vigil consume` against it, compared with `vigil replay`.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "harness.h"
#include "pipeline.h"

namespace vigil::testing {
namespace {

const std::string kVigil = VIGIL_BINARY;

// `vigil dev-broker` as a child process; its first line of output is the address.
class DevBroker {
 public:
  DevBroker() {
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      execl(kVigil.c_str(), kVigil.c_str(), "dev-broker", "--partitions", "3", nullptr);
      _exit(127);
    }
    close(out[1]);
    FILE* lines = fdopen(out[0], "r");
    char buffer[256] = {0};
    REQUIRE(fgets(buffer, sizeof buffer, lines) != nullptr);
    address_ = buffer;
    while (!address_.empty() && (address_.back() == '\n' || address_.back() == '\r')) address_.pop_back();
    output_ = lines;
  }
  ~DevBroker() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    fclose(output_);
  }
  const std::string& address() const { return address_; }

 private:
  pid_t pid_ = -1;
  std::string address_;
  FILE* output_ = nullptr;
};

std::multiset<std::string> AlertIds(const std::string& path) {
  std::multiset<std::string> ids;
  for (const auto& alert : ReadAlerts(path)) ids.insert(alert.alert_id() + " " + alert.rule_id());
  return ids;
}

}  // namespace

TEST_CASE("cli: dev-broker, produce, run --until-caught-up and consume give replay's alerts") {
  TempDir dir("vigil-cli-test-");
  const std::string events = std::string(VIGIL_SOURCE_DIR) + "/tests/scenarios/complainant-lookup.events.ndjson";
  const std::string replayed = dir.path() + "/replay.ndjson";
  const std::string consumed = dir.path() + "/consumed.ndjson";
  REQUIRE(RunShell(kVigil + " replay --quiet --input " + events + " --output " + replayed) == 0);

  DevBroker broker;
  REQUIRE(!broker.address().empty());
  CHECK(RunShell(kVigil + " produce --quiet --brokers " + broker.address() + " --input " + events) == 0);
  CHECK(RunShell(kVigil + " run --quiet --until-caught-up --brokers " + broker.address() +
            " --state-dir " + dir.path() + "/state") == 0);
  CHECK(RunShell(kVigil + " consume --from-beginning --brokers " + broker.address() +
            " --topic vigil.alerts --output " + consumed) == 0);
  std::multiset<std::string> expected = AlertIds(replayed);
  CHECK(!expected.empty());
  CHECK(AlertIds(consumed) == expected);

  // Reading the alerts left an audit record naming them.
  const std::string audit = dir.path() + "/audit.ndjson";
  CHECK(RunShell(kVigil + " consume --from-beginning --brokers " + broker.address() +
            " --topic vigil.audit --output " + audit) == 0);
  std::vector<std::string> records = ReadLines(audit);
  REQUIRE(records.size() == 1);
  CHECK(records[0].find("\"interface\":\"vigil consume\"") != std::string::npos);
  CHECK(records[0].find(ReadAlerts(replayed).front().alert_id()) != std::string::npos);
}

TEST_CASE("cli: bad usage and bad configuration exit 2 with a message") {
  TempDir dir("vigil-cli-test-");
  const std::string bad_rules = dir.path() + "/rules.json";
  FILE* f = std::fopen(bad_rules.c_str(), "w");
  std::fputs("{\"repeatedSubjectLookup\": {\"windowDays\": -3}}", f);
  std::fclose(f);
  CHECK(RunShell(kVigil + " replay --input x.ndjson") == 2);               // --output missing
  CHECK(RunShell(kVigil + " replay --input x --output y --bogus") == 2);   // unknown option
  CHECK(RunShell(kVigil + " rules --check " + bad_rules) == 2);
  CHECK(RunShell(kVigil + " replay --input x --output " + dir.path() + "/o --rules " + bad_rules) == 2);
  CHECK(RunShell(kVigil + " no-such-command") == 2);
  CHECK(RunShell(kVigil + " run --help") == 0);
  // An --http or --health-listen address that is not IP:PORT, before any Kafka connection.
  CHECK(RunShell(kVigil + " run --brokers 127.0.0.1:1 --http localhost:8080 --state-dir " + dir.path() + "/s") == 2);
  CHECK(RunShell(kVigil + " run --brokers 127.0.0.1:1 --health-listen 127.0.0.1: --state-dir " + dir.path() + "/s") == 2);
}

}  // namespace vigil::testing
