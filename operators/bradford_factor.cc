// bradford_factor (WELFARE, LOW).
//
// A sick day is a UTC day whose 12:00 is covered by an effective SICK shift (as of that instant +
// roster_grace); a spell is a maximal run of consecutive sick days. B is evaluated on each sick day
// d: with S spells and D sick days within days d-(window_days-1) .. d (365 days; a spell that
// starts before the window counts), B = S x S x D. Alert when B >= threshold (250), unless this
// rule alerted for the officer on a day after d - cooldown_days (90). The window is day d.
//
// Each day is decided once, when the watermark passes its 12:00 + roster_grace (DayBuckets). A
// roster version that arrives after that, within allowed lateness, still corrects the day's
// sick-day flag for the decisions of later days, but the day itself is not decided again.
//
// State per officer: one bucket per decided day (bit 1: sick, bit 2: alerted that day) and the
// SICK version behind each sick day (the evidence), for as long as a later decision can look back
// to it.
#include <set>

#include "alert_builder.h"
#include "day_buckets.h"
#include "event_list.h"
#include "registry.h"

namespace vigil {
namespace {

constexpr char kDays = 'b';      // 'b' officer -> DayBuckets: bit 1 sick, bit 2 alerted
constexpr char kEvidence = 'e';  // 'e' officer -> EventList, one SICK version per sick day
constexpr char kDecide = 'd';    // timer 'd' officer at each day's 12:00 + roster grace
constexpr char kCleanup = 'x';   // timer 'x' officer
constexpr int64_t kSick = 1;
constexpr int64_t kAlerted = 2;
constexpr Millis kNoon = 12 * kHour;

std::string Key(char kind, std::string_view officer) {
  return std::string(1, kind) + std::string(officer);
}

class BradfordFactor final : public Operator {
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

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    if (!event.envelope().has_roster()) return;
    const auto& version = event.envelope().roster();
    const std::string& officer = version.officer_id();
    const Millis changed = ToMillis(version.changed_at());
    const Millis offset = Offset(ctx);
    DayBuckets days = DayBuckets::Load(ctx.state(), Key(kDays, officer));

    // Days this version can make sick: their noon in [start, end), decided as of a time it counts.
    if (version.status() == v1::RosterChange::SICK) {
      const Millis start = ToMillis(version.start());
      Millis noon = DayStart(start) + kNoon;
      if (noon < start) noon += kDay;
      for (; noon < ToMillis(version.end()); noon += kDay) {
        if (noon + ctx.time().roster_grace >= changed) {
          days.ScheduleClose(ctx, Key(kDecide, officer), DayStart(noon), offset);
        }
      }
    }
    // Days already decided that this (late) version may correct, for later decisions.
    bool changed_any = false;
    state::EventList evidence;
    ctx.state().Load(Key(kEvidence, officer), &evidence);
    for (const auto& bucket : std::vector<DayBuckets::Bucket>(days.buckets())) {
      if (bucket.closed && bucket.day + offset >= changed) {
        changed_any |= Refresh(officer, bucket.day, days, evidence, ctx);
      }
    }
    if (changed_any) Save(officer, days, evidence, ctx);
  }

  void OnTimer(Millis at, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    if (key.empty()) return;
    const std::string officer(key.substr(1));
    DayBuckets days = DayBuckets::Load(ctx.state(), Key(kDays, officer));
    state::EventList evidence;
    ctx.state().Load(Key(kEvidence, officer), &evidence);
    // Decisions still to come: days decided at or after `at`, and days late versions can touch.
    const Millis late_from = DayStart(ctx.watermark() - ctx.time().roster_lateness - Offset(ctx));
    if (key[0] == kDecide) {
      const Millis day = DayBuckets::DayOfDecision(at, Offset(ctx));
      const bool first = days.Close(day);
      Refresh(officer, day, days, evidence, ctx);
      if (first && (days.value(day) & kSick)) Evaluate(officer, day, days, evidence, ctx);
      Prune(std::min(day, late_from), days, evidence);
      ctx.ScheduleCleanup(CleanupTime(day, ctx), Key(kCleanup, officer));
    } else if (key[0] == kCleanup) {
      Prune(std::min(DayStart(at) - kDay, late_from), days, evidence);
      if (!days.empty()) {
        ctx.ScheduleCleanup(std::max(CleanupTime(days.buckets().back().day, ctx), at + 1), key);
      }
    }
    Save(officer, days, evidence, ctx);
  }

