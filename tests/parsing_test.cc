// Rules files and input events: bad input is an error that names the field.
#include <doctest/doctest.h>

#include <string>

#include "event.h"
#include "rules_config.h"

namespace vigil {
namespace {

// The error message of parsing `json` as a rules file (fails the test if it parses).
std::string RulesError(const std::string& json) {
  Result<v1::RulesConfig> config = ParseRulesConfig(json);
  REQUIRE_FALSE(config.ok());
  return config.status().message();
}

std::string EventError(const std::string& line) {
  Result<v1::Envelope> event = ParseEventJson(line);
  REQUIRE_FALSE(event.ok());
  return event.status().message();
}

bool Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return true;
  MESSAGE("expected the error to name '" << part << "', got: " << text);
  return false;
}

const std::string kAccess =
    R"({"access":{"eventId":"a1","officerId":"MP1","system":"PNC","action":"SEARCH","subjectId":"P1",)"
    R"("caseRef":"","siteId":"S","lat":51.5,"lon":-0.1,"occurredAt":"2026-03-01T08:00:00Z"}})";
const std::string kRoster =
    R"({"roster":{"eventId":"r1","officerId":"MP1","unit":"U","shiftId":"S1","status":"SICK",)"
    R"("start":"2026-03-01T00:00:00Z","end":"2026-03-02T00:00:00Z","changedAt":"2026-02-28T08:00:00Z"}})";
const std::string kComplaint =
    R"({"complaint":{"eventId":"c1","complaintId":"C1","officerId":"MP1","complainantId":"P1",)"
    R"("category":"INCIVILITY","receivedAt":"2026-03-01T08:00:00Z"}})";

// Names the field in either spelling (JSON name or proto name): quiet unless neither is there.
bool NamesEither(const std::string& text, const std::string& json_name, const std::string& proto_name) {
  if (text.find(json_name) != std::string::npos || text.find(proto_name) != std::string::npos) return true;
  MESSAGE("expected the error to name '" << json_name << "' or '" << proto_name << "', got: " << text);
  return false;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

}  // namespace

// ---- Rules file ----

TEST_CASE("ParseRulesConfig: {} gives the contract defaults") {
  Result<v1::RulesConfig> config = ParseRulesConfig("{}");
  REQUIRE(config.ok());
  const auto& c = *config;
  CHECK(c.time().max_out_of_orderness_seconds() == 300);
  CHECK(c.time().roster_grace_minutes() == 120);
  CHECK(c.time().roster_lateness_hours() == 168);
  CHECK(c.time().access_lateness_hours() == 24);
  CHECK(c.time().complaint_lateness_hours() == 24);
  CHECK(c.off_duty_access().enabled());
  CHECK(c.repeated_subject_lookup().min_lookups() == 3);
  CHECK(c.repeated_subject_lookup().window_days() == 30);
  CHECK(c.repeated_subject_lookup().severity() == v1::Alert::MEDIUM);
  CHECK(c.complainant_lookup().before_days() == 7);
  CHECK(c.complainant_lookup().after_days() == 180);
  CHECK(c.complainant_lookup().severity() == v1::Alert::HIGH);
  TimeSettings t = TimeSettings::From(c);
  CHECK(t.max_out_of_orderness == 5 * kMinute);
  CHECK(t.roster_grace == 2 * kHour);
  CHECK(t.LatenessFor(Stream::kRoster) == 7 * kDay);
  CHECK(t.LatenessFor(Stream::kAccess) == kDay);
  CHECK(t.LatenessFor(Stream::kComplaint) == kDay);
  CHECK(t.MaxLateness() == 7 * kDay);
}

TEST_CASE("ParseRulesConfig: what is named changes, the rest keeps its default") {
  Result<v1::RulesConfig> config =
      ParseRulesConfig(R"({"repeatedSubjectLookup": {"minLookups": 2, "windowDays": 5},
                           "time": {"rosterGraceMinutes": 30},
                           "offDutyAccess": {"severity": "LOW", "enabled": false}})");
  REQUIRE(config.ok());
  CHECK(config->repeated_subject_lookup().min_lookups() == 2);
  CHECK(config->repeated_subject_lookup().window_days() == 5);
  CHECK(config->repeated_subject_lookup().severity() == v1::Alert::MEDIUM);
  CHECK(config->time().roster_grace_minutes() == 30);
  CHECK(config->time().max_out_of_orderness_seconds() == 300);
  CHECK(config->off_duty_access().severity() == v1::Alert::LOW);
  CHECK_FALSE(config->off_duty_access().enabled());
  CHECK(config->complainant_lookup().after_days() == 180);
}

