// repeated_subject_lookup (MISCONDUCT, MEDIUM).
//
// At least min_lookups (3) SEARCH/RECORD_VIEW of the same subject_id with an empty case_ref within
// window (30 days). Key (officer, subject); window_start/window_end are the first and last lookup
// counted; after an alert, lookups up to and including its window_end no longer count towards the
// next alert for the same key.
//
// The old core kept one record per (officer, subject); here the officer's state holds a window per
// subject, sorted by subject, with one cleanup timer for all of them (a timer tag cannot name a
// subject): when it fires every window is expired and it is set again for the earliest left.
#include <algorithm>

#include "registry.h"
#include "rulekit/count_window.h"
#include "runtime/core.h"

namespace vigil {
namespace {

using rulekit::CountWindow;
using rulekit::CountWindowState;

struct SubjectWindow {
  IdString subject;
  CountWindowState window;
};

// One officer's look-ups without a case reference, by subject.
class LookupState final : public RuleState {
 public:
  std::vector<SubjectWindow> subjects;  // sorted by subject, none empty() between calls
  rulekit::PendingCleanup cleanup;

  // The window of `subject`, created empty if absent.
  CountWindowState& WindowOf(std::string_view subject) {
    auto at = std::lower_bound(
        subjects.begin(), subjects.end(), subject,
        [](const SubjectWindow& w, std::string_view s) { return w.subject.view() < s; });
    if (at == subjects.end() || at->subject.view() != subject) {
      at = subjects.insert(at, SubjectWindow{IdString(subject), {}});
    }
    return at->window;
  }

  void Encode(std::string& out) const override {
    ByteWriter writer(out);
    writer.U64(subjects.size());
    for (const SubjectWindow& w : subjects) {
      writer.Bytes(w.subject.view());
      w.window.Encode(writer);
    }
    cleanup.Encode(writer);
  }
  bool Decode(std::string_view bytes) override {
    ByteReader reader(bytes);
    uint64_t n;
    if (!reader.U64(&n) || n > reader.rest().size()) return false;
    subjects.clear();
    subjects.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view subject;
      if (!reader.Bytes(&subject)) return false;
      if (!subjects.empty() && !(subjects.back().subject.view() < subject)) return false;
      subjects.push_back(SubjectWindow{IdString(subject), {}});
      if (!subjects.back().window.Decode(reader)) return false;
    }
    return cleanup.Decode(reader) && reader.done();
  }
  bool empty() const override { return subjects.empty(); }
  size_t MemoryBytes() const override {
    size_t bytes = subjects.capacity() * sizeof(SubjectWindow);
    for (const SubjectWindow& w : subjects) {
      bytes += w.window.MemoryBytes();
      if (w.subject.size() > IdString::kInline) bytes += w.subject.size();
    }
    return bytes;
  }
};

class RepeatedSubjectLookup final : public Rule {
 public:
  explicit RepeatedSubjectLookup(const v1::RulesConfig& config)
      : config_(config.repeated_subject_lookup()),
        window_(config_.window_days() * kDay, config_.min_lookups()) {
    info_ = {"repeated_subject_lookup", v1::Alert::MISCONDUCT,
             "At least minLookups searches or record views of the same person without a case "
             "reference within windowDays, by one officer. After an alert, the look-ups it "
             "counted no longer count towards the next one for that officer and subject."};
  }

  const RuleInfo& info() const override { return info_; }
  uint32_t streams() const override { return StreamBit(Stream::kAccess); }
  std::unique_ptr<RuleState> NewState() const override { return std::make_unique<LookupState>(); }

  void OnEvent(const EventView& event, RuleContext& ctx) const override {
    if (!event.is_access() || !event.IsSubjectLookup() || !event.case_ref.empty()) return;
    auto& state = ctx.Mutable<LookupState>();
    std::vector<Ref> counted;  // filled (allocated) only for an alert
    if (rulekit::AddCounted(window_, state.WindowOf(event.subject_id), state.cleanup,
                            RefOf(event), ctx.time().access_lateness, ctx, &counted)) {
      Alert(event.subject_id, counted, ctx);
    }
  }

  void OnTimer(Millis at, uint32_t, RuleContext& ctx) const override {
    if (!ctx.Find<LookupState>()) return;  // forgotten already
    auto& state = ctx.Mutable<LookupState>();
    const Millis lateness = ctx.time().access_lateness;
    const Millis horizon = rulekit::Horizon(at, ctx, lateness);
    auto& subjects = state.subjects;
    subjects.erase(std::remove_if(subjects.begin(), subjects.end(),
                                  [&](SubjectWindow& w) { return window_.Expire(w.window, horizon); }),
                   subjects.end());
    state.cleanup.Fired(at);
    if (subjects.empty()) return;
    Millis earliest = kMaxTime;
    for (const SubjectWindow& w : subjects) {
      earliest = std::min(earliest, window_.ExpiryTime(w.window, lateness));
    }
    state.cleanup.Need(std::max(earliest, at + 1), ctx);
  }

 private:
  void Alert(std::string_view subject, const std::vector<Ref>& counted, RuleContext& ctx) const {
    RuleAlert alert = NewAlert(info_, config_.severity(), ctx.officer_id());
    alert.subject_id = std::string(subject);
    SetCounted(alert, counted);
    alert.summary = "Officer " + alert.officer_id + " made " + std::to_string(counted.size()) +
                    " look-ups of subject " + alert.subject_id + " without a case reference in " +
                    FormatSpan(alert.window_end - alert.window_start) + " (" +
                    FormatTime(alert.window_start) + " to " + FormatTime(alert.window_end) + ").";
    ctx.Emit(std::move(alert));
  }

  v1::RepeatedSubjectLookupConfig config_;
  CountWindow window_;
  RuleInfo info_;
};

std::unique_ptr<Rule> Make(const v1::RulesConfig& config) {
  return std::make_unique<RepeatedSubjectLookup>(config);
}

bool Enabled(const v1::RulesConfig& config) { return config.repeated_subject_lookup().enabled(); }

}  // namespace

const RuleDescriptor kRepeatedSubjectLookupRule = {"repeated_subject_lookup",
                                                   v1::Alert::MISCONDUCT, Enabled, Make};

}  // namespace vigil
