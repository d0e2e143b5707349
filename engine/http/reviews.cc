#include "reviews.h"

#include <set>

#include "json_text.h"

namespace vigil::http {

namespace {
const std::vector<std::pair<ReviewState, const char*>>& Names() {
  static const std::vector<std::pair<ReviewState, const char*>> names = {
      {v1::ReviewStep::NEW, "new"},
      {v1::ReviewStep::UNDER_REVIEW, "under_review"},
      {v1::ReviewStep::NO_CASE_TO_ANSWER, "no_case_to_answer"},
      {v1::ReviewStep::PRACTICE_REQUIRING_IMPROVEMENT, "practice_requiring_improvement"},
      {v1::ReviewStep::REFERRED_FOR_MISCONDUCT_INVESTIGATION, "referred_for_misconduct_investigation"},
      {v1::ReviewStep::WELFARE_SUPPORT, "welfare_support"},
      {v1::ReviewStep::FALSE_POSITIVE, "false_positive"},
      {v1::ReviewStep::DUPLICATE, "duplicate"},
  };
  return names;
}
}  // namespace

std::string StateName(ReviewState state) {
  for (const auto& [s, name] : Names()) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<ReviewState> ParseState(std::string_view name) {
  for (const auto& [s, n] : Names()) {
    if (name == n) return s;
  }
  return std::nullopt;
}

bool IsOutcome(ReviewState state) {
  return state >= v1::ReviewStep::NO_CASE_TO_ANSWER && state <= v1::ReviewStep::DUPLICATE;
}

const std::vector<ReviewState>& AllStates() {
  static const std::vector<ReviewState> states = [] {
    std::vector<ReviewState> all;
    for (const auto& entry : Names()) all.push_back(entry.first);
    return all;
  }();
  return states;
}

ReviewState CurrentState(const v1::Review& review) {
  return review.steps().empty() ? v1::ReviewStep::NEW : review.steps().rbegin()->state();
}

std::string ReviewJson(const v1::Review* review) {
  if (!review || review->steps().empty()) return "{\"state\":\"new\"}";
  std::string steps;
  for (const v1::ReviewStep& step : review->steps()) {
    steps += std::string(steps.empty() ? "" : ",") + "{\"state\":" + JsonQuote(StateName(step.state())) +
             ",\"reason\":" + JsonQuote(step.reason()) + ",\"reviewer\":" + JsonQuote(step.reviewer()) +
             ",\"at\":" + JsonQuote(FormatTime(ToMillis(step.at()))) + "}";
  }
  return "{\"state\":" + JsonQuote(StateName(CurrentState(*review))) + ",\"steps\":[" + steps + "]}";
}

std::optional<Refusal> CheckDecision(ReviewState current, const Decision& decision) {
  if (decision.reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Refusal{400, "a decision needs a reason"};
  }
  if (decision.expect.empty()) return Refusal{400, "expect (the state you saw) is required"};
  if (!ParseState(decision.expect)) return Refusal{400, "expect: unknown state '" + decision.expect + "'"};
  if (decision.expect != StateName(current)) {
    return Refusal{409, "the alert is now " + StateName(current) + ", not " + decision.expect};
  }
  bool allowed = (current == v1::ReviewStep::NEW && decision.state == v1::ReviewStep::UNDER_REVIEW) ||
                 (current == v1::ReviewStep::UNDER_REVIEW && IsOutcome(decision.state));
  if (!allowed) {
    std::string why = IsOutcome(current) ? " (an outcome is final)"
                      : current == v1::ReviewStep::NEW ? " (an alert is put under review first)"
                                                       : " (under_review moves to an outcome)";
    return Refusal{400, "cannot move from " + StateName(current) + " to " + StateName(decision.state) + why};
  }
  return std::nullopt;
}

void ReviewBook::Apply(v1::Review review, Position position) {
  std::function<void()> listener;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = reviews_.find(review.alert_id());
    if (it != reviews_.end() && it->second.position.partition == position.partition &&
        position.offset <= it->second.position.offset) {
      return;
    }
    std::string id = review.alert_id();
    reviews_[id] = Entry{std::move(review), position};
    changes_.push_back(std::move(id));
    listener = listener_;
  }
  if (listener) listener();
}

std::optional<v1::Review> ReviewBook::Find(const std::string& alert_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = reviews_.find(alert_id);
  if (it == reviews_.end()) return std::nullopt;
  return it->second.review;
}

ReviewState ReviewBook::StateOf(const std::string& alert_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = reviews_.find(alert_id);
  return it == reviews_.end() ? v1::ReviewStep::NEW : CurrentState(it->second.review);
}

std::string ReviewBook::JsonOf(const std::string& alert_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = reviews_.find(alert_id);
  return ReviewJson(it == reviews_.end() ? nullptr : &it->second.review);
}

uint64_t ReviewBook::version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return changes_.size();
}

std::vector<std::string> ReviewBook::ChangedSince(uint64_t version, uint64_t* now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (uint64_t v = version; v < changes_.size(); ++v) {
    if (seen.insert(changes_[v]).second) ids.push_back(changes_[v]);
  }
  *now = changes_.size();
  return ids;
}

void ReviewBook::SetListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listener_ = std::move(listener);
}

ReviewDesk::ReviewDesk(ReviewBook& book, AckedProducer& producer, std::string topic)
    : book_(book), producer_(producer), topic_(std::move(topic)) {}

ReviewDesk::Answer ReviewDesk::Decide(const v1::Alert& alert, const Decision& decision,
                                      const std::string& reviewer, Millis now) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<v1::Review> current = book_.Find(alert.alert_id());
  ReviewState state = current ? CurrentState(*current) : v1::ReviewStep::NEW;
  if (std::optional<Refusal> refusal = CheckDecision(state, decision)) {
    return Answer{refusal->status, refusal->message, {}};
  }
  v1::Review review = current.value_or(v1::Review());
  review.set_alert_id(alert.alert_id());
  review.set_officer_id(alert.officer_id());
  review.set_rule_id(alert.rule_id());
  review.set_kind(alert.kind());
  v1::ReviewStep* step = review.add_steps();
  step->set_state(decision.state);
  step->set_reason(decision.reason);
  step->set_reviewer(reviewer);
  *step->mutable_at() = ToTimestamp(now);
  Result<std::vector<AckedProducer::Delivered>> sent =
      producer_.Send({{topic_, alert.alert_id(), review.SerializeAsString()}});
  if (!sent.ok()) return Answer{503, "the decision was not recorded: " + sent.status().message(), {}};
  book_.Apply(review, Position{(*sent)[0].partition, (*sent)[0].offset});
  return Answer{200, "", std::move(review)};
}

}  // namespace vigil::http