TEST_CASE("ParseRulesConfig: errors name the field") {
  SUBCASE("unknown top-level field") {
    CHECK(Contains(RulesError(R"({"offDutyAcess": {}})"), "offDutyAcess"));
  }
  SUBCASE("unknown field inside a rule") {
    CHECK(Contains(RulesError(R"({"repeatedSubjectLookup": {"minLookupz": 3}})"), "minLookupz"));
  }
  SUBCASE("negative window") {
    std::string error = RulesError(R"({"repeatedSubjectLookup": {"windowDays": -1}})");
    CHECK(Contains(error, "repeatedSubjectLookup.windowDays"));
    CHECK(Contains(error, "-1"));
  }
  SUBCASE("negative complainant limit") {
    CHECK(Contains(RulesError(R"({"complainantLookup": {"afterDays": -5}})"), "complainantLookup.afterDays"));
  }
  SUBCASE("zero minimum count") {
    CHECK(Contains(RulesError(R"({"repeatedSubjectLookup": {"minLookups": 0}})"),
                   "repeatedSubjectLookup.minLookups"));
  }
  SUBCASE("negative time setting") {
    CHECK(Contains(RulesError(R"({"time": {"maxOutOfOrdernessSeconds": -1}})"),
                   "time.maxOutOfOrdernessSeconds"));
  }
  SUBCASE("unknown category") {
    CHECK(Contains(RulesError(R"({"sensitiveComplaintPattern": {"categories": ["GROSS_MISCONDUCT"]}})"),
                   "categories"));
  }
  SUBCASE("bad severity name") {
    std::string error = RulesError(R"({"offDutyAccess": {"severity": "CRITICAL"}})");
    CHECK(NamesEither(error, "offDutyAccess.severity", "off_duty_access.severity"));
  }
  SUBCASE("SEVERITY_UNSPECIFIED is not a severity") {
    CHECK(Contains(RulesError(R"({"complainantLookup": {"severity": "SEVERITY_UNSPECIFIED"}})"),
                   "complainantLookup.severity"));
  }
  SUBCASE("wrong type") {
    // Protobuf's JSON parser names the field by its proto name; either spelling names it.
    std::string error = RulesError(R"({"repeatedSubjectLookup": {"minLookups": "three"}})");
    CHECK(NamesEither(error, "minLookups", "min_lookups"));
  }
  SUBCASE("not JSON") { CHECK_FALSE(RulesError("{repeatedSubjectLookup").empty()); }
}

// ---- Events ----

TEST_CASE("ParseEventJson: valid events of each stream") {
  for (const auto& line : {kAccess, kRoster, kComplaint}) {
    CAPTURE(line);
    Result<v1::Envelope> event = ParseEventJson(line);
    REQUIRE_MESSAGE(event.ok(), (event.ok() ? "" : event.status().message()));
  }
  Result<v1::Envelope> access = ParseEventJson(kAccess);
  CHECK(StreamOf(*access) == Stream::kAccess);
  CHECK(EventId(*access) == "a1");
  CHECK(OfficerId(*access) == "MP1");
  CHECK(EventTime(*access) == ParseTime("2026-03-01T08:00:00Z").value());
  Result<v1::Envelope> roster = ParseEventJson(kRoster);
  CHECK(StreamOf(*roster) == Stream::kRoster);
  CHECK(EventTime(*roster) == ParseTime("2026-02-28T08:00:00Z").value());  // changed_at
  Result<v1::Envelope> complaint = ParseEventJson(kComplaint);
  CHECK(StreamOf(*complaint) == Stream::kComplaint);
  CHECK(EventTime(*complaint) == ParseTime("2026-03-01T08:00:00Z").value());
}

