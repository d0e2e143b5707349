// complainant_lookup (MISCONDUCT, HIGH).
//
// A SEARCH/RECORD_VIEW by an officer of a subject who complained about that officer, from
// before_days (7) before the complaint was received to after_days (180) after, whatever the
// case_ref. One alert per complaint, at the earliest such access; the window spans the complaint's
// receipt and that access.
//
// State per officer: its look-ups by hour (kept while a complaint could still arrive that reaches
// back to them) and its complaints not yet matched (kept until no access can fall in their window
// any more). Per officer rather than per (officer, person): an officer looks up dozens of people a
// shift, mostly once each, and complaints are rare.
#include <optional>

#include "alert_builder.h"
#include "count_window.h"
#include "registry.h"

namespace vigil {
namespace {

constexpr char kLookups = 'L';     // 'L' officer '\0' [hour:8] -> SubjectEvents
constexpr char kComplaints = 'C';  // 'C' officer -> SubjectEvents, unmatched complaints

class ComplainantLookup final : public Operator {
 public:
  explicit ComplainantLookup(const v1::RulesConfig& config)
      : config_(config.complainant_lookup()),
        before_(config_.before_days() * kDay),
        after_(config_.after_days() * kDay) {
    info_ = {"complainant_lookup", v1::Alert::MISCONDUCT,
             "A search or record view by an officer of a person who complained about that "
             "officer, from beforeDays before the complaint was received to afterDays after, "
             "whatever the case reference. One alert per complaint, at the earliest such access."};
  }

  const RuleInfo& info() const override { return info_; }

  void OnEvent(const state::StoredEvent& event, OperatorContext& ctx) const override {
    const auto& envelope = event.envelope();
    if (envelope.has_access() && IsSubjectLookup(envelope.access())) {
      OnLookup(event, ctx);
    } else if (envelope.has_complaint()) {
      OnComplaint(event, ctx);
    }
  }

  // Cleanup: an hour of look-ups goes once no acceptable complaint can reach back to it; a
  // complaint once no acceptable access can fall in its window.
  void OnTimer(Millis, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    if (key.empty()) return;
    if (key[0] == kLookups) {
      ctx.state().Delete(key);
      return;
    }
    const state::SubjectEvents* complaints = ctx.state().Find<state::SubjectEvents>(key);
    if (!complaints) return;
    const Millis horizon = ctx.watermark() - ctx.time().access_lateness - after_;
    state::SubjectEvents kept;
    for (const auto& complaint : complaints->events()) {
      if (complaint.ref().time_ms() >= horizon) *kept.add_events() = complaint;
    }
    Replace(ctx, key, kept);
  }

 private:
  static std::string ComplaintsKey(const std::string& officer) {
    return std::string(1, kComplaints) + officer;
  }
  static std::string LookupsPrefix(const std::string& officer) {
    return std::string(1, kLookups) + officer + '\0';
  }
  static std::string LookupsKey(const std::string& officer, Millis hour) {
    std::string key = LookupsPrefix(officer);
    AppendI64(key, hour);
    return key;
  }
  static void Replace(OperatorContext& ctx, std::string_view key,
                      const state::SubjectEvents& events) {
    if (events.events().empty()) {
      ctx.state().Delete(key);
    } else {
      ctx.state().Save(key, events);
    }
  }

