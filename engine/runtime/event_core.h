// EventCore: the Core (engine/runtime/core.h) as `replay`, `run`, `diff` and the benches drive it,
// with each input record decoded here, once, into the EventView the core reads: a Kafka record
// from its bytes, a line of an event file from the parsed event.
//
// Lifecycle and threading as Core's: single-threaded; Ingest*, then Advance(); PrepareCheckpoint()
// before the store's Checkpoint(); Finish() at the end of a bounded run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "events.pb.h"
#include "runtime/core.h"
#include "runtime/outputs.h"
#include "time/watermarks.h"

namespace vigil {

class EventCore {
 public:
  explicit EventCore(std::unique_ptr<Core> core);

  Watermarks& watermarks() { return core_->watermarks(); }
  const TimeSettings& time() const { return core_->time(); }
  const ProcessorMetrics& metrics() const { return core_->metrics(); }

  // Decodes the record origin.value of `stream`'s topic and takes the event. A record that cannot
  // be decoded is not taken: its error is returned for the caller to report and RejectInvalid().
  Status IngestRecord(Stream stream, SourcePartition source, uint32_t scope,
                      const RecordOrigin& origin);
  // Takes an event already parsed and validated: a line of an event file (origin.partition -1:
  // its evidence cites the stream's topic, with no partition or offset) or a Kafka record.
  void IngestEvent(const v1::Envelope& event, SourcePartition source, uint32_t scope,
                   const RecordOrigin& origin);
  void RejectInvalid(DeadLetter letter) { core_->RejectInvalid(std::move(letter)); }
  void Advance() { core_->Advance(); }
  void Finish() { core_->Finish(); }
  std::vector<v1::Alert> TakeAlerts() { return core_->TakeAlerts(); }
  std::vector<DeadLetter> TakeDeadLetters() { return core_->TakeDeadLetters(); }
  void SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset) {
    core_->SaveProgress(source, scope, next_offset);
  }
  std::optional<int64_t> LoadProgress(SourcePartition source, uint32_t scope) {
    return core_->LoadProgress(source, scope);
  }
  void SetScopeOwned(uint32_t scope, bool owned) { core_->SetScopeOwned(scope, owned); }
  // Before each checkpoint of the store: `snapshot` writes the core's state with it (Core's
  // PrepareCheckpoint).
  void PrepareCheckpoint(bool snapshot = true) { core_->PrepareCheckpoint(snapshot); }
  // Whether the memory budget needs the next checkpoint to be a snapshot (Core's SnapshotWanted).
  bool SnapshotWanted() const { return core_->SnapshotWanted(); }
  // Idle-time work ahead of a snapshot (Core's StageSnapshot).
  bool StageSnapshot(size_t max_records) { return core_->StageSnapshot(max_records); }
  // What the core holds in memory, as its budget counts it (Core's MemoryBytes).
  size_t MemoryBytes() const { return core_->MemoryBytes(); }

 private:
  std::unique_ptr<Core> core_;
  EventView view_;       // reused: decoding allocates nothing
  std::string encoded_;  // reused by IngestEvent
};

}  // namespace vigil