TEST_CASE("ParseEventJson: errors name the field") {
  SUBCASE("empty officer_id") {
    CHECK(Contains(EventError(Replace(kAccess, R"("officerId":"MP1")", R"("officerId":"")")), "officerId"));
    CHECK(Contains(EventError(Replace(kRoster, R"("officerId":"MP1")", R"("officerId":"")")), "officerId"));
    CHECK(Contains(EventError(Replace(kComplaint, R"("officerId":"MP1")", R"("officerId":"")")), "officerId"));
  }
  SUBCASE("empty event_id") {
    CHECK(Contains(EventError(Replace(kAccess, R"("eventId":"a1")", R"("eventId":"")")), "eventId"));
  }
  SUBCASE("shift end before start") {
    CHECK(Contains(EventError(Replace(kRoster, R"("end":"2026-03-02T00:00:00Z")",
                                      R"("end":"2026-02-28T00:00:00Z")")),
                   "end"));
  }
  SUBCASE("shift end equal to start (an empty shift)") {
    CHECK(Contains(EventError(Replace(kRoster, R"("end":"2026-03-02T00:00:00Z")",
                                      R"("end":"2026-03-01T00:00:00Z")")),
                   "end"));
  }
  SUBCASE("lat 123") {
    CHECK(Contains(EventError(Replace(kAccess, R"("lat":51.5)", R"("lat":123)")), "lat"));
  }
  SUBCASE("lon 181") {
    CHECK(Contains(EventError(Replace(kAccess, R"("lon":-0.1)", R"("lon":181)")), "lon"));
  }
  SUBCASE("unknown enum value") {
    CHECK(Contains(EventError(Replace(kRoster, R"("status":"SICK")", R"("status":"STATUS_SICK")")), "status"));
    CHECK(Contains(EventError(Replace(kAccess, R"("action":"SEARCH")", R"("action":"BROWSE")")), "action"));
    CHECK(Contains(EventError(Replace(kComplaint, R"("category":"INCIVILITY")", R"("category":"RUDENESS")")),
                   "category"));
  }
  SUBCASE("UNSPECIFIED enum value") {
    CHECK(Contains(EventError(Replace(kAccess, R"("action":"SEARCH")", R"("action":"ACTION_UNSPECIFIED")")),
                   "action"));
  }
  SUBCASE("missing time") {
    CHECK(Contains(EventError(Replace(kAccess, R"(,"occurredAt":"2026-03-01T08:00:00Z")", "")), "occurredAt"));
  }
  SUBCASE("empty complainant") {
    CHECK(Contains(EventError(Replace(kComplaint, R"("complainantId":"P1")", R"("complainantId":"")")),
                   "complainantId"));
  }
  SUBCASE("unknown field") {
    CHECK(Contains(EventError(Replace(kAccess, R"("siteId":"S")", R"("siteID":"S")")), "siteID"));
  }
  SUBCASE("bad timestamp") {
    std::string error = EventError(Replace(kAccess, "2026-03-01T08:00:00Z", "yesterday"));
    CHECK(NamesEither(error, "occurredAt", "occurred_at"));
  }
  SUBCASE("an envelope with none of roster, access, complaint") { CHECK_FALSE(EventError("{}").empty()); }
  SUBCASE("not JSON") { CHECK_FALSE(EventError("garbage {").empty()); }
}

TEST_CASE("DecodeEvent: protobuf records round-trip; garbage bytes are an error") {
  Result<v1::Envelope> access = ParseEventJson(kAccess);
  REQUIRE(access.ok());
  std::string bytes = EncodeEvent(*access);
  Result<v1::Envelope> decoded = DecodeEvent(Stream::kAccess, bytes);
  REQUIRE(decoded.ok());
  CHECK(decoded->access().subject_id() == "P1");
  CHECK(decoded->access().lat() == 51.5);
  SUBCASE("garbage bytes") {
    Result<v1::Envelope> bad = DecodeEvent(Stream::kAccess, std::string("\xff\xff\xff\xff\x0f garbage", 13));
    CHECK_FALSE(bad.ok());
  }
  SUBCASE("a record of another stream's topic is not a valid event") {
    Result<v1::Envelope> complaint = ParseEventJson(kComplaint);
    REQUIRE(complaint.ok());
    CHECK_FALSE(DecodeEvent(Stream::kRoster, EncodeEvent(*complaint)).ok());
  }
  SUBCASE("an empty record") {
    Result<v1::Envelope> empty = DecodeEvent(Stream::kComplaint, "");
    REQUIRE_FALSE(empty.ok());
    CHECK(Contains(empty.status().message(), "eventId"));
  }
  SUBCASE("a valid record with an out-of-range value") {
    v1::Envelope event = *access;
    event.mutable_access()->set_lat(123);
    Result<v1::Envelope> bad = DecodeEvent(Stream::kAccess, EncodeEvent(event));
    REQUIRE_FALSE(bad.ok());
    CHECK(Contains(bad.status().message(), "lat"));
    CHECK_FALSE(Validate(event).ok());
  }
}

}  // namespace vigil
