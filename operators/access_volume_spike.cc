// access_volume_spike (MISCONDUCT, MEDIUM).
//
// An officer's SEARCH + RECORD_VIEW count on one UTC day d is at least max(min_count (50), mean +
// sigmas (4) x sample standard deviation of that officer's daily counts on days d-baseline_days
// (28) .. d-1, days without events counting 0), provided d is at least min_history_days (14) after
// the UTC day of the officer's first access event (of any action). Decided when day d closes
// (the watermark passes its end); window_start/window_end are the day's bounds. A look-up that
// arrives after its day closed still counts in the baselines of days not yet decided.
//
// The new core's port of operators/access_volume_spike.cc, with the same alerts. This rule sees
// every access event, so OnEvent is a handful of instructions in the common case: raise today's
// count and, while the day holds fewer than 50, keep the look-up as evidence. The timers of a
// day (its close, its cleanup) are set when its bucket is created: setting them again at each
// look-up, as the old rule did, sets the same (at, tag) and so changes nothing.
//
// State per officer, one object: the day of the first access (kept for good: the history
// condition depends on it for every later day), the daily counts for the baseline of every day
// still to decide, and the first 50 look-ups of each open day (the evidence).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "rulekit/alert_builder.h"  // kMaxEvidence
#include "registry.h"
#include "rulekit/codec.h"
#include "rulekit/day_counts.h"
#include "runtime/core.h"
#include "state/byte_codec.h"

namespace vigil {
namespace {

constexpr uint32_t kClose = 0;    // timer at the end of each day with look-ups
constexpr uint32_t kCleanup = 1;  // forgets counts no baseline can need

// The first kMaxEvidence look-ups of one open day, ordered by RefBefore.
struct OpenDay {
  Millis day = 0;
  std::vector<Ref> refs;
};

class SpikeState final : public RuleState {
 public:
  bool has_first = false;
  Millis first_day = 0;  // UTC day of the officer's first access
  rulekit::DayCounts counts;
  std::vector<OpenDay> open;  // ordered by day; few (the days not yet closed)

  OpenDay& OpenDayOf(Millis day);
  const OpenDay* FindOpen(Millis day) const;
  void Forget(Millis day);
  // Keeps the day's first kMaxEvidence look-ups: once there are that many, a later one changes
  // nothing. Look-ups mostly arrive in order, at the back.
  void AddEvidence(OpenDay& day, const EventView& event);

  void Encode(std::string& out) const override;
  bool Decode(std::string_view bytes) override;
  bool empty() const override { return !has_first && counts.empty() && open.empty(); }
  // O(1): called for every changed officer at each checkpoint.
  size_t MemoryBytes() const override {
    return counts.MemoryBytes() + open.capacity() * sizeof(OpenDay) + refs_bytes_;
  }

