// bradford_factor (WELFARE, LOW).
//
// A sick day is a UTC day whose 12:00 is covered by an effective SICK shift (as of that instant +
// roster_grace); a spell is a maximal run of consecutive sick days. B is evaluated on each sick day
// d: with S spells and D sick days within days d-(window_days-1) .. d (365 days; a spell that
// starts before the window counts), B = S x S x D. Alert when B >= threshold (250), unless this
// rule alerted for the officer on a day after d - cooldown_days (90). The window is day d.
//
// The new core's port of operators/bradford_factor.cc, with the same alerts. Each day is decided
// once, when the watermark passes its 12:00 + roster_grace (DayCounts). A roster version that
// arrives after that, within allowed lateness, still corrects the day's sick-day flag for the
// decisions of later days, but the day itself is not decided again.
//
// State per officer, one object: one bucket per decided day (bit 1: sick, bit 2: alerted that
// day) and the SICK version behind each sick day (the evidence), for as long as a later decision
// can look back to it.
#include <algorithm>
#include <set>
#include <string_view>

#include "registry.h"
#include "rulekit/day_counts.h"
#include "runtime/core.h"
#include "state/byte_codec.h"

namespace vigil {
namespace {

constexpr uint32_t kDecide = 0;   // timer at each day's 12:00 + roster grace
constexpr uint32_t kCleanup = 1;  // forgets days no decision can look back to
constexpr int64_t kSick = 1;
constexpr int64_t kAlerted = 2;
constexpr Millis kNoon = 12 * kHour;

class BradfordState final : public RuleState {
 public:
  rulekit::DayCounts days;  // bit flags kSick, kAlerted
  // One ref per sick day, its time set to the day (so ordered by day): the SICK version that made
  // it one. A version covering several days is there once per day.
  std::vector<Ref> evidence;

  void Encode(std::string& out) const override;
  bool Decode(std::string_view bytes) override;
  bool empty() const override { return days.empty() && evidence.empty(); }
  size_t MemoryBytes() const override;
};

void BradfordState::Encode(std::string& out) const {
  out.clear();
  ByteWriter w(out);
  days.Encode(w);
  w.U64(evidence.size());
  Millis base = 0;
  for (const Ref& ref : evidence) {
    w.WriteRef(ref, base);
    base = ref.time;
  }
}

bool BradfordState::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  uint64_t n;
  evidence.clear();
  if (!days.Decode(r) || !r.U64(&n) || n > bytes.size()) return false;
  evidence.resize(n);
  Millis base = 0;
  for (Ref& ref : evidence) {
    if (!r.ReadRef(&ref, base)) return false;
    base = ref.time;
  }
  return r.done();
}

size_t BradfordState::MemoryBytes() const {
  size_t bytes = days.MemoryBytes() + evidence.capacity() * sizeof(Ref);
  for (const Ref& ref : evidence) {
    if (ref.event_id.size() > IdString::kInline) bytes += ref.event_id.size();
  }
  return bytes;
}

class BradfordFactor final : public Rule {
 public:
  explicit BradfordFactor(const v1::RulesConfig& config)
      : config_(config.bradford_factor()),
        window_(config_.window_days()),
        retention_(std::max<Millis>(config_.window_days() - 1, config_.cooldown_days()) * kDay) {
    info_ = {"bradford_factor", v1::Alert::WELFARE,
             "A welfare prompt from the Bradford factor of sick leave: a sick day is a UTC day "
             "whose 12:00 the effective roster shows as sick leave, a spell a run of consecutive "
             "sick days. On each sick day, with S spells and D sick days in the last windowDays "
             "days, B = S x S x D; alert when B reaches threshold, unless the rule alerted for the "
             "officer in the last cooldownDays days."};
  }

  const RuleInfo& info() const override { return info_; }
  uint32_t streams() const override { return StreamBit(Stream::kRoster); }
  std::unique_ptr<RuleState> NewState() const override { return std::make_unique<BradfordState>(); }

  void OnEvent(const EventView& version, RuleContext& ctx) const override {
    const Millis changed = version.time;
    const Millis offset = Offset(ctx);
    const BradfordState* known = ctx.Find<BradfordState>();
    if (version.status == v1::RosterChange::SICK) ScheduleDays(version, known, ctx);
    // Days already decided that this (late) version may correct, for later decisions.
    if (!known || !AnyDecidedFrom(known->days, changed - offset)) return;
    BradfordState& state = ctx.Mutable<BradfordState>();
    for (const rulekit::DayCounts::Bucket& bucket : state.days.buckets()) {
      if (bucket.closed && bucket.day() + offset >= changed) Refresh(bucket.day(), state, ctx);
    }
  }

  void OnTimer(Millis at, uint32_t tag, RuleContext& ctx) const override {
    if (tag == kCleanup && !ctx.Find<BradfordState>()) return;
    BradfordState& state = ctx.Mutable<BradfordState>();
    // Decisions still to come: days decided at or after `at`, and days late versions can touch.
    const Millis late_from = DayStart(ctx.watermark() - ctx.time().roster_lateness - Offset(ctx));
    if (tag == kDecide) {
      const Millis day = rulekit::DayCounts::DayOfDecision(at, Offset(ctx));
      const bool first = state.days.Close(day);
      Refresh(day, state, ctx);
      if (first && (state.days.value(day) & kSick)) Evaluate(day, state, ctx);
      Prune(std::min(day, late_from), state);
      ctx.ScheduleCleanup(rulekit::DayCounts::CleanupTime(day, Reach(ctx)), kCleanup);
    } else if (tag == kCleanup) {
      PruneEvidence(state.days.Cleanup(at, late_from, retention_, Reach(ctx), kCleanup, ctx), state);
    }
  }

