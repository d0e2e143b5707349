// Fuzz test of Vigil's input decoders, built with AddressSanitizer and UBSan (tests/CMakeLists.txt):
// DecodeEvent (Kafka records), ParseEventJson (event files) and ParseRulesConfig (rules files) get
// a large seeded random corpus of garbage and near-valid input. Each must return either a valid
// result or an error Status: never crash, never read out of bounds, never hit undefined
// behaviour (the sanitizers abort the process then), never throw. A result it accepts must hold up:
//   - a decoded event passes Validate, and re-encoding it (as protobuf, and as JSON) and decoding
//     again gives the same event;
//   - an event parsed from JSON encodes to protobuf that DecodeEvent accepts as the same event;
//   - DecodeEventView (the new core's decoding in place) agrees with DecodeEvent on every record:
//     the same verdict, the same error message, the same fields, its strings within the record;
//   - a rules file parsed and printed back parses to the same configuration.
//
//   vigil_fuzz [--seed N] [--rounds N]    exits 0 if nothing was found, 1 otherwise
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "corpus.h"
#include "event.h"
#include "rules_config.h"
#include "runtime/event_view.h"

namespace vigil::fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr int kMaxReportedFailures = 10;
constexpr int kRecordsPerRound = 4;
constexpr size_t kMaxShownInputBytes = 600;

