// DecodeEventView (engine/runtime/event_view.h): the new core's one decoding of an input record,
// in place. It must read what DecodeEvent reads and refuse what it refuses, with its message.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "event.h"
#include "runtime/event_view.h"

namespace vigil {
namespace {

// --- Raw wire format, for the forms SerializeToString never writes -----------------------------

std::string Varint(uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out += static_cast<char>(value | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
  return out;
}
std::string Tag(int field, int wire_type) { return Varint(static_cast<uint64_t>(field) << 3 | wire_type); }
std::string Len(int field, const std::string& bytes) {
  return Tag(field, 2) + Varint(bytes.size()) + bytes;
}
std::string VarintField(int field, uint64_t value) { return Tag(field, 0) + Varint(value); }
std::string Fixed64(int field, double value) {
  std::string out = Tag(field, 1);
  char raw[8];
  std::memcpy(raw, &value, 8);
  return out + std::string(raw, 8);
}
std::string TimeBytes(int64_t seconds, int32_t nanos) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(nanos);
  return ts.SerializeAsString();
}

// --- Events ------------------------------------------------------------------------------------

constexpr int64_t kT = 1772352000;  // 2026-03-01T08:00:00Z

v1::Envelope Roster() {
  v1::Envelope e;
  v1::RosterChange& r = *e.mutable_roster();
  r.set_event_id("roster-000000000001");
  r.set_officer_id("MP-0000000042");
  r.set_unit("Territorial Support Group");
  r.set_shift_id("SHIFT-2026-03-01-N");
  r.set_status(v1::RosterChange::OVERTIME);
  r.mutable_start()->set_seconds(kT);
  r.mutable_start()->set_nanos(250000000);
  r.mutable_end()->set_seconds(kT + 8 * 3600);
  r.mutable_end()->set_nanos(999999999);
  r.mutable_changed_at()->set_seconds(kT - 86400);
  r.mutable_changed_at()->set_nanos(1999999);
  return e;
}

v1::Envelope Access() {
  v1::Envelope e;
  v1::AccessEvent& a = *e.mutable_access();
  a.set_event_id("access-0000000000001");
  a.set_officer_id("MP-0000000042");
  a.set_system("PNC");
  a.set_action(v1::AccessEvent::RECORD_VIEW);
  a.set_subject_id("PERSON-00000000777");
  a.set_case_ref("CASE-2026-0001234");
  a.set_site_id("SITE-HQ-0001");
  a.set_lat(51.50722);
  a.set_lon(-0.1275);
  a.mutable_occurred_at()->set_seconds(kT);
  a.mutable_occurred_at()->set_nanos(123456789);
  return e;
}

v1::Envelope Complaint() {
  v1::Envelope e;
  v1::Complaint& c = *e.mutable_complaint();
  c.set_event_id("complaint-000000001");
  c.set_complaint_id("CMP-2026-000123");
  c.set_officer_id("MP-0000000042");
  c.set_complainant_id("PERSON-00000000777");
  c.set_category(v1::Complaint::DISHONESTY);
  c.mutable_received_at()->set_seconds(kT + 1);
  c.mutable_received_at()->set_nanos(999);
  return e;
}

// The view's strings lie within the record's bytes.
bool Within(std::string_view part, std::string_view bytes) {
  if (part.empty()) return true;
  return part.data() >= bytes.data() && part.data() + part.size() <= bytes.data() + bytes.size();
}

void CheckSameFields(const EventView& v, const v1::Envelope& e, std::string_view bytes) {
  CHECK(v.stream == StreamOf(e));
  CHECK(v.time == EventTime(e));
  CHECK(v.event_id == EventId(e));
  CHECK(v.officer_id == OfficerId(e));
  const v1::RosterChange& r = e.roster();
  const v1::AccessEvent& a = e.access();
  const v1::Complaint& c = e.complaint();
  CHECK(v.unit == r.unit());
  CHECK(v.shift_id == r.shift_id());
  CHECK(v.status == r.status());
  CHECK(v.start == (e.has_roster() ? ToMillis(r.start()) : 0));
  CHECK(v.end == (e.has_roster() ? ToMillis(r.end()) : 0));
  CHECK(v.system == a.system());
  CHECK(v.subject_id == a.subject_id());
  CHECK(v.case_ref == a.case_ref());
  CHECK(v.site_id == a.site_id());
  CHECK(v.action == a.action());
  const double lat = a.lat(), lon = a.lon();
  CHECK(std::memcmp(&v.lat, &lat, 8) == 0);  // -0 and 0 told apart
  CHECK(std::memcmp(&v.lon, &lon, 8) == 0);
  CHECK(v.complaint_id == c.complaint_id());
  CHECK(v.complainant_id == c.complainant_id());
  CHECK(v.category == c.category());
  CHECK(v.IsSubjectLookup() == (e.has_access() && IsSubjectLookup(a)));
  for (std::string_view s : {v.event_id, v.officer_id, v.unit, v.shift_id, v.system, v.subject_id,
                             v.case_ref, v.site_id, v.complaint_id, v.complainant_id}) {
    CHECK(Within(s, bytes));
  }
}

// DecodeEventView agrees with DecodeEvent on `bytes`: the same verdict, the same message, the
// same fields. Returns the verdict.
bool Agrees(Stream stream, const std::string& bytes) {
  Result<v1::Envelope> expected = DecodeEvent(stream, bytes);
  EventView view;
  view.partition = 3;
  view.offset = 77;
  Status status = DecodeEventView(stream, bytes, &view);
  REQUIRE(status.ok() == expected.ok());
  if (!expected.ok()) {
    CHECK(status.message() == expected.status().message());
    return false;
  }
  CheckSameFields(view, *expected, bytes);
  // Its source is the record itself (the hold then copies it without checking each view).
  CHECK(static_cast<const void*>(view.source.data()) == static_cast<const void*>(bytes.data()));
  CHECK(view.source.size() == bytes.size());
  CHECK(view.partition == 3);  // where it was read is the caller's
  CHECK(view.offset == 77);
  return true;
}

std::string ErrorOf(Stream stream, const std::string& bytes) {
  EventView view;
  Status status = DecodeEventView(stream, bytes, &view);
  REQUIRE_FALSE(status.ok());
  Result<v1::Envelope> expected = DecodeEvent(stream, bytes);
  REQUIRE_FALSE(expected.ok());
  CHECK(status.message() == expected.status().message());
  return status.message();
}

TEST_CASE("event_view: every field of each event type round-trips") {
  for (const v1::Envelope& event : {Roster(), Access(), Complaint()}) {
    const std::string bytes = EncodeEvent(event);
    EventView view;
    REQUIRE(DecodeEventView(StreamOf(event), bytes, &view).ok());
    CheckSameFields(view, event, bytes);
    CHECK(Agrees(StreamOf(event), bytes));
  }
  EventView view;
  REQUIRE(DecodeEventView(Stream::kRoster, EncodeEvent(Roster()), &view).ok());
  CHECK(view.start == kT * 1000 + 250);
  CHECK(view.end == (kT + 8 * 3600) * 1000 + 999);  // nanos truncated, as ToMillis does
  CHECK(view.time == (kT - 86400) * 1000 + 1);
  CHECK(view.status == v1::RosterChange::OVERTIME);
  CHECK(view.is_roster());
  REQUIRE(DecodeEventView(Stream::kAccess, EncodeEvent(Access()), &view).ok());
  CHECK(view.is_access());
  CHECK(view.lat == 51.50722);
  CHECK(view.lon == -0.1275);
  CHECK(view.time == kT * 1000 + 123);
  CHECK(view.has_position());
  CHECK(view.unit.empty());  // nothing left over from the roster change before
  CHECK(view.status == 0);
  REQUIRE(DecodeEventView(Stream::kComplaint, EncodeEvent(Complaint()), &view).ok());
  CHECK(view.is_complaint());
  CHECK(view.category == v1::Complaint::DISHONESTY);
  CHECK(view.system.empty());
}

TEST_CASE("event_view: every enum value, optional fields empty, times at the ends of the range") {
  for (int s = 1; s <= v1::RosterChange::Status_MAX; ++s) {
    v1::Envelope e = Roster();
    e.mutable_roster()->set_status(static_cast<v1::RosterChange::Status>(s));
    e.mutable_roster()->clear_unit();
    CHECK(Agrees(Stream::kRoster, EncodeEvent(e)));
  }
  for (int a = 1; a <= v1::AccessEvent::Action_MAX; ++a) {
    v1::Envelope e = Access();
    e.mutable_access()->set_action(static_cast<v1::AccessEvent::Action>(a));
    CHECK(Agrees(Stream::kAccess, EncodeEvent(e)));
    e.mutable_access()->clear_subject_id();  // a lookup of no one is no subject lookup
    e.mutable_access()->clear_case_ref();
    e.mutable_access()->clear_system();
    e.mutable_access()->clear_site_id();
    e.mutable_access()->clear_lat();
    e.mutable_access()->clear_lon();
    CHECK(Agrees(Stream::kAccess, EncodeEvent(e)));
  }
  for (int c = 1; c <= v1::Complaint::Category_MAX; ++c) {
    v1::Envelope e = Complaint();
    e.mutable_complaint()->set_category(static_cast<v1::Complaint::Category>(c));
    CHECK(Agrees(Stream::kComplaint, EncodeEvent(e)));
  }
  for (int64_t seconds : {int64_t{-62135596800}, int64_t{-1}, int64_t{0}, int64_t{253402300799}}) {
    for (int32_t nanos : {0, 1, 999999, 1000000, 999999999}) {
      v1::Envelope e = Access();
      e.mutable_access()->mutable_occurred_at()->set_seconds(seconds);
      e.mutable_access()->mutable_occurred_at()->set_nanos(nanos);
      CHECK(Agrees(Stream::kAccess, EncodeEvent(e)));
      e.mutable_access()->mutable_occurred_at()->Clear();  // present, all zero: 1970
      CHECK(Agrees(Stream::kAccess, EncodeEvent(e)));
    }
  }
  v1::Envelope e = Access();
  for (double lat : {-90.0, 90.0, -0.0, 0.0, 1e-300}) {
    for (double lon : {-180.0, 180.0, -0.0, 0.0}) {
      e.mutable_access()->set_lat(lat);
      e.mutable_access()->set_lon(lon);
      CHECK(Agrees(Stream::kAccess, EncodeEvent(e)));
    }
  }
  // -0 degrees reads as 0, as DecodeEvent canonicalizes it.
  e.mutable_access()->set_lat(-0.0);
  e.mutable_access()->set_lon(-0.0);
  EventView view;
  REQUIRE(DecodeEventView(Stream::kAccess, EncodeEvent(e), &view).ok());
  CHECK_FALSE(std::signbit(view.lat));
  CHECK_FALSE(std::signbit(view.lon));
  CHECK_FALSE(view.has_position());
}

TEST_CASE("event_view: IsSubjectLookup as for the message") {
  EventView v;
  v.subject_id = "P1";
  for (int a = 0; a <= 5; ++a) {
    v.action = a;
    v1::AccessEvent message;
    message.set_action(static_cast<v1::AccessEvent::Action>(a));
    message.set_subject_id("P1");
    CHECK(v.IsSubjectLookup() == IsSubjectLookup(message));
  }
  v.action = v1::AccessEvent::SEARCH;
  CHECK(v.IsSubjectLookup());
  v.subject_id = {};
  CHECK_FALSE(v.IsSubjectLookup());
}

TEST_CASE("event_view: invalid events are refused with DecodeEvent's message") {
  std::vector<std::pair<Stream, std::string>> cases;
  auto add = [&](const v1::Envelope& e) { cases.emplace_back(StreamOf(e), EncodeEvent(e)); };
  {
    v1::Envelope e = Roster();
    e.mutable_roster()->clear_event_id(); add(e);
    e = Roster(); e.mutable_roster()->clear_officer_id(); add(e);
    e = Roster(); e.mutable_roster()->clear_shift_id(); add(e);
    e = Roster(); e.mutable_roster()->clear_status(); add(e);
    e = Roster(); e.mutable_roster()->set_status(static_cast<v1::RosterChange::Status>(7)); add(e);
    e = Roster(); e.mutable_roster()->set_status(static_cast<v1::RosterChange::Status>(-1)); add(e);
    e = Roster(); e.mutable_roster()->clear_start(); add(e);
    e = Roster(); e.mutable_roster()->clear_end(); add(e);
    e = Roster(); e.mutable_roster()->clear_changed_at(); add(e);
    e = Roster(); *e.mutable_roster()->mutable_end() = e.roster().start(); add(e);  // end == start
    e = Roster(); e.mutable_roster()->mutable_end()->set_seconds(kT - 1); add(e);  // end < start
    // Within one millisecond: different nanos, the same milliseconds.
    e = Roster(); *e.mutable_roster()->mutable_end() = e.roster().start();
    e.mutable_roster()->mutable_end()->set_nanos(250999999); add(e);
    e = Roster(); e.mutable_roster()->mutable_start()->set_nanos(-1); add(e);
    e = Roster(); e.mutable_roster()->mutable_changed_at()->set_nanos(1000000000); add(e);
    e = Roster(); e.mutable_roster()->mutable_changed_at()->set_seconds(253402300800); add(e);
    e = Roster(); e.mutable_roster()->mutable_start()->set_seconds(-62135596801); add(e);
  }
  {
    v1::Envelope e = Access();
    e.mutable_access()->clear_event_id(); add(e);
    e = Access(); e.mutable_access()->clear_officer_id(); add(e);
    e = Access(); e.mutable_access()->clear_action(); add(e);
    e = Access(); e.mutable_access()->set_action(static_cast<v1::AccessEvent::Action>(5)); add(e);
    e = Access(); e.mutable_access()->set_action(static_cast<v1::AccessEvent::Action>(1000)); add(e);
    e = Access(); e.mutable_access()->clear_occurred_at(); add(e);
    e = Access(); e.mutable_access()->mutable_occurred_at()->set_nanos(-5); add(e);
    for (double bad : {90.0000001, -90.5, 1e308, std::nan(""), HUGE_VAL, -HUGE_VAL}) {
      e = Access(); e.mutable_access()->set_lat(bad); add(e);
    }
    for (double bad : {180.0000001, -181.0, std::nan(""), HUGE_VAL}) {
      e = Access(); e.mutable_access()->set_lon(bad); add(e);
    }
  }
  {
    v1::Envelope e = Complaint();
    e.mutable_complaint()->clear_event_id(); add(e);
    e = Complaint(); e.mutable_complaint()->clear_complaint_id(); add(e);
    e = Complaint(); e.mutable_complaint()->clear_officer_id(); add(e);
    e = Complaint(); e.mutable_complaint()->clear_complainant_id(); add(e);
    e = Complaint(); e.mutable_complaint()->clear_category(); add(e);
    e = Complaint(); e.mutable_complaint()->set_category(static_cast<v1::Complaint::Category>(8)); add(e);
    e = Complaint(); e.mutable_complaint()->clear_received_at(); add(e);
    e = Complaint(); e.mutable_complaint()->mutable_received_at()->set_seconds(-62135596801); add(e);
  }
  for (const auto& [stream, bytes] : cases) {
    CAPTURE(bytes);
    CHECK_FALSE(Agrees(stream, bytes));
  }
  CHECK(ErrorOf(Stream::kAccess, EncodeEvent([] {
          v1::Envelope e = Access();
          e.mutable_access()->clear_officer_id();
          return e;
        }())) == "access: field 'officerId' is missing or empty");
  CHECK(ErrorOf(Stream::kRoster, "") == "empty record: roster: field 'eventId' is missing or empty");
}

TEST_CASE("event_view: truncated bytes, wrong wire types, other streams' records, garbage") {
  google::protobuf::LogSilencer quiet;  // protobuf logs each string that is not UTF-8
  for (const v1::Envelope& event : {Roster(), Access(), Complaint()}) {
    const std::string bytes = EncodeEvent(event);
    for (size_t n = 0; n < bytes.size(); ++n) {
      for (int s = 0; s < kStreamCount; ++s) {
        CAPTURE(n);
        Agrees(static_cast<Stream>(s), bytes.substr(0, n));
      }
    }
    // Each record read as each of the other streams'.
    for (int s = 0; s < kStreamCount; ++s) Agrees(static_cast<Stream>(s), bytes);
  }
  const std::string access = EncodeEvent(Access());
  // A known field with the wire type of another: protobuf keeps it as an unknown field.
  for (int field = 1; field <= 10; ++field) {
    for (int wire_type : {0, 1, 2, 5}) {
      std::string value = wire_type == 0   ? Varint(3)
                          : wire_type == 1 ? std::string(8, '\x01')
                          : wire_type == 2 ? Varint(2) + "ab"
                                           : std::string(4, '\x01');
      CAPTURE(field);
      CAPTURE(wire_type);
      Agrees(Stream::kAccess, access + Tag(field, wire_type) + value);
    }
  }
  CHECK(ErrorOf(Stream::kAccess, access + VarintField(1, 5)) ==
        "unknown field number 1 in vigil.v1.AccessEvent (a record of another type?)");
  // Groups, a field number 0, a length past the end, an overlong varint, a string not UTF-8.
  for (const std::string& tail :
       {Tag(11, 3) + Tag(11, 4), Tag(1, 4), Tag(0, 0) + Varint(1), Tag(3, 2) + Varint(100) + "x",
        Tag(4, 0) + std::string(10, '\xff') + "\x01", Tag(4, 0) + std::string(11, '\x81'),
        Len(3, "\xc3\x28"), Len(3, "caf\xc3\xa9"), Len(3, "\xed\xa0\x80"), Len(3, "\xf4\x90\x80\x80"),
        Len(10, TimeBytes(kT, 0) + VarintField(3, 1)), Len(10, Tag(2, 2) + Varint(0)),
        Len(10, std::string("\x08", 1)), std::string("\x80", 1), std::string("\xff\xff", 2)}) {
    CAPTURE(tail);
    Agrees(Stream::kAccess, access + tail);
  }
  // Valid UTF-8 beyond ASCII: protobuf accepts it, so must the view.
  CHECK(Agrees(Stream::kAccess, access + Len(3, "Syst\xc3\xa8me \xe2\x82\xac \xf0\x9f\x98\x80")));
  // UTF-8 at the edges of validity, in each string field and across fields.
  for (const char* text :
       {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
        "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x9f\xbf",
        "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
        "\xff", "\x80", "\xbf", "\xe2\x82", "\xf0\x9f\x98", "\xc3", "a\xc3\xa9b\xe2\x82\xacc"}) {
    CAPTURE(text);
    for (int field : {1, 2, 3, 5, 6, 7}) {
      CAPTURE(field);
      Agrees(Stream::kAccess, Len(field, text) + access);
      Agrees(Stream::kAccess, access + Len(field, std::string("id-") + text));
      Agrees(Stream::kAccess, access + Len(field, std::string(text) + "-id"));
    }
    // A sequence cut by the field's end, its rest the next field's start.
    const std::string whole = text;
    for (size_t cut = 1; cut < whole.size(); ++cut) {
      Agrees(Stream::kAccess, access + Len(3, whole.substr(0, cut)) + Len(5, whole.substr(cut)));
    }
  }
  v1::Envelope named = Complaint();
  named.mutable_complaint()->set_complainant_id("Zo\xc3\xab \xe5\xbc\xa0 \xf0\x9f\x91\xae");
  CHECK(Agrees(Stream::kComplaint, EncodeEvent(named)));
  named = Roster();
  named.mutable_roster()->set_unit(std::string(300, 'u') + "\xc3\xa9");  // a 2-byte length
  CHECK(Agrees(Stream::kRoster, EncodeEvent(named)));
  named.mutable_roster()->set_unit(std::string(300, 'u') + "\xc3");
  CHECK_FALSE(Agrees(Stream::kRoster, EncodeEvent(named)));
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 3000; ++i) {
    std::string garbage;
    const size_t size = i % 64;
    for (size_t k = 0; k < size; ++k) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      garbage += static_cast<char>(seed >> 56);
    }
    for (int s = 0; s < kStreamCount; ++s) Agrees(static_cast<Stream>(s), garbage);
    // And garbage after a valid record, or one byte of it changed.
    Agrees(Stream::kAccess, access + garbage);
    std::string changed = access;
    changed[(seed >> 8) % changed.size()] = static_cast<char>(seed >> 16);
    Agrees(Stream::kAccess, changed);
  }
}

