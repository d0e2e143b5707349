// Great-circle distance on the contract's spherical Earth (radius 6371 km), for the rules that
// compare positions (impossible_travel).
//
// The haversine formula, evaluated in one fixed order of operations (that of the deleted old core's
// impossible_travel), so distances, and the alerts' scores and summaries built from them, stay bit
// for bit those of the golden verdicts in tests/golden/.
#pragma once

namespace vigil::rulekit {

constexpr double kEarthRadiusKm = 6371.0;
constexpr double kPi = 3.14159265358979323846;

struct LatLon {
  double lat = 0;  // degrees
  double lon = 0;  // degrees
  friend bool operator==(const LatLon& a, const LatLon& b) {
    return a.lat == b.lat && a.lon == b.lon;
  }
};

// Kilometres between a and b along the great circle; exactly 0 for equal points (cheaply: the
// trigonometry is skipped, as most consecutive uses of an account are at one terminal).
double GreatCircleKm(const LatLon& a, const LatLon& b);

// No two points are further apart than this: half the circumference.
constexpr double kMaxGreatCircleKm = kPi * kEarthRadiusKm;

}  // namespace vigil::rulekit
