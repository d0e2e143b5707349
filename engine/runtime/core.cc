#include "runtime/core.h"

#include <algorithm>
#include <utility>

#include "rulekit/alert_builder.h"
#include "runtime/hold.h"
#include "runtime/officer_table.h"
#include "runtime/seen_ids.h"
#include "runtime/timer_queue.h"
#include "state.pb.h"
#include "state/byte_codec.h"

namespace vigil {
namespace {

constexpr char kHeld[] = "held";
constexpr char kOfficer[] = "officer";
constexpr char kSeenByTime[] = "seen-by-time";
constexpr char kProgress[] = "progress";
constexpr char kDrained[] = "drained";
constexpr uint64_t kRecordFormat = 1;
// Fixed bytes charged per officer record in memory besides its roster and rule states.
constexpr size_t kRecordOverhead = sizeof(OfficerRecord) + 64;
// Between checkpoints the budget is checked once in this many events, not at every Advance(): the
// check measures every changed record and sums the scopes, and what this many events can add (the
// hold's and the seen ids' bytes of a few thousand events, a few MiB) is well inside the slack the
// budget allows.
constexpr uint64_t kBudgetCheckEvents = 4096;
// After a clock pass that could not get under the budget (the records in memory are changed since
// the last snapshot: they cannot leave before it writes them), the next pass waits for that
// snapshot, or for this many reloads (clean records that may leave again).
constexpr uint64_t kReloadsBeforeRetry = 1024;

}  // namespace

std::string RecordOrigin::Position() const {
  if (partition < 0) return std::string(topic) + ":" + std::to_string(offset);
  return std::string(topic) + "/" + std::to_string(partition) + "/" + std::to_string(offset);
}

void SetCounted(RuleAlert& alert, const std::vector<Ref>& counted) {
  alert.window_start = counted.front().time;
  alert.window_end = counted.back().time;
  alert.evidence = counted;
  alert.score = static_cast<double>(counted.size());
}

Ref RefOf(const EventView& event) {
  Ref ref;
  ref.event_id.Assign(event.event_id);
  ref.time = event.time;
  ref.offset = event.offset;
  ref.partition = event.partition;
  ref.stream = static_cast<uint8_t>(event.stream);
  return ref;
}

v1::Alert BuildRuleAlert(const RuleAlert& spec, const Topics& topics) {
  std::vector<std::string_view> ids;
  ids.reserve(spec.evidence.size());
  size_t length = spec.rule_id.size() + spec.officer_id.size() + spec.subject_id.size() + 2;
  for (const Ref& e : spec.evidence) {
    ids.push_back(e.event_id.view());
    length += e.event_id.size() + 1;
  }
  std::sort(ids.begin(), ids.end());
  std::string identity;
  identity.reserve(length);
  identity.append(spec.rule_id).push_back('\n');
  identity.append(spec.officer_id).push_back('\n');
  identity.append(spec.subject_id);
  for (std::string_view id : ids) identity.append(1, '\n').append(id);

  v1::Alert alert;
  alert.set_alert_id(StableHash128(identity));
  alert.set_rule_id(spec.rule_id);
  alert.set_officer_id(spec.officer_id);
  alert.set_subject_id(spec.subject_id);
  alert.set_severity(spec.severity);
  alert.set_kind(spec.kind);
  *alert.mutable_window_start() = ToTimestamp(spec.window_start);
  *alert.mutable_window_end() = ToTimestamp(spec.window_end);
  alert.set_summary(spec.summary);
  alert.set_score(spec.score);
  const int n = std::min<int>(kMaxEvidence, static_cast<int>(spec.evidence.size()));
  for (int i = 0; i < n; ++i) {
    const Ref& ref = spec.evidence[i];
    auto* e = alert.add_evidence();
    e->set_event_id(std::string(ref.event_id.view()));
    e->set_topic(topics.For(static_cast<Stream>(ref.stream)));
    if (ref.partition >= 0) e->set_partition(ref.partition);
    if (ref.offset >= 0) e->set_offset(ref.offset);
  }
  return alert;
}

// One input partition's part of the core: its hold, duplicate ids, officer records and timers.
struct CoreScope {
  CoreScope(StateStore& store, uint32_t scope, size_t rules)
      : id(scope),
        officers(rules),
        officer_prefix(ScopePrefix(scope, kOfficer)),
        held_prefix(ScopePrefix(scope, kHeld)),
        seen_space(store, ScopePrefix(scope, kSeenByTime)) {}
  uint32_t id;
  Hold hold;
  SeenIds seen;
  OfficerTable officers;
  TimerQueue timers;
  std::vector<uint32_t> dirty;       // slots changed since the last checkpoint
  // Records of `dirty` encoded ahead of the next snapshot (StageSnapshot), by staged_at; an
  // entry emptied when its record was delivered to again. stage_cursor: how far into `dirty`
  // staging has gone.
  std::vector<std::string> staged;
  size_t stage_cursor = 0;
  std::vector<QueuedTimer> set_aside;  // cleanup timers during Finish()
  // The input partition each stream of this scope is read from (for the seen ids' expiry).
  std::array<std::optional<SourcePartition>, kStreamCount> sources;
  std::string officer_prefix, held_prefix;
  KeySpace seen_space;
  uint32_t clock_hand = 0;
  std::string key;  // buffer for officer keys
  // The greatest watermark a Drain of this scope ran to (RuleContext::Passed): every timer before
  // it has fired. drained_stored: the value in the store.
  Millis drained_to = kMinTime;
  Millis drained_stored = kMinTime;
  bool owned = true;  // Core::SetScopeOwned: false, not drained
};

class Core::Impl {
 public:
  Impl(StateStore& store, const v1::RulesConfig& config, std::vector<std::unique_ptr<Rule>> rules,
       CoreOptions options);
  ~Impl();