TEST_CASE("event_view: unknown fields are refused, as DecodeEvent refuses them") {
  // Protobuf skips an unknown field; DecodeEvent then refuses it (most likely a record of another
  // type), and the view must say the same.
  const std::string access = EncodeEvent(Access());
  CHECK(ErrorOf(Stream::kAccess, access + VarintField(11, 1)) ==
        "unknown field number 11 in vigil.v1.AccessEvent (a record of another type?)");
  CHECK(ErrorOf(Stream::kAccess, VarintField(200, 1) + access) ==
        "unknown field number 200 in vigil.v1.AccessEvent (a record of another type?)");
  CHECK(ErrorOf(Stream::kAccess, access + Len(10, VarintField(5, 1))) ==
        "unknown field number 5 in google.protobuf.Timestamp (a record of another type?)");
  CHECK(ErrorOf(Stream::kComplaint, EncodeEvent(Roster())) ==
        "unknown field number 7 in vigil.v1.Complaint (a record of another type?)");
}

TEST_CASE("event_view: a repeated scalar's last occurrence wins; a repeated time is merged") {
  const std::string access = EncodeEvent(Access());
  v1::Envelope later;
  later.mutable_access()->set_event_id("access-2");
  later.mutable_access()->set_action(v1::AccessEvent::LOGOUT);
  later.mutable_access()->set_lat(-33.9);
  later.mutable_access()->mutable_occurred_at()->set_nanos(5000000);  // seconds kept: merged
  const std::string bytes = access + EncodeEvent(later);
  CHECK(Agrees(Stream::kAccess, bytes));
  EventView view;
  REQUIRE(DecodeEventView(Stream::kAccess, bytes, &view).ok());
  CHECK(view.event_id == "access-2");
  CHECK(view.officer_id == "MP-0000000042");
  CHECK(view.action == v1::AccessEvent::LOGOUT);
  CHECK(view.lat == -33.9);
  CHECK(view.lon == -0.1275);
  CHECK(view.time == kT * 1000 + 5);
  CHECK_FALSE(view.IsSubjectLookup());

  // Time fields spread over three occurrences; an empty occurrence changes nothing.
  const std::string spread = access + Len(10, "") + Len(10, VarintField(1, kT + 60)) +
                             Len(10, VarintField(2, 7000000)) + Len(10, "");
  CHECK(Agrees(Stream::kAccess, spread));
  REQUIRE(DecodeEventView(Stream::kAccess, spread, &view).ok());
  CHECK(view.time == (kT + 60) * 1000 + 7);
  // Within one occurrence too, the last wins.
  const std::string twice = access + Len(10, VarintField(1, 1) + VarintField(1, kT + 1));
  REQUIRE(DecodeEventView(Stream::kAccess, twice, &view).ok());
  CHECK(view.time == (kT + 1) * 1000 + 123);
  CHECK(Agrees(Stream::kAccess, twice));

  // A bad value overwritten by a good one is good; a good one overwritten by a bad one is bad.
  CHECK(Agrees(Stream::kAccess, access + Fixed64(8, 400) + Fixed64(8, 40)));
  CHECK_FALSE(Agrees(Stream::kAccess, access + Fixed64(8, 40) + Fixed64(8, 400)));
  CHECK(Agrees(Stream::kAccess, VarintField(4, 0) + access));
  CHECK_FALSE(Agrees(Stream::kAccess, access + VarintField(4, 0)));
  CHECK(Agrees(Stream::kAccess, Len(1, "") + access));
  CHECK_FALSE(Agrees(Stream::kAccess, access + Len(1, "")));
  CHECK(Agrees(Stream::kAccess, access + Len(10, VarintField(2, 2000000000)) +
                                    Len(10, VarintField(2, 3))));
  // An earlier string that is not UTF-8 fails the parse though a later one replaces it.
  google::protobuf::LogSilencer quiet;
  CHECK_FALSE(Agrees(Stream::kAccess, Len(3, "\xff") + access));

  const std::string roster = EncodeEvent(Roster());
  CHECK(Agrees(Stream::kRoster, roster + VarintField(5, v1::RosterChange::SICK) +
                                    Len(3, "Unit 2") + Len(7, VarintField(1, kT + 10 * 3600))));
  CHECK_FALSE(Agrees(Stream::kRoster, roster + Len(7, VarintField(1, kT - 10))));
  const std::string complaint = EncodeEvent(Complaint());
  CHECK(Agrees(Stream::kComplaint, complaint + VarintField(5, 1) + Len(4, "P2")));
}

