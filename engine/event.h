// Decoding and validating input events, and the few facts every part of the engine needs about
// one (its stream, time, id and officer). Bad input is reported as a Status naming the field.
#pragma once

#include <string>
#include <string_view>

#include "events.pb.h"
#include "state.pb.h"
#include "status.h"
#include "time/event_time.h"

namespace vigil {

enum class Stream { kRoster = 0, kAccess = 1, kComplaint = 2 };
constexpr int kStreamCount = 3;

// Topic names (contract defaults; every name configurable).
struct Topics {
  std::string roster = "vigil.roster";
  std::string access = "vigil.access";
  std::string complaints = "vigil.complaints";
  std::string alerts = "vigil.alerts";
  // Alerts of `vigil run --shadow-rules`: a second rule set on the same input, never on `alerts`.
  std::string alerts_shadow = "vigil.alerts.shadow";
  std::string dlq = "vigil.dlq";
  std::string audit = "vigil.audit";  // who viewed which alerts through Vigil
  std::string reviews = "vigil.reviews";  // review decisions, compacted, keyed by alert id

  const std::string& For(Stream stream) const;
};

Stream StreamOf(const v1::Envelope& event);
Millis EventTime(const v1::Envelope& event);
const std::string& EventId(const v1::Envelope& event);
const std::string& OfficerId(const v1::Envelope& event);

// A SEARCH or RECORD_VIEW of a named subject (the only accesses rules 2 and 3 consider).
bool IsSubjectLookup(const v1::AccessEvent& access);

// Checks what protobuf cannot: required fields, enum values, coordinates, shift bounds.
Status Validate(const v1::Envelope& event);

// One NDJSON line (proto3 JSON of Envelope), parsed and validated.
Result<v1::Envelope> ParseEventJson(std::string_view line);
// The protobuf bytes of one Kafka record of `stream`'s topic, parsed and validated.
Result<v1::Envelope> DecodeEvent(Stream stream, std::string_view bytes);
// The record value for `event` on its topic (the inner message, not the envelope).
std::string EncodeEvent(const v1::Envelope& event);

// Proto3 JSON of any message, one line, default values included.
std::string ToJsonLine(const google::protobuf::Message& message);

}  // namespace vigil
