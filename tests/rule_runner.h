// RuleRunner: one officer through one Rule, as the core drives it, without the core: events in the
// order given with the watermark at the latest time seen, timers fired (the watermark moved past
// them) before the first event after them, empty state freed. With `reencode` the state goes
// through Encode/Decode after every call, as an evicted officer's would, and must encode again to
// the same bytes, claim no more memory than before plus its bytes, and refuse its bytes cut short.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rules_config.h"
#include "runtime/rule.h"

namespace vigil::testing {

class RuleRunner final : public RuleContext {
 public:
  RuleRunner(const RuleDescriptor& descriptor, bool reencode)
      : config_(DefaultRulesConfig()), rule_(descriptor.make(config_)), reencode_(reencode),
        time_(TimeSettings::From(config_)) {}

  void Feed(const EventView& event) {
    FireTimersBefore(event.time);
    now_ = std::max(now_, event.time);
    rule_->OnEvent(event, *this);
    AfterCall();
  }
  void FireTimersBefore(Millis t) {
    while (!timers_.empty() && *timers_.begin() < t) {
      const Millis at = *timers_.begin();
      timers_.erase(timers_.begin());
      now_ = std::max(now_, at + 1);
      rule_->OnTimer(at, 0, *this);
      AfterCall();
    }
  }

  const std::vector<RuleAlert>& alerts() const { return alerts_; }
  const RuleState* state() const { return state_.get(); }
  size_t cleanups_scheduled() const { return cleanups_scheduled_; }
  size_t EncodedBytes() const {
    std::string bytes;
    if (state_) state_->Encode(bytes);
    return bytes.size();
  }

  std::string_view officer_id() const override { return "MP1"; }
  void SetTimer(Millis at, uint32_t) override { timers_.insert(at); }
  void ScheduleCleanup(Millis at, uint32_t) override {
    ++cleanups_scheduled_;
    timers_.insert(at);
  }
  void Emit(RuleAlert alert) override { alerts_.push_back(std::move(alert)); }
  const OfficerRoster& roster() override { return roster_; }
  Millis watermark() const override { return now_; }
  const TimeSettings& time() const override { return time_; }

 protected:
  const RuleState* FindState() override { return state_.get(); }
  RuleState& MutableState() override {
    if (!state_) state_ = rule_->NewState();
    return *state_;
  }

 private:
  void AfterCall() {
    if (state_ && state_->empty()) state_.reset();
    if (!state_ || !reencode_) return;
    std::string bytes;
    state_->Encode(bytes);
    auto decoded = rule_->NewState();
    REQUIRE(decoded->Decode(bytes));
    std::string again;
    decoded->Encode(again);
    REQUIRE(again == bytes);
    CHECK(decoded->MemoryBytes() <= state_->MemoryBytes() + bytes.size());
    // Damaged bytes are reported, not trusted.
    CHECK_FALSE(rule_->NewState()->Decode(std::string_view(bytes).substr(0, bytes.size() - 1)));
    state_ = std::move(decoded);
  }

  v1::RulesConfig config_;
  std::unique_ptr<Rule> rule_;
  bool reencode_;
  TimeSettings time_;
  std::unique_ptr<RuleState> state_;
  std::multiset<Millis> timers_;
  size_t cleanups_scheduled_ = 0;
  std::vector<RuleAlert> alerts_;
  OfficerRoster roster_;
  Millis now_ = kMinTime;
};

}  // namespace vigil::testing