  void Ingest(const EventView& event, std::string_view bytes, SourcePartition source,
              uint32_t scope, const RecordOrigin& origin);
  void Advance();
  void Finish();
  void SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset);
  std::optional<int64_t> LoadProgress(SourcePartition source, uint32_t scope);
  void PrepareCheckpoint(bool snapshot);
  bool StageSnapshot(size_t max_records);
  size_t MemoryBytes() const;

  class Context;

  StateStore& store_;
  TimeSettings time_;
  std::vector<std::unique_ptr<Rule>> rules_;
  CoreOptions options_;
  Watermarks watermarks_;
  ProcessorMetrics metrics_;
  bool snapshot_due_ = true;  // whether the next checkpoint writes the state (PrepareCheckpoint)
  std::vector<v1::Alert> alerts_;
  std::vector<DeadLetter> dead_letters_;
  uint64_t records_reloaded_ = 0;
  std::array<std::vector<uint16_t>, kStreamCount> rules_by_stream_;
  std::map<uint32_t, std::unique_ptr<CoreScope>> scopes_;
  // Scopes by id for ids below kScopeIndex (partition numbers): found in one load per event.
  static constexpr uint32_t kScopeIndex = 4096;
  std::vector<CoreScope*> scope_index_;
  Millis watermark_ = kMinTime;  // the engine watermark of the Advance under way
  bool finishing_ = false;
  size_t officer_memory_ = 0;  // sum of the records' measured memory
  size_t staged_bytes_ = 0;    // capacity of the scopes' staged encodings
  uint64_t events_since_check_ = 0;  // events taken since the budget was last checked
  bool evict_blocked_ = false;       // the last clock pass could not get under the budget
  // ... because records changed since the last snapshot held it over (Core::SnapshotWanted).
  bool snapshot_wanted_ = false;
  uint64_t reloaded_at_block_ = 0;   // records_reloaded_ when it was blocked
  std::unique_ptr<Context> context_;
  std::string encoded_;  // buffer for records
  mutable std::string scratch_roster_, scratch_state_;  // EncodeRecord's buffers

 public:
  CoreScope& ScopeFor(uint32_t scope);  // loaded from the store at its first use

 private:
  void Drain(CoreScope& scope);
  void DeliverEvent(CoreScope& scope);
  void PrefetchAhead(const CoreScope& scope) const;
  void FireTimer(CoreScope& scope);
  void CallRule(CoreScope& scope, uint32_t slot, size_t rule, const EventView* event,
                const QueuedTimer* timer);

 public:
  void AddTimer(CoreScope& scope, uint32_t slot, OfficerTimer timer);
  void MarkDirty(CoreScope& scope, uint32_t slot) { MarkDirty(scope, scope.officers.at(slot), slot); }
  void MarkDirty(CoreScope& scope, OfficerRecord& record, uint32_t slot);
  void Emit(RuleAlert alert);
  void EnsureLoaded(CoreScope& scope, OfficerRecord& record, uint32_t slot);
  // Before a delivery to `record` (which may change it): its staged encoding is no longer the
  // snapshot's.
  void Unstage(CoreScope& scope, OfficerRecord& record) {
    if (record.staged_at != OfficerRecord::kNotStaged) [[unlikely]] DropStaged(scope, record);
  }
  void DropStaged(CoreScope& scope, OfficerRecord& record);

