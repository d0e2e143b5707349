// access_volume_spike (MISCONDUCT, MEDIUM).
//
// An officer's SEARCH + RECORD_VIEW count on one UTC day d is at least max(min_count (50), mean +
// sigmas (4) x sample standard deviation of that officer's daily counts on days d-baseline_days
// (28) .. d-1, days without events counting 0), provided d is at least min_history_days (14) after
// the UTC day of the officer's first access event (of any action). Decided when day d closes
// (the watermark passes its end); window_start/window_end are the day's bounds. A look-up that
// arrives after its day closed still counts in the baselines of days not yet decided.
//
// State per officer: daily counts (DayBuckets) for the baseline of every day still to decide, the
// first 50 look-ups of each open day (the evidence), and the day of the officer's first access.
// The first-access day is one 8-byte record per officer kept for good: the contract's history
// condition depends on it for every later day.
#include <cmath>

#include "alert_builder.h"
#include "count_window.h"
#include "day_buckets.h"
#include "event_list.h"
#include "registry.h"

namespace vigil {
namespace {

constexpr char kCounts = 'b';    // 'b' officer -> DayBuckets of look-up counts
constexpr char kFirst = 'f';     // 'f' officer -> [day:8] of the first access
constexpr char kEvidence = 'e';  // 'e' officer '\0' [day:8] -> EventList (first 50 of the day)
constexpr char kClose = 'c';     // timer 'c' officer at the end of each day with look-ups
constexpr char kCleanup = 'x';   // timer 'x' officer

std::string Key(char kind, std::string_view officer) { return std::string(1, kind) + std::string(officer); }

std::string EvidenceKey(std::string_view officer, Millis day) {
  std::string key = Key(kEvidence, officer);
  key.push_back('\0');
  AppendI64(key, day);
  return key;
}

// The record under kFirst: [day:8].
struct FirstAccess {
  Millis day = 0;
  void Encode(std::string& out) const {
    out.clear();
    AppendI64(out, day);
  }
  static bool Decode(std::string_view bytes, FirstAccess* out) {
    if (bytes.size() != 8) return false;
    out->day = ReadI64(bytes);
    return true;
  }
};

class AccessVolumeSpike final : public Operator {
 public:
  explicit AccessVolumeSpike(const v1::RulesConfig& config)
      : config_(config.access_volume_spike()), baseline_(config_.baseline_days() * kDay) {
    info_ = {"access_volume_spike", v1::Alert::MISCONDUCT,
             "An officer's searches and record views on one UTC day reach at least the larger of "
             "minCount and the mean plus sigmas sample standard deviations of that officer's "
             "daily counts over the previous baselineDays days (days without any counting 0), "
             "once the officer's first access is at least minHistoryDays days earlier. Decided "
             "when the day ends."};
  }

  const RuleInfo& info() const override { return info_; }

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    if (!event.envelope().has_access()) return;
    const auto& access = event.envelope().access();
    const std::string& officer = access.officer_id();
    const Millis t = event.ref().time_ms();
    const Millis day = DayStart(t);

    const std::string first_key = Key(kFirst, officer);
    const FirstAccess* first = ctx.state().Find<FirstAccess>(first_key);
    if (!first || day < first->day) ctx.state().Overwrite<FirstAccess>(first_key).day = day;

    if (access.action() != v1::AccessEvent::SEARCH &&
        access.action() != v1::AccessEvent::RECORD_VIEW) {
      return;
    }
    DayBuckets& counts = ctx.state().Mutable<DayBuckets>(Key(kCounts, officer));
    counts.Add(day, 1);
    if (!counts.closed(day)) {
      AddEvidence(EvidenceKey(officer, day), event.ref(), ctx);
      counts.ScheduleClose(ctx, Key(kClose, officer), day, kDay);
    }
    ctx.ScheduleCleanup(CleanupTime(day, ctx), Key(kCleanup, officer));
  }

