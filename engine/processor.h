// Processor: the event-time core of Vigil, shared by `replay`, `run` and `demo`.
//
// For each input event it (1) sends events older than their partition's watermark minus allowed
// lateness to the dead-letter list with reason "too_late", (2) drops duplicates by event_id,
// (3) holds the event until the engine watermark passes it, then (4) delivers events and timers to
// the operators in event-time order, partition by partition. Every key it writes starts with the
// input partition number (the "scope"), so a partition's state can move between instances.
//
// Lifecycle: construct over an open StateStore; Ingest() events; call Advance() after each event
// or batch; Finish() at the end of a bounded run; Take*() to collect outputs. Single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "operator.h"
#include "rules_config.h"
#include "state_store.h"
#include "watermarks.h"

namespace vigil {

// A record that could not be used, for the dead-letter topic.
struct DeadLetter {
  std::string key;     // the original record key
  std::string value;   // the original bytes
  std::string reason;  // "too_late", or "invalid: <what is wrong>"
  std::string source;  // "topic/partition/offset" (or "file:line")
};

struct ProcessorMetrics {
  std::array<uint64_t, kStreamCount> events_in{};  // accepted, by stream
  uint64_t duplicates = 0;
  uint64_t too_late = 0;
  uint64_t late_accepted = 0;  // behind the watermark but within allowed lateness
  uint64_t invalid = 0;
  uint64_t alerts = 0;
  std::map<std::string, uint64_t> alerts_by_rule;
  uint64_t events_total() const { return events_in[0] + events_in[1] + events_in[2]; }
};

class Processor {
 public:
  Processor(StateStore& store, const v1::RulesConfig& config,
            std::vector<std::unique_ptr<Operator>> operators);
  ~Processor();

  Watermarks& watermarks() { return watermarks_; }
  const TimeSettings& time() const { return time_; }
  const ProcessorMetrics& metrics() const { return metrics_; }
  const std::vector<std::unique_ptr<Operator>>& operators() const { return operators_; }

  // The original record an event was decoded from, kept only if it goes to the dead-letter topic.
  struct RawRecord {
    std::string_view key;
    std::string_view value;
    std::string position;  // "topic/partition/offset" or "file:line"
  };
  // Takes one valid event read from `source` (scope: its partition number). The event is moved
  // into the engine's hold (`raw` may view into it); the const overload copies it first.
  void Ingest(v1::Envelope&& event, state::EventRef&& ref, SourcePartition source, uint32_t scope,
              const RawRecord& raw);
  void Ingest(const v1::Envelope& event, const state::EventRef& ref, SourcePartition source,
              uint32_t scope, const RawRecord& raw) {
    Ingest(v1::Envelope(event), state::EventRef(ref), source, scope, raw);
  }
  // Counts a record that could not be decoded and queues it for the dead-letter topic.
  void RejectInvalid(DeadLetter letter);
  // Delivers every held event and timer that the engine watermark has passed.
  void Advance();
  // End of a bounded run: the watermark goes to +infinity and every pending window closes.
  void Finish();

  std::vector<v1::Alert> TakeAlerts();
  std::vector<DeadLetter> TakeDeadLetters();

  // Per-partition progress kept in the checkpoint: next offset and highest event time.
  void SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset);
  std::optional<int64_t> LoadProgress(SourcePartition source, uint32_t scope);
  // Before each checkpoint: writes the duplicate-detection records gathered since the last one and
  // forgets those no acceptable event can need any more.
  void PrepareCheckpoint();

