// The interface between the engine and a detection rule.
//
// An Operator is immutable once built (its configuration only); everything it remembers lives in
// the state it reaches through OperatorContext, so the same operator runs on an in-memory store in
// unit tests and on RocksDB in `vigil run`. Operators never see Kafka, RocksDB or the wall clock.
//
// Delivery guarantees the engine gives every operator:
//  - OnEvent is called once per distinct event (duplicates removed, too-late events diverted),
//    in event-time order (ties by event_id) once the watermark has passed the event's time.
//    An event that arrives after that, within allowed lateness, is delivered on arrival.
//  - OnTimer(at, ...) is called once the watermark passes `at`, in time order, after every event
//    with time <= at that was delivered in order.
//  - Both run with the state of the event's input partition; an operator never sees another
//    partition's keys.
#pragma once

#include <string>
#include <string_view>

#include "alert.pb.h"
#include "effective_roster.h"
#include "rules_config.h"
#include "state.pb.h"
#include "state_store.h"
#include "event_time.h"
#include "runtime/rule_info.h"

namespace vigil {

class OperatorContext {
 public:
  virtual ~OperatorContext() = default;
  // This operator's keys in the current input partition.
  virtual KeySpace& state() = 0;
  // Calls OnTimer(at, key, payload) once the watermark passes `at` (at once if it already has).
  // Setting the same (at, key) again replaces the payload.
  virtual void SetTimer(Millis at, std::string_view key, std::string_view payload = {}) = 0;
  // A timer whose only job is to forget state no decision can need any more. The engine may fire
  // it up to an hour after `at` (so that many share one timer), and does not fire it at the end
  // of a bounded run, where forgetting is wasted work; it stays scheduled in the state.
  virtual void ScheduleCleanup(Millis at, std::string_view key) = 0;
  virtual void Emit(v1::Alert alert) = 0;
  virtual const EffectiveRoster& roster() = 0;
  virtual Millis watermark() const = 0;
  virtual const TimeSettings& time() const = 0;
};

class Operator {
 public:
  virtual ~Operator() = default;
  virtual const RuleInfo& info() const = 0;
  virtual void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const = 0;
  virtual void OnTimer(Millis /*at*/, std::string_view /*key*/, std::string_view /*payload*/,
                       OperatorContext& /*ctx*/) const {}
};

}  // namespace vigil
