// Sorted lists of event references kept as operator state: the building block of interval joins
// ("is there an event of the other stream within [t - before, t + after]?") and of retention.
#pragma once

#include "state.pb.h"
#include "event_time.h"

namespace vigil {

// Inserts `ref` keeping the list ordered by (time, event_id).
void InsertSorted(state::EventList& list, const state::EventRef& ref);
// The earliest event with from <= time <= to, or nullptr.
const state::EventRef* EarliestBetween(const state::EventList& list, Millis from, Millis to);
// Drops events with time < horizon; returns true when the list is empty.
bool DropBefore(state::EventList& list, Millis horizon);

}  // namespace vigil