 private:
  class Context;
  struct ScopeIndex {
    // Held events and timers live here; the store gets those still live at a checkpoint
    // (WriteHeld), so that most never reach it. `stored`: the store has the key.
    struct HeldEvent {
      state::StoredEvent event;
      bool stored = false;
    };
    struct Timer {
      std::string payload;
      bool stored = false;  // under its own key (cleanup timers are stored by group)
      bool unsaved = true;  // set or changed since the last checkpoint
    };
    std::map<std::string, HeldEvent> pending;  // keys relative to the "pending" namespace
    std::map<std::string, Timer> timers;       // keys relative to the "timers" namespace
    // Cleanup timers are stored by group, [at][owner]'\0' (see TimerGroup), in append-only
    // records: a checkpoint writes only the timers a group gained since the last one (a group
    // of a busy hour holds one timer per officer); a group that lost timers is rewritten whole.
    std::map<std::string, std::vector<std::string>> group_records;  // group -> its record keys
    std::map<std::string, std::string> group_additions;  // group -> timers added, encoded
    std::set<std::string> rewrite_groups;                // groups that lost timers
    uint32_t next_group_record = 0;                      // sequence number of the next record
    std::vector<std::string> unsaved_timers;  // decision timers set since the last checkpoint
    RosterCache roster_cache;
    std::unordered_set<std::string> seen;  // stream byte + event_id, within allowed lateness
    // Ids seen per bucket (stream byte + hour of event time), persisted in append-only records
    // (a checkpoint writes only the ids seen since the last one); `unsaved` lists the buckets
    // that gained ids since the last checkpoint.
    struct SeenBucket {
      std::string ids;                   // each followed by '\0'
      size_t saved = 0;                  // bytes of `ids` in records
      std::vector<std::string> records;  // their keys
    };
    std::map<std::string, SeenBucket> seen_buckets;
    std::set<std::string> unsaved;
    uint32_t next_seen_record = 0;  // sequence number of the next record
    std::vector<std::unique_ptr<OperatorContext>> contexts;  // one per operator, built once
    // The input partition each stream of this scope is read from: a duplicate of an event can
    // only arrive on the partition the event came from, so its watermark decides expiry.
    std::array<std::optional<SourcePartition>, kStreamCount> sources;
    std::unique_ptr<KeySpace> pending_space;  // the engine's own key spaces of this partition
    std::unique_ptr<KeySpace> timers_space;
  };
  OperatorContext& ContextFor(uint32_t scope, size_t operator_index);
  EffectiveRoster RosterOf(uint32_t scope);

  ScopeIndex& IndexFor(uint32_t scope);
  // Writes the held events and timers not yet in the store (StateStore's before-checkpoint hook).
  void WriteHeld(CheckpointWrites& writes);
  // Adds the cleanup-timer records changed since the last checkpoint to `writes`.
  void WriteCleanupGroups(ScopeIndex& index, CheckpointWrites& writes);
  // Notes a new cleanup timer for its group's next record.
  static void AddCleanupTimerToGroup(ScopeIndex& index, std::string_view timer_key);
  // Adds the timer(s) of one record of the "timers" namespace to the index.
  void LoadTimers(ScopeIndex& index, std::string_view key, std::string_view value);
  void Drain(uint32_t scope, Millis watermark);
  void DeliverEvent(uint32_t scope, ScopeIndex& index);
  void FireTimer(uint32_t scope, ScopeIndex& index);
  void SetTimer(uint32_t scope, const std::string& owner, Millis at, std::string_view key,
                std::string_view payload, bool cleanup = false);
  void Emit(v1::Alert alert);
  bool SeenBefore(uint32_t scope, const v1::Envelope& event);

  StateStore& store_;
  TimeSettings time_;
  std::vector<std::unique_ptr<Operator>> operators_;
  std::map<std::string, std::pair<const Operator*, size_t>, std::less<>> by_rule_id_;
  Watermarks watermarks_;
  bool finishing_ = false;  // Finish(): cleanup timers are left alone
  std::vector<std::pair<uint32_t, std::string>> finishing_cleanups_;  // set during Finish()
  std::map<uint32_t, ScopeIndex> scopes_;
  std::string timer_key_;  // SetTimer's key buffer
  std::vector<v1::Alert> alerts_;
  std::vector<DeadLetter> dead_letters_;
  ProcessorMetrics metrics_;
};

// Namespaced key prefix inside a scope: [scope:4 bytes] name '\0'.
std::string ScopePrefix(uint32_t scope, std::string_view name);

}  // namespace vigil
