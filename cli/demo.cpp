// deploysim_demo: builds a world in code and compares no release with a hand-driven recreate.
//
// A stand-in for the `deploysim` command until scenarios and strategies exist: it shows the engine API
// (World, observers, outcome metrics) end to end on a small cluster.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/monitor/stats.hpp"
#include "sim/world/world.hpp"

namespace {

using namespace sim;

WorldConfig demo_config(std::uint64_t replication) {
  WorldConfig c;
  PoolSpec pool;
  pool.name = "cpu";
  pool.nodes = 4;
  pool.max_nodes = 8;
  pool.slots = 2;
  pool.price_per_hour = 0.68;
  pool.idle_watts = 120;
  pool.busy_watts = 280;
  pool.provision_time = Distribution::lognormal_quantiles(3 * kMinute, 6 * kMinute);
  c.cluster.pools.push_back(pool);
  c.cluster.registry_bytes_per_second = 10e9 / 8;
  c.cluster.price_per_kwh = 0.15;

  ModelVersionSpec v1;
  v1.name = "v1";
  v1.service_time = Distribution::lognormal(20 * kMillisecond, 0.6);
  v1.concurrency = 4;
  v1.queue_limit = 64;
  v1.timeout = kSecond;
  v1.error_rate = 0.0002;
  v1.quality.conversion = 0.100;
  v1.image_bytes = 3e9;
  v1.startup = Distribution::uniform(20 * kSecond, 40 * kSecond);
  v1.warmup = 15 * kSecond;
  ModelVersionSpec v2 = v1;
  v2.name = "v2";
  v2.quality.conversion = 0.104;
  v2.defects = {
      DefectSpec{DefectSpec::Kind::latency, 2.5, 0, {DefectOnset::Kind::after_exposure, 20 * kMinute, 0}}};
  c.versions = {v1, v2};

  c.arrivals = std::shared_ptr<const ArrivalProcess>(make_poisson(400));
  UserPopulationConfig users;
  users.size = 100000;
  users.zipf_exponent = 1.1;
  c.users = std::make_shared<const UserPopulation>(users);
  c.faults.node_failures = NodeFailureSpec{true, 30 * kDay, Distribution::deterministic(15 * kMinute)};
  c.seed = 42;
  c.replication = replication;
  return c;
}

/// Recreate: at `at`, scale the stable version to zero; once it is gone, scale the candidate up.
void recreate(World& world, Time at, int replicas) {
  struct Watch {
    static void check(World& w, int n) {
      if (w.active(0) == 0 && w.count(0, ReplicaState::draining) == 0) {
        w.scale(1, n);
        return;
      }
      w.sim().call_in(100 * kMillisecond, [&w, n] { check(w, n); });
    }
  };
  world.sim().call_at(at, [&world, replicas] {
    world.mark(MarkKind::release_start, "recreate");
    world.scale(0, 0);
    Watch::check(world, replicas);
  });
}

OutcomeMetrics run(bool release, std::uint64_t replication) {
  World world(demo_config(replication));
  world.deploy_ready(0, 8);
  world.set_release(0, 1);
  SloSpec slo{0.999, 0.99, 250 * kMillisecond, kMinute};
  OutcomeObserver outcome(world, slo, 8);
  world.add_observer(&outcome);
  if (release) recreate(world, kHour, 8);
  world.run_until(3 * kHour);
  return outcome.finish();
}

std::string cell(const std::vector<double>& values) {
  std::vector<double> finite;
  for (double v : values)
    if (!std::isnan(v)) finite.push_back(v);
  if (finite.empty()) return "-";
  const ConfidenceInterval ci = mean_ci(finite);
  char buf[64];
  if (finite.size() < 2 || ci.half_width == 0)
    std::snprintf(buf, sizeof buf, "%.4g", ci.mean);
  else
    std::snprintf(buf, sizeof buf, "%.4g ± %.2g", ci.mean, ci.half_width);
  return buf;
}

}  // namespace

int main() {
  const int replications = 5;
  std::printf(
      "deploysim demo: 8 replicas of v1 at 400 req/s; v2 has a latency defect 20 min after exposure.\n");
  std::printf("3 simulated hours, release at 1 h, %d replications, mean ± 95%% CI.\n\n", replications);
  const char* names[] = {"none", "recreate"};
  std::vector<OutcomeMetrics> results[2];
  for (int s = 0; s < 2; ++s)
    for (int r = 0; r < replications; ++r) results[s].push_back(run(s == 1, static_cast<std::uint64_t>(r)));

  std::printf("%-24s %-22s %-22s\n", "metric", names[0], names[1]);
  std::printf("%-24s %-22s %-22s\n", "outcome", results[0][0].outcome.c_str(), results[1][0].outcome.c_str());
  const auto fields = results[0][0].fields();
  for (std::size_t f = 0; f < fields.size(); ++f) {
    std::vector<double> a, b;
    for (int r = 0; r < replications; ++r) {
      a.push_back(results[0][static_cast<std::size_t>(r)].fields()[f].second);
      b.push_back(results[1][static_cast<std::size_t>(r)].fields()[f].second);
    }
    std::printf("%-24s %-22s %-22s\n", fields[f].first.c_str(), cell(a).c_str(), cell(b).c_str());
  }
  std::vector<double> extra;
  for (int r = 0; r < replications; ++r)
    extra.push_back(
        extra_cost(results[1][static_cast<std::size_t>(r)], results[0][static_cast<std::size_t>(r)]));
  std::printf("%-24s %-22s %-22s\n", "extra_cost", "0", cell(extra).c_str());
  return 0;
}
