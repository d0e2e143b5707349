// Planting (planting.cc): the rule patterns, their near misses and the benign cases.
#pragma once

#include <vector>

#include "force_model.h"

namespace vigil::synth {

// Plants every pattern and benign case that fits the force into `model` (its planted events, sorted
// by time, its quiet days and planted officers) and returns the plan, in rule order.
std::vector<PlantedPattern> PlantPatterns(ForceModel& model);

}  // namespace vigil::synth
