// Event time in Vigil: milliseconds since the Unix epoch, UTC. Wall-clock time never decides an
// alert; the only clock operators see is the watermark handed to them by the engine.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <google/protobuf/timestamp.pb.h>

#include "status.h"

namespace vigil {

using Millis = int64_t;

constexpr Millis kMinTime = std::numeric_limits<Millis>::min() / 4;
constexpr Millis kMaxTime = std::numeric_limits<Millis>::max() / 4;  // "infinity"
constexpr Millis kSecond = 1000;
constexpr Millis kMinute = 60 * kSecond;
constexpr Millis kHour = 60 * kMinute;
constexpr Millis kDay = 24 * kHour;

Millis ToMillis(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp ToTimestamp(Millis t);

// t rounded down / up to a multiple of `unit` (negative times too).
inline Millis FloorTo(Millis t, Millis unit) { return t - ((t % unit) + unit) % unit; }
inline Millis CeilTo(Millis t, Millis unit) { return -FloorTo(-t, unit); }
// Start of the UTC day containing t.
inline Millis DayStart(Millis t) { return FloorTo(t, kDay); }

// "2026-03-01T08:00:00Z" (milliseconds shown only when non-zero).
std::string FormatTime(Millis t);
// "2026-03-01"
std::string FormatDay(Millis t);
Result<Millis> ParseTime(const std::string& rfc3339);
// A span for people: "9 days", "5.5 hours", "40 minutes".
std::string FormatSpan(Millis span);

// A source of wall-clock time for progress reporting and checkpoint intervals only.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis NowMillis() const = 0;
};
const Clock& SystemClock();

}  // namespace vigil