 private:
  // Bytes held by the open days' refs: their vectors' capacity and their long ids' heap bytes.
  size_t refs_bytes_ = 0;
  static size_t RefsBytes(const std::vector<Ref>& refs);
};

size_t SpikeState::RefsBytes(const std::vector<Ref>& refs) {
  size_t bytes = refs.capacity() * sizeof(Ref);
  for (const Ref& ref : refs) bytes += rulekit::HeapBytes(ref.event_id);
  return bytes;
}

OpenDay& SpikeState::OpenDayOf(Millis day) {
  if (!open.empty() && open.back().day == day) return open.back();
  auto it = std::lower_bound(open.begin(), open.end(), day,
                             [](const OpenDay& o, Millis d) { return o.day < d; });
  if (it != open.end() && it->day == day) return *it;
  OpenDay added;
  added.day = day;
  return *open.insert(it, std::move(added));
}

const OpenDay* SpikeState::FindOpen(Millis day) const {
  for (const OpenDay& o : open) {
    if (o.day == day) return &o;
  }
  return nullptr;
}

void SpikeState::Forget(Millis day) {
  for (const OpenDay& o : open) {
    if (o.day == day) refs_bytes_ -= RefsBytes(o.refs);
  }
  open.erase(std::remove_if(open.begin(), open.end(), [&](const OpenDay& o) { return o.day == day; }),
             open.end());
}

void SpikeState::Encode(std::string& out) const {
  out.clear();
  ByteWriter w(out);
  w.Bool(has_first);
  w.I64(first_day);
  counts.Encode(w);
  w.U64(open.size());
  for (const OpenDay& o : open) {
    w.I64(o.day);
    w.U64(o.refs.size());
    rulekit::PutRefs(w, o.refs, o.day);  // each ref's time as a delta from the previous one's
  }
}

bool SpikeState::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  uint64_t days;
  open.clear();
  refs_bytes_ = 0;
  if (!r.Bool(&has_first) || !r.I64(&first_day) || !counts.Decode(r) || !r.U64(&days) ||
      days > bytes.size()) {
    return false;
  }
  open.resize(days);
  for (OpenDay& o : open) {
    uint64_t n;
    if (!r.I64(&o.day) || !r.U64(&n) || n > bytes.size()) return false;
    o.refs.resize(n);
    Millis base = o.day;
    for (Ref& ref : o.refs) {
      if (!r.ReadRef(&ref, base)) return false;
      base = ref.time;
    }
    refs_bytes_ += RefsBytes(o.refs);
  }
  return r.done();
}

// RefBefore(RefOf(event), ref), without building the Ref: most look-ups of a busy day are past
// its 50th and are only compared.
bool Precedes(const EventView& event, const Ref& ref) {
  return event.time != ref.time ? event.time < ref.time : event.event_id < ref.event_id.view();
}

void SpikeState::AddEvidence(OpenDay& day, const EventView& event) {
  std::vector<Ref>& refs = day.refs;
  if (refs.size() >= static_cast<size_t>(kMaxEvidence) && !Precedes(event, refs.back())) return;
  refs_bytes_ -= refs.capacity() * sizeof(Ref);
  // Grown 8, 16, 32, then to the cap (one more for an insert before the cap's last): a busy day
  // reallocates four times, not seven, and holds 51 refs, not 64.
  if (refs.size() == refs.capacity()) {
    refs.reserve(std::min<size_t>(std::max<size_t>(8, 2 * refs.capacity()), kMaxEvidence + 1));
  }
  if (refs.empty() || !Precedes(event, refs.back())) {
    refs.push_back(RefOf(event));
    refs_bytes_ += rulekit::HeapBytes(refs.back().event_id);
  } else {
    Ref ref = RefOf(event);
    refs_bytes_ += rulekit::HeapBytes(ref.event_id);
    refs.insert(std::upper_bound(refs.begin(), refs.end(), ref, RefBefore), std::move(ref));
  }
  if (refs.size() > static_cast<size_t>(kMaxEvidence)) {
    refs_bytes_ -= rulekit::HeapBytes(refs.back().event_id);
    refs.pop_back();
  }
  refs_bytes_ += refs.capacity() * sizeof(Ref);
}

class AccessVolumeSpike final : public Rule {
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
  uint32_t streams() const override { return StreamBit(Stream::kAccess); }
  std::unique_ptr<RuleState> NewState() const override { return std::make_unique<SpikeState>(); }

  void OnEvent(const EventView& event, RuleContext& ctx) const override {
    const Millis day = DayStart(event.time);
    const bool lookup = event.action == v1::AccessEvent::SEARCH ||
                        event.action == v1::AccessEvent::RECORD_VIEW;
    if (!lookup) {
      // Other accesses only date the first access; most change nothing (state left clean).
      const SpikeState* known = ctx.Find<SpikeState>();
      if (known && known->has_first && known->first_day <= day) return;
    }
    SpikeState& state = ctx.Mutable<SpikeState>();
    if (!state.has_first || day < state.first_day) {
      state.has_first = true;
      state.first_day = day;
    }
    if (!lookup) return;
    const rulekit::DayCounts::Added added = state.counts.Add(day, 1);
    if (added.closed) return;  // late: counts for later baselines, never as this day's evidence
    state.AddEvidence(state.OpenDayOf(day), event);
    if (added.created) {
      ctx.SetTimer(rulekit::DayCounts::DecisionInstant(day, kDay), kClose);
      ctx.ScheduleCleanup(rulekit::DayCounts::CleanupTime(day, Reach(ctx)), kCleanup);
    }
  }

