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

/// One pool of `nodes` x `slots`; versions "v1" and "v2" alike: exponential 5 ms service, deterministic
/// start-up, no image to pull; Poisson arrivals at `rate` (none when 0).
inline sim::WorldConfig two_version_config(int nodes, int slots, sim::Time startup, int concurrency = 1,
                                           double rate = 0) {
  sim::WorldConfig c;
  sim::PoolSpec pool;
  pool.nodes = nodes;
  pool.slots = slots;
  c.cluster.pools.push_back(pool);
  sim::ModelVersionSpec v1;
  v1.name = "v1";
  v1.service_time = sim::Distribution::exponential(5 * sim::kMillisecond);
  v1.concurrency = concurrency;
  v1.startup = sim::Distribution::deterministic(startup);
  sim::ModelVersionSpec v2 = v1;
  v2.name = "v2";
  c.versions = {v1, v2};
  if (rate > 0) c.arrivals = std::shared_ptr<const sim::ArrivalProcess>(sim::make_poisson(rate));
  return c;
}

}  // namespace testing_support