 private:
  void WriteCheckpoint(KvBatch& writes);
  void EncodeRecord(const OfficerRecord& record, std::string& out) const;
  // Decodes a record; with_timers also takes its timers (at load), else they are left alone.
  void DecodeRecord(std::string_view bytes, OfficerRecord& record, bool with_timers);
  // At the end of a delivery, while the record is still in the cache: what it changed (or loaded)
  // is charged to the budget at once, so the budget check needs no pass over the records.
  void MeasureIfChanged(OfficerRecord& record);
  // Measures one record: updates record.memory and officer_memory_.
  void MeasureRecord(OfficerRecord& record);
  // `building`: bytes of a checkpoint batch being built, held besides what MemoryBytes() counts.
  void CheckBudget(size_t building = 0);
  void Evict(size_t building);
  void FreeRecord(OfficerRecord& record);
};

// The context a rule gets: one per core, pointed at (scope, officer, rule) before each call.
class Core::Impl::Context final : public RuleContext {
 public:
  explicit Context(Impl& core) : core_(core) {}
  // `now`: the time of the event or timer being delivered.
  void Point(CoreScope* scope, uint32_t slot, OfficerRecord* record, size_t rule, Millis now) {
    scope_ = scope;
    slot_ = slot;
    record_ = record;
    rule_ = rule;
    now_ = now;
  }
  std::string_view officer_id() const override { return record_->id; }
  void SetTimer(Millis at, uint32_t tag) override {
    core_.AddTimer(*scope_, slot_, OfficerTimer{at, tag, static_cast<uint16_t>(rule_ + 1), false});
  }
  void ScheduleCleanup(Millis at, uint32_t tag) override {
    core_.AddTimer(*scope_, slot_,
                   OfficerTimer{CeilTo(at, kHour), tag, static_cast<uint16_t>(rule_ + 1), true});
  }
  void Emit(RuleAlert alert) override { core_.Emit(std::move(alert)); }
  const OfficerRoster& roster() override { return record_->roster; }
  Millis watermark() const override { return core_.watermark_; }
  // Drain fires every timer before the watermark, and within one Drain events and timers go in
  // time order (events first at equal times).
  bool Passed(Millis at) const override { return at < scope_->drained_to || at < now_; }
  const TimeSettings& time() const override { return core_.time_; }

 protected:
  const RuleState* FindState() override { return record_->states[rule_].get(); }
  RuleState& MutableState() override {
    auto& state = record_->states[rule_];
    if (!state) state = core_.rules_[rule_]->NewState();
    core_.MarkDirty(*scope_, *record_, slot_);
    return *state;
  }

 private:
  Impl& core_;
  CoreScope* scope_ = nullptr;
  uint32_t slot_ = 0;
  OfficerRecord* record_ = nullptr;
  size_t rule_ = 0;
  Millis now_ = kMinTime;
};

Core::Impl::Impl(StateStore& store, const v1::RulesConfig& config,
                 std::vector<std::unique_ptr<Rule>> rules, CoreOptions options)
    : store_(store),
      time_(TimeSettings::From(config)),
      rules_(std::move(rules)),
      options_(std::move(options)),
      watermarks_(time_.max_out_of_orderness),
      context_(std::make_unique<Context>(*this)) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const uint32_t streams = rules_[i]->streams();
    for (int s = 0; s < kStreamCount; ++s) {
      if (streams & StreamBit(static_cast<Stream>(s))) {
        rules_by_stream_[s].push_back(static_cast<uint16_t>(i));
      }
    }
  }
  store_.SetBeforeCheckpoint([this](KvBatch& writes) { WriteCheckpoint(writes); });
}

Core::Impl::~Impl() { store_.SetBeforeCheckpoint(nullptr); }

CoreScope& Core::Impl::ScopeFor(uint32_t id) {
  if (id < scope_index_.size() && scope_index_[id]) return *scope_index_[id];
  auto [it, added] = scopes_.try_emplace(id);
  if (added) {  // first touch since start: what an earlier run left held, seen or scheduled
    it->second = std::make_unique<CoreScope>(store_, id, rules_.size());
    CoreScope& scope = *it->second;
    KeySpace held(store_, scope.held_prefix);
    scope.hold.Load(held);
    scope.seen.Load(scope.seen_space);
    KeySpace officers(store_, scope.officer_prefix);
    officers.ScanPrefix("", [&](std::string_view key, std::string_view value) {
      const uint32_t slot = scope.officers.Intern(key);
      OfficerRecord& record = scope.officers.at(slot);
      DecodeRecord(value, record, /*with_timers=*/true);
      record.stored = true;
      for (const OfficerTimer& t : record.timers) scope.timers.Push({t, slot});
      MeasureRecord(record);
      return true;
    });
    if (std::optional<std::string> drained = store_.Get(ScopePrefix(id, kDrained))) {
      ByteReader r(*drained);
      if (!r.I64(&scope.drained_to) || !r.done()) {
        throw FatalError("drained watermark of scope " + std::to_string(id) + " cannot be parsed");
      }
      scope.drained_stored = scope.drained_to;
    }
  }
  if (id < kScopeIndex) {
    if (id >= scope_index_.size()) scope_index_.resize(id + 1, nullptr);
    scope_index_[id] = it->second.get();
  }
  return *it->second;
}

