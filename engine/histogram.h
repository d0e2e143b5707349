// Histogram: counts of observations (durations in seconds, say) in buckets of fixed upper bounds,
// with their sum: what a Prometheus histogram family needs (engine/http/metrics.h writes it).
// A value type, copied whole into a metrics snapshot; not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace vigil {

class Histogram {
 public:
  Histogram() : Histogram(std::vector<double>{}) {}  // one bucket: +Inf
  // Sorted here; the +Inf bucket is implicit.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Observations <= upper_bounds()[i], cumulative (one more entry: all of them, the +Inf bucket).
  std::vector<uint64_t> CumulativeCounts() const;
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last: above every bound
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace vigil
