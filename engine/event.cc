#include "event.h"

#include <cmath>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

namespace vigil {

const std::string& Topics::For(Stream stream) const {
  switch (stream) {
    case Stream::kRoster: return roster;
    case Stream::kAccess: return access;
    case Stream::kComplaint: return complaints;
  }
  return access;
}

Stream StreamOf(const v1::Envelope& event) {
  switch (event.event_case()) {
    case v1::Envelope::kRoster: return Stream::kRoster;
    case v1::Envelope::kComplaint: return Stream::kComplaint;
    default: return Stream::kAccess;
  }
}

Millis EventTime(const v1::Envelope& event) {
  switch (StreamOf(event)) {
    case Stream::kRoster: return ToMillis(event.roster().changed_at());
    case Stream::kAccess: return ToMillis(event.access().occurred_at());
    case Stream::kComplaint: return ToMillis(event.complaint().received_at());
  }
  return 0;
}

const std::string& EventId(const v1::Envelope& event) {
  switch (StreamOf(event)) {
    case Stream::kRoster: return event.roster().event_id();
    case Stream::kAccess: return event.access().event_id();
    case Stream::kComplaint: return event.complaint().event_id();
  }
  return event.access().event_id();
}

const std::string& OfficerId(const v1::Envelope& event) {
  switch (StreamOf(event)) {
    case Stream::kRoster: return event.roster().officer_id();
    case Stream::kAccess: return event.access().officer_id();
    case Stream::kComplaint: return event.complaint().officer_id();
  }
  return event.access().officer_id();
}

bool IsSubjectLookup(const v1::AccessEvent& access) {
  return (access.action() == v1::AccessEvent::SEARCH ||
          access.action() == v1::AccessEvent::RECORD_VIEW) &&
         !access.subject_id().empty();
}

namespace {

Status Missing(const char* message, const char* field) {
  return Status::Error(std::string(message) + ": field '" + field + "' is missing or empty");
}

// A time must be present and a valid protobuf Timestamp (years 1 to 9999, nanos in [0, 1e9)), as
// the JSON decoder already requires: beyond that range millisecond arithmetic would overflow.
Status CheckTime(const char* message, const char* field, bool present,
                 const google::protobuf::Timestamp& time) {
  if (!present) return Missing(message, field);
  using google::protobuf::util::TimeUtil;
  if (time.seconds() < TimeUtil::kTimestampMinSeconds ||
      time.seconds() > TimeUtil::kTimestampMaxSeconds || time.nanos() < 0 ||
      time.nanos() > 999999999) {
    return Status::Error(std::string(message) + ": field '" + field +
                         "' is not a valid time (seconds " + std::to_string(time.seconds()) +
                         ", nanos " + std::to_string(time.nanos()) + ")");
  }
  return Status::Ok();
}

Status ValidateRoster(const v1::RosterChange& r) {
  if (r.event_id().empty()) return Missing("roster", "eventId");
  if (r.officer_id().empty()) return Missing("roster", "officerId");
  if (r.shift_id().empty()) return Missing("roster", "shiftId");
  if (r.status() == v1::RosterChange::STATUS_UNSPECIFIED ||
      !v1::RosterChange::Status_IsValid(r.status())) {
    return Status::Error("roster: field 'status' has no valid value (" +
                         std::to_string(r.status()) + ")");
  }
  for (Status time : {CheckTime("roster", "start", r.has_start(), r.start()),
                      CheckTime("roster", "end", r.has_end(), r.end()),
                      CheckTime("roster", "changedAt", r.has_changed_at(), r.changed_at())}) {
    if (!time.ok()) return time;
  }
  if (ToMillis(r.end()) <= ToMillis(r.start())) {
    return Status::Error("roster: field 'end' (" + FormatTime(ToMillis(r.end())) +
                         ") is not after 'start' (" + FormatTime(ToMillis(r.start())) + ")");
  }
  return Status::Ok();
}

Status ValidateAccess(const v1::AccessEvent& a) {
  if (a.event_id().empty()) return Missing("access", "eventId");
  if (a.officer_id().empty()) return Missing("access", "officerId");
  if (a.action() == v1::AccessEvent::ACTION_UNSPECIFIED ||
      !v1::AccessEvent::Action_IsValid(a.action())) {
    return Status::Error("access: field 'action' has no valid value (" +
                         std::to_string(a.action()) + ")");
  }
  Status time = CheckTime("access", "occurredAt", a.has_occurred_at(), a.occurred_at());
  if (!time.ok()) return time;
  if (!std::isfinite(a.lat()) || a.lat() < -90 || a.lat() > 90) {
    return Status::Error("access: field 'lat' is out of range [-90, 90]: " +
                         std::to_string(a.lat()));
  }
  if (!std::isfinite(a.lon()) || a.lon() < -180 || a.lon() > 180) {
    return Status::Error("access: field 'lon' is out of range [-180, 180]: " +
                         std::to_string(a.lon()));
  }
  return Status::Ok();
}

Status ValidateComplaint(const v1::Complaint& c) {
  if (c.event_id().empty()) return Missing("complaint", "eventId");
  if (c.complaint_id().empty()) return Missing("complaint", "complaintId");
  if (c.officer_id().empty()) return Missing("complaint", "officerId");
  if (c.complainant_id().empty()) return Missing("complaint", "complainantId");
  if (c.category() == v1::Complaint::CATEGORY_UNSPECIFIED ||
      !v1::Complaint::Category_IsValid(c.category())) {
    return Status::Error("complaint: field 'category' has no valid value (" +
                         std::to_string(c.category()) + ")");
  }
  return CheckTime("complaint", "receivedAt", c.has_received_at(), c.received_at());
}

// -0 degrees is 0 degrees: keep one form, so an event decoded from Kafka and from a file (whose
// JSON parser reads "-0" as 0 but "-0.0" as -0) is the same message.
void Canonicalize(v1::Envelope& event) {
  if (!event.has_access()) return;
  v1::AccessEvent& a = *event.mutable_access();
  if (a.lat() == 0) a.set_lat(0);
  if (a.lon() == 0) a.set_lon(0);
}

}  // namespace

Status Validate(const v1::Envelope& event) {
  switch (event.event_case()) {
    case v1::Envelope::kRoster: return ValidateRoster(event.roster());
    case v1::Envelope::kAccess: return ValidateAccess(event.access());
    case v1::Envelope::kComplaint: return ValidateComplaint(event.complaint());
    default:
      return Status::Error("event has none of 'roster', 'access', 'complaint'");
  }
}

Result<v1::Envelope> ParseEventJson(std::string_view line) {
  v1::Envelope event;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), &event, options);
  if (!status.ok()) return Status::Error(std::string(status.message()));
  Status valid = Validate(event);
  if (!valid.ok()) return valid;
  Canonicalize(event);
  return event;
}

