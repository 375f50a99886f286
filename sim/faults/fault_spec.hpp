// Infrastructure faults: independent node crashes and correlated zone outages.
#pragma once

#include <string>
#include <vector>

#include "sim/core/distribution.hpp"
#include "sim/core/time.hpp"

namespace sim {

struct NodeFailureSpec {
  bool enabled = false;
  Time mtbf = 0;             // mean time between failures of one node (exponential)
  Distribution repair_time;  // time to repair (MTTR is its mean)
};

struct ZoneOutageSpec {
  std::string zone;
  Time at = 0;
  Time duration = 0;
};

struct FaultSpec {
  NodeFailureSpec node_failures;
  std::vector<ZoneOutageSpec> zone_outages;
};

}  // namespace sim
