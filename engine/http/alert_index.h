// AlertIndex: every alert a dashboard has read from vigil.alerts, in memory, in arrival order (the
// order this process read them; within a partition, offset order), by officer and by alert id,
// each with its position "PARTITION:OFFSET" on the topic (the SSE event id).
//
// Thread-safe: one consumer thread adds, any number of handler threads read. Readers get
// AlertRef, shared and immutable, so nothing is copied or held locked while a response is written.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alert.pb.h"
#include "time/event_time.h"

namespace vigil::http {

struct Position {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string ToString() const;  // "2:417"
  static std::optional<Position> Parse(std::string_view text);
  bool operator<(const Position& o) const {
    return partition != o.partition ? partition < o.partition : offset < o.offset;
  }
};

struct IndexedAlert {
  v1::Alert alert;
  Position position;
  uint64_t sequence = 0;  // arrival order, from 1
  std::string json;       // the alert as one line of proto3 JSON
};
using AlertRef = std::shared_ptr<const IndexedAlert>;
using AlertFilter = std::function<bool(const v1::Alert&)>;

class AlertIndex {
 public:
  // Adds an alert read at `position`; returns false when its id is already indexed (the engine
  // republished it): it is not added twice, and resuming after its position resumes after every
  // alert read before it. Calls the listener after adding.
  bool Add(v1::Alert alert, Position position);
  // Called (on the adding thread) after each Add that added an alert.
  void SetListener(std::function<void()> listener);

  uint64_t last_sequence() const;
  AlertRef Find(const std::string& alert_id) const;
  // The sequence after which a stream resumes when its client last saw `position`, if this
  // process has read that position.
  std::optional<uint64_t> ResumePoint(Position position) const;

  struct Scan {
    std::vector<AlertRef> alerts;
    uint64_t scanned_to = 0;  // the next scan starts after this sequence
  };
  // Alerts after sequence `after` that pass `filter`, oldest first, at most `limit`.
  Scan After(uint64_t after, const AlertFilter& filter, size_t limit) const;
  // The newest `limit` alerts that pass `filter`, newest first.
  std::vector<AlertRef> Recent(const AlertFilter& filter, size_t limit) const;

  struct Page {
    std::vector<AlertRef> alerts;  // newest first
    bool more = false;             // older ones remain (resume with before = the last one)
  };
  // One officer's alerts arrived before sequence `before` (all when absent), newest first.
  Page ForOfficer(const std::string& officer_id, std::optional<uint64_t> before,
                  const AlertFilter& filter, size_t limit) const;

  struct Summary {
    std::vector<Millis> days;  // start of each UTC day, oldest first
    std::map<std::string, std::vector<int>> by_rule;
    std::map<v1::Alert::Severity, std::vector<int>> by_severity;  // LOW, MEDIUM, HIGH, each present
    std::vector<std::string> alert_ids;  // the alerts counted
  };
  // Counts by day of window_end (UTC) over the `days` days that end on the day of the newest
  // window_end among the alerts that pass `filter` (so a replayed or synthetic history shows too).
  Summary Summarize(int days, const AlertFilter& filter) const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<AlertRef> alerts_;  // alerts_[sequence - 1]
  std::unordered_map<std::string, uint64_t> by_id_;
  std::map<Position, uint64_t> resume_;  // position -> resume after this sequence
  std::unordered_map<std::string, std::vector<uint64_t>> by_officer_;
  std::function<void()> listener_;
};

}  // namespace vigil::http
