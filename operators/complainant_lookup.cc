// complainant_lookup (MISCONDUCT, HIGH).
//
// A SEARCH/RECORD_VIEW by an officer of a subject who complained about that officer, from
// before_days (7) before the complaint was received to after_days (180) after, whatever the
// case_ref. One alert per complaint, at the earliest such access; the window spans the complaint's
// receipt and that access.
//
// State per (officer, person): the officer's recent look-ups of that person (kept while a
// complaint could still arrive that reaches back to them) and the complaints not yet matched
// (kept until no access can fall in their window any more).
#include "alert_builder.h"
#include "event_list.h"
#include "registry.h"

namespace vigil {
namespace {

constexpr char kLookups = 'L';
constexpr char kComplaints = 'C';

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

  void OnTimer(Millis, std::string_view key, std::string_view, OperatorContext& ctx) const override {
    if (key.empty() || !ctx.state().Find<state::EventList>(key)) return;
    state::EventList& list = ctx.state().Mutable<state::EventList>(key);
    // Look-ups matter to complaints not yet seen (received up to `before_` after them);
    // complaints to look-ups not yet seen (up to `after_` after receipt).
    Millis horizon = key[0] == kLookups
                         ? ctx.watermark() - ctx.time().complaint_lateness - before_
                         : ctx.watermark() - ctx.time().access_lateness - after_;
    if (DropBefore(list, horizon)) ctx.state().Delete(key);
  }

 private:
  static std::string Key(char kind, const std::string& officer, const std::string& person) {
    return std::string(1, kind) + officer + '\0' + person;
  }

  void OnLookup(const state::StoredEvent& event, OperatorContext& ctx) const {
    const auto& access = event.envelope().access();
    const Millis t = event.ref().time_ms();
    std::string lookups_key = Key(kLookups, access.officer_id(), access.subject_id());
    InsertSorted(ctx.state().Mutable<state::EventList>(lookups_key), event.ref());
    ctx.ScheduleCleanup(t + before_ + ctx.time().complaint_lateness, lookups_key);

    std::string complaints_key = Key(kComplaints, access.officer_id(), access.subject_id());
    const state::EventList* complaints = ctx.state().Find<state::EventList>(complaints_key);
    if (!complaints) return;
    state::EventList unmatched;
    for (const auto& complaint : complaints->events()) {
      Millis received = complaint.time_ms();
      if (t >= received - before_ && t <= received + after_) {
        Alert(access.officer_id(), access.subject_id(), complaint, event.ref(), ctx);
      } else {
        *unmatched.add_events() = complaint;
      }
    }
    if (unmatched.events_size() == complaints->events_size()) return;  // none matched
    if (unmatched.events().empty()) {
      ctx.state().Delete(complaints_key);
    } else {
      ctx.state().Save(complaints_key, unmatched);
    }
  }

  void OnComplaint(const state::StoredEvent& event, OperatorContext& ctx) const {
    const auto& complaint = event.envelope().complaint();
    const Millis received = event.ref().time_ms();
    const state::EventList* lookups = ctx.state().Find<state::EventList>(
        Key(kLookups, complaint.officer_id(), complaint.complainant_id()));
    const state::EventRef* first =
        lookups ? EarliestBetween(*lookups, received - before_, received + after_) : nullptr;
    if (first) {
      Alert(complaint.officer_id(), complaint.complainant_id(), event.ref(), *first, ctx);
      return;
    }
    std::string complaints_key = Key(kComplaints, complaint.officer_id(), complaint.complainant_id());
    InsertSorted(ctx.state().Mutable<state::EventList>(complaints_key), event.ref());
    ctx.ScheduleCleanup(received + after_ + ctx.time().access_lateness, complaints_key);
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
