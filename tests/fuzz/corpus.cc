#include "corpus.h"

#include <cctype>
#include <cmath>
#include <limits>

#include <google/protobuf/util/time_util.h>

namespace vigil::fuzz {

std::string Random::Bytes(size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(engine_());
  return out;
}

size_t Random::Length(size_t max) {
  if (Chance(0.9)) return Below(std::min<size_t>(max, 64) + 1);
  return Below(max + 1);
}

namespace {

using google::protobuf::util::TimeUtil;

std::string RandomIdentifier(Random& random) {
  static const std::vector<std::string> kSamples = {
      "", "MP1001", "a1", "S-42", "ÜnïcødéΩ", "日本語", std::string("nul\0inside", 10),
      std::string(300, 'x')};
  if (random.Chance(0.7)) return random.Pick(kSamples);
  std::string id;
  for (size_t n = random.Length(16); n > 0; --n) id.push_back(static_cast<char>(' ' + random.Below(95)));
  return id;
}

void SetRandomTime(Random& random, google::protobuf::Timestamp* time) {
  const int64_t k2026 = 1772323200;  // 2026-03-01T00:00:00Z
  switch (random.Below(16)) {
    case 0:
      time->set_seconds(TimeUtil::kTimestampMinSeconds);
      break;
    case 1:
      time->set_seconds(TimeUtil::kTimestampMaxSeconds);
      break;
    case 2:  // anything at all, valid or not
      time->set_seconds(static_cast<int64_t>(random.Bits()));
      time->set_nanos(static_cast<int32_t>(random.Bits()));
      return;
    default:
      time->set_seconds(k2026 + static_cast<int64_t>(random.Below(400 * 86400)) - 200 * 86400);
  }
  time->set_nanos(random.Chance(0.8) ? 0 : static_cast<int32_t>(random.Below(1000000000)));
}

double RandomCoordinate(Random& random, double limit) {
  switch (random.Below(20)) {
    case 0: return std::numeric_limits<double>::quiet_NaN();
    case 1: return random.Chance(0.5) ? HUGE_VAL : -HUGE_VAL;
    case 2: return limit + 33;
    case 3: return random.Chance(0.5) ? limit : -limit;
    case 4: return random.Chance(0.5) ? -0.0 : std::numeric_limits<double>::denorm_min();
    default: return (static_cast<double>(random.Below(2000001)) / 1000000 - 1) * limit;
  }
}

// An enum value: usually a named one, sometimes 0 (unspecified) or one no schema names.
int RandomEnum(Random& random, int max_named) {
  if (random.Chance(0.93)) return 1 + static_cast<int>(random.Below(max_named));
  return random.Chance(0.5) ? 0 : static_cast<int>(static_cast<int32_t>(random.Bits()));
}

// Optional fields are present with probability `p`.
template <typename Set>
void Maybe(Random& random, double p, Set set) {
  if (random.Chance(p)) set();
}

void AppendVarint(std::string& out, uint64_t value) {
  do {
    uint8_t low = value & 0x7f;
    value >>= 7;
    out.push_back(static_cast<char>(value ? (low | 0x80) : low));
  } while (value);
}

uint64_t RandomVarintValue(Random& random) {
  switch (random.Below(4)) {
    case 0: return random.Below(16);
    case 1: return random.Bits();                   // ten bytes
    case 2: return static_cast<uint64_t>(-1 - static_cast<int64_t>(random.Below(3)));
    default: return random.Below(1u << 20);
  }
}

}  // namespace

v1::Envelope RandomEvent(Random& random) {
  v1::Envelope event;
  const double p = 0.98;  // each required field is present this often
  switch (random.Below(3)) {
    case 0: {
      auto* r = event.mutable_roster();
      Maybe(random, p, [&] { r->set_event_id(RandomIdentifier(random)); });
      Maybe(random, p, [&] { r->set_officer_id(RandomIdentifier(random)); });
      Maybe(random, 0.5, [&] { r->set_unit(RandomIdentifier(random)); });
      Maybe(random, p, [&] { r->set_shift_id(RandomIdentifier(random)); });
      r->set_status(static_cast<v1::RosterChange::Status>(RandomEnum(random, 6)));
      Maybe(random, p, [&] { SetRandomTime(random, r->mutable_start()); });
      Maybe(random, p, [&] {
        if (random.Chance(0.7) && r->has_start()) {
          *r->mutable_end() = r->start();
          r->mutable_end()->set_seconds(r->start().seconds() + random.Below(86400 * 3));
        } else {
          SetRandomTime(random, r->mutable_end());
        }
      });
      Maybe(random, p, [&] { SetRandomTime(random, r->mutable_changed_at()); });
      break;
    }
    case 1: {
      auto* a = event.mutable_access();
      Maybe(random, p, [&] { a->set_event_id(RandomIdentifier(random)); });
      Maybe(random, p, [&] { a->set_officer_id(RandomIdentifier(random)); });
      Maybe(random, 0.5, [&] { a->set_system(RandomIdentifier(random)); });
      a->set_action(static_cast<v1::AccessEvent::Action>(RandomEnum(random, 4)));
      Maybe(random, 0.7, [&] { a->set_subject_id(RandomIdentifier(random)); });
      Maybe(random, 0.3, [&] { a->set_case_ref(RandomIdentifier(random)); });
      Maybe(random, 0.5, [&] { a->set_site_id(RandomIdentifier(random)); });
      Maybe(random, 0.7, [&] { a->set_lat(RandomCoordinate(random, 90)); });
      Maybe(random, 0.7, [&] { a->set_lon(RandomCoordinate(random, 180)); });
      Maybe(random, p, [&] { SetRandomTime(random, a->mutable_occurred_at()); });
      break;
    }
    default: {
      auto* c = event.mutable_complaint();
      Maybe(random, p, [&] { c->set_event_id(RandomIdentifier(random)); });
      Maybe(random, p, [&] { c->set_complaint_id(RandomIdentifier(random)); });
      Maybe(random, p, [&] { c->set_officer_id(RandomIdentifier(random)); });
      Maybe(random, p, [&] { c->set_complainant_id(RandomIdentifier(random)); });
      c->set_category(static_cast<v1::Complaint::Category>(RandomEnum(random, 7)));
      Maybe(random, p, [&] { SetRandomTime(random, c->mutable_received_at()); });
      break;
    }
  }
  return event;
}

std::string RandomWireMessage(Random& random, int depth) {
  std::string out;
  for (size_t fields = random.Below(12); fields > 0; --fields) {
    uint64_t number = random.Chance(0.9) ? 1 + random.Below(11) : random.Bits() % (1u << 29);
    static const std::vector<uint64_t> kUsualWireTypes = {0, 1, 2, 5};
    uint64_t wire = random.Chance(0.95) ? random.Pick(kUsualWireTypes)
                                        : random.Below(8);  // also 3, 4 (groups), 6, 7 (invalid)
    AppendVarint(out, number << 3 | wire);
    switch (wire) {
      case 0: AppendVarint(out, RandomVarintValue(random)); break;
      case 1: out += random.Bytes(8); break;
      case 5: out += random.Bytes(4); break;
      case 2: {
        std::string payload = depth > 0 && random.Chance(0.4)
                                  ? RandomWireMessage(random, depth - 1)
                                  : random.Bytes(random.Length(40));
        uint64_t length = payload.size();
        if (random.Chance(0.05)) length = length + random.Below(5) - 2;  // a length that lies (may wrap)
        AppendVarint(out, length);
        out += payload;
        break;
      }
      default: break;
    }
  }
  return out;
}

namespace {

const std::vector<char> kInterestingBytes = {'\x00', '\x01', '\x7f', '\x80', '\xff', '\x0a',
                                             '\x12', '\x08', '"', '{', '}', '\\'};

void MutateOnce(Random& random, std::string& bytes, const std::string& other) {
  size_t size = bytes.size();
  size_t at = size ? random.Below(size) : 0;
  switch (random.Below(10)) {
    case 0:
      if (size) bytes[at] = static_cast<char>(bytes[at] ^ (1 << random.Below(8)));
      break;
    case 1:
      if (size) bytes[at] = random.Pick(kInterestingBytes);
      break;
    case 2:  // a varint or length one more or less, or much larger
      if (size) bytes[at] = static_cast<char>(bytes[at] + (random.Chance(0.5) ? 1 : -1));
      break;
    case 3:
      if (size) bytes.insert(at, std::string(random.Below(10) + 1, '\xff'));  // an endless varint
      break;
    case 4:
      bytes.insert(at, random.Bytes(random.Length(32)));
      break;
    case 5:
      if (size) bytes.erase(at, random.Length(size - at));
      break;
    case 6:
      bytes.resize(at);  // truncate
      break;
    case 7:
      if (size) bytes.insert(random.Below(size + 1), bytes.substr(at, random.Length(size - at)));
      break;
    case 8:  // splice: our beginning, the other's end
      if (!other.empty()) bytes = bytes.substr(0, at) + other.substr(random.Below(other.size()));
      break;
    default:
      bytes += RandomWireMessage(random, 1);  // extra fields, known numbers or not
  }
}

}  // namespace

std::string MutateBytes(Random& random, std::string bytes, const std::string& other) {
  for (size_t n = 1 + random.Below(4); n > 0; --n) MutateOnce(random, bytes, other);
  return bytes;
}

std::vector<std::string> JsonDictionary() {
  return {
      // times: valid, at the limits of the Timestamp range, beyond them, malformed
      "\"2026-03-01T08:00:00Z\"", "\"0001-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59.999999999Z\"",
      "\"10000-01-01T00:00:00Z\"", "\"0000-12-31T23:59:59Z\"", "\"2026-02-30T08:00:00Z\"",
      "\"2026-03-01T08:00:00+23:59\"", "\"2026-03-01T08:00:00.1234567891Z\"", "\"yesterday\"",
      // enum names, right and wrong
      "\"SICK\"", "\"ON_DUTY\"", "\"CANCELLED\"", "\"LOGIN\"", "\"RECORD_VIEW\"", "\"OTHER\"",
      "\"SEXUAL_MISCONDUCT\"", "\"HIGH\"", "\"LOW\"", "\"STATUS_UNSPECIFIED\"", "\"STATUS_SICK\"",
      // numbers at the edges of int32, int64, double
      "0", "-1", "1", "99", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
      "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e400", "-1e400",
      "1e-400", "4.9e-324", "1.7976931348623157e308", "0.5", "-0.0", "1e2", "\"NaN\"",
      "\"Infinity\"", "\"-Infinity\"", "\"12\"", "\"1e3\"", "0x10", "01", "+1", ".5",
      // other values
      "null", "true", "false", "[]", "{}", "[1,2,3]", "[\"SICK\",\"SICK\"]", "\"\"", "\"x\"",
      "\"\\ud800\"", "\"\\u0000\"", "\"\\uDFFF\\uD800\"", "\"\xff\xfe\"", "\"caf\xc3\xa9\"",
      "\"\\\"", "\"", "'single'",
      // keys, from every message, so fields move, repeat and meet the wrong type
      "\"roster\"", "\"access\"", "\"complaint\"", "\"eventId\"", "\"officerId\"",
      "\"officer_id\"", "\"shiftId\"", "\"status\"", "\"start\"", "\"end\"", "\"changedAt\"",
      "\"action\"", "\"subjectId\"", "\"caseRef\"", "\"lat\"", "\"lon\"", "\"occurredAt\"",
      "\"complaintId\"", "\"complainantId\"", "\"category\"", "\"receivedAt\"", "\"time\"",
      "\"enabled\"", "\"severity\"", "\"minLookups\"", "\"windowDays\"", "\"categories\"",
      "\"maxOutOfOrdernessSeconds\"", "\"minKm\"", "\"maxKmh\"", "\"sigmas\"", "\"threshold\"",
      "\"baselineDays\"", "\"description\"", "\"@type\"",
  };
}

namespace {

// The extent of the JSON value or key that contains `at`: up to the next structural character.
std::pair<size_t, size_t> TokenAround(const std::string& text, size_t at) {
  static const char kStructural[] = ",:{}[]";
  size_t begin = text.find_last_of(kStructural, at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = text.find_first_of(kStructural, at);
  return {begin, end == std::string::npos ? text.size() : end};
}

}  // namespace

// A number as JSON: small or large, negative, fractional, with an exponent, or quoted (proto3
// JSON accepts numbers as strings).
std::string RandomNumber(Random& random) {
  int64_t magnitude = static_cast<int64_t>(random.Bits() >> (random.Below(64)));
  std::string number = std::to_string(random.Chance(0.2) ? -magnitude : magnitude);
  if (random.Chance(0.2)) number += "." + std::to_string(random.Below(1000));
  if (random.Chance(0.1)) number += "e" + std::to_string(static_cast<int>(random.Below(40)) - 20);
  return random.Chance(0.1) ? "\"" + number + "\"" : number;
}

std::string MutateJson(Random& random, std::string text, const std::string& other,
                       const std::vector<std::string>& dictionary) {
  // Usually one change, so that many mutants still parse and their values reach the checks.
  for (size_t n = random.Chance(0.6) ? 1 : 2 + random.Below(3); n > 0; --n) {
    if (text.empty() || random.Chance(0.2)) {
      MutateOnce(random, text, other);
      continue;
    }
    auto [begin, end] = TokenAround(text, random.Below(text.size()));
    text.replace(begin, end - begin,
                 random.Chance(0.4) ? RandomNumber(random) : random.Pick(dictionary));
  }
  return text;
}

std::string RetuneNumbers(Random& random, std::string text) {
  std::vector<std::pair<size_t, size_t>> numbers;  // values after a ':' that start with a digit
  for (size_t colon = text.find(':'); colon != std::string::npos; colon = text.find(':', colon + 1)) {
    size_t begin = colon + 1;
    if (begin < text.size() && (std::isdigit(static_cast<unsigned char>(text[begin])) || text[begin] == '-')) {
      numbers.emplace_back(begin, text.find_first_of(",}]", begin) - begin);
    }
  }
  if (numbers.empty()) return text;
  for (size_t n = 1 + random.Below(3); n > 0; --n) {
    auto [begin, length] = numbers[random.Below(numbers.size())];
    std::string value = std::to_string(random.Chance(0.9) ? random.Below(400) : random.Below(100000));
    value.resize(std::min(value.size(), length), '0');
    value.insert(0, length - value.size(), ' ');  // same length, so the other positions hold
    text.replace(begin, length, value);
  }
  return text;
}

std::string RandomText(Random& random) {
  static const std::string kAlphabet = "{}[]\":,.-+eE0123456789 truefalsnl\\u\t\nAZ";
  if (random.Chance(0.02)) {  // deep nesting: a parser must not recurse without limit
    size_t depth = 1 + random.Below(20000);
    std::string open = random.Chance(0.5) ? "[" : "{\"access\":";
    std::string text;
    for (size_t i = 0; i < depth; ++i) text += open;
    return text;
  }
  std::string text;
  for (size_t n = random.Length(200); n > 0; --n) text.push_back(kAlphabet[random.Below(kAlphabet.size())]);
  return text;
}

}  // namespace vigil::fuzz
