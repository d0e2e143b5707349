// ComplaintCountRule (contract, rules 4 and 5): N complaints against an officer within W.
#include "rulekit/complaint_count.h"

#include <algorithm>
#include <cctype>

#include "runtime/core.h"

namespace vigil::rulekit {
namespace {

// One officer's complaints that a future decision may count.
class ComplaintCountState final : public RuleState {
 public:
  CountWindowState window;
  PendingCleanup cleanup;

  void Encode(std::string& out) const override {
    ByteWriter writer(out);
    window.Encode(writer);
    cleanup.Encode(writer);
  }
  bool Decode(std::string_view bytes) override {
    ByteReader reader(bytes);
    return window.Decode(reader) && cleanup.Decode(reader) && reader.done();
  }
  bool empty() const override { return window.empty(); }
  size_t MemoryBytes() const override { return window.MemoryBytes(); }
};

// "SEXUAL_MISCONDUCT" -> "sexual misconduct", as the old core words it.
std::string CategoryName(int category) {
  std::string name = v1::Complaint::Category_Name(static_cast<v1::Complaint::Category>(category));
  for (char& c : name) c = c == '_' ? ' ' : static_cast<char>(std::tolower(c));
  return name;
}

}  // namespace

ComplaintCountRule::ComplaintCountRule(ComplaintCountSpec spec)
    : spec_(std::move(spec)), window_(spec_.window, spec_.min_complaints) {
  // The old core kept a std::set: the names read in enum order, each once.
  auto& categories = spec_.categories;
  std::sort(categories.begin(), categories.end());
  categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
  for (int category : categories) {
    if (!category_names_.empty()) category_names_ += " or ";
    category_names_ += CategoryName(category);
  }
}

std::unique_ptr<RuleState> ComplaintCountRule::NewState() const {
  return std::make_unique<ComplaintCountState>();
}

bool ComplaintCountRule::Counts(int32_t category) const {
  const auto& categories = spec_.categories;
  return categories.empty() || std::binary_search(categories.begin(), categories.end(), category);
}

void ComplaintCountRule::OnEvent(const EventView& event, RuleContext& ctx) const {
  if (!event.is_complaint() || !Counts(event.category)) return;
  auto& state = ctx.Mutable<ComplaintCountState>();
  std::vector<Ref> counted;  // filled (allocated) only for an alert
  if (AddCounted(window_, state.window, state.cleanup, RefOf(event), ctx.time().complaint_lateness,
                 ctx, &counted)) {
    Alert(counted, ctx);
  }
}

void ComplaintCountRule::OnTimer(Millis at, uint32_t, RuleContext& ctx) const {
  if (!ctx.Find<ComplaintCountState>()) return;  // forgotten already
  auto& state = ctx.Mutable<ComplaintCountState>();
  const Millis lateness = ctx.time().complaint_lateness;
  state.cleanup.Fired(at);
  if (!window_.Expire(state.window, Horizon(at, ctx, lateness))) {
    state.cleanup.Need(std::max(window_.ExpiryTime(state.window, lateness), at + 1), ctx);
  }
}

void ComplaintCountRule::Alert(const std::vector<Ref>& counted, RuleContext& ctx) const {
  RuleAlert alert = NewAlert(spec_.info, spec_.severity, ctx.officer_id());
  SetCounted(alert, counted);
  alert.summary = "Officer " + alert.officer_id + " received " + std::to_string(counted.size()) +
                  " complaints" + (category_names_.empty() ? "" : " of " + category_names_) +
                  " in " + FormatSpan(alert.window_end - alert.window_start) + " (" +
                  FormatTime(alert.window_start) + " to " + FormatTime(alert.window_end) + ")" +
                  spec_.summary_suffix + ".";
  ctx.Emit(std::move(alert));
}

}  // namespace vigil::rulekit
