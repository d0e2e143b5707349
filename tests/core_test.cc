// The new core (engine/runtime/core.h) with a tiny rule of its own: delivery order, ties, lateness,
// duplicates, timers, restarts over the same store, and the memory budget.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "events.pb.h"
#include "pipeline.h"
#include "rules_config.h"
#include "runtime/core.h"
#include "runtime/hold.h"
#include "runtime/seen_ids.h"
#include "state/byte_codec.h"

namespace vigil::testing {
namespace {

const Millis T0 = ParseTime("2026-03-01T00:00:00Z").value();
const SourcePartition kRoster0{0, 0};
const SourcePartition kAccess0{1, 0};
const SourcePartition kComplaint0{2, 0};

// What the test rule remembers of an officer: the events it saw.
class SeenState final : public RuleState {
 public:
  void Encode(std::string& out) const override {
    ByteWriter w(out);
    w.U64(refs.size());
    for (const Ref& r : refs) w.WriteRef(r);
  }
  bool Decode(std::string_view bytes) override {
    ByteReader r(bytes);
    uint64_t n;
    if (!r.U64(&n)) return false;
    refs.resize(n);
    for (Ref& ref : refs) {
      if (!r.ReadRef(&ref)) return false;
    }
    return r.done();
  }
  bool empty() const override { return refs.empty(); }
  size_t MemoryBytes() const override { return refs.capacity() * sizeof(Ref); }
  std::vector<Ref> refs;
};

// Logs every call ("E officer id", "T officer at tag", "R officer shifts") and obeys commands in
// an access event's case_ref, comma-separated: "timer:N" (SetTimer(time + N, 7)), "cleanup:N"
// (ScheduleCleanup(time + N, 1)), "alert" (an alert citing every event seen so far, which it then
// forgets). A decision timer (tag 7) alerts likewise if the officer has events.
class LogRule final : public Rule {
 public:
  explicit LogRule(std::vector<std::string>* log,
                   uint32_t streams = StreamBit(Stream::kRoster) | StreamBit(Stream::kAccess) |
                                      StreamBit(Stream::kComplaint))
      : log_(log), streams_(streams) {}
  const RuleInfo& info() const override { return info_; }
  uint32_t streams() const override { return streams_; }
  std::unique_ptr<RuleState> NewState() const override { return std::make_unique<SeenState>(); }

  void OnEvent(const EventView& event, RuleContext& ctx) const override {
    log_->push_back("E " + std::string(ctx.officer_id()) + " " + std::string(event.event_id));
    if (event.is_roster()) {
      std::vector<EffectiveShiftView> shifts;
      ctx.roster().ShiftsAsOf(kMaxTime, &shifts);
      log_->push_back("R " + std::string(ctx.officer_id()) + " " + std::to_string(shifts.size()));
    }
    SeenState& state = ctx.Mutable<SeenState>();
    state.refs.push_back(RefOf(event));
    std::string_view commands = event.case_ref;
    while (!commands.empty()) {
      const size_t comma = commands.find(',');
      std::string command(commands.substr(0, comma));
      commands = comma == std::string_view::npos ? "" : commands.substr(comma + 1);
      if (command.rfind("timer:", 0) == 0) {
        ctx.SetTimer(event.time + std::stoll(command.substr(6)), 7);
      } else if (command.rfind("cleanup:", 0) == 0) {
        ctx.ScheduleCleanup(event.time + std::stoll(command.substr(8)), 1);
      } else if (command == "alert") {
        Alert(ctx, state);
      }
    }
  }
  void OnTimer(Millis at, uint32_t tag, RuleContext& ctx) const override {
    log_->push_back("T " + std::string(ctx.officer_id()) + " " + std::to_string((at - T0) / kMinute) +
                    " " + std::to_string(tag));
    if (tag != 7) return;
    const SeenState* seen = ctx.Find<SeenState>();
    if (seen && !seen->empty()) Alert(ctx, ctx.Mutable<SeenState>());
  }

