// Core: the new event-time core of Vigil (replaces Processor), shared by `replay`, `run` and `demo`.
//
// For each input event it (1) sends events older than their partition's watermark minus allowed
// lateness to the dead-letter list with reason "too_late", (2) drops duplicates by event_id
// (exactly: a fingerprint hit is verified against the id itself), (3) holds the event until the
// engine watermark passes it, then (4) delivers events and timers to the rules in event-time order
// (engine/runtime/rule.h gives the guarantees), partition by partition. Alerts and dead letters
// are the same, id for id, as the old Processor's on the same input.
//
// State model: everything rules remember about an officer is one record: the officer's roster,
// each rule's RuleState and the officer's pending timers. Officer ids are interned per input
// partition (the "scope"); records live in memory in decoded form and are written to the state
// store only at a checkpoint, and only those changed since the last one (StateStore's
// before-checkpoint hook), keyed [scope:4]"officer\0"officer_id, so a partition's state can move
// between instances. When the records in memory pass the memory budget, the coldest clean ones are
// dropped from memory and read back from the store on their next use.
//
// Lifecycle: construct over an open StateStore; Ingest() records; Advance() after each record or
// batch; PrepareCheckpoint() then the store's Checkpoint(); Finish() at the end of a bounded run;
// Take*() to collect outputs. Single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "runtime/outputs.h"
#include "rules.pb.h"
#include "rules_config.h"
#include "runtime/event_view.h"
#include "runtime/rule.h"
#include "state/state_store.h"
#include "time/watermarks.h"

namespace vigil {

struct CoreOptions {
  // Topic names for evidence (each Ref's stream names its topic in the alert).
  Topics topics;
  // Bytes of officer records kept in memory (0: no bound). Past it the coldest records that the
  // store already holds are dropped from memory; they are read back on use.
  size_t memory_budget_bytes = 0;
  // RulesVersion of the rules: set on every alert (v1::Alert.rules_version).
  std::string rules_version;
};

// Where a record came from, for the dead-letter topic: "topic/partition/offset", or "file:line"
// when partition is -1 (offset is then the line number).
struct RecordOrigin {
  std::string_view key;    // the original record key
  std::string_view value;  // the original bytes (for a file: the line)
  std::string_view topic;  // or the file name
  int32_t partition = -1;
  int64_t offset = -1;
  std::string Position() const;
};

class Core {
 public:
  Core(StateStore& store, const v1::RulesConfig& config, std::vector<std::unique_ptr<Rule>> rules,
       CoreOptions options = {});
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  Watermarks& watermarks();
  const TimeSettings& time() const;
  const ProcessorMetrics& metrics() const;
  const std::vector<std::unique_ptr<Rule>>& rules() const;

  // Takes one valid event read from `source` (scope: its partition number). `event` views into
  // `bytes`, which the core copies into its hold: the caller's buffer may go after the call.
  // `origin` is used only if the event goes to the dead-letter list (too late).
  void Ingest(const EventView& event, std::string_view bytes, SourcePartition source,
              uint32_t scope, const RecordOrigin& origin);
  // Counts a record that could not be decoded and queues it for the dead-letter topic.
  void RejectInvalid(DeadLetter letter);
  // Delivers every held event and timer that the engine watermark has passed.
  void Advance();
  // End of a bounded run: the watermark goes to +infinity and every pending decision is made
  // (cleanup timers are left scheduled, not fired).
  void Finish();

  std::vector<v1::Alert> TakeAlerts();
  std::vector<DeadLetter> TakeDeadLetters();

  // Per-partition progress kept in the checkpoint: next offset and highest event time.
  void SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset);
  std::optional<int64_t> LoadProgress(SourcePartition source, uint32_t scope);
  // Whether the engine processes `scope` now (all scopes do until told otherwise). A scope that is
  // not (its partition revoked, or refused for want of its history) is not drained: its held
  // events and timers wait, so that its state stays that of its saved progress, for whoever
  // resumes it, instead of going on with the other partitions' event time without its own events.
  void SetScopeOwned(uint32_t scope, bool owned);
  // Before each checkpoint of the store. A snapshot hands the state that changed since the last
  // snapshot (officer records, held events, duplicate ids) to the store's next batch; any other
  // checkpoint (outputs and offsets only, engine/live/CHECKPOINTS.md) hands nothing, so that what a
  // checkpoint costs does not grow with the event rate.
  void PrepareCheckpoint(bool snapshot = true);
  // Work for idle time ahead of a snapshot: encodes up to `max_records` of the records changed
  // since the last snapshot, so that the snapshot itself encodes only those changed again since
  // (a delivery to a staged record drops its encoding) and holds the processing thread that much
  // less. The snapshot writes the same bytes either way. Returns whether records are left to
  // stage. Staged encodings count in MemoryBytes().
  bool StageSnapshot(size_t max_records);

  // Memory held by officer records (staged encodings included), the hold, the
  // duplicate-detection ids and checkpoint batches still being written (approximate).
  size_t MemoryBytes() const;
  // Whether the records in memory are over the budget and only a snapshot can bring them under
  // it: the records that could leave have changed since the last one (a record leaves memory only
  // once the store holds it as it is). Drivers then make their next checkpoint a snapshot,
  // whatever its interval; cleared when a snapshot's batch is built (the store's Checkpoint after
  // PrepareCheckpoint(true)).
  bool SnapshotWanted() const;
  // Records read back from the store after being dropped from memory (budget pressure).
  uint64_t records_reloaded() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Builds the v1::Alert of `alert` (alert_id as BuildAlert: rule, officer, subject and the sorted
// ids of every causing event), naming each evidence's topic from `topics`.
v1::Alert BuildRuleAlert(const RuleAlert& alert, const Topics& topics);

// The Ref of an event: its id, time, stream and where it was read.
Ref RefOf(const EventView& event);

}  // namespace vigil