 private:
  Millis Offset(const OperatorContext& ctx) const { return kNoon + ctx.time().roster_grace; }

  // When `day` can no longer be looked back to by any decision still to come.
  Millis CleanupTime(Millis day, OperatorContext& ctx) const {
    return DayStart(day + retention_ + ctx.time().roster_lateness + Offset(ctx)) + 2 * kDay;
  }

  // Sets the sick flag of `day` from the roster as of its noon + roster grace; true if it changed.
  bool Refresh(const std::string& officer, Millis day, DayBuckets& days, state::EventList& evidence,
               OperatorContext& ctx) const {
    const Millis noon = day + kNoon;
    const EffectiveShift* sick = nullptr;
    std::vector<EffectiveShift> covering =
        ctx.roster().Covering(officer, noon, noon + ctx.time().roster_grace);
    for (const auto& shift : covering) {
      if (shift.status == v1::RosterChange::SICK) {
        sick = &shift;
        break;
      }
    }
    const int64_t before = days.value(day);
    days.Set(day, sick ? (before | kSick) : (before & ~kSick));
    // The evidence list holds one entry per sick day, its time set to the day.
    auto* events = evidence.mutable_events();
    const auto old_size = events->size();
    events->erase(std::remove_if(events->begin(), events->end(),
                                 [&](const state::EventRef& e) { return e.time_ms() == day; }),
                  events->end());
    bool changed = events->size() != old_size || days.value(day) != before;
    if (sick) {
      state::EventRef ref = sick->ref;
      ref.set_time_ms(day);
      InsertSorted(evidence, ref);
      changed = true;
    }
    return changed;
  }

  void Evaluate(const std::string& officer, Millis day, DayBuckets& days,
                const state::EventList& evidence, OperatorContext& ctx) const {
    const Millis first_day = day - (window_ - 1) * kDay;
    std::vector<int64_t> flags = days.Range(first_day, window_);
    int64_t spells = 0, sick_days = 0;
    bool previous = false;
    for (int64_t f : flags) {
      bool sick = (f & kSick) != 0;
      if (sick) ++sick_days;
      if (sick && !previous) ++spells;
      previous = sick;
    }
    const int64_t b = spells * spells * sick_days;
    if (b < config_.threshold()) return;
    for (const auto& bucket : days.buckets()) {
      if ((bucket.value & kAlerted) && bucket.day > day - config_.cooldown_days() * kDay) return;
    }
    days.Set(day, days.value(day) | kAlerted);

    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.severity();
    spec.officer_id = officer;
    spec.window_start = day;
    spec.window_end = day + kDay;
    spec.summary = "Officer " + officer + " has a sick-leave Bradford factor of " +
                   std::to_string(b) + " over the " + std::to_string(window_) + " days to " +
                   FormatDay(day) + " (" + std::to_string(spells) + " spells, " +
                   std::to_string(sick_days) + " sick days); consider a welfare conversation.";
    std::set<std::string> seen;
    for (auto it = evidence.events().rbegin(); it != evidence.events().rend(); ++it) {
      if (it->time_ms() < first_day || it->time_ms() > day) continue;
      if (seen.insert(it->event_id()).second) spec.evidence.push_back(*it);
    }
    spec.score = static_cast<double>(b);
    ctx.Emit(BuildAlert(spec));
  }

  // Forgets what no decision from `from` on can look back to.
  void Prune(Millis from, DayBuckets& days, state::EventList& evidence) const {
    days.DropClosedBefore(from - retention_);
    DropBefore(evidence, from - retention_);
  }

  void Save(const std::string& officer, const DayBuckets& days, const state::EventList& evidence,
            OperatorContext& ctx) const {
    days.Save(ctx.state(), Key(kDays, officer));
    if (evidence.events().empty()) {
      ctx.state().Delete(Key(kEvidence, officer));
    } else {
      ctx.state().Save(Key(kEvidence, officer), evidence);
    }
  }

  v1::BradfordFactorConfig config_;
  int window_;
  Millis retention_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeBradfordFactor(const v1::RulesConfig& config) {
  return std::make_unique<BradfordFactor>(config);
}

}  // namespace vigil
