#include "live/task_outputs.h"

#include <algorithm>
#include <charconv>

namespace vigil {

int32_t TaskOfAlert(const v1::Alert& alert) {
  for (const v1::Evidence& evidence : alert.evidence()) {
    if (evidence.has_partition()) return evidence.partition();
  }
  return kAnyTask;
}

// "topic/partition/offset" (a topic name has no '/'); "file:line" has no partition.
int32_t TaskOfSource(std::string_view source) {
  const size_t last = source.rfind('/');
  if (last == std::string_view::npos || last == 0) return kAnyTask;
  const size_t before = source.rfind('/', last - 1);
  if (before == std::string_view::npos) return kAnyTask;
  int32_t partition = kAnyTask;
  const char* first = source.data() + before + 1;
  const char* end = source.data() + last;
  auto [ptr, error] = std::from_chars(first, end, partition);
  if (error != std::errc() || ptr != end || partition < 0) return kAnyTask;
  return partition;
}

int32_t TaskOfEntry(const state::OutboxEntry& entry) {
  return entry.has_alert() ? TaskOfAlert(entry.alert()) : TaskOfSource(entry.dead_letter().source());
}

OutputStarts TaskReadBack::ReadStart() const {
  OutputStarts start;
  if (tasks_.empty()) return start;
  for (const auto& [partition, offset] : tasks_.begin()->second) {
    int64_t least = offset;
    bool named_by_all = true;
    for (const auto& [task, starts] : tasks_) {
      auto it = starts.find(partition);
      if (it == starts.end()) {
        named_by_all = false;
        break;
      }
      least = std::min(least, it->second);
    }
    if (named_by_all) start[partition] = least;
  }
  return start;
}

bool TaskReadBack::Wants(int32_t task, int32_t partition, int64_t offset) const {
  if (task == kAnyTask) return true;
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return false;
  auto start = it->second.find(partition);
  return start == it->second.end() || offset >= start->second;
}

}  // namespace vigil
