// `vigil dashboard` as a process, as an operator runs it (cli/dashboard_command.cc): its URL and
// log lines, SIGHUP re-reading the tokens file, SIGTERM stopping it. The dashboard itself is
// tested in-process in dashboard_test.cc; this is what only the command does.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <regex>
#include <string>

#include "child_process.h"
#include "http_client.h"
#include "live_fixtures.h"
#include "kafka/mock_broker.h"
#include "pipeline.h"

namespace vigil::testing {
namespace {

constexpr const char* kOlive = "olive-misconduct-token-0001";
constexpr const char* kNina = "nina-welfare-token-00000002";
constexpr const char* kOscar = "oscar-with-a-bad-role-00003";

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

int MeStatus(const std::string& url, const std::string& token) {
  return Http(url, "GET", "/api/me", Bearer(token)).status;
}

// The URL `vigil dashboard` logs once it serves ("dashboard: serving http://...").
std::string ServingUrl(VigilProcess& dashboard) {
  REQUIRE_MESSAGE(dashboard.WaitForLog("dashboard: serving "), dashboard.Log());
  std::smatch url;
  const std::string log = dashboard.Log();
  REQUIRE(std::regex_search(log, url, std::regex("dashboard: serving (http://[0-9.:]+)")));
  // The first line of its output is the same address, for scripts.
  CHECK(log.rfind(url[1].str() + "\n", 0) == 0);
  return url[1];
}

}  // namespace

TEST_CASE("vigil dashboard: SIGHUP re-reads the tokens file; a bad one keeps the old tokens") {
  TempDir dir("vigil-dashboard-command-");
  MockBroker broker;
  REQUIRE(broker.CreateVigilTopics(Topics{}, 1).ok());
  const std::string tokens = dir.path() + "/tokens";
  Write(tokens, "# before the reload\n" + std::string(kOlive) + " olive misconduct\n");
  VigilProcess dashboard({"dashboard", "--brokers", broker.bootstrap(), "--listen", "127.0.0.1:0",
                          "--tokens", tokens},
                         dir.path() + "/dashboard.log");
  const std::string url = ServingUrl(dashboard);
  INFO("dashboard log:\n" << dashboard.Log());
  CHECK(MeStatus(url, kOlive) == 200);
  CHECK(MeStatus(url, kNina) == 401);

  // A token added to the file works once the dashboard has re-read it on SIGHUP.
  Write(tokens, std::string(kOlive) + " olive misconduct\n" + kNina + " nina welfare\n");
  dashboard.Signal(SIGHUP);
  const std::string reread = "dashboard: tokens re-read from " + tokens + "\n";
  REQUIRE(dashboard.WaitForLog(reread));
  HttpResult nina = Http(url, "GET", "/api/me", Bearer(kNina));
  CHECK(nina.status == 200);
  CHECK(nina.body == "{\"name\":\"nina\",\"roles\":[\"welfare\"]}");
  CHECK(MeStatus(url, kOlive) == 200);

  // A bad file: the error names the file and line, and every old token keeps working; none of
  // the bad file's lines are taken, not even the good ones before the error.
  Write(tokens, std::string(kNina) + " nina welfare\n" + kOscar + " oscar misconduct\n" + kOscar +
                    "x oscar wellbeing\n");
  dashboard.Signal(SIGHUP);
  REQUIRE(dashboard.WaitForLog("dashboard: " + tokens +
                               ":3: unknown role 'wellbeing' (misconduct, welfare, reviewer, "
                               "auditor); the old tokens stay\n"));
  CHECK(MeStatus(url, kOlive) == 200);
  CHECK(MeStatus(url, kNina) == 200);
  CHECK(MeStatus(url, kOscar) == 401);

  // Fixed, the file is taken whole: the token no longer in it is refused.
  Write(tokens, std::string(kNina) + " nina welfare\n" + kOscar + " oscar misconduct\n");
  dashboard.Signal(SIGHUP);
  WaitUntil([&] { return Count(dashboard.Log(), reread) == 2 || dashboard.Exited(); },
            "the second re-read");
  REQUIRE(Count(dashboard.Log(), reread) == 2);
  CHECK(MeStatus(url, kOscar) == 200);
  CHECK(MeStatus(url, kOlive) == 401);

  dashboard.Signal(SIGTERM);
  CHECK(DescribeStatus(dashboard.Wait(30000)) == "exit 0");
  CHECK(dashboard.Log().find("dashboard: stopped\n") != std::string::npos);
}

TEST_CASE("vigil dashboard: a bad tokens file at start is bad configuration (exit 2, line named)") {
  TempDir dir("vigil-dashboard-command-");
  const std::string tokens = dir.path() + "/tokens";
  Write(tokens, std::string(kOlive) + " olive misconduct\n" + kOscar + " oscar\n");
  // No broker is needed: the file is checked before anything connects.
  VigilProcess dashboard({"dashboard", "--brokers", "127.0.0.1:1", "--listen", "127.0.0.1:0",
                          "--tokens", tokens},
                         dir.path() + "/dashboard.log");
  CHECK(DescribeStatus(dashboard.Wait(30000)) == "exit 2");
  CHECK(dashboard.Log().find("vigil dashboard: " + tokens + ":2: expected TOKEN NAME ROLE") !=
        std::string::npos);
}

}  // namespace vigil::testing
