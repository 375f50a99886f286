// Names of defect kinds, as they appear in scenarios and reports.
#include "sim/faults/defect.hpp"

namespace sim {

const char* to_string(DefectSpec::Kind kind) {
  switch (kind) {
    case DefectSpec::Kind::error_rate:
      return "error_rate";
    case DefectSpec::Kind::latency:
      return "latency";
    case DefectSpec::Kind::quality_drop:
      return "quality_drop";
    case DefectSpec::Kind::crash_loop:
      return "crash_loop";
    case DefectSpec::Kind::memory_leak:
      return "memory_leak";
  }
  return "?";
}

}  // namespace sim