void Core::Impl::Ingest(const EventView& event, std::string_view bytes, SourcePartition source,
                        uint32_t scope_id, const RecordOrigin& origin) {
  const Stream stream = event.stream;
  const Millis t = event.time;
  // At scale the duplicate check's first probe misses the cache: it starts loading here, and the
  // watermark work below overlaps it (for a scope already touched; the first touch loads it).
  // So does the officer table's, for the officer's slot that goes into the hold with the event.
  CoreScope* const touched = scope_id < scope_index_.size() ? scope_index_[scope_id] : nullptr;
  uint64_t id_hash = 0;
  const uint64_t officer_hash = IdHash(event.officer_id);
  if (touched) {
    id_hash = touched->seen.Hash(static_cast<uint8_t>(stream), event.event_id);
    touched->seen.Prefetch(id_hash);
    touched->officers.PrefetchEntry(officer_hash);
  }
  const uint32_t partition = watermarks_.Slot(source);
  const Millis partition_watermark =
      partition == Watermarks::kUnknown ? kMinTime : watermarks_.PartitionWatermarkAt(partition);
  if (partition_watermark != kMinTime && t < partition_watermark - time_.LatenessFor(stream)) {
    ++metrics_.too_late;
    dead_letters_.push_back(
        {std::string(origin.key), std::string(origin.value), "too_late", origin.Position()});
    return;
  }
  CoreScope& scope = touched ? *touched : ScopeFor(scope_id);
  if (!touched) id_hash = scope.seen.Hash(static_cast<uint8_t>(stream), event.event_id);
  if (scope.seen.SeenOrAdd(static_cast<uint8_t>(stream), event.event_id, t, id_hash)) {
    ++metrics_.duplicates;
    return;
  }
  ++metrics_.events_in[static_cast<int>(stream)];
  scope.sources[static_cast<int>(stream)] = source;
  if (partition == Watermarks::kUnknown) {
    watermarks_.Observe(source, t);
  } else {
    watermarks_.ObserveAt(partition, t);
  }
  if (t < watermarks_.Current()) ++metrics_.late_accepted;
  scope.hold.Add(event, bytes, scope.officers.Intern(event.officer_id, officer_hash));
  ++events_since_check_;
}

void Core::Impl::Advance() {
  watermark_ = watermarks_.Current();
  for (auto& [id, scope] : scopes_) {
    if (!scope->owned) continue;
    Drain(*scope);
    scope->drained_to = std::max(scope->drained_to, watermark_);  // a restart may start lower
  }
  if (options_.memory_budget_bytes > 0 && events_since_check_ >= kBudgetCheckEvents) CheckBudget();
}

void Core::Impl::CheckBudget(size_t building) {
  events_since_check_ = 0;
  if (evict_blocked_ && records_reloaded_ - reloaded_at_block_ >= kReloadsBeforeRetry) {
    evict_blocked_ = false;
  }
  if (!evict_blocked_ && MemoryBytes() + building > options_.memory_budget_bytes) Evict(building);
}

void Core::Impl::Finish() {
  watermarks_.Finish();
  // Forgetting state is pointless at the end of a bounded run: cleanup timers are set aside (they
  // stay in the records, so a later run on this state still forgets on time).
  for (auto& [id, scope] : scopes_) {
    scope->timers.Extract([](const QueuedTimer& t) { return t.timer.cleanup; }, scope->set_aside);
  }
  finishing_ = true;
  Advance();
  finishing_ = false;
  for (auto& [id, scope] : scopes_) {
    for (const QueuedTimer& t : scope->set_aside) scope->timers.Push(t);
    scope->set_aside.clear();
  }
}

void Core::Impl::Drain(CoreScope& scope) {
  const Millis watermark = watermark_;
  while (true) {
    const Millis event_time = scope.hold.NextTime();
    const Millis timer_time = scope.timers.NextTime();
    const bool event_due = event_time < watermark;
    const bool timer_due = timer_time < watermark;
    if (!event_due && !timer_due) return;
    // At equal times events go first: a timer at t sees every event at t.
    if (event_due && (!timer_due || event_time <= timer_time)) {
      DeliverEvent(scope);
    } else {
      FireTimer(scope);
    }
  }
}

void Core::Impl::EnsureLoaded(CoreScope& scope, OfficerRecord& record, uint32_t slot) {
  record.referenced = true;
  if (record.loaded) return;
  scope.key.assign(scope.officer_prefix);
  scope.key.append(record.id);
  std::optional<std::string> bytes = store_.Get(scope.key);
  if (bytes) DecodeRecord(*bytes, record, /*with_timers=*/false);
  record.loaded = true;
  ++records_reloaded_;
  // Back in memory: charged to the budget again (also when only read, so never marked changed),
  // when the delivery that needed it ends.
  record.measured = false;
}