  void OnTimer(Millis at, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    if (key.empty()) return;
    const std::string officer(key.substr(1));
    const std::string counts_key = Key(kCounts, officer);
    DayBuckets counts = DayBuckets::Load(ctx.state(), counts_key);
    // Decisions still to come: closes at or after `at`, and late look-ups from `horizon` on.
    const Millis horizon = DayStart(ctx.watermark() - ctx.time().access_lateness);
    if (key[0] == kClose) {
      const Millis day = DayBuckets::DayOfDecision(at, kDay);
      if (counts.Close(day)) Decide(officer, day, counts, ctx);
      ctx.state().Delete(EvidenceKey(officer, day));
      counts.DropClosedBefore(std::min(day + kDay, horizon) - baseline_);
    } else if (key[0] == kCleanup) {
      counts.DropClosedBefore(std::min(DayStart(at) - kDay, horizon) - baseline_);
      if (!counts.empty()) {
        ctx.ScheduleCleanup(std::max(CleanupTime(counts.buckets().back().day, ctx), at + 1), key);
      }
    }
    counts.Save(ctx.state(), counts_key);
  }

 private:
  // Keeps the day's first kMaxEvidence look-ups: once there are that many, a later one changes
  // nothing, and is not written (most look-ups of a busy day).
  static void AddEvidence(const std::string& key, const state::EventRef& ref, OperatorContext& ctx) {
    const state::EventList* kept = ctx.state().Find<state::EventList>(key);
    if (kept && kept->events_size() >= kMaxEvidence && !EventBefore(ref, *kept->events().rbegin())) {
      return;
    }
    auto& evidence = ctx.state().Mutable<state::EventList>(key);
    InsertSorted(evidence, ref);
    if (evidence.events_size() > kMaxEvidence) evidence.mutable_events()->RemoveLast();
  }

  // When the counts of `day` can no longer be in any baseline still to be decided.
  Millis CleanupTime(Millis day, OperatorContext& ctx) const {
    return DayStart(day + baseline_ + ctx.time().access_lateness) + 2 * kDay;
  }

  void Decide(const std::string& officer, Millis day, const DayBuckets& counts,
              OperatorContext& ctx) const {
    const FirstAccess* first = ctx.state().Find<FirstAccess>(Key(kFirst, officer));
    if (!first || day - first->day < config_.min_history_days() * kDay) return;
    const int64_t count = counts.value(day);
    const int n = config_.baseline_days();
    std::vector<int64_t> history = counts.Range(day - baseline_, n);
    double mean = 0;
    for (int64_t c : history) mean += static_cast<double>(c);
    mean /= n;
    double squares = 0;
    for (int64_t c : history) squares += (c - mean) * (c - mean);
    const double sd = std::sqrt(squares / (n - 1));
    const double threshold = std::max<double>(config_.min_count(), mean + config_.sigmas() * sd);
    if (static_cast<double>(count) < threshold) return;

    const state::EventList* evidence = ctx.state().Find<state::EventList>(EvidenceKey(officer, day));
    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.severity();
    spec.officer_id = officer;
    spec.window_start = day;
    spec.window_end = day + kDay;
    char figures[160];
    std::snprintf(figures, sizeof figures,
                  " against a mean of %.1f a day (sd %.1f) over the previous %d days (threshold %.1f).",
                  mean, sd, n, threshold);
    spec.summary = "Officer " + officer + " made " + std::to_string(count) +
                   " searches and record views on " + FormatDay(day) + figures;
    if (evidence) spec.evidence.assign(evidence->events().begin(), evidence->events().end());
    spec.score = static_cast<double>(count);
    ctx.Emit(BuildAlert(spec));
  }

  v1::AccessVolumeSpikeConfig config_;
  Millis baseline_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeAccessVolumeSpike(const v1::RulesConfig& config) {
  return std::make_unique<AccessVolumeSpike>(config);
}

}  // namespace vigil
