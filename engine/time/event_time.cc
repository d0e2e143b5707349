#include "time/event_time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <google/protobuf/util/time_util.h>

namespace vigil {

Millis ToMillis(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1000000;
}

google::protobuf::Timestamp ToTimestamp(Millis t) {
  google::protobuf::Timestamp ts;
  Millis seconds = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>((t - seconds * 1000) * 1000000));
  return ts;
}

std::string FormatTime(Millis t) {
  if (t >= kMaxTime) return "+inf";
  if (t <= kMinTime) return "-inf";
  return google::protobuf::util::TimeUtil::ToString(ToTimestamp(t));
}

std::string FormatDay(Millis t) { return FormatTime(DayStart(t)).substr(0, 10); }

Result<Millis> ParseTime(const std::string& rfc3339) {
  google::protobuf::Timestamp ts;
  if (!google::protobuf::util::TimeUtil::FromString(rfc3339, &ts)) {
    return Status::Error("not an RFC 3339 time: '" + rfc3339 + "'");
  }
  return ToMillis(ts);
}

std::string FormatSpan(Millis span) {
  auto amount = [](double value, const char* unit) {
    char text[64];
    std::snprintf(text, sizeof text, "%.1f", value);
    std::string number = text;
    if (number.size() > 2 && number.compare(number.size() - 2, 2, ".0") == 0) number.resize(number.size() - 2);
    return number + " " + unit + (number == "1" ? "" : "s");
  };
  if (span >= kDay) return amount(static_cast<double>(span) / kDay, "day");
  if (span >= kHour) return amount(static_cast<double>(span) / kHour, "hour");
  return amount(static_cast<double>(span) / kMinute, "minute");
}

namespace {
class RealClock final : public Clock {
 public:
  Millis NowMillis() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};
}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

}  // namespace vigil