void Core::Impl::DeliverEvent(CoreScope& scope) {
  const EventView& event = scope.hold.Front();
  uint32_t slot = scope.hold.FrontSlot();
  if (slot == Hold::kNoSlot) slot = scope.officers.Intern(event.officer_id);
  PrefetchAhead(scope);
  OfficerRecord& record = scope.officers.at(slot);
  EnsureLoaded(scope, record, slot);
  Unstage(scope, record);
  if (event.is_roster()) {
    record.roster.Add(event);
    MarkDirty(scope, record, slot);
    AddTimer(scope, slot,
             OfficerTimer{CeilTo(event.end + time_.roster_grace + time_.MaxLateness(), kHour), 0, 0,
                          true});
  }
  for (uint16_t rule : rules_by_stream_[static_cast<int>(event.stream)]) {
    CallRule(scope, slot, rule, &event, nullptr);
  }
  MeasureIfChanged(record);
  scope.hold.PopFront();
}

// At scale each event's officer record is one among tens of thousands, far from the cache: its
// loads are started a few events ahead, each step needing what the step before loaded.
void Core::Impl::PrefetchAhead(const CoreScope& scope) const {
  if (const uint32_t slot = scope.hold.SlotAhead(4); slot != Hold::kNoSlot) {
    scope.officers.PrefetchRecord(slot);
  }
  if (const uint32_t slot = scope.hold.SlotAhead(3); slot != Hold::kNoSlot) {
    scope.officers.PrefetchArrays(slot);
  }
  if (const uint32_t slot = scope.hold.SlotAhead(2); slot != Hold::kNoSlot) {
    scope.officers.PrefetchStates(slot);
  }
}

void Core::Impl::CallRule(CoreScope& scope, uint32_t slot, size_t rule, const EventView* event,
                          const QueuedTimer* timer) {
  OfficerRecord& record = scope.officers.at(slot);
  context_->Point(&scope, slot, &record, rule, event ? event->time : timer->timer.at);
  if (event) {
    rules_[rule]->OnEvent(*event, *context_);
  } else {
    rules_[rule]->OnTimer(timer->timer.at, timer->timer.tag, *context_);
  }
  auto& state = record.states[rule];
  if (state && state->empty()) {
    state.reset();
    MarkDirty(scope, record, slot);
  }
}

void Core::Impl::FireTimer(CoreScope& scope) {
  const QueuedTimer queued = scope.timers.Pop();
  OfficerRecord& record = scope.officers.at(queued.slot);
  if (finishing_ && queued.timer.cleanup) {  // set during Finish(): kept for a later run
    scope.set_aside.push_back(queued);
    return;
  }
  Unstage(scope, record);
  auto it = std::find(record.timers.begin(), record.timers.end(), queued.timer);
  if (it != record.timers.end()) {
    *it = record.timers.back();
    record.timers.pop_back();
  }
  MarkDirty(scope, record, queued.slot);
  EnsureLoaded(scope, record, queued.slot);
  if (queued.timer.owner == 0) {
    // Forgets the shifts whose own forget time (end + grace + lateness, hour-rounded as the timer)
    // is this timer's, as if each had fired its own. Not by the watermark: when it jumps (a
    // partition's first event, the end of a bounded run), events and decisions behind it are still
    // to be delivered and may need shifts that end between them and the watermark.
    record.roster.ForgetEnded(queued.timer.at - time_.roster_grace - time_.MaxLateness() + 1);
  } else if (const size_t rule = queued.timer.owner - 1; rule < rules_.size()) {
    CallRule(scope, queued.slot, rule, nullptr, &queued);
  }
  MeasureIfChanged(record);
}

void Core::Impl::AddTimer(CoreScope& scope, uint32_t slot, OfficerTimer timer) {
  OfficerRecord& record = scope.officers.at(slot);
  for (const OfficerTimer& t : record.timers) {
    if (t == timer) return;  // set already: fires once
  }
  record.timers.push_back(timer);
  MarkDirty(scope, record, slot);
  if (finishing_ && timer.cleanup) {
    scope.set_aside.push_back({timer, slot});
  } else {
    scope.timers.Push({timer, slot});
  }
}

void Core::Impl::DropStaged(CoreScope& scope, OfficerRecord& record) {
  std::string& bytes = scope.staged[record.staged_at];
  staged_bytes_ -= bytes.capacity();
  std::string().swap(bytes);
  record.staged_at = OfficerRecord::kNotStaged;
}