namespace {

Status ParseMessage(google::protobuf::Message& message, std::string_view bytes) {
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Error("not a valid protobuf " + message.GetTypeName() +
                         " (malformed or truncated bytes, or a string that is not UTF-8)");
  }
  return Status::Ok();
}

// Fields the schema does not know are refused, as the JSON decoder refuses them: they are most
// likely a record of another type (a RosterChange's fields 1-6 read as a valid Complaint; only
// its fields 7 and 8 give it away).
Status RefuseUnknownFields(std::initializer_list<const google::protobuf::Message*> parts) {
  for (const google::protobuf::Message* part : parts) {
    const auto& unknown = part->GetReflection()->GetUnknownFields(*part);
    if (!unknown.empty()) {
      return Status::Error("unknown field number " + std::to_string(unknown.field(0).number()) +
                           " in " + part->GetTypeName() + " (a record of another type?)");
    }
  }
  return Status::Ok();
}

Status ParseAs(Stream stream, std::string_view bytes, v1::Envelope& event) {
  switch (stream) {
    case Stream::kRoster: {
      v1::RosterChange& r = *event.mutable_roster();
      Status parsed = ParseMessage(r, bytes);
      if (!parsed.ok()) return parsed;
      return RefuseUnknownFields({&r, &r.start(), &r.end(), &r.changed_at()});
    }
    case Stream::kAccess: {
      v1::AccessEvent& a = *event.mutable_access();
      Status parsed = ParseMessage(a, bytes);
      if (!parsed.ok()) return parsed;
      return RefuseUnknownFields({&a, &a.occurred_at()});
    }
    case Stream::kComplaint: {
      v1::Complaint& c = *event.mutable_complaint();
      Status parsed = ParseMessage(c, bytes);
      if (!parsed.ok()) return parsed;
      return RefuseUnknownFields({&c, &c.received_at()});
    }
  }
  return Status::Error("unknown stream");
}

}  // namespace

Result<v1::Envelope> DecodeEvent(Stream stream, std::string_view bytes) {
  // Kafka allows an empty value; say so rather than only naming the first missing field.
  const std::string empty_note = bytes.empty() ? "empty record: " : "";
  v1::Envelope event;
  Status parsed = ParseAs(stream, bytes, event);
  if (!parsed.ok()) return parsed;
  Status valid = Validate(event);
  if (!valid.ok()) return Status::Error(empty_note + valid.message());
  Canonicalize(event);
  return event;
}

std::string EncodeEvent(const v1::Envelope& event) {
  switch (StreamOf(event)) {
    case Stream::kRoster: return event.roster().SerializeAsString();
    case Stream::kAccess: return event.access().SerializeAsString();
    case Stream::kComplaint: return event.complaint().SerializeAsString();
  }
  return {};
}

std::string ToJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.add_whitespace = false;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) throw FatalError("cannot print message as JSON: " + std::string(status.message()));
  return out;
}

}  // namespace vigil
