// Task outputs: which task (input partition number) decided each alert and dead letter, and which
// records of an output topic a task taken over must be compared with. An instance that is given a
// task re-reads its input from the state it holds for it (or from the beginning), deciding again
// what the task's earlier owners (other instances, or its own dead run) may already have
// published; reading their records back is what lets it drop those decisions instead of
// publishing them twice (engine/live/CHECKPOINTS.md, "Tasks that move between instances").
//
// Stateless functions and a value type; no Kafka, no store.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>

#include "alert.pb.h"
#include "state.pb.h"

namespace vigil {

// An output whose task cannot be told (an alert with no evidence read from Kafka, a dead letter of
// a file): compared with every task's records.
constexpr int32_t kAnyTask = -1;

// The task whose state decided `alert`: the partition its evidence was read from (all the events
// of one alert are of one officer, so of one partition number).
int32_t TaskOfAlert(const v1::Alert& alert);
// The task of a dead letter, from its source "topic/partition/offset".
int32_t TaskOfSource(std::string_view source);
int32_t TaskOfEntry(const state::OutboxEntry& entry);

// Output partition -> offset: where a task's records on one output topic may start.
using OutputStarts = std::map<int32_t, int64_t>;

// The records of one output topic to compare with the tasks being taken over: task t's records at
// or after its start on their partition (a partition its starts do not name: from the beginning).
class TaskReadBack {
 public:
  void Add(int32_t task, OutputStarts starts) { tasks_[task] = std::move(starts); }
  bool empty() const { return tasks_.empty(); }
  // Where the read must start, per output partition: the least of the tasks' starts, and a
  // partition left out (read from its beginning) when any task does not name it.
  OutputStarts ReadStart() const;
  // Whether a record of `task` at `partition`/`offset` is one of the tasks' records in range. A
  // record of kAnyTask is, wherever it lies: dropping a decision already on Kafka is always right.
  bool Wants(int32_t task, int32_t partition, int64_t offset) const;

 private:
  std::map<int32_t, OutputStarts> tasks_;
};

}  // namespace vigil