// Records are staged in the order they first changed since the last snapshot; a record changed
// again after its staging is encoded by the snapshot itself. Records with nothing left are left
// to the snapshot (a deletion, nothing to encode).
bool Core::Impl::StageSnapshot(size_t max_records) {
  size_t staged = 0;
  for (auto& [id, scope_ptr] : scopes_) {
    CoreScope& scope = *scope_ptr;
    for (; scope.stage_cursor < scope.dirty.size(); ++scope.stage_cursor) {
      if (staged == max_records) return true;
      OfficerRecord& record = scope.officers.at(scope.dirty[scope.stage_cursor]);
      if (!record.dirty || record.staged_at != OfficerRecord::kNotStaged || record.nothing_left()) {
        continue;
      }
      record.staged_at = static_cast<uint32_t>(scope.staged.size());
      std::string& bytes = scope.staged.emplace_back();
      EncodeRecord(record, bytes);
      staged_bytes_ += bytes.capacity();
      ++staged;
    }
  }
  return false;
}

void Core::Impl::MarkDirty(CoreScope& scope, OfficerRecord& record, uint32_t slot) {
  if (!record.dirty) {
    record.dirty = true;
    scope.dirty.push_back(slot);
  }
  record.measured = false;  // measured again when the delivery ends (MeasureIfChanged)
}

void Core::Impl::Emit(RuleAlert rule_alert) {
  v1::Alert alert = BuildRuleAlert(rule_alert, options_.topics);
  alert.set_rules_version(options_.rules_version);
  ++metrics_.alerts;
  ++metrics_.alerts_by_rule[alert.rule_id()];
  alerts_.push_back(std::move(alert));
}

// Record: [format] [roster] [roster timers] [sections: rule_id, state?, timers].
void Core::Impl::EncodeRecord(const OfficerRecord& record, std::string& out) const {
  ByteWriter w(out);
  w.U64(kRecordFormat);
  auto write_timers = [&](uint16_t owner) {
    uint64_t n = 0;
    for (const OfficerTimer& t : record.timers) n += t.owner == owner;
    w.U64(n);
    for (const OfficerTimer& t : record.timers) {
      if (t.owner != owner) continue;
      w.I64(t.at);
      w.Bool(t.cleanup);
      w.U64(t.tag);
    }
  };
  std::string& roster = scratch_roster_;
  roster.clear();
  record.roster.Encode(roster);
  w.Bytes(roster);
  write_timers(0);
  uint64_t sections = 0;
  for (size_t r = 0; r < rules_.size(); ++r) {
    bool has_timer = false;
    for (const OfficerTimer& t : record.timers) has_timer = has_timer || t.owner == r + 1;
    sections += record.states[r] || has_timer;
  }
  w.U64(sections);
  std::string& state = scratch_state_;
  for (size_t r = 0; r < rules_.size(); ++r) {
    bool has_timer = false;
    for (const OfficerTimer& t : record.timers) has_timer = has_timer || t.owner == r + 1;
    if (!record.states[r] && !has_timer) continue;
    w.Bytes(rules_[r]->info().rule_id);
    w.Bool(record.states[r] != nullptr);
    if (record.states[r]) {
      state.clear();
      record.states[r]->Encode(state);
      w.Bytes(state);
    }
    write_timers(static_cast<uint16_t>(r + 1));
  }
}

void Core::Impl::DecodeRecord(std::string_view bytes, OfficerRecord& record, bool with_timers) {
  auto corrupt = [&]() -> void {
    throw FatalError("officer record of " + record.id + " cannot be parsed");
  };
  ByteReader r(bytes);
  uint64_t format;
  if (!r.U64(&format) || format != kRecordFormat) corrupt();
  if (with_timers) record.timers.clear();
  auto read_timers = [&](uint16_t owner, bool keep) {
    uint64_t n;
    if (!r.U64(&n)) corrupt();
    for (uint64_t i = 0; i < n; ++i) {
      OfficerTimer t;
      uint64_t tag;
      if (!r.I64(&t.at) || !r.Bool(&t.cleanup) || !r.U64(&tag)) corrupt();
      t.tag = static_cast<uint32_t>(tag);
      t.owner = owner;
      if (keep && with_timers) record.timers.push_back(t);
    }
  };
  std::string_view roster;
  if (!r.Bytes(&roster)) corrupt();
  if (roster.empty()) {
    record.roster = OfficerRoster();
  } else if (!record.roster.Decode(roster)) {
    corrupt();
  }
  read_timers(0, true);
  uint64_t sections;
  if (!r.U64(&sections)) corrupt();
  for (auto& s : record.states) s.reset();
  for (uint64_t i = 0; i < sections; ++i) {
    std::string_view rule_id;
    bool has_state;
    if (!r.Bytes(&rule_id) || !r.Bool(&has_state)) corrupt();
    size_t rule = rules_.size();
    for (size_t k = 0; k < rules_.size(); ++k) {
      if (rules_[k]->info().rule_id == rule_id) rule = k;
    }
    std::string_view state;
    if (has_state && !r.Bytes(&state)) corrupt();
    // A rule disabled since: its state and timers are dropped (the record is rewritten without
    // them when next changed).
    const bool known = rule < rules_.size();
    if (known && has_state) {
      std::unique_ptr<RuleState> decoded = rules_[rule]->NewState();
      if (!decoded->Decode(state)) corrupt();
      record.states[rule] = std::move(decoded);
    }
    read_timers(static_cast<uint16_t>(rule + 1), known);
  }
  if (!r.done()) corrupt();
}

