// Review decisions on alerts (DASHBOARD.md, "Review states"): the state machine, the latest
// Review record of every alert read from vigil.reviews, and publishing a decision.
//
//   new -> under_review -> one outcome (no_case_to_answer, practice_requiring_improvement,
//   referred_for_misconduct_investigation, welfare_support, false_positive, duplicate); final.
//
// ReviewBook and ReviewDesk are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alert.pb.h"
#include "alert_index.h"
#include "kafka/kafka_io.h"
#include "review.pb.h"

namespace vigil::http {

using ReviewState = v1::ReviewStep::State;

// "new", "under_review", "no_case_to_answer", ...; ParseState() is its inverse.
std::string StateName(ReviewState state);
std::optional<ReviewState> ParseState(std::string_view name);
bool IsOutcome(ReviewState state);
// NEW, UNDER_REVIEW, then the outcomes.
const std::vector<ReviewState>& AllStates();

// The current state: the last step's, NEW without steps.
ReviewState CurrentState(const v1::Review& review);
// {"state":"under_review","steps":[{"state","reason","reviewer","at"}...]}; {"state":"new"} when
// there is no review.
std::string ReviewJson(const v1::Review* review);

// What a reviewer asks for.
struct Decision {
  std::string alert_id;
  ReviewState state = v1::ReviewStep::STATE_UNSPECIFIED;
  std::string reason;
  std::string expect;  // the state the reviewer saw (StateName); required
};
struct Refusal {
  int status;  // 400 bad transition or empty reason, 409 `expect` is not the current state
  std::string message;
};
// Why `decision` may not move an alert in state `current`, or nothing when it may.
std::optional<Refusal> CheckDecision(ReviewState current, const Decision& decision);

class ReviewBook {
 public:
  // A record of vigil.reviews read at `position`: the latest record of an alert wins. A record at
  // or before the one already applied from the same partition changes nothing (a decision applied
  // by ReviewDesk at once is read back from the topic later).
  void Apply(v1::Review review, Position position);
  std::optional<v1::Review> Find(const std::string& alert_id) const;
  ReviewState StateOf(const std::string& alert_id) const;
  std::string JsonOf(const std::string& alert_id) const;

  // Every change gets the next version; streams send review events for the changes after theirs.
  uint64_t version() const;
  // Alert ids changed after `version` (each once), and the version they bring the caller to.
  std::vector<std::string> ChangedSince(uint64_t version, uint64_t* now) const;
  // Called (on the applying thread) after each change.
  void SetListener(std::function<void()> listener);

 private:
  struct Entry {
    v1::Review review;
    Position position;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> reviews_;
  std::vector<std::string> changes_;  // changes_[version - 1]: the alert id changed
  std::function<void()> listener_;
};

// Records decisions: checks them against the book, publishes the new Review (every step so far)
// keyed by alert id, waits for its acknowledgement, then applies it to the book. One decision at
// a time per desk; two dashboards deciding the same alert at once both succeed (last write wins).
class ReviewDesk {
 public:
  ReviewDesk(ReviewBook& book, AckedProducer& producer, std::string topic);
  struct Answer {
    int status = 200;     // 200, 400, 409, 503 (not acknowledged)
    std::string error;    // when not 200
    v1::Review review;    // the new review, when 200
  };
  Answer Decide(const v1::Alert& alert, const Decision& decision, const std::string& reviewer,
                Millis now);

 private:
  ReviewBook& book_;
  AckedProducer& producer_;
  std::string topic_;
  std::mutex mutex_;
};

}  // namespace vigil::http