 private:
  static void Alert(RuleContext& ctx, SeenState& state) {
    RuleAlert alert;
    alert.rule_id = "log_rule";
    alert.officer_id = std::string(ctx.officer_id());
    alert.summary = "test";
    SetCounted(alert, state.refs);
    ctx.Emit(std::move(alert));
    state.refs.clear();
  }
  RuleInfo info_{"log_rule", v1::Alert::MISCONDUCT, "test"};
  std::vector<std::string>* log_;
  uint32_t streams_;
};

// One event's record bytes and a view into them, as a decoder would give.
struct TestEvent {
  std::string bytes;
  EventView view;
};

TestEvent MakeEvent(Stream stream, const std::string& id, const std::string& officer, Millis t,
                    const std::string& case_ref = "", int64_t offset = -1) {
  TestEvent e;
  e.bytes = id + "|" + officer + "|" + case_ref + "|S1";
  e.view.stream = stream;
  e.view.time = t;
  const char* p = e.bytes.data();
  e.view.event_id = std::string_view(p, id.size());
  e.view.officer_id = std::string_view(p + id.size() + 1, officer.size());
  e.view.case_ref = std::string_view(p + id.size() + officer.size() + 2, case_ref.size());
  if (stream == Stream::kRoster) {
    e.view.shift_id = std::string_view(p + e.bytes.size() - 2, 2);
    e.view.status = v1::RosterChange::REST_DAY;
    e.view.start = t;
    e.view.end = t + kHour;
  }
  e.view.offset = offset;
  e.view.partition = offset >= 0 ? 0 : -1;
  return e;
}

// A core with one LogRule over a store, fed one event at a time (Advance after each).
struct Run {
  explicit Run(std::unique_ptr<KvBackend> backend, CoreOptions options = {})
      : store(std::make_unique<StateStore>(std::move(backend))) {
    options.rules_version = "v-test";
    std::vector<std::unique_ptr<Rule>> rules;
    rules.push_back(std::make_unique<LogRule>(&log));
    core = std::make_unique<Core>(*store, DefaultRulesConfig(), std::move(rules), options);
    // Idle until their first event: a stream the test does not feed holds nothing back.
    for (SourcePartition p : {kRoster0, kAccess0, kComplaint0}) core->watermarks().SetIdle(p);
  }
  void Feed(Stream stream, const std::string& id, const std::string& officer, Millis t,
            const std::string& case_ref = "", int64_t offset = -1) {
    TestEvent e = MakeEvent(stream, id, officer, t, case_ref, offset);
    e.view.source = e.bytes;  // as DecodeEventView marks its views: the hold copies them unchecked
    const SourcePartition source{static_cast<int32_t>(stream), 0};
    const std::string value = e.bytes;
    core->Ingest(e.view, e.bytes, source, 0, {officer, value, "vigil.access", 0, offset});
    std::fill(e.bytes.begin(), e.bytes.end(), '#');  // the core must have copied what it keeps
    Advance();
  }
  void Access(const std::string& id, const std::string& officer, Millis t,
              const std::string& case_ref = "") {
    Feed(Stream::kAccess, id, officer, t, case_ref);
  }
  void Advance() {
    core->Advance();
    Collect();
  }
  void Finish() {
    for (SourcePartition p : {kRoster0, kAccess0, kComplaint0}) core->watermarks().SetIdle(p);
    core->Finish();
    Collect();
  }
  void Checkpoint() {
    core->PrepareCheckpoint();
    store->Checkpoint(true);
  }
  void Collect() {
    for (auto& a : core->TakeAlerts()) alerts.push_back(std::move(a));
  }
  std::vector<std::string> Events() const {  // the log without timer and roster lines
    std::vector<std::string> out;
    for (const auto& line : log) {
      if (line[0] == 'E') out.push_back(line);
    }
    return out;
  }
  std::vector<std::string> log;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<Core> core;
  std::vector<v1::Alert> alerts;
};

}  // namespace

TEST_CASE("Core: events are delivered in event-time order once the watermark passes them") {
  Run r(NewMemoryBackend());
  r.Access("a3", "MP1", T0 + 3 * kMinute);
  r.Access("a1", "MP1", T0 + 1 * kMinute);
  r.Access("a2", "MP2", T0 + 2 * kMinute);
  CHECK(r.log.empty());  // watermark T0 - 2 min
  r.Access("z", "MP1", T0 + 20 * kMinute);
  CHECK(r.log == std::vector<std::string>{"E MP1 a1", "E MP2 a2", "E MP1 a3"});
  // Behind the watermark (T0 + 15 min) but within allowed lateness: delivered at the next Advance.
  r.log.clear();
  r.core->Ingest(MakeEvent(Stream::kAccess, "late", "MP3", T0).view,
                 MakeEvent(Stream::kAccess, "late", "MP3", T0).bytes, kAccess0, 0, {});
  CHECK(r.core->metrics().late_accepted == 1);  // its views point elsewhere: copied all the same
  CHECK(r.log.empty());
  r.Advance();
  CHECK(r.log == std::vector<std::string>{"E MP3 late"});
  r.Finish();
  CHECK(r.log.back() == "E MP1 z");
  CHECK(r.core->metrics().events_in[1] == 5);
}

TEST_CASE("Core: a scope not owned waits, whatever the others' event time; owned again, it goes on") {
  Run r(NewMemoryBackend());
  const SourcePartition kAccess1{1, 1};
  TestEvent held = MakeEvent(Stream::kAccess, "b1", "MP2", T0 + kMinute, "timer:60000");
  held.view.source = held.bytes;
  r.core->Ingest(held.view, held.bytes, kAccess1, 1, {"MP2", held.bytes, "vigil.access", 1, -1});
  // As the live engine does when it loses scope 1's partition (or refuses it).
  r.core->SetScopeOwned(1, false);
  r.core->watermarks().Untrack(kAccess1);
  r.Access("a1", "MP1", T0 + kDay);  // scope 0's event time passes b1 and its timer
  r.Access("a2", "MP1", T0 + 2 * kDay);
  CHECK(r.log == std::vector<std::string>{"E MP1 a1"});
  r.core->SetScopeOwned(1, true);
  r.Advance();
  CHECK(r.log == std::vector<std::string>{"E MP1 a1", "E MP2 b1", "T MP2 2 7"});
}

TEST_CASE("Core: a late event is counted and delivered on the next Advance") {
  Run r(NewMemoryBackend());
  r.Access("a", "MP1", T0 + 20 * kMinute);
  r.Access("b", "MP1", T0 + 40 * kMinute);  // watermark T0 + 35 min
  r.Access("late", "MP1", T0 + 30 * kMinute);
  CHECK(r.core->metrics().late_accepted == 1);
  CHECK(r.Events() == std::vector<std::string>{"E MP1 a", "E MP1 late"});
}

TEST_CASE("Core: equal times: events before timers, then event_id, then stream") {
  Run r(NewMemoryBackend());
  r.Access("e1", "MP1", T0, "timer:60000");         // timer at T0 + 1 min
  r.Access("x", "MP1", T0 + kMinute);               // same time as the timer
  r.Access("b", "MP2", T0 + 2 * kMinute);
  r.Access("a", "MP2", T0 + 2 * kMinute);
  r.Feed(Stream::kComplaint, "a", "MP2", T0 + 2 * kMinute);  // same id, another stream
  r.Feed(Stream::kRoster, "a", "MP2", T0 + 2 * kMinute);
  r.Finish();
  CHECK(r.log == std::vector<std::string>{"E MP1 e1", "E MP1 x", "T MP1 1 7", "E MP2 a", "R MP2 1",
                                          "E MP2 a", "E MP2 a", "E MP2 b"});
  // The roster event came first among the three "a"s (stream order), so it logged R.
  REQUIRE(r.alerts.size() == 1);
  CHECK(r.alerts[0].evidence_size() == 2);
  CHECK(r.alerts[0].rules_version() == "v-test");
}

TEST_CASE("Core: too late is dead-lettered with the record's origin") {
  Run r(NewMemoryBackend());
  r.Access("a", "MP1", T0 + 2 * kDay);
  TestEvent old = MakeEvent(Stream::kAccess, "old", "MP1", T0, "", 17);
  r.core->Ingest(old.view, old.bytes, kAccess0, 0, {"MP1", "raw-bytes", "vigil.access", 3, 17});
  TestEvent line = MakeEvent(Stream::kAccess, "old2", "MP1", T0);
  r.core->Ingest(line.view, line.bytes, kAccess0, 0, {"MP1", "{json}", "events.ndjson", -1, 5});
  CHECK(r.core->metrics().too_late == 2);
  std::vector<DeadLetter> letters = r.core->TakeDeadLetters();
  REQUIRE(letters.size() == 2);
  CHECK(letters[0].key == "MP1");
  CHECK(letters[0].value == "raw-bytes");
  CHECK(letters[0].reason == "too_late");
  CHECK(letters[0].source == "vigil.access/3/17");
  CHECK(letters[1].source == "events.ndjson:5");
  // Within lateness (a day behind the watermark): accepted.
  r.Access("ok", "MP1", T0 + kDay - 5 * kMinute + 1);
  CHECK(r.core->metrics().too_late == 2);
}

TEST_CASE("Core: duplicates are dropped exactly, per stream") {
  Run r(NewMemoryBackend());
  r.Access("a", "MP1", T0);
  r.Access("a", "MP1", T0);
  r.Access("a", "MP2", T0 + kMinute);  // same id, other officer: a duplicate all the same
  r.Feed(Stream::kComplaint, "a", "MP1", T0);
  r.Access("ab", "MP1", T0);
  r.Finish();
  CHECK(r.core->metrics().duplicates == 2);
  CHECK(r.Events() == std::vector<std::string>{"E MP1 a", "E MP1 a", "E MP1 ab"});
}

TEST_CASE("SeenIds: a fingerprint collision is told apart by the id's bytes") {
  SeenIds seen([](uint8_t, std::string_view) -> uint64_t { return 42; });
  CHECK_FALSE(seen.SeenOrAdd(1, "a", T0));
  CHECK_FALSE(seen.SeenOrAdd(1, "b", T0));
  CHECK_FALSE(seen.SeenOrAdd(2, "a", T0));
  CHECK_FALSE(seen.SeenOrAdd(1, "c", T0 + 2 * kHour));
  CHECK(seen.SeenOrAdd(1, "a", T0));
  CHECK(seen.SeenOrAdd(1, "b", T0 + kDay));
  CHECK(seen.SeenOrAdd(1, "c", T0));
  CHECK(seen.size() == 4);
  StateStore store(NewMemoryBackend());
  KeySpace space(store, "seen");
  seen.Save(space);
  // The first hour expires: its ids are forgotten, the others' probe chains still work.
  seen.Expire({kMinTime, T0 + kHour, kMinTime}, space);
  CHECK(seen.size() == 2);
  CHECK(seen.SeenOrAdd(1, "c", T0));
  CHECK(seen.SeenOrAdd(2, "a", T0));
  CHECK_FALSE(seen.SeenOrAdd(1, "a", T0 + 3 * kHour));
  SeenIds loaded([](uint8_t, std::string_view) -> uint64_t { return 42; });
  seen.Save(space);
  loaded.Load(space);
  CHECK(loaded.size() == 3);
  CHECK(loaded.SeenOrAdd(1, "a", T0));
  CHECK(loaded.SeenOrAdd(1, "c", T0));
  CHECK_FALSE(loaded.SeenOrAdd(1, "b", T0));
}

TEST_CASE("SeenIds: many ids, expiry and a real hash") {
  SeenIds seen;
  StateStore store(NewMemoryBackend());
  KeySpace space(store, "seen");
  for (int i = 0; i < 5000; ++i) CHECK_FALSE(seen.SeenOrAdd(1, "id" + std::to_string(i), T0 + i * kMinute));
  for (int i = 0; i < 5000; i += 7) CHECK(seen.SeenOrAdd(1, "id" + std::to_string(i), T0));
  seen.Expire({kMinTime, T0 + 2500 * kMinute, kMinTime}, space);
  int kept = 0;
  for (int i = 0; i < 5000; ++i) kept += seen.SeenOrAdd(1, "id" + std::to_string(i), T0 + i * kMinute);
  CHECK(kept == 5000 - 2460);  // the 41 hours ending by minute 2500 are forgotten
}

TEST_CASE("Core: the same timer set twice fires once; a timer in the past fires at once") {
  Run r(NewMemoryBackend());
  r.Access("e1", "MP1", T0, "timer:120000");              // T0 + 2 min
  r.Access("e2", "MP1", T0 + kMinute, "timer:60000");      // T0 + 2 min again
  r.Access("e3", "MP1", T0 + kMinute + 1, "timer:-600001");  // T0 - 9 min: behind the watermark
  r.Finish();
  CHECK(r.log == std::vector<std::string>{"E MP1 e1", "E MP1 e2", "E MP1 e3", "T MP1 -9 7",
                                          "T MP1 2 7"});
  REQUIRE(r.alerts.size() == 1);  // the second timer found nothing left
  CHECK(r.alerts[0].evidence_size() == 3);
}

TEST_CASE("Core: cleanup timers fire by the hour, and not at the end of a bounded run") {
  Run r(NewMemoryBackend());
  r.Access("e1", "MP1", T0 + 10 * kMinute, "cleanup:1000");   // T0 + 1 h
  r.Access("e2", "MP1", T0 + 20 * kMinute, "cleanup:60000");  // also T0 + 1 h: once
  r.Access("e3", "MP1", T0 + 2 * kHour, "cleanup:1000");      // T0 + 3 h, left at the end
  r.Access("e4", "MP1", T0 + 2 * kHour + kMinute, "timer:1000");
  r.Finish();
  CHECK(r.log == std::vector<std::string>{"E MP1 e1", "E MP1 e2", "T MP1 60 1", "E MP1 e3",
                                          "E MP1 e4", "T MP1 121 7"});
}

// A scenario in two halves, with a checkpoint between; `restart` starts a new core (and store)
// over the same database there, `budget` bounds the memory of the records.
std::vector<std::string> RunScenario(bool restart, size_t budget, uint64_t* reloaded = nullptr,
                                     std::vector<std::string>* log = nullptr) {
  TempDir dir("vigil-core-test-");
  CoreOptions options;
  options.memory_budget_bytes = budget;
  auto run = std::make_unique<Run>(OpenRocksBackend(dir.path(), RocksOptions{}), options);
  std::vector<v1::Alert> alerts;
  std::vector<std::string> lines;
  auto feed_half = [&](int half) {
    for (int i = 0; i < 40; ++i) {
      const int n = half * 40 + i;
      const std::string officer = "MP" + std::to_string(n % 7);
      const Millis t = T0 + n * 3 * kMinute + (n % 3) * kMinute;
      std::string cmd = n % 5 == 0 ? "timer:" + std::to_string(kHour) : "";
      if (n % 11 == 0) cmd += cmd.empty() ? "cleanup:1" : ",cleanup:1";
      if (n % 13 == 0) cmd += cmd.empty() ? "alert" : ",alert";
      if (n % 9 == 4) {
        run->Feed(Stream::kRoster, "r" + std::to_string(n), officer, t);
      } else {
        run->Access("a" + std::to_string(n), officer, t, cmd);
      }
      if (n % 6 == 0) run->Access("a" + std::to_string(n - 1), officer, t);  // a duplicate
      if (n % 8 == 7) run->Checkpoint();
    }
  };
  feed_half(0);
  for (SourcePartition p : {kRoster0, kAccess0, kComplaint0}) run->core->SaveProgress(p, 0, 40);
  run->Checkpoint();
  for (const auto& l : run->log) lines.push_back(l);
  if (restart) {
    alerts = std::move(run->alerts);
    run.reset();
    run = std::make_unique<Run>(OpenRocksBackend(dir.path(), RocksOptions{}), options);
    CHECK(run->core->LoadProgress(kAccess0, 0) == std::optional<int64_t>(40));
    for (SourcePartition p : {kRoster0, kComplaint0}) run->core->LoadProgress(p, 0);
  } else {
    run->log.clear();
  }
  feed_half(1);
  run->Finish();
  for (auto& a : run->alerts) alerts.push_back(std::move(a));
  for (const auto& l : run->log) lines.push_back(l);
  if (reloaded) *reloaded = run->core->records_reloaded();
  if (log) *log = lines;
  std::vector<std::string> ids;
  for (const auto& a : alerts) ids.push_back(a.alert_id() + " " + std::to_string(a.evidence_size()));
  CHECK(run->core->metrics().duplicates > 0);
  return ids;
}

TEST_CASE("Core: a restart over the same store continues exactly") {
  std::vector<std::string> log_straight, log_restarted;
  const std::vector<std::string> straight = RunScenario(false, 0, nullptr, &log_straight);
  const std::vector<std::string> restarted = RunScenario(true, 0, nullptr, &log_restarted);
  CHECK(straight.size() > 5);
  CHECK(straight == restarted);
  CHECK(log_straight == log_restarted);
}

TEST_CASE("Core: under a memory budget, dropped records are read back with the same results") {
  std::vector<std::string> log_free, log_bounded;
  const std::vector<std::string> free = RunScenario(false, 0, nullptr, &log_free);
  uint64_t reloaded = 0;
  const std::vector<std::string> bounded = RunScenario(false, 1, &reloaded, &log_bounded);
  CHECK(reloaded > 10);
  CHECK(free == bounded);
  CHECK(log_free == log_bounded);
  const std::vector<std::string> both = RunScenario(true, 1, &reloaded);
  CHECK(free == both);
}

TEST_CASE("Core: over the budget with only changed records, a snapshot is wanted; after it they leave") {
  CoreOptions options;
  options.memory_budget_bytes = 1;  // every record over it
  TempDir dir("vigil-core-test-");
  Run run(OpenRocksBackend(dir.path(), RocksOptions{}), options);
  // More events than one budget check's interval, over 50 officers, none yet written.
  const int kEvents = 5000;
  for (int i = 0; i < kEvents; ++i) {
    run.Access("a" + std::to_string(i), "MP" + std::to_string(i % 50), T0 + i * kSecond);
  }
  CHECK(run.core->SnapshotWanted());
  CHECK(run.core->records_reloaded() == 0);  // nothing could leave
  run.Checkpoint();
  // Written, they leave memory at once (the snapshot's own budget check), and come back on use.
  CHECK_FALSE(run.core->SnapshotWanted());
  run.Access("b1", "MP1", T0 + (kEvents + 600) * kSecond);
  run.Finish();
  CHECK(run.core->records_reloaded() > 0);
}

TEST_CASE("Core: without a budget, or inside it, no snapshot is wanted") {
  CoreOptions inside;
  inside.memory_budget_bytes = 1ULL << 30;
  for (CoreOptions options : {CoreOptions{}, inside}) {
    Run run(NewMemoryBackend(), options);
    for (int i = 0; i < 5000; ++i) {
      run.Access("a" + std::to_string(i), "MP" + std::to_string(i % 50), T0 + i * kSecond);
    }
    CHECK_FALSE(run.core->SnapshotWanted());
  }
}

TEST_CASE("Core: a held event survives a checkpoint and restart byte for byte") {
  TestEvent e = MakeEvent(Stream::kRoster, "r1", "MP1", T0, "", 9);
  e.view.unit = "U";  // outside the record bytes: copied too
  e.view.lat = 51.5;
  std::string encoded;
  Hold::EncodeEvent(e.view, encoded);
  EventView back;
  REQUIRE(Hold::DecodeEvent(encoded, &back));
  CHECK(back.event_id == "r1");
  CHECK(back.unit == "U");
  CHECK(back.shift_id == "S1");
  CHECK(back.lat == 51.5);
  CHECK(back.offset == 9);
  CHECK(back.end == T0 + kHour);
  Hold hold;
  hold.Add(e.view, e.bytes);
  std::fill(e.bytes.begin(), e.bytes.end(), '#');
  CHECK(hold.Front().unit == "U");
  CHECK(hold.Front().officer_id == "MP1");
}

TEST_CASE("BuildRuleAlert: the old BuildAlert's id, evidence capped, topics by stream") {
  // The id the old core's BuildAlert gave rule r, officer MP1, subject S and events e1..e60,
  // pinned: an alert's id must not change with the core.
  RuleAlert alert;
  alert.rule_id = "r";
  alert.officer_id = "MP1";
  alert.subject_id = "S";
  for (int i = 60; i > 0; --i) {
    Ref ref;
    ref.event_id.Assign("e" + std::to_string(i));
    ref.time = T0 + i;
    ref.stream = static_cast<uint8_t>(i % 2 ? Stream::kAccess : Stream::kComplaint);
    ref.partition = i % 3 ? 2 : -1;
    ref.offset = i % 3 ? i : -1;
    alert.evidence.push_back(ref);
  }
  Topics topics;
  v1::Alert built = BuildRuleAlert(alert, topics);
  CHECK(built.alert_id() == "d40f6c0b998432ea9688f9adb767168a");
  REQUIRE(built.evidence_size() == 50);
  CHECK(built.evidence(0).event_id() == "e60");
  CHECK(built.evidence(0).topic() == "vigil.complaints");
  CHECK(built.evidence(1).topic() == "vigil.access");
  CHECK(built.evidence(0).partition() == 0);  // 60 % 3 == 0: not set
  CHECK(built.evidence(0).offset() == 0);
  CHECK(built.evidence(1).partition() == 2);
  CHECK(built.evidence(1).offset() == 59);
}

}  // namespace vigil::testing