void Core::Impl::WriteCheckpoint(KvBatch& writes) {
  if (!snapshot_due_) return;  // outputs and offsets only: the state waits for the next snapshot
  for (auto& [id, scope_ptr] : scopes_) {
    CoreScope& scope = *scope_ptr;
    const std::string& prefix = scope.officer_prefix;
    for (uint32_t slot : scope.dirty) {
      OfficerRecord& record = scope.officers.at(slot);
      if (!record.dirty) continue;
      record.dirty = false;
      if (record.staged_at != OfficerRecord::kNotStaged) {  // unchanged since it was staged
        writes.Put(prefix, record.id, scope.staged[record.staged_at]);
        record.staged_at = OfficerRecord::kNotStaged;
        record.stored = true;
        continue;
      }
      if (record.nothing_left()) {
        if (record.stored) writes.Delete(prefix, record.id);
        record.stored = false;
        continue;
      }
      encoded_.clear();
      EncodeRecord(record, encoded_);
      writes.Put(prefix, record.id, encoded_);
      record.stored = true;
    }
    scope.dirty.clear();
    scope.staged.clear();
    scope.stage_cursor = 0;
    if (scope.drained_to != scope.drained_stored) {
      encoded_.clear();
      ByteWriter(encoded_).I64(scope.drained_to);
      writes.Put(ScopePrefix(id, kDrained), "", encoded_);
      scope.drained_stored = scope.drained_to;
    }
    scope.hold.WriteCheckpoint(scope.held_prefix, writes);
  }
  staged_bytes_ = 0;
  // Every record is durable now (this batch is applied before any read of the store): any may
  // leave, and the check that follows says whether another snapshot could help. The batch itself
  // is memory too until it is written: records leave to make room for it.
  evict_blocked_ = false;
  snapshot_wanted_ = false;
  if (options_.memory_budget_bytes > 0) CheckBudget(writes.MemoryBytes());
}

void Core::Impl::MeasureIfChanged(OfficerRecord& record) {
  if (!record.measured) MeasureRecord(record);
}

void Core::Impl::MeasureRecord(OfficerRecord& record) {
  record.measured = true;
  size_t bytes = kRecordOverhead + record.id.capacity() +
                 record.states.capacity() * sizeof(std::unique_ptr<RuleState>) +
                 record.timers.capacity() * sizeof(OfficerTimer);
  if (record.loaded) {
    bytes += record.roster.MemoryBytes();
    for (const auto& s : record.states) {
      if (s) bytes += s->MemoryBytes();
    }
  }
  officer_memory_ += bytes;
  officer_memory_ -= record.memory;
  record.memory = bytes;
}

void Core::Impl::FreeRecord(OfficerRecord& record) {
  record.roster = OfficerRoster();
  for (auto& s : record.states) s.reset();
  record.loaded = false;
}

// Second-chance clock over the records of every scope: a clean record in memory not used since
// the hand last passed is dropped (the store has it); at most two turns. The total is measured
// once and lowered by what each dropped record gave back (every record is measured on entry).
void Core::Impl::Evict(size_t building) {
  const size_t budget = options_.memory_budget_bytes;
  size_t total = MemoryBytes() + building;
  bool changed_in_way = false;  // a record that could have left had it been written
  for (auto& [id, scope_ptr] : scopes_) {
    CoreScope& scope = *scope_ptr;
    const size_t n = scope.officers.size();
    for (size_t step = 0; step < 2 * n && total > budget; ++step) {
      if (scope.clock_hand >= n) scope.clock_hand = 0;
      const uint32_t slot = scope.clock_hand++;
      OfficerRecord& record = scope.officers.at(slot);
      if (!record.loaded) continue;
      if (record.dirty || !record.stored) {
        changed_in_way = true;
        continue;
      }
      if (record.referenced) {
        record.referenced = false;
        continue;
      }
      const size_t before = record.memory;
      FreeRecord(record);
      MeasureRecord(record);
      total -= std::min(total, before > record.memory ? before - record.memory : 0);
    }
  }
  if (total > budget) {
    evict_blocked_ = true;
    reloaded_at_block_ = records_reloaded_;
    // A batch being built or written leaves on its own once written: another snapshot would not
    // make it go sooner, so it is no reason for one.
    const size_t batches = building + store_.BytesInFlight();
    snapshot_wanted_ = changed_in_way && total - std::min(total, batches) > budget;
  }
}

