// The interface between the new core (engine/runtime/core.h) and a detection rule.
//
// A Rule is immutable once built (its configuration only). Everything it remembers is one state
// object per officer (its RuleState), reached through RuleContext, which also gives it timers, the
// officer's effective roster and a way to emit alerts. So a rule runs unchanged on an in-memory
// core in unit tests, in `vigil replay` and in `vigil run`; it never sees Kafka, RocksDB or the
// wall clock.
//
// Delivery guarantees the core gives every rule:
//  - OnEvent is called once per distinct event of a stream the rule asks for (streams()),
//    duplicates removed and too-late events diverted, in event-time order (ties by event_id, then
//    stream) once the watermark has passed the event's time. An event that arrives after that,
//    within allowed lateness, is delivered on arrival.
//  - A roster event is added to the officer's roster() before any rule sees it.
//  - OnTimer(at, tag) is called once the watermark passes `at`, in time order, after every event
//    with time <= at that was delivered in order. Setting the same (at, tag) twice fires it once.
//  - Passed(at) says exactly whether a timer at `at` set before the watermark's last advance
//    has fired before the call under way (see RuleContext::Passed).
//  - Both run with the state of the event's officer only; a rule never sees another officer's.
//  - The state object stays valid during one call only (the core may move a cold officer's state
//    to RocksDB between calls). A rule that leaves its state empty() has it freed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alert.pb.h"
#include "time/event_time.h"
#include "rules.pb.h"
#include "rules_config.h"
#include "rulekit/officer_roster.h"
#include "rulekit/ref.h"
#include "runtime/event_view.h"
#include "runtime/rule_info.h"

namespace vigil {

// What an alert says before the core turns it into a v1::Alert (BuildRuleAlert): the same
// deterministic alert_id as the old core had, evidence capped at 50 in the alert.
struct RuleAlert {
  std::string rule_id;
  v1::Alert::Kind kind = v1::Alert::MISCONDUCT;
  v1::Alert::Severity severity = v1::Alert::MEDIUM;
  std::string officer_id;
  std::string subject_id;
  Millis window_start = 0;
  Millis window_end = 0;
  std::string summary;
  std::vector<Ref> evidence;  // every causing event; the alert lists the first 50
  double score = 0;
};

// An alert of the rule `info` about `officer_id` at `severity`: the fields every rule sets alike.
inline RuleAlert NewAlert(const RuleInfo& info, v1::Alert::Severity severity,
                          std::string_view officer_id) {
  RuleAlert alert;
  alert.rule_id = info.rule_id;
  alert.kind = info.kind;
  alert.severity = severity;
  alert.officer_id = std::string(officer_id);
  return alert;
}

// For rules that count events: window from the first to the last counted event, every counted
// event as evidence, the count as score.
void SetCounted(RuleAlert& alert, const std::vector<Ref>& counted);

// One rule's memory of one officer. Encode/Decode give its durable form (engine/state/byte_codec.h);
// Decode(Encode(x)) must equal x in every way a decision can observe.
class RuleState {
 public:
  virtual ~RuleState() = default;
  virtual void Encode(std::string& out) const = 0;
  virtual bool Decode(std::string_view bytes) = 0;
  // Nothing left to remember: the core frees the object and deletes its record.
  virtual bool empty() const = 0;
  // Heap bytes held (approximately), charged to the memory budget.
  virtual size_t MemoryBytes() const = 0;
};

class RuleContext {
 public:
  virtual ~RuleContext() = default;
  virtual std::string_view officer_id() const = 0;
  // This rule's state of this officer, or nullptr if it has none. Reading does not mark it changed.
  template <typename T>
  const T* Find() {
    return static_cast<const T*>(FindState());
  }
  // The same, to change (created empty if absent): it is written at the next checkpoint.
  template <typename T>
  T& Mutable() {
    return static_cast<T&>(MutableState());
  }
  // Calls OnTimer(at, tag) once the watermark passes `at` (at once if it already has).
  virtual void SetTimer(Millis at, uint32_t tag = 0) = 0;
  // A timer whose only job is to forget state no decision can need any more. The core may fire it
  // up to an hour after `at` (so that many share one instant), and does not fire it at the end of
  // a bounded run, where forgetting is wasted work; it stays scheduled in the state.
  virtual void ScheduleCleanup(Millis at, uint32_t tag = 0) = 0;
  virtual void Emit(RuleAlert alert) = 0;
  virtual const OfficerRoster& roster() = 0;
  virtual Millis watermark() const = 0;
  // Whether a timer at `at` is overdue: the watermark had passed `at` when the core last advanced
  // it before this call, or `at` is before the time of the event (or timer) being delivered. A
  // timer at `at` set before that last advance has then fired before this call, and otherwise
  // has not; one set since fires before this call iff `at` is before the time being delivered
  // (an overdue timer set now fires after it). watermark() alone cannot tell: an event delivered
  // late comes after timers the watermark passed in earlier advances, but before timers between
  // its time and the watermark set in this one. Survives restarts (kept with the state). The
  // default is right only for a context that delivers everything in order with watermark() at
  // the time being delivered (as the unit tests' contexts do); the core's gives the exact answer.
  virtual bool Passed(Millis at) const { return at < watermark(); }
  virtual const TimeSettings& time() const = 0;

 protected:
  virtual const RuleState* FindState() = 0;
  virtual RuleState& MutableState() = 0;
};

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const RuleInfo& info() const = 0;
  // Bit (1 << int(Stream)) for each stream whose events OnEvent wants.
  virtual uint32_t streams() const = 0;
  virtual std::unique_ptr<RuleState> NewState() const = 0;
  virtual void OnEvent(const EventView& event, RuleContext& ctx) const = 0;
  virtual void OnTimer(Millis /*at*/, uint32_t /*tag*/, RuleContext& /*ctx*/) const {}
};

constexpr uint32_t StreamBit(Stream s) { return 1u << static_cast<int>(s); }

// A rule's entry in the catalogue (operators/registry.h): one per rule file.
struct RuleDescriptor {
  const char* rule_id;
  v1::Alert::Kind kind;
  // Whether `config` (complete: see LoadRulesConfig) enables the rule.
  bool (*enabled)(const v1::RulesConfig& config);
  std::unique_ptr<Rule> (*make)(const v1::RulesConfig& config);
};

}  // namespace vigil