 private:
  Millis Offset(const RuleContext& ctx) const { return kNoon + ctx.time().roster_grace; }

  // How long after its start a day can be looked back to by a decision still to come (as
  // DayCounts::CleanupTime's reach).
  Millis Reach(const RuleContext& ctx) const {
    return retention_ + ctx.time().roster_lateness + Offset(ctx);
  }

  // Days this SICK version can make sick: their noon in [start, end), decided as of a time it
  // counts in.
  void ScheduleDays(const EventView& version, const BradfordState* known, RuleContext& ctx) const {
    static const rulekit::DayCounts kNoDays;
    const rulekit::DayCounts& days = known ? known->days : kNoDays;
    Millis noon = DayStart(version.start) + kNoon;
    if (noon < version.start) noon += kDay;
    for (; noon < version.end; noon += kDay) {
      if (noon + ctx.time().roster_grace >= version.time) {
        days.ScheduleClose(ctx, DayStart(noon), Offset(ctx), kDecide);
      }
    }
  }

  // Whether a decided day's instant (day + offset) is at or after changed_at, i.e. its day starts
  // at or after `from`.
  static bool AnyDecidedFrom(const rulekit::DayCounts& days, Millis from) {
    for (const auto& bucket : days.buckets()) {
      if (bucket.closed && bucket.day() >= from) return true;
    }
    return false;
  }

  // Sets the sick flag of `day` and its evidence from the roster as of its noon + roster grace.
  void Refresh(Millis day, BradfordState& state, RuleContext& ctx) const {
    const Millis noon = day + kNoon;
    // One vector's capacity reused by every query (the core runs rules on one thread).
    thread_local std::vector<EffectiveShiftView> covering;
    ctx.roster().Covering(noon, noon + ctx.time().roster_grace, &covering);
    const Ref* sick = nullptr;
    for (const EffectiveShiftView& shift : covering) {
      if (shift.status == v1::RosterChange::SICK) {
        sick = shift.ref;
        break;
      }
    }
    const int64_t before = state.days.value(day);
    state.days.Set(day, sick ? (before | kSick) : (before & ~kSick));
    std::vector<Ref>& evidence = state.evidence;
    evidence.erase(std::remove_if(evidence.begin(), evidence.end(),
                                  [&](const Ref& e) { return e.time == day; }),
                   evidence.end());
    if (sick) {
      Ref ref = *sick;
      ref.time = day;
      evidence.insert(std::upper_bound(evidence.begin(), evidence.end(), ref, RefBefore),
                      std::move(ref));
    }
  }

  void Evaluate(Millis day, BradfordState& state, RuleContext& ctx) const {
    const Millis first_day = day - (window_ - 1) * kDay;
    int64_t spells = 0, sick_days = 0;
    bool previous = false;
    state.days.VisitRange(first_day, window_, [&](int64_t flags) {
      const bool sick = (flags & kSick) != 0;
      if (sick) ++sick_days;
      if (sick && !previous) ++spells;
      previous = sick;
    });
    const int64_t b = spells * spells * sick_days;
    if (b < config_.threshold()) return;
    for (const auto& bucket : state.days.buckets()) {
      if ((bucket.value & kAlerted) && bucket.day() > day - config_.cooldown_days() * kDay) return;
    }
    state.days.Set(day, state.days.value(day) | kAlerted);
    Emit(day, b, spells, sick_days, state.evidence, ctx);
  }

  void Emit(Millis day, int64_t b, int64_t spells, int64_t sick_days,
            const std::vector<Ref>& evidence, RuleContext& ctx) const {
    const Millis first_day = day - (window_ - 1) * kDay;
    RuleAlert alert = NewAlert(info_, config_.severity(), ctx.officer_id());
    alert.window_start = day;
    alert.window_end = day + kDay;
    alert.summary = "Officer " + alert.officer_id + " has a sick-leave Bradford factor of " +
                    std::to_string(b) + " over the " + std::to_string(window_) + " days to " +
                    FormatDay(day) + " (" + std::to_string(spells) + " spells, " +
                    std::to_string(sick_days) + " sick days); consider a welfare conversation.";
    // The latest sick day's version first, each version once.
    std::set<std::string_view> seen;
    for (auto it = evidence.rbegin(); it != evidence.rend(); ++it) {
      if (it->time < first_day || it->time > day) continue;
      if (seen.insert(it->event_id.view()).second) alert.evidence.push_back(*it);
    }
    alert.score = static_cast<double>(b);
    ctx.Emit(std::move(alert));
  }

  // Forgets what no decision from `from` on can look back to.
  void Prune(Millis from, BradfordState& state) const {
    state.days.DropClosedBefore(from - retention_);
    PruneEvidence(from - retention_, state);
  }

  // Forgets the evidence of days before `day`.
  static void PruneEvidence(Millis day, BradfordState& state) {
    std::vector<Ref>& evidence = state.evidence;
    evidence.erase(std::remove_if(evidence.begin(), evidence.end(),
                                  [&](const Ref& e) { return e.time < day; }),
                   evidence.end());
  }

  v1::BradfordFactorConfig config_;
  int window_;
  Millis retention_;
  RuleInfo info_;
};

}  // namespace

const RuleDescriptor kBradfordFactorRule = {
    "bradford_factor", v1::Alert::WELFARE,
    [](const v1::RulesConfig& config) { return config.bradford_factor().enabled(); },
    [](const v1::RulesConfig& config) -> std::unique_ptr<Rule> {
      return std::make_unique<BradfordFactor>(config);
    }};

}  // namespace vigil
