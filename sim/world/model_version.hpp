// A model version as served: service times, capacity, errors, quality, image and start-up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/distribution.hpp"
#include "sim/core/time.hpp"
#include "sim/faults/defect.hpp"

namespace sim {

/// Conversion probability of a successful answer, optionally per segment of one user attribute.
struct QualitySpec {
  double conversion = 0;
  int segment_attribute = -1;                 // index of the user attribute, -1: none
  std::vector<double> conversion_by_segment;  // indexed by category of that attribute
};

struct ModelVersionSpec {
  std::string name;
  Distribution service_time = Distribution::exponential(20 * kMillisecond);
  int concurrency = 1;        // requests served at once by one replica
  int queue_limit = 64;       // waiting requests per replica; -1: unbounded
  Time timeout = kTimeNever;  // a request that has not finished by then fails
  double error_rate = 0;
  QualitySpec quality;
  double image_bytes = 0;
  Distribution startup = Distribution::deterministic(0);
  Time warmup = 0;   // readiness delay after start-up
  std::string pool;  // node pool; empty: the first pool
  std::vector<DefectSpec> defects;
};

}  // namespace sim