size_t Core::Impl::MemoryBytes() const {
  size_t bytes = officer_memory_ + staged_bytes_ + store_.BytesInFlight();
  for (const auto& [id, scope] : scopes_) {
    bytes += scope->hold.MemoryBytes() + scope->seen.MemoryBytes() + scope->timers.MemoryBytes();
  }
  return bytes;
}

void Core::Impl::SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset) {
  state::PartitionProgress progress;
  progress.set_next_offset(next_offset);
  progress.set_has_events(watermarks_.HasEvents(source));
  progress.set_max_event_time_ms(watermarks_.MaxEventTime(source));
  std::string key(1, static_cast<char>(source.source));
  KeySpace(store_, ScopePrefix(scope, kProgress)).Save(key, progress);
}

std::optional<int64_t> Core::Impl::LoadProgress(SourcePartition source, uint32_t scope) {
  // Load what the partition holds (events, timers) even if nothing new arrives, and note where
  // this stream of the scope is read from, so its duplicate-detection ids expire with that
  // partition's watermark even before an event of it arrives again.
  ScopeFor(scope).sources[source.source] = source;
  state::PartitionProgress progress;
  std::string key(1, static_cast<char>(source.source));
  if (!KeySpace(store_, ScopePrefix(scope, kProgress)).Load(key, &progress)) return std::nullopt;
  if (progress.has_events()) watermarks_.Restore(source, progress.max_event_time_ms());
  return progress.next_offset();
}

void Core::Impl::PrepareCheckpoint(bool snapshot) {
  snapshot_due_ = snapshot;
  if (!snapshot) return;
  for (auto& [id, scope_ptr] : scopes_) {
    CoreScope& scope = *scope_ptr;
    scope.seen.Save(scope.seen_space);
    // A duplicate is recognised as long as it could still be accepted: keep an hour's ids until
    // the partition they came from would call an event of that hour too late.
    std::array<Millis, kStreamCount> horizon;
    for (int s = 0; s < kStreamCount; ++s) {
      const auto& source = scope.sources[s];
      const Millis watermark = source ? watermarks_.PartitionWatermark(*source) : kMinTime;
      horizon[s] = watermark == kMinTime ? kMinTime
                                         : watermark - time_.LatenessFor(static_cast<Stream>(s));
    }
    scope.seen.Expire(horizon, scope.seen_space);
  }
}

// Core: the public face.

Core::Core(StateStore& store, const v1::RulesConfig& config,
           std::vector<std::unique_ptr<Rule>> rules, CoreOptions options)
    : impl_(std::make_unique<Impl>(store, config, std::move(rules), std::move(options))) {}
Core::~Core() = default;

Watermarks& Core::watermarks() { return impl_->watermarks_; }
const TimeSettings& Core::time() const { return impl_->time_; }
const ProcessorMetrics& Core::metrics() const { return impl_->metrics_; }
const std::vector<std::unique_ptr<Rule>>& Core::rules() const { return impl_->rules_; }

void Core::Ingest(const EventView& event, std::string_view bytes, SourcePartition source,
                  uint32_t scope, const RecordOrigin& origin) {
  impl_->Ingest(event, bytes, source, scope, origin);
}
void Core::RejectInvalid(DeadLetter letter) {
  ++impl_->metrics_.invalid;
  impl_->dead_letters_.push_back(std::move(letter));
}
void Core::Advance() { impl_->Advance(); }
void Core::Finish() { impl_->Finish(); }
std::vector<v1::Alert> Core::TakeAlerts() { return std::exchange(impl_->alerts_, {}); }
std::vector<DeadLetter> Core::TakeDeadLetters() { return std::exchange(impl_->dead_letters_, {}); }
void Core::SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset) {
  impl_->SaveProgress(source, scope, next_offset);
}
std::optional<int64_t> Core::LoadProgress(SourcePartition source, uint32_t scope) {
  return impl_->LoadProgress(source, scope);
}
void Core::PrepareCheckpoint(bool snapshot) { impl_->PrepareCheckpoint(snapshot); }
void Core::SetScopeOwned(uint32_t scope, bool owned) { impl_->ScopeFor(scope).owned = owned; }
bool Core::StageSnapshot(size_t max_records) { return impl_->StageSnapshot(max_records); }
size_t Core::MemoryBytes() const { return impl_->MemoryBytes(); }
bool Core::SnapshotWanted() const { return impl_->snapshot_wanted_; }
uint64_t Core::records_reloaded() const { return impl_->records_reloaded_; }

}  // namespace vigil
