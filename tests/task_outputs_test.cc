// Task outputs (engine/live/task_outputs.h): which task decided an output, and which records of an
// output topic a takeover of some tasks compares with.
#include <doctest/doctest.h>

#include "live/task_outputs.h"

namespace vigil {
namespace {

TEST_CASE("task outputs: an alert's task is the partition its evidence was read from") {
  v1::Alert alert;
  CHECK(TaskOfAlert(alert) == kAnyTask);
  alert.add_evidence()->set_event_id("e1");  // from a file: no partition
  CHECK(TaskOfAlert(alert) == kAnyTask);
  alert.add_evidence()->set_partition(2);
  CHECK(TaskOfAlert(alert) == 2);
}

TEST_CASE("task outputs: a dead letter's task is its source's partition") {
  CHECK(TaskOfSource("vigil.access/1/4242") == 1);
  CHECK(TaskOfSource("vigil.access/17/0") == 17);
  CHECK(TaskOfSource("events.ndjson:12") == kAnyTask);
  CHECK(TaskOfSource("vigil.access/x/3") == kAnyTask);
  CHECK(TaskOfSource("/3") == kAnyTask);
  state::OutboxEntry entry;
  entry.mutable_dead_letter()->set_source("vigil.roster/0/9");
  CHECK(TaskOfEntry(entry) == 0);
}

TEST_CASE("task outputs: a takeover reads from the least start and keeps each task's own records") {
  TaskReadBack range;
  range.Add(0, {{0, 10}, {1, 5}});
  range.Add(2, {{0, 4}});  // names no start on output partition 1: from its beginning
  const OutputStarts start = range.ReadStart();
  CHECK(start == OutputStarts{{0, 4}});
  CHECK_FALSE(range.Wants(0, 0, 9));  // before task 0's own start
  CHECK(range.Wants(0, 0, 10));
  CHECK(range.Wants(2, 0, 4));
  CHECK(range.Wants(2, 1, 0));
  CHECK_FALSE(range.Wants(1, 0, 100));  // a task not taken over
  CHECK(range.Wants(kAnyTask, 0, 0));
  TaskReadBack fresh;
  fresh.Add(1, {});
  CHECK(fresh.ReadStart().empty());
  CHECK(fresh.Wants(1, 3, 0));
}

}  // namespace
}  // namespace vigil
