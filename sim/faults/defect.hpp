// Release defects carried by a model version, and when they become active.
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/time.hpp"

namespace sim {

struct DefectOnset {
  enum class Kind : std::uint8_t {
    at_start,        // active from time zero
    at,              // at an absolute simulated time
    after_exposure,  // a delay after the version first serves live traffic
    load_above,      // once the version's load exceeds a rate per ready replica (latched)
  };
  Kind kind = Kind::at_start;
  Time delay = 0;              // `at` and `after_exposure`
  double per_replica_rps = 0;  // `load_above`
};

struct DefectSpec {
  enum class Kind : std::uint8_t {
    error_rate,    // extra error probability per request
    latency,       // service time multiplier
    quality_drop,  // relative drop of the conversion probability (0.2 = 20% fewer conversions)
    crash_loop,    // replicas crash when their start completes; restarts back off
    memory_leak,   // replicas crash after `uptime` of serving
  };
  Kind kind = Kind::error_rate;
  double value = 0;  // error probability, latency multiplier or relative quality drop
  Time uptime = 0;   // memory_leak
  DefectOnset onset;
};

const char* to_string(DefectSpec::Kind kind);

}  // namespace sim
