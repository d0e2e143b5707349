// EventCore: what `replay`, `run`, `diff` and the benches need of an event-time core, so that they
// drive the old Processor and the new Core (engine/runtime/core.h) the same way while issue 11
// moves Vigil from one to the other. The new core is the default; `VIGIL_CORE=old` in the
// environment selects the old one (MakePipeline); the differential tests run both on the same input.
//
// Each input record is decoded here, once, in the form its core wants. Lifecycle and threading as
// Processor's / Core's: single-threaded; Ingest*, then Advance(); PrepareCheckpoint() before the
// store's Checkpoint(); Finish() at the end of a bounded run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alert.pb.h"
#include "event.h"
#include "events.pb.h"
#include "processor.h"
#include "runtime/core.h"
#include "watermarks.h"

namespace vigil {

class EventCore {
 public:
  virtual ~EventCore() = default;
  virtual Watermarks& watermarks() = 0;
  virtual const TimeSettings& time() const = 0;
  virtual const ProcessorMetrics& metrics() const = 0;

  // Decodes the record origin.value of `stream`'s topic and takes the event. A record that cannot
  // be decoded is not taken: its error is returned for the caller to report and RejectInvalid().
  virtual Status IngestRecord(Stream stream, SourcePartition source, uint32_t scope,
                              const RecordOrigin& origin) = 0;
  // Takes an event already parsed and validated: a line of an event file (origin.partition -1:
  // its evidence cites the stream's topic, with no partition or offset) or a Kafka record.
  virtual void IngestEvent(const v1::Envelope& event, SourcePartition source, uint32_t scope,
                           const RecordOrigin& origin) = 0;
  virtual void RejectInvalid(DeadLetter letter) = 0;
  virtual void Advance() = 0;
  virtual void Finish() = 0;
  virtual std::vector<v1::Alert> TakeAlerts() = 0;
  virtual std::vector<DeadLetter> TakeDeadLetters() = 0;
  virtual void SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset) = 0;
  virtual std::optional<int64_t> LoadProgress(SourcePartition source, uint32_t scope) = 0;
  // Before each checkpoint of the store: `snapshot` writes the core's state with it; otherwise the
  // new core writes nothing (the old one cannot hold its state back and writes it every time).
  virtual void PrepareCheckpoint(bool snapshot = true) = 0;
  // Whether PrepareCheckpoint(false) holds the state back (the new core).
  virtual bool snapshots_apart() const = 0;
};

// The old core behind EventCore (deleted with it).
std::unique_ptr<EventCore> WrapProcessor(std::unique_ptr<Processor> processor, Topics topics);
// The new core behind EventCore.
std::unique_ptr<EventCore> WrapCore(std::unique_ptr<Core> core, Topics topics);

}  // namespace vigil
