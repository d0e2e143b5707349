// rulekit::CountWindow (the new core's sliding count window): the contract's inclusive windows,
// ties by event_id and re-alert rule; its state's encoding; the one pending cleanup.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "rule_runner.h"
#include "state/kv_backend.h"
#include "runtime/core.h"
#include "state/state_store.h"
#include "registry.h"
#include "rules_config.h"
#include "rulekit/count_window.h"

namespace vigil {
namespace {

using testing::RuleRunner;

using rulekit::CountWindowState;

Ref R(const std::string& id, Millis time) {
  Ref ref;
  ref.event_id.Assign(id);
  ref.time = time;
  ref.stream = static_cast<uint8_t>(Stream::kAccess);
  return ref;
}

std::vector<std::string> Ids(const std::vector<Ref>& refs) {
  std::vector<std::string> ids;
  for (const Ref& r : refs) ids.push_back(r.event_id.str());
  return ids;
}

// Adds and returns the counted ids of an alert, or nothing.
std::vector<std::string> Add(const rulekit::CountWindow& w, CountWindowState& s, const Ref& r) {
  std::vector<Ref> counted;
  return w.Add(s, r, &counted) ? Ids(counted) : std::vector<std::string>{};
}

// A RuleContext with a settable watermark that records the cleanups asked for.
class FakeContext final : public RuleContext {
 public:
  Millis now = 0;
  std::vector<Millis> cleanups;

  std::string_view officer_id() const override { return "MP1"; }
  void SetTimer(Millis, uint32_t) override {}
  void ScheduleCleanup(Millis at, uint32_t) override { cleanups.push_back(at); }
  void Emit(RuleAlert) override {}
  const OfficerRoster& roster() override { return roster_; }
  Millis watermark() const override { return now; }
  const TimeSettings& time() const override { return time_; }

 protected:
  const RuleState* FindState() override { return nullptr; }
  RuleState& MutableState() override { throw std::logic_error("no state in FakeContext"); }

