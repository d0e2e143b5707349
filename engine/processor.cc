#include "processor.h"

#include <algorithm>

namespace vigil {
namespace {

constexpr char kPending[] = "pending";
constexpr char kTimers[] = "timers";
constexpr char kSeenByTime[] = "seen-by-time";
constexpr char kRoster[] = "roster";
constexpr char kProgress[] = "progress";
constexpr char kRosterOwner[] = "$roster";  // timer owner for roster retention

// Seen event ids are persisted per stream and hour of event time: one record per hour (not per
// event or minute) keeps the keys written per checkpoint few. An id is kept until its bucket's
// end is behind the horizon (up to an hour longer than needed), which changes no decision: an
// event older than the horizon is too late whether or not its id is remembered.
constexpr Millis kSeenBucket = kHour;
constexpr size_t kSeenBucketKeySize = 9;  // [stream][hour:8]; a record adds [sequence:4]

// Calls fn(id) for each id of a seen-ids record (each id followed by '\0').
template <typename Fn>
void ForEachId(std::string_view ids, Fn fn) {
  for (size_t begin = 0, end; (end = ids.find('\0', begin)) != std::string_view::npos; begin = end + 1) {
    fn(ids.substr(begin, end - begin));
  }
}

constexpr char kDecisionTimer = 'd';
constexpr char kCleanupTimer = 'c';
// Cleanup timers are many (one per key an operator may forget) and are stored by (time, owner)
// group, in records [at:8][owner]'\0''g'[sequence:4] -> for each timer, [length:4][key].
constexpr char kCleanupGroup = 'g';

Millis TimeOfKey(const std::string& relative_key) { return ReadI64(relative_key); }

// Timer keys: [at:8][owner]'\0'[kind][key].
bool IsCleanupTimer(const std::string& timer_key) {
  size_t split = timer_key.find('\0', 8);
  return split + 1 < timer_key.size() && timer_key[split + 1] == kCleanupTimer;
}

// The group of a timer key: [at:8][owner]'\0'.
std::string_view TimerGroup(std::string_view timer_key) {
  return timer_key.substr(0, timer_key.find('\0', 8) + 1);
}

std::string PendingKey(Millis time, const std::string& event_id, Stream stream) {
  std::string key;
  AppendI64(key, time);
  key += event_id;
  key.push_back('\0');
  key.push_back(static_cast<char>(stream));
  return key;
}

}  // namespace

std::string ScopePrefix(uint32_t scope, std::string_view name) {
  std::string prefix;
  AppendU32(prefix, scope);
  prefix.append(name);
  prefix.push_back('\0');
  return prefix;
}

// The view one operator has while handling one event or timer of one scope.
class Processor::Context final : public OperatorContext {
 public:
  Context(Processor& processor, uint32_t scope, const Operator& op)
      : processor_(processor),
        scope_(scope),
        owner_(op.info().rule_id),
        space_(processor.store_, ScopePrefix(scope, owner_)),
        roster_(processor.RosterOf(scope)) {}

  KeySpace& state() override { return space_; }
  void SetTimer(Millis at, std::string_view key, std::string_view payload) override {
    processor_.SetTimer(scope_, owner_, at, key, payload);
  }
  void ScheduleCleanup(Millis at, std::string_view key) override {
    processor_.SetTimer(scope_, owner_, at, key, "", /*cleanup=*/true);
  }
  void Emit(v1::Alert alert) override { processor_.Emit(std::move(alert)); }
  const EffectiveRoster& roster() override { return roster_; }
  Millis watermark() const override { return processor_.watermarks_.Current(); }
  const TimeSettings& time() const override { return processor_.time_; }

