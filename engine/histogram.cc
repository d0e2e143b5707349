#include "histogram.h"

#include <algorithm>
#include <utility>

namespace vigil {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::Observe(double value) {
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[bucket];
  ++count_;
  sum_ += value;
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> cumulative(counts_.size());
  uint64_t total = 0;
  for (size_t i = 0; i < counts_.size(); ++i) cumulative[i] = total += counts_[i];
  return cumulative;
}

}  // namespace vigil