 private:
  OfficerRoster roster_;
  TimeSettings time_{};
};

EventView Lookup(std::string_view id, Millis t, std::string_view subject,
                 std::string_view case_ref = "") {
  EventView e;
  e.stream = Stream::kAccess;
  e.time = t;
  e.event_id = id;
  e.officer_id = "MP1";
  e.action = v1::AccessEvent::SEARCH;
  e.subject_id = subject;
  e.case_ref = case_ref;
  return e;
}

EventView Complaint(std::string_view id, Millis t, int32_t category) {
  EventView e;
  e.stream = Stream::kComplaint;
  e.time = t;
  e.event_id = id;
  e.officer_id = "MP1";
  e.complaint_id = id;
  e.category = category;
  return e;
}

std::vector<std::string> AlertIds(const std::vector<RuleAlert>& alerts) {
  std::vector<std::string> out;
  for (const RuleAlert& a : alerts) {
    out.push_back(a.subject_id + ":" + Ids(a.evidence).front() + ".." + Ids(a.evidence).back());
  }
  return out;
}

}  // namespace

TEST_CASE("count_window_next: min_count events within the window, inclusive, fire") {
  rulekit::CountWindow w(10, 3);
  CountWindowState s;
  CHECK(Add(w, s, R("a", 0)).empty());
  CHECK(Add(w, s, R("b", 5)).empty());
  CHECK(Add(w, s, R("c", 10)) == std::vector<std::string>{"a", "b", "c"});
  CHECK(s.has_alert);
  CHECK(s.last_alert_end == 10);
  CHECK(s.events.empty());  // all consumed by the alert
  CHECK(!s.empty());        // the alert's end still keeps late events from counting

  CountWindowState t;
  Add(w, t, R("a", 0));
  Add(w, t, R("b", 5));
  CHECK(Add(w, t, R("c", 11)).empty());  // 11 - 0 > 10
  CHECK(Add(w, t, R("d", 12)) == std::vector<std::string>{"b", "c", "d"});  // the window slides
}

TEST_CASE("count_window_next: after an alert, events up to its window_end do not count again") {
  rulekit::CountWindow w(100, 2);
  CountWindowState s;
  Add(w, s, R("a", 0));
  CHECK(Add(w, s, R("b", 10)) == std::vector<std::string>{"a", "b"});
  CHECK(Add(w, s, R("late", 10)).empty());  // at the alert's end (id after "b"): consumed
  CHECK(Add(w, s, R("c", 20)).empty());
  CHECK(Add(w, s, R("d", 30)) == std::vector<std::string>{"c", "d"});
}

TEST_CASE("count_window_next: ties in time are ordered by event_id; later ids do not count") {
  rulekit::CountWindow w(0, 2);
  CountWindowState s;
  CHECK(Add(w, s, R("b", 5)).empty());
  // "a" sorts before "b": at a's decision only a itself counts.
  CHECK(Add(w, s, R("a", 5)).empty());
  CHECK(Add(w, s, R("c", 5)) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("count_window_next: a late event decides with the events before it only") {
  rulekit::CountWindow w(10, 3);
  CountWindowState s;
  Add(w, s, R("a", 0));
  Add(w, s, R("c", 20));
  CHECK(Add(w, s, R("b", 5)).empty());  // a, b before it; c is after
  CHECK(Add(w, s, R("d", 8)) == std::vector<std::string>{"a", "b", "d"});
  CHECK(Ids(s.events) == std::vector<std::string>{"c"});  // up to the alert's end consumed
}

TEST_CASE("count_window_next: Expire drops what no later decision can count") {
  rulekit::CountWindow w(10, 3);
  CountWindowState s;
  Add(w, s, R("a", 0));
  Add(w, s, R("b", 5));
  CHECK(!w.Expire(s, 10));  // a future event at 10 still counts a (10 - 0 <= 10)
  CHECK(s.events.size() == 2);
  CHECK(!w.Expire(s, 11));
  CHECK(Ids(s.events) == std::vector<std::string>{"b"});
  CHECK(w.ExpiryTime(s, 3) == 5 + 10 + 3);
  CHECK(w.Expire(s, 16));
  CHECK(s.empty());

  CountWindowState alerted;
  Add(w, alerted, R("a", 0));
  Add(w, alerted, R("b", 1));
  Add(w, alerted, R("c", 2));
  CHECK(!w.Expire(alerted, 2));  // a late event at 2 must not count
  CHECK(w.ExpiryTime(alerted, 0) == 12);
  CHECK(w.Expire(alerted, 3));
  CHECK(alerted.empty());
  CHECK(alerted.last_alert_end == 0);  // fresh, as a forgotten window
}

TEST_CASE("count_window_next: Encode/Decode round trip; damaged bytes are refused") {
  rulekit::CountWindow w(1000, 5);
  CountWindowState s;
  Ref far = R(std::string(40, 'x'), -7);  // a heap id and a time before 1970
  far.partition = 3;
  far.offset = 123456789;
  Add(w, s, far);
  Add(w, s, R("e1", 100));
  Add(w, s, R("e0", 100));
  s.has_alert = true;
  s.last_alert_end = -50;
  std::string bytes;
  ByteWriter writer(bytes);
  s.Encode(writer);

  CountWindowState back;
  ByteReader reader(bytes);
  REQUIRE(back.Decode(reader));
  CHECK(reader.done());
  CHECK(back.has_alert);
  CHECK(back.last_alert_end == -50);
  REQUIRE(back.events.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(back.events[i].event_id == s.events[i].event_id);
    CHECK(back.events[i].time == s.events[i].time);
    CHECK(back.events[i].offset == s.events[i].offset);
    CHECK(back.events[i].partition == s.events[i].partition);
    CHECK(back.events[i].stream == s.events[i].stream);
  }
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    CountWindowState damaged;
    ByteReader short_reader(std::string_view(bytes).substr(0, cut));
    CHECK(!damaged.Decode(short_reader));
  }
}

TEST_CASE("count_window_next: one cleanup pending at a time") {
  FakeContext ctx;
  rulekit::PendingCleanup cleanup;
  ctx.now = 100;
  cleanup.Need(500, ctx);
  cleanup.Need(700, ctx);  // the pending one at 500 comes first
  CHECK(ctx.cleanups == std::vector<Millis>{500});
  cleanup.Need(300, ctx);  // earlier: a second one
  CHECK(ctx.cleanups == std::vector<Millis>{500, 300});
  cleanup.Fired(300);
  cleanup.Need(800, ctx);
  CHECK(ctx.cleanups == std::vector<Millis>{500, 300, 800});
  cleanup.Fired(500);  // the stale timer at 500 changes nothing
  cleanup.Need(900, ctx);
  CHECK(ctx.cleanups.size() == 3);
}

TEST_CASE("count_window_next: the horizon is never past the event or timer being handled") {
  FakeContext ctx;
  ctx.now = kMaxTime;  // the end of a bounded run releases events far behind the watermark
  CHECK(rulekit::Horizon(50, ctx, kDay) == 50);
  ctx.now = 10 * kDay;
  CHECK(rulekit::Horizon(10 * kDay, ctx, kDay) == 9 * kDay);
}

TEST_CASE("count_window_next: repeated_subject_lookup keeps every subject of an officer apart") {
  RuleRunner run(kRepeatedSubjectLookupRule, /*reencode=*/false);
  const Millis t0 = ParseTime("2026-03-01T08:00:00Z").value();
  run.Feed(Lookup("a1", t0, "P1"));
  run.Feed(Lookup("b1", t0 + kHour, "P2"));
  run.Feed(Lookup("a2", t0 + 2 * kDay, "P1"));
  run.Feed(Lookup("x", t0 + 3 * kDay, "P1", "CASE-1"));  // a case reference: not counted
  run.Feed(Lookup("b2", t0 + 4 * kDay, "P2"));
  run.Feed(Lookup("a3", t0 + 9 * kDay, "P1"));
  REQUIRE(run.alerts().size() == 1);
  const RuleAlert& a = run.alerts()[0];
  CHECK(a.rule_id == "repeated_subject_lookup");
  CHECK(a.officer_id == "MP1");
  CHECK(a.subject_id == "P1");
  CHECK(a.severity == v1::Alert::MEDIUM);
  CHECK(Ids(a.evidence) == std::vector<std::string>{"a1", "a2", "a3"});
  CHECK(a.score == 3);
  CHECK(a.summary ==
        "Officer MP1 made 3 look-ups of subject P1 without a case reference in 9 days "
        "(2026-03-01T08:00:00Z to 2026-03-10T08:00:00Z).");
  run.Feed(Lookup("b3", t0 + 20 * kDay, "P2"));
  REQUIRE(run.alerts().size() == 2);
  CHECK(Ids(run.alerts()[1].evidence) == std::vector<std::string>{"b1", "b2", "b3"});
  // Once every window has expired, the cleanup leaves nothing behind.
  run.FireTimersBefore(kMaxTime);
  CHECK(run.state() == nullptr);
}

// A year of look-ups of a few subjects: the same alerts through Encode/Decode after every call,
// state freed at the end, and about one cleanup timer per window's life, not one per event.
TEST_CASE("count_window_next: repeated_subject_lookup's state survives re-encoding; few timers") {
  std::mt19937 random(7);
  const Millis t0 = ParseTime("2026-01-01T00:00:00Z").value();
  std::vector<std::string> ids, subjects;
  std::vector<Millis> times;
  Millis t = t0;
  for (int i = 0; i < 2000; ++i) {
    t += static_cast<Millis>(random() % (8 * kHour));
    times.push_back(t);
    ids.push_back("e" + std::to_string(i));
    subjects.push_back("P" + std::to_string(random() % 40));
  }
  RuleRunner plain(kRepeatedSubjectLookupRule, false), reencoded(kRepeatedSubjectLookupRule, true);
  for (size_t i = 0; i < ids.size(); ++i) {
    plain.Feed(Lookup(ids[i], times[i], subjects[i]));
    reencoded.Feed(Lookup(ids[i], times[i], subjects[i]));
  }
  CHECK(plain.alerts().size() > 50);
  CHECK(AlertIds(plain.alerts()) == AlertIds(reencoded.alerts()));
  plain.FireTimersBefore(kMaxTime);
  reencoded.FireTimersBefore(kMaxTime);
  CHECK(plain.state() == nullptr);
  CHECK(reencoded.state() == nullptr);
  CHECK(plain.cleanups_scheduled() < ids.size() / 10);
}

TEST_CASE("count_window_next: complaint rules count their categories and word it as before") {
  const Millis t0 = ParseTime("2026-01-10T09:00:00Z").value();
  RuleRunner all(kComplaintAccumulationRule, true), sensitive(kSensitiveComplaintPatternRule, true);
  const int32_t categories[] = {v1::Complaint::INCIVILITY, v1::Complaint::SEXUAL_MISCONDUCT,
                                v1::Complaint::ABUSE_OF_POSITION};
  const char* ids[] = {"c0", "c1", "c2"};
  for (int i = 0; i < 3; ++i) {
    const EventView c = Complaint(ids[i], t0 + i * 100 * kDay, categories[i]);
    all.Feed(c);
    sensitive.Feed(c);
  }
  REQUIRE(all.alerts().size() == 1);
  CHECK(all.alerts()[0].severity == v1::Alert::MEDIUM);
  CHECK(all.alerts()[0].summary ==
        "Officer MP1 received 3 complaints in 200 days (2026-01-10T09:00:00Z to "
        "2026-07-29T09:00:00Z), at least 3 within 365 days.");
  REQUIRE(sensitive.alerts().size() == 1);
  CHECK(sensitive.alerts()[0].severity == v1::Alert::HIGH);
  CHECK(Ids(sensitive.alerts()[0].evidence) == std::vector<std::string>{"c1", "c2"});
  CHECK(sensitive.alerts()[0].summary ==
        "Officer MP1 received 2 complaints of sexual misconduct or abuse of position in 100 days "
        "(2026-04-20T09:00:00Z to 2026-07-29T09:00:00Z).");
  all.FireTimersBefore(kMaxTime);
  CHECK(all.state() == nullptr);
}

namespace {

// Random event lines for the three count rules: three officers, four subjects, look-ups with and
// without case references, other actions, complaints of four categories; times on whole minutes
// (many ties), mostly within max_out_of_orderness of each other, some late within lateness.
std::vector<std::string> RandomCountLines(uint32_t seed, int n) {
  std::mt19937 random(seed);
  const char* actions[] = {"SEARCH", "RECORD_VIEW", "LOGIN", "SEARCH"};
  const char* categories[] = {"INCIVILITY", "SEXUAL_MISCONDUCT", "ABUSE_OF_POSITION", "OTHER"};
  Millis base = ParseTime("2026-01-01T00:00:00Z").value();
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    base += static_cast<Millis>(random() % (12 * 60)) * kMinute;
    Millis t = base - static_cast<Millis>(random() % 5) * kMinute;
    if (random() % 10 == 0) t = base - static_cast<Millis>(random() % (20 * 60)) * kMinute;
    const std::string id = "e" + std::to_string(i);
    const std::string officer = "MP" + std::to_string(random() % 3);
    if (random() % 6 == 0) {
      lines.push_back(testing::Complaint(id, officer, "C" + std::to_string(random() % 5),
                                         categories[random() % 4], FormatTime(t)));
    } else {
      lines.push_back(testing::Access(id, officer, FormatTime(t), actions[random() % 4],
                                      "P" + std::to_string(random() % 4),
                                      random() % 5 == 0 ? "CASE-1" : ""));
    }
  }
  return lines;
}

// The same lines through the new Core with the three count rules, as `vigil replay` feeds a file.
std::vector<v1::Alert> ReplayOnCore(const std::vector<std::string>& lines) {
  const v1::RulesConfig config = DefaultRulesConfig();
  std::vector<std::unique_ptr<Rule>> rules;
  for (const RuleDescriptor* d : {&kRepeatedSubjectLookupRule, &kComplaintAccumulationRule,
                                  &kSensitiveComplaintPatternRule}) {
    rules.push_back(d->make(config));
  }
  StateStore store(NewMemoryBackend());
  Core core(store, config, std::move(rules));
  const SourcePartition file{100, 0};
  core.watermarks().Track(file);
  std::vector<v1::Alert> alerts;
  int64_t line_number = 0;
  for (const std::string& line : lines) {
    auto envelope = ParseEventJson(line);
    REQUIRE(envelope.ok());
    const Stream stream = StreamOf(*envelope);
    const std::string bytes = EncodeEvent(*envelope);
    EventView view;
    REQUIRE(DecodeEventView(stream, bytes, &view).ok());
    core.Ingest(view, bytes, file, 0, {view.officer_id, line, "file", -1, ++line_number});
    core.Advance();
    for (auto& a : core.TakeAlerts()) alerts.push_back(std::move(a));
  }
  core.watermarks().SetIdle(file);
  core.Finish();
  for (auto& a : core.TakeAlerts()) alerts.push_back(std::move(a));
  CHECK(core.TakeDeadLetters().empty());
  return alerts;
}

// Every field of every alert but the rules version, sorted by alert id.
std::vector<std::string> AlertLines(std::vector<v1::Alert> alerts) {
  std::vector<std::string> out;
  for (v1::Alert& a : alerts) {
    a.clear_rules_version();
    out.push_back(ToJsonLine(a));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("count_window_next: the count rules give the same alerts through the harness as on a bare Core") {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const std::vector<std::string> lines = RandomCountLines(seed, 400);
    testing::Harness old_core;
    for (const std::string& line : lines) old_core.Feed(line);
    old_core.Finish();
    CHECK(old_core.dead_letters().empty());
    const auto expected = AlertLines(old_core.alerts());
    CHECK(expected.size() > 10);
    const auto got = AlertLines(ReplayOnCore(lines));
    CHECK(got.size() == expected.size());
    for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
      if (got[i] != expected[i]) {
        CHECK(got[i] == expected[i]);
        break;
      }
    }
  }
}

}  // namespace vigil