  void OnTimer(Millis at, uint32_t tag, RuleContext& ctx) const override {
    if (!ctx.Find<SpikeState>()) return;
    SpikeState& state = ctx.Mutable<SpikeState>();
    rulekit::DayCounts& counts = state.counts;
    // Decisions still to come: closes at or after `at`, and late look-ups from `horizon` on.
    const Millis horizon = DayStart(ctx.watermark() - ctx.time().access_lateness);
    if (tag == kClose) {
      const Millis day = rulekit::DayCounts::DayOfDecision(at, kDay);
      if (counts.Close(day)) Decide(day, state, ctx);
      state.Forget(day);
      counts.DropClosedBefore(std::min(day + kDay, horizon) - baseline_);
    } else if (tag == kCleanup) {
      counts.Cleanup(at, horizon, baseline_, Reach(ctx), kCleanup, ctx);
    }
  }

 private:
  // How long after its start a day's count can be in a baseline still to be decided (as
  // DayCounts::CleanupTime's reach).
  Millis Reach(const RuleContext& ctx) const { return baseline_ + ctx.time().access_lateness; }

  void Decide(Millis day, const SpikeState& state, RuleContext& ctx) const {
    if (!state.has_first || day - state.first_day < config_.min_history_days() * kDay) return;
    const int64_t count = state.counts.value(day);
    const int n = config_.baseline_days();
    // Summed in day order, as the old rule did, so that both give the same doubles.
    double mean = 0;
    state.counts.VisitRange(day - baseline_, n, [&](int64_t c) { mean += static_cast<double>(c); });
    mean /= n;
    double squares = 0;
    state.counts.VisitRange(day - baseline_, n, [&](int64_t c) { squares += (c - mean) * (c - mean); });
    const double sd = std::sqrt(squares / (n - 1));
    const double threshold = std::max<double>(config_.min_count(), mean + config_.sigmas() * sd);
    if (static_cast<double>(count) < threshold) return;
    Emit(day, count, mean, sd, threshold, state.FindOpen(day), ctx);
  }

  void Emit(Millis day, int64_t count, double mean, double sd, double threshold,
            const OpenDay* evidence, RuleContext& ctx) const {
    RuleAlert alert = NewAlert(info_, config_.severity(), ctx.officer_id());
    alert.window_start = day;
    alert.window_end = day + kDay;
    char figures[160];
    std::snprintf(figures, sizeof figures,
                  " against a mean of %.1f a day (sd %.1f) over the previous %d days (threshold %.1f).",
                  mean, sd, config_.baseline_days(), threshold);
    alert.summary = "Officer " + alert.officer_id + " made " + std::to_string(count) +
                    " searches and record views on " + FormatDay(day) + figures;
    if (evidence) alert.evidence = evidence->refs;
    alert.score = static_cast<double>(count);
    ctx.Emit(std::move(alert));
  }

  v1::AccessVolumeSpikeConfig config_;
  Millis baseline_;
  RuleInfo info_;
};

}  // namespace

const RuleDescriptor kAccessVolumeSpikeRule = {
    "access_volume_spike", v1::Alert::MISCONDUCT,
    [](const v1::RulesConfig& config) { return config.access_volume_spike().enabled(); },
    [](const v1::RulesConfig& config) -> std::unique_ptr<Rule> {
      return std::make_unique<AccessVolumeSpike>(config);
    }};

}  // namespace vigil
