#include "event_list.h"

#include <algorithm>

#include "count_window.h"

namespace vigil {

void InsertSorted(state::EventList& list, const state::EventRef& ref) {
  InsertSorted(*list.mutable_events(), ref);
}

bool DropBefore(state::EventList& list, Millis horizon) {
  auto* events = list.mutable_events();
  events->erase(std::remove_if(events->begin(), events->end(),
                               [&](const state::EventRef& e) { return e.time_ms() < horizon; }),
                events->end());
  return events->empty();
}

}  // namespace vigil
