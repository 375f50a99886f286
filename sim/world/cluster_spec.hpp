// Node pools and the image registry link.
#pragma once

#include <string>
#include <vector>

#include "sim/core/distribution.hpp"
#include "sim/core/time.hpp"

namespace sim {

struct PoolSpec {
  std::string name = "default";
  int nodes = 1;       // at start; also the floor the pool shrinks back to
  int max_nodes = -1;  // -1: same as nodes (no growth)
  int slots = 1;       // replicas per node
  double price_per_hour = 0;
  double idle_watts = 0;
  double busy_watts = 0;
  Distribution provision_time = Distribution::deterministic(0);
  Time scale_down_delay = 10 * kMinute;  // an empty node above the floor is released after this
  std::string zone = "default";
  double node_link_bytes_per_second = 25e9 / 8;
};

struct ClusterSpec {
  std::vector<PoolSpec> pools;
  double registry_bytes_per_second = 10e9 / 8;
  Time registry_latency = 0;
  double price_per_kwh = 0;
  /// How long replicas must stay Pending before nodes are provisioned for them (the cluster autoscaler's
  /// scan interval): replicas that find a slot sooner, e.g. freed by a draining replica, cause no growth.
  Time autoscaler_delay = 10 * kSecond;
};

}  // namespace sim
