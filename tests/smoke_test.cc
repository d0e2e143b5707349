#include <doctest/doctest.h>
#include "event_time.h"
TEST_CASE("day start") { CHECK(vigil::DayStart(vigil::kDay + 5) == vigil::kDay); }
