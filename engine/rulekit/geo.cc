#include "rulekit/geo.h"

#include <algorithm>
#include <cmath>

namespace vigil::rulekit {

double GreatCircleKm(const LatLon& a, const LatLon& b) {
  // The formula below gives exactly 0 too (h is 0, asin(0) is 0): skipping it changes no result.
  if (a == b) return 0;
  auto rad = [](double degrees) { return degrees * kPi / 180.0; };
  double dlat = rad(b.lat - a.lat);
  double dlon = rad(b.lon - a.lon);
  double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
             std::cos(rad(a.lat)) * std::cos(rad(b.lat)) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

}  // namespace vigil::rulekit
