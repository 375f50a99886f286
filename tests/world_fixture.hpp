// Small builders for worlds used by several test files.
#pragma once

#include <memory>

#include "sim/world/world.hpp"

namespace testing_support {

/// One pool of `nodes` nodes with `slots` slots each, one version "v1" with exponential service.
inline sim::WorldConfig single_queue_config(double lambda, double mean_service_s, int concurrency,
                                            int queue_limit = -1, int nodes = 1, int slots = 1) {
  sim::WorldConfig c;
  sim::PoolSpec pool;
  pool.name = "cpu";
  pool.nodes = nodes;
  pool.slots = slots;
  c.cluster.pools.push_back(pool);
  sim::ModelVersionSpec v;
  v.name = "v1";
  v.service_time = sim::Distribution::exponential(sim::from_seconds(mean_service_s));
  v.concurrency = concurrency;
  v.queue_limit = queue_limit;
  c.versions.push_back(v);
  c.arrivals = std::shared_ptr<const sim::ArrivalProcess>(sim::make_poisson(lambda));
  return c;
}

}  // namespace testing_support