  void OnLookup(const state::StoredEvent& event, OperatorContext& ctx) const {
    const auto& access = event.envelope().access();
    const Millis t = event.ref().time_ms();
    const Millis hour = FloorTo(t, kHour);
    const std::string lookups_key = LookupsKey(access.officer_id(), hour);
    auto& lookups = ctx.state().Mutable<state::SubjectEvents>(lookups_key);
    if (lookups.events().empty()) {
      ctx.ScheduleCleanup(hour + kHour + before_ + ctx.time().complaint_lateness, lookups_key);
    }
    state::SubjectEvent* lookup = lookups.add_events();
    *lookup->mutable_ref() = event.ref();
    lookup->set_subject_id(access.subject_id());

    const std::string complaints_key = ComplaintsKey(access.officer_id());
    const state::SubjectEvents* complaints = ctx.state().Find<state::SubjectEvents>(complaints_key);
    if (!complaints) return;
    state::SubjectEvents unmatched;
    for (const auto& complaint : complaints->events()) {
      const Millis received = complaint.ref().time_ms();
      if (complaint.subject_id() == access.subject_id() && t >= received - before_ &&
          t <= received + after_) {
        Alert(access.officer_id(), access.subject_id(), complaint.ref(), event.ref(), ctx);
      } else {
        *unmatched.add_events() = complaint;
      }
    }
    if (unmatched.events_size() != complaints->events_size()) Replace(ctx, complaints_key, unmatched);
  }

  void OnComplaint(const state::StoredEvent& event, OperatorContext& ctx) const {
    const auto& complaint = event.envelope().complaint();
    const Millis received = event.ref().time_ms();
    const std::optional<state::EventRef> first =
        EarliestLookup(complaint.officer_id(), complaint.complainant_id(), received - before_,
                       received + after_, ctx);
    if (first) {
      Alert(complaint.officer_id(), complaint.complainant_id(), event.ref(), *first, ctx);
      return;
    }
    const std::string complaints_key = ComplaintsKey(complaint.officer_id());
    state::SubjectEvent* waiting =
        ctx.state().Mutable<state::SubjectEvents>(complaints_key).add_events();
    *waiting->mutable_ref() = event.ref();
    waiting->set_subject_id(complaint.complainant_id());
    ctx.ScheduleCleanup(received + after_ + ctx.time().access_lateness, complaints_key);
  }

  // The officer's earliest look-up of `person` (ties by event_id) with from <= time <= to.
  static std::optional<state::EventRef> EarliestLookup(const std::string& officer,
                                                       const std::string& person, Millis from,
                                                       Millis to, OperatorContext& ctx) {
    std::string begin = LookupsKey(officer, FloorTo(from, kHour));
    std::string end = LookupsKey(officer, FloorTo(to, kHour) + kHour);
    std::optional<state::EventRef> found;
    ctx.state().ScanRange(begin, end, [&](std::string_view, std::string_view bytes) {
      state::SubjectEvents hour;
      if (!hour.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        throw FatalError("complainant_lookup: look-ups cannot be parsed");
      }
      for (const auto& lookup : hour.events()) {
        const state::EventRef& ref = lookup.ref();
        if (lookup.subject_id() != person || ref.time_ms() < from || ref.time_ms() > to) continue;
        if (!found || EventBefore(ref, *found)) found = ref;
      }
      return !found;  // the hours come in order: the first hour with a match has the earliest
    });
    return found;
  }

  void Alert(const std::string& officer, const std::string& person,
             const state::EventRef& complaint, const state::EventRef& lookup,
             OperatorContext& ctx) const {
    const Millis received = complaint.time_ms();
    const Millis looked = lookup.time_ms();
    AlertSpec spec;
    spec.rule_id = info_.rule_id;
    spec.kind = info_.kind;
    spec.severity = config_.severity();
    spec.officer_id = officer;
    spec.subject_id = person;
    spec.window_start = std::min(received, looked);
    spec.window_end = std::max(received, looked);
    std::string when = looked >= received
                           ? FormatSpan(looked - received) + " after"
                           : FormatSpan(received - looked) + " before";
    if (looked == received) when = "at the time";
    spec.summary = "Officer " + officer + " looked up " + person + " " + when +
                   " a complaint by that person against the officer was received (" +
                   FormatTime(received) + ").";
    spec.evidence = {complaint, lookup};
    spec.score = 1;
    ctx.Emit(BuildAlert(spec));
  }

  v1::ComplainantLookupConfig config_;
  Millis before_;
  Millis after_;
  RuleInfo info_;
};

}  // namespace

std::unique_ptr<Operator> MakeComplainantLookup(const v1::RulesConfig& config) {
  return std::make_unique<ComplainantLookup>(config);
}

}  // namespace vigil
