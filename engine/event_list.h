// Sorted lists of event references kept as operator state, and their retention.
#pragma once

#include "state.pb.h"
#include "event_time.h"

namespace vigil {

// Inserts `ref` keeping the list ordered by (time, event_id).
void InsertSorted(state::EventList& list, const state::EventRef& ref);
// Drops events with time < horizon; returns true when the list is empty.
bool DropBefore(state::EventList& list, Millis horizon);

}  // namespace vigil
