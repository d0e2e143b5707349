// `vigil rules`: --defaults prints a complete rules file that loads back to the defaults, with
// every rule's description; --check exits 0 or 2 naming the field.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <google/protobuf/util/message_differencer.h>

#include "registry.h"
#include "rules_config.h"

namespace vigil::testing {
namespace {

std::string Output(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

int ExitCode(const std::string& command) {
  int status = std::system((command + " >/dev/null 2>&1").c_str());
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("vigil rules --defaults: every default and description, loadable with --rules") {
  const std::string text = Output(std::string(VIGIL_BINARY) + " rules --defaults");
  Result<v1::RulesConfig> loaded = ParseRulesConfig(text);
  REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.status().message()));
  v1::RulesConfig defaults = DefaultRulesConfig();
  for (const RuleDescriptor* entry : RuleCatalogue()) {
    const std::string description = entry->make(defaults)->info().description;
    CHECK_MESSAGE(text.find(description) != std::string::npos, entry->rule_id);
  }
  // Apart from the descriptions, what loads is exactly the defaults.
  v1::RulesConfig stripped = *loaded;
  stripped.mutable_off_duty_access()->clear_description();
  stripped.mutable_repeated_subject_lookup()->clear_description();
  stripped.mutable_complainant_lookup()->clear_description();
  stripped.mutable_complaint_accumulation()->clear_description();
  stripped.mutable_sensitive_complaint_pattern()->clear_description();
  stripped.mutable_impossible_travel()->clear_description();
  stripped.mutable_access_volume_spike()->clear_description();
  stripped.mutable_overtime_overlap()->clear_description();
  stripped.mutable_bradford_factor()->clear_description();
  CHECK(google::protobuf::util::MessageDifferencer::Equals(stripped, defaults));
  CHECK(text.find("\"minKm\": 50") != std::string::npos);
  CHECK(text.find("\"maxOutOfOrdernessSeconds\": 300") != std::string::npos);
}

TEST_CASE("vigil rules --check: 0 for a valid file, 2 naming the field otherwise") {
  const std::string dir = std::string(VIGIL_SOURCE_DIR) + "/tests/scenarios";
  const std::string good = "/tmp/vigil-rules-check-good.json", bad = "/tmp/vigil-rules-check-bad.json";
  std::ofstream(good) << R"({"bradfordFactor": {"threshold": 100, "description": "anything"}})";
  std::ofstream(bad) << R"({"bradfordFactor": {"cooldownDays": -1}})";
  const std::string vigil = VIGIL_BINARY;
  CHECK(ExitCode(vigil + " rules --check " + good) == 0);
  CHECK(ExitCode(vigil + " rules --check " + bad) == 2);
  CHECK(Output(vigil + " rules --check " + bad + " 2>&1").find("bradfordFactor.cooldownDays") !=
        std::string::npos);
  CHECK(ExitCode(vigil + " rules --check /nonexistent.json") == 2);
  CHECK(ExitCode(vigil + " rules") == 2);
  CHECK(ExitCode(vigil + " rules --help") == 0);
  std::remove(good.c_str());
  std::remove(bad.c_str());
}

}  // namespace vigil::testing
