// EventView: one input event decoded once, in place, with no allocation: the form every rule of the
// new core reads. Strings are views into the bytes it was decoded from; whoever holds the view
// keeps those bytes alive (the core's hold copies a record's bytes into its own arena first).
//
// Field names are the contract's (../shared/CONTRACT.md, "Events"); enum fields hold the protobuf
// enum values (v1::RosterChange::Status, v1::AccessEvent::Action, v1::Complaint::Category).
#pragma once

#include <cstdint>
#include <string_view>

#include "event.h"
#include "time/event_time.h"
#include "status.h"

namespace vigil {

struct EventView {
  Stream stream = Stream::kAccess;
  Millis time = 0;  // the event time: changed_at, occurred_at or received_at
  std::string_view event_id;
  std::string_view officer_id;
  // RosterChange
  std::string_view unit, shift_id;
  int32_t status = 0;
  Millis start = 0, end = 0;
  // AccessEvent
  std::string_view system, subject_id, case_ref, site_id;
  int32_t action = 0;
  double lat = 0, lon = 0;
  // Complaint
  std::string_view complaint_id, complainant_id;
  int32_t category = 0;
  // Where it was read: -1 when not read from Kafka.
  int32_t partition = -1;
  int64_t offset = -1;
  // The bytes DecodeEventView decoded it from (every string above views into them); empty for a
  // view built otherwise. The hold trusts it (it skips checking where each view points), so code
  // that points a string of a decoded view elsewhere must clear it.
  std::string_view source;

  bool is_roster() const { return stream == Stream::kRoster; }
  bool is_access() const { return stream == Stream::kAccess; }
  bool is_complaint() const { return stream == Stream::kComplaint; }
  // A SEARCH or RECORD_VIEW of a named subject (the only accesses rules 2 and 3 consider).
  bool IsSubjectLookup() const;
  // An access with a position (lat and lon not both 0).
  bool has_position() const { return lat != 0 || lon != 0; }
};

// Decodes the protobuf bytes of one record of `stream`'s topic (the inner message, as
// EncodeEvent writes it) into `out`, viewing into `bytes`, and validates it as Validate() does.
// On any problem the Status is exactly DecodeEvent()'s, so errors read the same on both paths.
Status DecodeEventView(Stream stream, std::string_view bytes, EventView* out);

}  // namespace vigil