 private:
  Processor& processor_;
  uint32_t scope_;
  const std::string& owner_;
  KeySpace space_;
  EffectiveRoster roster_;
};

Processor::Processor(StateStore& store, const v1::RulesConfig& config,
                     std::vector<std::unique_ptr<Operator>> operators)
    : store_(store),
      time_(TimeSettings::From(config)),
      operators_(std::move(operators)),
      watermarks_(time_.max_out_of_orderness) {
  for (size_t i = 0; i < operators_.size(); ++i) {
    by_rule_id_[operators_[i]->info().rule_id] = {operators_[i].get(), i};
  }
  store_.SetBeforeCheckpoint([this](CheckpointWrites& writes) { WriteHeld(writes); });
}

Processor::~Processor() { store_.SetBeforeCheckpoint(nullptr); }

void Processor::LoadTimers(ScopeIndex& index, std::string_view key, std::string_view value) {
  std::string_view group = TimerGroup(key);
  if (key.size() <= group.size() || key[group.size()] != kCleanupGroup) {
    index.timers.emplace(key, ScopeIndex::Timer{std::string(value), true, false});
    return;
  }
  index.group_records[std::string(group)].emplace_back(key);
  if (key.size() == group.size() + 5) {
    index.next_group_record =
        std::max(index.next_group_record, ReadU32(key.substr(group.size() + 1)) + 1);
  }
  std::string timer_key(group);
  timer_key.push_back(kCleanupTimer);
  for (size_t at = 0; at + 4 <= value.size();) {
    const uint32_t length = ReadU32(value.substr(at));
    if (at + 4 + length > value.size()) throw FatalError("cleanup timer record cannot be parsed");
    timer_key.resize(group.size() + 1);
    timer_key.append(value.substr(at + 4, length));
    index.timers.emplace(timer_key, ScopeIndex::Timer{"", false, false});
    at += 4 + length;
  }
}

void Processor::WriteHeld(CheckpointWrites& writes) {
  std::string bytes;
  for (auto& [scope, index] : scopes_) {
    for (auto& [key, held] : index.pending) {
      if (held.stored) continue;
      held.event.SerializeToString(&bytes);
      writes.Put(index.pending_space->prefix(), key, bytes);
      held.stored = true;
    }
    for (const std::string& key : index.unsaved_timers) {
      auto timer = index.timers.find(key);
      if (timer == index.timers.end() || !timer->second.unsaved) continue;  // fired, or written
      writes.Put(index.timers_space->prefix(), key, timer->second.payload);
      timer->second.stored = true;
      timer->second.unsaved = false;
    }
    index.unsaved_timers.clear();
    WriteCleanupGroups(index, writes);
  }
}

void Processor::WriteCleanupGroups(ScopeIndex& index, CheckpointWrites& writes) {
  const std::string& prefix = index.timers_space->prefix();
  auto append_record = [&](const std::string& group, std::string_view timers) {
    std::string key = group;
    key.push_back(kCleanupGroup);
    AppendU32(key, index.next_group_record++);
    writes.Put(prefix, key, timers);
    index.group_records[group].push_back(std::move(key));
  };
  std::string bytes;
  for (const std::string& group : index.rewrite_groups) {  // lost timers: its live ones, anew
    std::string first = group;
    first.push_back(kCleanupTimer);
    for (auto it = index.timers.lower_bound(first);
         it != index.timers.end() && std::string_view(it->first).substr(0, first.size()) == first;
         ++it) {
      AppendU32(bytes, static_cast<uint32_t>(it->first.size() - first.size()));
      bytes.append(it->first, first.size());
    }
    if (auto records = index.group_records.find(group); records != index.group_records.end()) {
      for (const std::string& key : records->second) writes.Delete(prefix, key);
      index.group_records.erase(records);
    }
    if (!bytes.empty()) append_record(group, bytes);
    index.group_additions.erase(group);
    bytes.clear();
  }
  index.rewrite_groups.clear();
  for (const auto& [group, timers] : index.group_additions) append_record(group, timers);
  index.group_additions.clear();
}

void Processor::AddCleanupTimerToGroup(ScopeIndex& index, std::string_view timer_key) {
  const std::string_view group = TimerGroup(timer_key);
  std::string& added = index.group_additions[std::string(group)];
  const std::string_view key = timer_key.substr(group.size() + 1);  // after the kind byte
  AppendU32(added, static_cast<uint32_t>(key.size()));
  added.append(key);
}

Processor::ScopeIndex& Processor::IndexFor(uint32_t scope) {
  auto [it, inserted] = scopes_.try_emplace(scope);
  if (inserted) {  // first touch since start: load what an earlier run left held or scheduled
    it->second.pending_space = std::make_unique<KeySpace>(store_, ScopePrefix(scope, kPending));
    it->second.timers_space = std::make_unique<KeySpace>(store_, ScopePrefix(scope, kTimers));
    it->second.pending_space->ScanPrefix("", [&](std::string_view key, std::string_view value) {
      auto& held = it->second.pending[std::string(key)];
      if (!held.event.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        throw FatalError("held event cannot be parsed");
      }
      held.stored = true;
      return true;
    });
    it->second.timers_space->ScanPrefix("", [&](std::string_view key, std::string_view payload) {
      LoadTimers(it->second, key, payload);
      return true;
    });
    KeySpace seen(store_, ScopePrefix(scope, kSeenByTime));
    seen.ScanPrefix("", [&](std::string_view key, std::string_view ids) {
      ScopeIndex::SeenBucket& bucket =
          it->second.seen_buckets[std::string(key.substr(0, kSeenBucketKeySize))];
      bucket.ids.append(ids);
      bucket.saved = bucket.ids.size();
      bucket.records.emplace_back(key);
      if (key.size() == kSeenBucketKeySize + 4) {
        it->second.next_seen_record = std::max(
            it->second.next_seen_record, ReadU32(key.substr(kSeenBucketKeySize)) + 1);
      }
      ForEachId(ids, [&](std::string_view id) {
        it->second.seen.insert(std::string(key.substr(0, 1)) + std::string(id));
      });
      return true;
    });
  }
  return it->second;
}

OperatorContext& Processor::ContextFor(uint32_t scope, size_t operator_index) {
  ScopeIndex& index = IndexFor(scope);
  if (index.contexts.empty()) {
    for (const auto& op : operators_) index.contexts.push_back(std::make_unique<Context>(*this, scope, *op));
  }
  return *index.contexts[operator_index];
}

EffectiveRoster Processor::RosterOf(uint32_t scope) {
  return EffectiveRoster(KeySpace(store_, ScopePrefix(scope, kRoster)), &IndexFor(scope).roster_cache);
}

// Ids seen within allowed lateness are kept in memory (ScopeIndex::seen) and persisted at each
// checkpoint by stream and hour of event time: [stream][hour][sequence] -> the ids seen since the
// last checkpoint; they expire by the hour.
bool Processor::SeenBefore(uint32_t scope, const v1::Envelope& event) {
  const char stream = static_cast<char>(StreamOf(event));
  std::string id(1, stream);
  id += EventId(event);
  ScopeIndex& index = IndexFor(scope);
  if (!index.seen.insert(id).second) return true;
  std::string bucket(1, stream);
  AppendI64(bucket, FloorTo(EventTime(event), kSeenBucket));
  std::string& ids = index.seen_buckets[bucket].ids;
  ids += EventId(event);
  ids.push_back('\0');
  index.unsaved.insert(std::move(bucket));
  return false;
}

void Processor::Ingest(v1::Envelope&& event, state::EventRef&& ref, SourcePartition source,
                       uint32_t scope, const RawRecord& raw) {
  const Stream stream = StreamOf(event);
  const Millis t = EventTime(event);
  const Millis partition_watermark = watermarks_.PartitionWatermark(source);
  if (partition_watermark != kMinTime && t < partition_watermark - time_.LatenessFor(stream)) {
    ++metrics_.too_late;
    dead_letters_.push_back({std::string(raw.key), std::string(raw.value), "too_late", raw.position});
    return;
  }
  if (SeenBefore(scope, event)) {
    ++metrics_.duplicates;
    return;
  }
  ++metrics_.events_in[static_cast<int>(stream)];
  IndexFor(scope).sources[static_cast<int>(stream)] = source;
  watermarks_.Observe(source, t);
  if (t < watermarks_.Current()) ++metrics_.late_accepted;

  std::string key = PendingKey(t, EventId(event), stream);
  ScopeIndex& index = IndexFor(scope);
  auto [held, inserted] = index.pending.try_emplace(std::move(key));
  if (!inserted) return;  // cannot happen: duplicates were dropped above
  *held->second.event.mutable_envelope() = std::move(event);
  *held->second.event.mutable_ref() = std::move(ref);
}

void Processor::RejectInvalid(DeadLetter letter) {
  ++metrics_.invalid;
  dead_letters_.push_back(std::move(letter));
}

void Processor::Advance() {
  const Millis watermark = watermarks_.Current();
  for (auto& [scope, index] : scopes_) Drain(scope, watermark);
}

void Processor::Finish() {
  watermarks_.Finish();
  // Forgetting state is pointless at the end of a bounded run: set cleanup timers aside (they stay
  // in the store, so a later run on this state still forgets on time).
  std::map<uint32_t, std::vector<decltype(ScopeIndex::timers)::node_type>> set_aside;
  for (auto& [scope, index] : scopes_) {
    for (auto it = index.timers.begin(); it != index.timers.end();) {
      auto next = std::next(it);
      if (IsCleanupTimer(it->first)) set_aside[scope].push_back(index.timers.extract(it));
      it = next;
    }
  }
  finishing_ = true;
  Advance();
  finishing_ = false;
  for (auto& [scope, nodes] : set_aside) {
    for (auto& node : nodes) scopes_[scope].timers.insert(std::move(node));
  }
  for (auto& [scope, key] : finishing_cleanups_) {  // kept for a later run on this state
    ScopeIndex& index = scopes_[scope];
    if (index.timers.try_emplace(key).second) AddCleanupTimerToGroup(index, key);
  }
  finishing_cleanups_.clear();
}

void Processor::Drain(uint32_t scope, Millis watermark) {
  ScopeIndex& index = IndexFor(scope);
  while (true) {
    bool event_due = !index.pending.empty() && TimeOfKey(index.pending.begin()->first) < watermark;
    bool timer_due = !index.timers.empty() && TimeOfKey(index.timers.begin()->first) < watermark;
    if (!event_due && !timer_due) return;
    // At equal times events go first: a timer at t sees every event at t.
    if (event_due && (!timer_due || TimeOfKey(index.pending.begin()->first) <=
                                        TimeOfKey(index.timers.begin()->first))) {
      DeliverEvent(scope, index);
    } else {
      FireTimer(scope, index);
    }
  }
}

void Processor::DeliverEvent(uint32_t scope, ScopeIndex& index) {
  auto node = index.pending.extract(index.pending.begin());
  if (node.mapped().stored) index.pending_space->Delete(node.key());
  const state::StoredEvent& stored = node.mapped().event;

  if (stored.envelope().has_roster()) {
    const auto& version = stored.envelope().roster();
    EffectiveRoster roster = RosterOf(scope);
    Millis forget_after = roster.Add(version, stored.ref(), time_);
    SetTimer(scope, kRosterOwner, forget_after,
             EffectiveRoster::ShiftKey(version.officer_id(), version.shift_id()), "", /*cleanup=*/true);
  }
  for (size_t i = 0; i < operators_.size(); ++i) {
    operators_[i]->OnEvent(stored, ContextFor(scope, i));
  }
}

void Processor::FireTimer(uint32_t scope, ScopeIndex& index) {
  auto node = index.timers.extract(index.timers.begin());
  const std::string& key = node.key();
  const std::string& payload = node.mapped().payload;
  if (node.mapped().stored) index.timers_space->Delete(key);
  if (IsCleanupTimer(key)) index.rewrite_groups.emplace(TimerGroup(key));

  const Millis at = TimeOfKey(key);
  std::string_view rest = std::string_view(key).substr(8);
  size_t split = rest.find('\0');
  std::string_view owner = rest.substr(0, split);
  std::string_view timer_key = rest.substr(split + 2);  // after the kind byte
  if (owner == kRosterOwner) {
    size_t officer_end = timer_key.find('\0');
    EffectiveRoster roster = RosterOf(scope);
    roster.ForgetIfEnded(std::string(timer_key.substr(0, officer_end)),
                         std::string(timer_key.substr(officer_end + 1)),
                         watermarks_.Current() - time_.roster_grace - time_.MaxLateness());
    return;
  }
  auto op = by_rule_id_.find(owner);
  if (op == by_rule_id_.end()) return;  // a rule disabled since the timer was set
  op->second.first->OnTimer(at, timer_key, payload, ContextFor(scope, op->second.second));
}

void Processor::SetTimer(uint32_t scope, const std::string& owner, Millis at,
                         std::string_view key, std::string_view payload, bool cleanup) {
  if (cleanup) at = CeilTo(at, kHour);
  std::string& timer_key = timer_key_;  // reused: a key is allocated only for a new timer
  timer_key.clear();
  AppendI64(timer_key, at);
  timer_key += owner;
  timer_key.push_back('\0');
  timer_key.push_back(cleanup ? kCleanupTimer : kDecisionTimer);
  timer_key.append(key);
  ScopeIndex& index = IndexFor(scope);
  if (cleanup && finishing_) {  // scheduled for a later run, not fired now
    finishing_cleanups_.emplace_back(scope, timer_key);
    return;
  }
  auto timer = index.timers.lower_bound(timer_key);
  const bool inserted = timer == index.timers.end() || timer->first != timer_key;
  if (inserted) timer = index.timers.emplace_hint(timer, timer_key, ScopeIndex::Timer{});
  if (cleanup) {  // no payload; stored with its group
    if (inserted) AddCleanupTimerToGroup(index, timer->first);
    return;
  }
  timer->second.payload.assign(payload);
  if (!timer->second.unsaved || inserted) index.unsaved_timers.push_back(timer->first);
  timer->second.unsaved = true;
}

void Processor::Emit(v1::Alert alert) {
  ++metrics_.alerts;
  ++metrics_.alerts_by_rule[alert.rule_id()];
  alerts_.push_back(std::move(alert));
}

std::vector<v1::Alert> Processor::TakeAlerts() { return std::exchange(alerts_, {}); }

std::vector<DeadLetter> Processor::TakeDeadLetters() { return std::exchange(dead_letters_, {}); }

void Processor::SaveProgress(SourcePartition source, uint32_t scope, int64_t next_offset) {
  state::PartitionProgress progress;
  progress.set_next_offset(next_offset);
  progress.set_has_events(watermarks_.HasEvents(source));
  progress.set_max_event_time_ms(watermarks_.MaxEventTime(source));
  std::string key(1, static_cast<char>(source.source));
  KeySpace(store_, ScopePrefix(scope, kProgress)).Save(key, progress);
}

std::optional<int64_t> Processor::LoadProgress(SourcePartition source, uint32_t scope) {
  // Load what the partition holds (events, timers) even if nothing new arrives, and note where
  // this stream of the scope is read from, so its duplicate-detection ids expire with that
  // partition's watermark even before an event of it arrives again.
  IndexFor(scope).sources[source.source] = source;
  state::PartitionProgress progress;
  std::string key(1, static_cast<char>(source.source));
  if (!KeySpace(store_, ScopePrefix(scope, kProgress)).Load(key, &progress)) return std::nullopt;
  if (progress.has_events()) watermarks_.Restore(source, progress.max_event_time_ms());
  return progress.next_offset();
}

void Processor::PrepareCheckpoint() {
  for (auto& [scope, index] : scopes_) {
    KeySpace buckets(store_, ScopePrefix(scope, kSeenByTime));
    for (const auto& key : index.unsaved) {
      auto bucket = index.seen_buckets.find(key);
      if (bucket == index.seen_buckets.end()) continue;
      ScopeIndex::SeenBucket& seen = bucket->second;
      std::string record = key;
      AppendU32(record, index.next_seen_record++);
      buckets.PutNew(record, std::string_view(seen.ids).substr(seen.saved));
      seen.saved = seen.ids.size();
      seen.records.push_back(std::move(record));
    }
    index.unsaved.clear();
    // A duplicate is recognised as long as it could still be accepted: keep an hour's ids until
    // the partition they came from would call an event of that hour too late.
    std::array<Millis, kStreamCount> horizon;
    for (int s = 0; s < kStreamCount; ++s) {
      const auto& source = index.sources[s];
      Millis watermark = source ? watermarks_.PartitionWatermark(*source) : kMinTime;
      horizon[s] = watermark == kMinTime ? kMinTime : watermark - time_.LatenessFor(static_cast<Stream>(s));
    }
    for (auto it = index.seen_buckets.begin(); it != index.seen_buckets.end();) {
      const int stream = it->first[0];
      const Millis bucket_end = ReadI64(std::string_view(it->first).substr(1)) + kSeenBucket;
      if (bucket_end > horizon[stream]) {
        ++it;
        continue;
      }
      std::string_view ids = it->second.ids;
      ForEachId(ids, [&](std::string_view id) {
        index.seen.erase(it->first.substr(0, 1) + std::string(id));
      });
      for (const std::string& record : it->second.records) buckets.Delete(record);
      it = index.seen_buckets.erase(it);
    }
  }
}

}  // namespace vigil