TEST_CASE("event_view: wire forms protobuf accepts but never writes") {
  // Non-minimal varints and lengths, enum values beyond int32 truncated into range, fields in
  // any order: the fast path leaves them to DecodeEvent, whose verdict the view follows.
  const std::string access = EncodeEvent(Access());
  std::vector<std::string> records = {
      access + Tag(4, 0) + std::string("\x83\x00", 2),                                       // action 3, 2 bytes
      access + Tag(4, 0) + std::string("\x83\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10),      // 10 bytes
      access + Tag(4, 0) + std::string("\x81\x80\x80\x80\x10", 5),          // 2^32 + 1
      access + Tag(3, 2) + std::string("\x82\x00", 2) + "ab",                                // length in 2 bytes
      access + Len(10, Tag(2, 0) + std::string("\x85\x80\x80\x80\x10", 5)),  // nanos 2^32 + 5
      access + Len(10, Tag(1, 0) + std::string("\x81\x00", 2)),                              // seconds 1
      std::string("\x8a\x00", 2) + Varint(3) + "abc" + access,              // tag in 2 bytes
  };
  std::string backwards;  // fields written last to first
  backwards += Len(10, TimeBytes(kT, 0)) + Fixed64(9, 1.5) + Fixed64(8, 2.5) + Len(7, "S");
  backwards += Len(6, "C") + Len(5, "P") + VarintField(4, 3) + Len(3, "PNC") + Len(2, "MP1");
  backwards += Len(1, "e1");
  records.push_back(backwards);
  for (const std::string& bytes : records) {
    CAPTURE(bytes);
    CHECK(Agrees(Stream::kAccess, bytes));
  }
  EventView view;
  REQUIRE(DecodeEventView(Stream::kAccess, backwards, &view).ok());
  CHECK(view.event_id == "e1");
  CHECK(view.lat == 2.5);
  CHECK(view.time == kT * 1000);
}

}  // namespace
}  // namespace vigil
