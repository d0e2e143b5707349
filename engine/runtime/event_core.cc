#include "runtime/event_core.h"

#include <utility>

namespace vigil {

EventCore::EventCore(std::unique_ptr<Core> core) : core_(std::move(core)) {}

Status EventCore::IngestRecord(Stream stream, SourcePartition source, uint32_t scope,
                               const RecordOrigin& origin) {
  Status decoded = DecodeEventView(stream, origin.value, &view_);
  if (!decoded.ok()) return decoded;
  view_.partition = origin.partition;
  view_.offset = origin.offset;
  core_->Ingest(view_, origin.value, source, scope, origin);
  return Status::Ok();
}

void EventCore::IngestEvent(const v1::Envelope& event, SourcePartition source, uint32_t scope,
                            const RecordOrigin& origin) {
  // Files are small next to Kafka topics: encoding the parsed line keeps one decoder.
  const Stream stream = StreamOf(event);
  encoded_ = EncodeEvent(event);
  Status decoded = DecodeEventView(stream, encoded_, &view_);
  if (!decoded.ok()) throw FatalError("a validated event does not decode: " + decoded.message());
  view_.partition = origin.partition < 0 ? -1 : origin.partition;
  view_.offset = origin.partition < 0 ? -1 : origin.offset;
  core_->Ingest(view_, encoded_, source, scope, origin);
}

}  // namespace vigil
