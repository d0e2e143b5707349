#include "runtime/event_core.h"

#include <utility>

namespace vigil {
namespace {

class ProcessorCore final : public EventCore {
 public:
  ProcessorCore(std::unique_ptr<Processor> processor, Topics topics)
      : processor_(std::move(processor)), topics_(std::move(topics)) {}

  Watermarks& watermarks() override { return processor_->watermarks(); }
  const TimeSettings& time() const override { return processor_->time(); }
  const ProcessorMetrics& metrics() const override { return processor_->metrics(); }

  Status IngestRecord(Stream stream, SourcePartition source, uint32_t scope,
                      const RecordOrigin& origin) override {
    Result<v1::Envelope> event = DecodeEvent(stream, origin.value);
    if (!event.ok()) return event.status();
    state::EventRef ref = MakeRef(*event, std::string(origin.topic), origin.partition, origin.offset);
    processor_->Ingest(std::move(*event), std::move(ref), source, scope,
                       {origin.key, origin.value, origin.Position()});
    return Status::Ok();
  }
  void IngestEvent(const v1::Envelope& event, SourcePartition source, uint32_t scope,
                   const RecordOrigin& origin) override {
    // A file's events cite their stream's topic, with no partition or offset.
    state::EventRef ref =
        origin.partition < 0 ? MakeRef(event, topics_.For(StreamOf(event)), -1, -1)
                             : MakeRef(event, std::string(origin.topic), origin.partition, origin.offset);
    processor_->Ingest(event, ref, source, scope, {origin.key, origin.value, origin.Position()});
  }
  void RejectInvalid(DeadLetter letter) override { processor_->RejectInvalid(std::move(letter)); }
  void Advance() override { processor_->Advance(); }
  void Finish() override { processor_->Finish(); }
  std::vector<v1::Alert> TakeAlerts() override { return processor_->TakeAlerts(); }
  std::vector<DeadLetter> TakeDeadLetters() override { return processor_->TakeDeadLetters(); }
  void SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset) override {
    processor_->SaveProgress(source, scope, next_offset);
  }
  std::optional<int64_t> LoadProgress(SourcePartition source, uint32_t scope) override {
    return processor_->LoadProgress(source, scope);
  }
  void PrepareCheckpoint(bool) override { processor_->PrepareCheckpoint(); }
  bool snapshots_apart() const override { return false; }

 private:
  std::unique_ptr<Processor> processor_;
  Topics topics_;
};

class NextCore final : public EventCore {
 public:
  NextCore(std::unique_ptr<Core> core, Topics topics)
      : core_(std::move(core)), topics_(std::move(topics)) {}

  Watermarks& watermarks() override { return core_->watermarks(); }
  const TimeSettings& time() const override { return core_->time(); }
  const ProcessorMetrics& metrics() const override { return core_->metrics(); }

  Status IngestRecord(Stream stream, SourcePartition source, uint32_t scope,
                      const RecordOrigin& origin) override {
    Status decoded = DecodeEventView(stream, origin.value, &view_);
    if (!decoded.ok()) return decoded;
    view_.partition = origin.partition;
    view_.offset = origin.offset;
    core_->Ingest(view_, origin.value, source, scope, origin);
    return Status::Ok();
  }
  void IngestEvent(const v1::Envelope& event, SourcePartition source, uint32_t scope,
                   const RecordOrigin& origin) override {
    // Files are small next to Kafka topics: encoding the parsed line keeps one decoder.
    const Stream stream = StreamOf(event);
    encoded_ = EncodeEvent(event);
    Status decoded = DecodeEventView(stream, encoded_, &view_);
    if (!decoded.ok()) throw FatalError("a validated event does not decode: " + decoded.message());
    view_.partition = origin.partition < 0 ? -1 : origin.partition;
    view_.offset = origin.partition < 0 ? -1 : origin.offset;
    core_->Ingest(view_, encoded_, source, scope, origin);
  }
  void RejectInvalid(DeadLetter letter) override { core_->RejectInvalid(std::move(letter)); }
  void Advance() override { core_->Advance(); }
  void Finish() override { core_->Finish(); }
  std::vector<v1::Alert> TakeAlerts() override { return core_->TakeAlerts(); }
  std::vector<DeadLetter> TakeDeadLetters() override { return core_->TakeDeadLetters(); }
  void SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset) override {
    core_->SaveProgress(source, scope, next_offset);
  }
  std::optional<int64_t> LoadProgress(SourcePartition source, uint32_t scope) override {
    return core_->LoadProgress(source, scope);
  }
  void PrepareCheckpoint(bool snapshot) override { core_->PrepareCheckpoint(snapshot); }
  bool snapshots_apart() const override { return true; }

 private:
  std::unique_ptr<Core> core_;
  Topics topics_;
  EventView view_;       // reused: decoding allocates nothing
  std::string encoded_;  // reused by IngestEvent
};

}  // namespace

std::unique_ptr<EventCore> WrapProcessor(std::unique_ptr<Processor> processor, Topics topics) {
  return std::make_unique<ProcessorCore>(std::move(processor), std::move(topics));
}

std::unique_ptr<EventCore> WrapCore(std::unique_ptr<Core> core, Topics topics) {
  return std::make_unique<NextCore>(std::move(core), std::move(topics));
}

}  // namespace vigil