// The input as a C string literal, shortened: enough to reproduce most findings by hand.
std::string Escaped(const std::string& input) {
  std::string out = "\"";
  for (size_t i = 0; i < input.size() && i < kMaxShownInputBytes; ++i) {
    unsigned char c = static_cast<unsigned char>(input[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  out += input.size() > kMaxShownInputBytes ? "\"... (" + std::to_string(input.size()) + " bytes)" : "\"";
  return out;
}

// How many inputs one target saw and how many it accepted.
struct TargetCounts {
  const char* name;
  uint64_t inputs = 0;
  uint64_t accepted = 0;
};

class Findings {
 public:
  void Fail(const char* target, const std::string& input, const std::string& what) {
    if (++count_ <= kMaxReportedFailures) {
      std::cerr << "FAILURE in " << target << ": " << what << "\n  input: " << Escaped(input) << "\n";
    }
  }
  int count() const { return count_; }

 private:
  int count_ = 0;
};

// Runs one target on one input; an exception escaping a decoder is a finding, not a crash.
void Run(TargetCounts& counts, Findings& findings, const std::string& input,
         const std::function<bool(const std::string&)>& target) {
  ++counts.inputs;
  try {
    if (target(input)) ++counts.accepted;
  } catch (const std::exception& e) {
    findings.Fail(counts.name, input, std::string("threw: ") + e.what());
  }
}

// The input in a heap block of exactly its size, as libFuzzer passes it: a std::string keeps a
// terminator and spare capacity after its bytes, where ASan would not see a read past the end.
class ExactCopy {
 public:
  explicit ExactCopy(const std::string& input) : bytes_(input.begin(), input.end()) {}
  std::string_view view() const { return {bytes_.data(), bytes_.size()}; }

 private:
  std::vector<char> bytes_;
};

std::string PrintJson(const google::protobuf::Message& message, bool* ok) {
  std::string out;
  *ok = google::protobuf::util::MessageToJsonString(message, &out).ok();
  return out;
}

class DecoderFuzzer {
 public:
  DecoderFuzzer(uint64_t seed, const std::string& source_dir) : random_(seed) {
    LoadSeeds(source_dir);
  }

  // One round: a few protobuf records, each decoded as every stream's (cheap), one event line and
  // one rules file (JSON parsing is the slow part).
  void RunRound() {
    for (int n = 0; n < kRecordsPerRound; ++n) {
      std::string record = NextRecord();
      for (int s = 0; s < kStreamCount; ++s) {
        Run(decode_, findings_, record, [&](const std::string& bytes) {
          return CheckDecode(static_cast<Stream>(s), bytes);
        });
      }
    }
    Run(event_json_, findings_, NextEventJson(), [&](const std::string& line) { return CheckEventJson(line); });
    Run(rules_, findings_, NextRulesJson(), [&](const std::string& json) { return CheckRules(json); });
  }

  void PrintCounts(std::ostream& out) const {
    for (const TargetCounts* t : {&decode_, &event_json_, &rules_}) {
      out << "  " << t->name << ": " << t->inputs << " inputs, " << t->accepted << " accepted\n";
    }
  }
  const Findings& findings() const { return findings_; }

 private:
  void LoadSeeds(const std::string& source_dir);
  std::string NextRecord();
  std::string NextEventJson();
  std::string NextRulesJson();
  bool CheckDecode(Stream stream, const std::string& bytes);
  void CheckEventView(Stream stream, std::string_view bytes, const Result<v1::Envelope>& expected);
  bool CheckEventJson(const std::string& line);
  bool CheckRules(const std::string& json);

  Random random_;
  Findings findings_;
  TargetCounts decode_{"DecodeEvent"};  // and DecodeEventView, compared with it
  TargetCounts event_json_{"ParseEventJson"};
  TargetCounts rules_{"ParseRulesConfig"};
  std::vector<std::string> record_seeds_;  // protobuf records, valid and not
  std::vector<std::string> event_json_seeds_;
  std::vector<std::string> rules_seeds_;
  const std::vector<std::string> dictionary_ = JsonDictionary();
};

std::vector<std::string> ReadLines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void DecoderFuzzer::LoadSeeds(const std::string& source_dir) {
  namespace fs = std::filesystem;
  // The project's own event and rules files, as users write them.
  for (const auto& entry : fs::directory_iterator(fs::path(source_dir) / "tests" / "scenarios")) {
    const std::string name = entry.path().filename().string();
    if (name.find(".events.ndjson") != std::string::npos) {
      for (std::string& line : ReadLines(entry.path())) event_json_seeds_.push_back(std::move(line));
    } else if (name.find(".rules.json") != std::string::npos) {
      rules_seeds_.push_back(ReadWhole(entry.path()));
    }
  }
  rules_seeds_.push_back(ReadWhole(fs::path(source_dir) / "deploy" / "rules.example.json"));
  rules_seeds_.push_back(ToJsonLine(DefaultRulesConfig()));  // every field, named
  for (const std::string& line : event_json_seeds_) {
    Result<v1::Envelope> event = ParseEventJson(line);
    if (event.ok()) record_seeds_.push_back(EncodeEvent(*event));
  }
  // Generated events, valid or not, in both encodings.
  for (int i = 0; i < 300; ++i) {
    v1::Envelope event = RandomEvent(random_);
    record_seeds_.push_back(EncodeEvent(event));
    bool printed = false;
    std::string json = PrintJson(event, &printed);  // fails for times JSON cannot express
    if (printed) event_json_seeds_.push_back(json);
  }
  if (event_json_seeds_.size() < 100 || rules_seeds_.size() < 3) {
    std::cerr << "fuzz: seed files not found under " << source_dir << "\n";
    std::exit(2);
  }
}

std::string DecoderFuzzer::NextRecord() {
  switch (random_.Below(20)) {
    case 0: case 1: case 2:
      return random_.Bytes(random_.Length(300));
    case 3: case 4: case 5: case 6:
      return RandomWireMessage(random_, 3);
    case 7: case 8: case 9:
      return EncodeEvent(RandomEvent(random_));
    default:
      return MutateBytes(random_, random_.Pick(record_seeds_), random_.Pick(record_seeds_));
  }
}

std::string DecoderFuzzer::NextEventJson() {
  if (random_.Chance(0.1)) return RandomText(random_);
  if (random_.Chance(0.2)) {  // a new event, valid more often than not, as a file holds it
    bool printed = false;
    std::string json = PrintJson(RandomEvent(random_), &printed);
    if (printed) return json;
  }
  return MutateJson(random_, random_.Pick(event_json_seeds_), random_.Pick(event_json_seeds_),
                    dictionary_);
}

std::string DecoderFuzzer::NextRulesJson() {
  if (random_.Chance(0.1)) return RandomText(random_);
  if (random_.Chance(0.3)) return RetuneNumbers(random_, random_.Pick(rules_seeds_));
  return MutateJson(random_, random_.Pick(rules_seeds_), random_.Pick(rules_seeds_), dictionary_);
}

bool DecoderFuzzer::CheckDecode(Stream stream, const std::string& bytes) {
  const ExactCopy copy(bytes);
  Result<v1::Envelope> event = DecodeEvent(stream, copy.view());
  CheckEventView(stream, copy.view(), event);
  if (!event.ok()) {
    if (event.status().message().empty()) findings_.Fail(decode_.name, bytes, "an error with no message");
    return false;
  }
  if (StreamOf(*event) != stream) findings_.Fail(decode_.name, bytes, "an event of another stream");
  Status valid = Validate(*event);
  if (!valid.ok()) findings_.Fail(decode_.name, bytes, "accepted but invalid: " + valid.message());
  Result<v1::Envelope> again = DecodeEvent(stream, EncodeEvent(*event));
  if (!again.ok() || !MessageDifferencer::Equals(*again, *event)) {
    findings_.Fail(decode_.name, bytes, "re-encoded event does not decode to the same event");
  }
  Result<v1::Envelope> from_json = ParseEventJson(ToJsonLine(*event));
  if (!from_json.ok() || !MessageDifferencer::Equals(*from_json, *event)) {
    findings_.Fail(decode_.name, bytes,
                   "event printed as JSON does not parse back: " +
                       (from_json.ok() ? std::string("differs") : from_json.status().message()));
  }
  (void)EventTime(*event), (void)EventId(*event), (void)OfficerId(*event);  // of any accepted one
  return true;
}

// The fields of `view` that differ from `event`'s, or "".
std::string ViewDifferences(const EventView& view, const v1::Envelope& event, std::string_view bytes) {
  std::string out;
  auto check = [&](bool same, const char* field) {
    if (!same) out += std::string(out.empty() ? "" : ", ") + field;
  };
  auto within = [&](std::string_view s) {
    return s.empty() || (s.data() >= bytes.data() && s.data() + s.size() <= bytes.data() + bytes.size());
  };
  auto same_double = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  const v1::RosterChange& r = event.roster();
  const v1::AccessEvent& a = event.access();
  const v1::Complaint& c = event.complaint();
  check(view.stream == StreamOf(event), "stream");
  check(view.time == EventTime(event), "time");
  check(view.event_id == EventId(event), "event_id");
  check(view.officer_id == OfficerId(event), "officer_id");
  check(view.unit == r.unit(), "unit");
  check(view.shift_id == r.shift_id(), "shift_id");
  check(view.status == r.status(), "status");
  check(view.start == (event.has_roster() ? ToMillis(r.start()) : 0), "start");
  check(view.end == (event.has_roster() ? ToMillis(r.end()) : 0), "end");
  check(view.system == a.system(), "system");
  check(view.subject_id == a.subject_id(), "subject_id");
  check(view.case_ref == a.case_ref(), "case_ref");
  check(view.site_id == a.site_id(), "site_id");
  check(view.action == a.action(), "action");
  check(same_double(view.lat, a.lat()), "lat");
  check(same_double(view.lon, a.lon()), "lon");
  check(view.complaint_id == c.complaint_id(), "complaint_id");
  check(view.complainant_id == c.complainant_id(), "complainant_id");
  check(view.category == c.category(), "category");
  check(view.IsSubjectLookup() == (event.has_access() && IsSubjectLookup(a)), "IsSubjectLookup");
  check(view.partition == 7 && view.offset == 99, "partition/offset (the caller's)");
  for (std::string_view s : {view.event_id, view.officer_id, view.unit, view.shift_id, view.system,
                             view.subject_id, view.case_ref, view.site_id, view.complaint_id,
                             view.complainant_id}) {
    check(within(s), "a string outside the record");
  }
  return out;
}

void DecoderFuzzer::CheckEventView(Stream stream, std::string_view bytes,
                                   const Result<v1::Envelope>& expected) {
  EventView view;
  view.partition = 7;
  view.offset = 99;
  Status status = DecodeEventView(stream, bytes, &view);
  const std::string input(bytes);
  if (status.ok() != expected.ok()) {
    findings_.Fail("DecodeEventView", input,
                   std::string(status.ok() ? "accepted" : "refused (" + status.message() + ")") +
                       " what DecodeEvent " +
                       (expected.ok() ? "accepted" : "refused: " + expected.status().message()));
    return;
  }
  if (!status.ok()) {
    if (status.message() != expected.status().message()) {
      findings_.Fail("DecodeEventView", input, "error '" + status.message() +
                                                    "' is not DecodeEvent's '" +
                                                    expected.status().message() + "'");
    }
    return;
  }
  std::string differences = ViewDifferences(view, expected.value(), bytes);
  if (!differences.empty()) {
    findings_.Fail("DecodeEventView", input, "fields differ from DecodeEvent's: " + differences);
  }
}

bool DecoderFuzzer::CheckEventJson(const std::string& line) {
  Result<v1::Envelope> event = ParseEventJson(ExactCopy(line).view());
  if (!event.ok()) {
    if (event.status().message().empty()) findings_.Fail(event_json_.name, line, "an error with no message");
    return false;
  }
  Status valid = Validate(*event);
  if (!valid.ok()) findings_.Fail(event_json_.name, line, "accepted but invalid: " + valid.message());
  // What `vigil produce` would publish must be what the engine accepts.
  Result<v1::Envelope> decoded = DecodeEvent(StreamOf(*event), EncodeEvent(*event));
  if (!decoded.ok() || !MessageDifferencer::Equals(*decoded, *event)) {
    findings_.Fail(event_json_.name, line,
                   "accepted from JSON but not from Kafka: " +
                       (decoded.ok() ? std::string("differs") : decoded.status().message()));
  }
  return true;
}

bool DecoderFuzzer::CheckRules(const std::string& json) {
  Result<v1::RulesConfig> config = ParseRulesConfig(json);
  if (!config.ok()) {
    if (config.status().message().rfind("rules file: ", 0) != 0) {
      findings_.Fail(rules_.name, json, "an error that does not say it is the rules file's: " +
                                            config.status().message());
    }
    return false;
  }
  TimeSettings time = TimeSettings::From(*config);  // UBSan: no overflow for any accepted value
  (void)time.MaxLateness();
  Result<v1::RulesConfig> again = ParseRulesConfig(ToJsonLine(*config));
  if (!again.ok() || !MessageDifferencer::Equals(*again, *config)) {
    findings_.Fail(rules_.name, json,
                   "configuration printed as JSON does not parse back: " +
                       (again.ok() ? std::string("differs") : again.status().message()));
  }
  return true;
}

struct Options {
  uint64_t seed = 20260301;
  uint64_t rounds = 25000;
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    uint64_t value = std::stoull(argv[i + 1]);
    if (flag == "--seed") {
      options.seed = value;
    } else if (flag == "--rounds") {
      options.rounds = value;
    } else {
      std::cerr << "usage: vigil_fuzz [--seed N] [--rounds N]\n";
      std::exit(2);
    }
  }
  return options;
}

// Protobuf logs each string that is not UTF-8; over a corpus that is noise. Count it instead.
uint64_t protobuf_log_lines = 0;
void CountProtobufLog(google::protobuf::LogLevel, const char*, int, const std::string&) {
  ++protobuf_log_lines;
}

}  // namespace
}  // namespace vigil::fuzz

int main(int argc, char** argv) {
  using namespace vigil::fuzz;
  Options options = ParseOptions(argc, argv);
  google::protobuf::SetLogHandler(&CountProtobufLog);
  std::cout << "vigil_fuzz: seed " << options.seed << ", " << options.rounds << " rounds" << std::endl;
  DecoderFuzzer fuzzer(options.seed, VIGIL_SOURCE_DIR);
  for (uint64_t round = 0; round < options.rounds; ++round) fuzzer.RunRound();
  fuzzer.PrintCounts(std::cout);
  std::cout << "  protobuf log lines suppressed: " << protobuf_log_lines << "\n";
  if (fuzzer.findings().count() > 0) {
    std::cout << "vigil_fuzz: " << fuzzer.findings().count() << " failures (seed " << options.seed
              << ")\n";
    return 1;
  }
  std::cout << "vigil_fuzz: nothing found\n";
  return 0;
}
