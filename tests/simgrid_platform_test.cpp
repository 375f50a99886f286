// The SimGrid platform backend against the native model and hand-computed values. SimGrid allows one engine
// per process, so every case runs its SimGrid part in a child process (run_in_child).
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sim/platform/native_platform.hpp"
#include "sim/platform/simgrid_platform.hpp"
#include "sim/run/isolate.hpp"
#include "sim/run/result_codec.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/world/world.hpp"
#include "strategies/registry.hpp"

using namespace sim;

namespace {

constexpr double kGB = 1e9;

/// Pull end times as "tag:seconds:status" lines, in the order they ended.
struct Log {
  std::string text;
  void add(Simulation& sim, char tag, PullStatus status) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%c:%.6f:%s\n", tag, to_seconds(sim.now()),
                  status == PullStatus::done ? "done" : "failed");
    text += buf;
  }
};

PlatformSpec cm02() {
  PlatformSpec spec;
  spec.backend = PlatformBackend::simgrid;
  spec.network_model = "CM02";
  spec.crosstraffic = false;
  return spec;
}

/// Four 1 GB pulls through a 1 GB/s registry at t = 0; a fifth starts at 2 s; optionally node 0 fails at 1 s.
std::string pulls_on(Platform& platform, Simulation& sim, bool fail_node0) {
  Log log;
  std::vector<NodeLinkId> nodes;
  for (std::uint32_t i = 0; i < 5; ++i) {
    nodes.push_back(platform.add_node(NodeSite{"cpu", "a", i, 25e9 / 8}));
    platform.set_node_power(nodes.back(), true);
  }
  for (int i = 0; i < 4; ++i)
    platform.start_pull(nodes[static_cast<std::size_t>(i)], 1 * kGB,
                        [&, i](PullId, PullStatus s) { log.add(sim, static_cast<char>('a' + i), s); });
  sim.call_at(2 * kSecond, [&] {
    platform.start_pull(nodes[4], 1 * kGB, [&](PullId, PullStatus s) { log.add(sim, 'e', s); });
  });
  if (fail_node0) sim.call_at(1 * kSecond, [&] { platform.set_node_up(nodes[0], false); });
  sim.run_until(60 * kSecond);
  return log.text;
}

std::string native_pulls(bool fail_node0) {
  Simulation sim;
  NativePlatform platform(sim, 1 * kGB);
  return pulls_on(platform, sim, fail_node0);
}

std::string simgrid_pulls(bool fail_node0) {
  return run_in_child([fail_node0] {
    Simulation sim;
    SimGridPlatform platform(sim, cm02(), 1 * kGB, 0, {PlatformPool{"cpu", "a", 5, 25e9 / 8}});
    return pulls_on(platform, sim, fail_node0);
  });
}

}  // namespace

TEST_CASE("platform/simgrid: the co-simulation stops exactly at completions and agrees with max-min",
          "[platform][simgrid]") {
  // 4 pulls at 0.25 GB/s each; at 2 s a fifth joins: 0.2 GB/s each, so the first four end at 4.5 s and
  // the fifth, alone from then on with 0.5 GB left, at 5 s.
  const std::string expected =
      "a:4.500000:done\nb:4.500000:done\nc:4.500000:done\nd:4.500000:done\ne:5.000000:done\n";
  CHECK(native_pulls(false) == expected);
  CHECK(simgrid_pulls(false) == expected);
}

TEST_CASE("platform/simgrid: a node that fails mid-pull fails its transfer and the others speed up",
          "[platform][simgrid]") {
  // At 1 s each pull has 0.25 GB; node 0's fails, the other three share 1 GB/s: 0.75 GB more each takes
  // 2.25 s, but the fifth joins at 2 s. Until 2 s: 1/3 GB/s each (0.333 GB more); then four flows at
  // 0.25 GB/s: b, c, d have 0.41667 GB left -> 1.66667 s -> 3.66667 s; e has 0.58333 GB left at
  // 3.66667 s, alone -> 4.25 s.
  const std::string sg = simgrid_pulls(true);
  CHECK(sg == "a:1.000000:failed\nb:3.666667:done\nc:3.666667:done\nd:3.666667:done\ne:4.250000:done\n");
  // The native model stalls a failed node's pulls instead (the world terminates its replicas anyway).
  CHECK(native_pulls(true).find("a:") == std::string::npos);
}

TEST_CASE("platform/simgrid: the default LV08 model is slower than max-min, as documented",
          "[platform][simgrid]") {
  const std::string lv08 = run_in_child([] {
    Simulation sim;
    PlatformSpec spec;
    spec.backend = PlatformBackend::simgrid;
    SimGridPlatform platform(sim, spec, 1 * kGB, 0, {PlatformPool{"cpu", "a", 1, 25e9 / 8}});
    Log log;
    const NodeLinkId node = platform.add_node(NodeSite{"cpu", "a", 0, 25e9 / 8});
    platform.set_node_power(node, true);
    platform.start_pull(node, 1 * kGB, [&](PullId, PullStatus s) { log.add(sim, 'a', s); });
    sim.run_until(60 * kSecond);
    return log.text;
  });
  // LV08 gives a flow 97% of the link's bandwidth (its bandwidth factor), and crosstraffic adds the
  // acknowledgements: 1 GB at 1 GB/s takes 1 / 0.97 s and a little more.
  double t = 0;
  REQUIRE(std::sscanf(lv08.c_str(), "a:%lf:done", &t) == 1);
  CHECK(t > 1 / 0.97);
  CHECK(t < 1.1);
}

TEST_CASE("platform/simgrid: a second engine in one process is refused", "[platform][simgrid]") {
  const std::string message = run_in_child([] {
    Simulation a, b;
    SimGridPlatform first(a, cm02(), 1 * kGB, 0, {PlatformPool{"cpu", "a", 1, 1e9}});
    try {
      SimGridPlatform second(b, cm02(), 1 * kGB, 0, {PlatformPool{"cpu", "a", 1, 1e9}});
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  });
  CHECK_THAT(message, Catch::Contains("one engine per process"));
}

TEST_CASE("platform/simgrid: child runs report errors and deaths", "[platform][simgrid]") {
  CHECK_THROWS_WITH(run_in_child([]() -> std::string { throw std::invalid_argument("bad input"); }),
                    "bad input");
  CHECK_THROWS_WITH(run_in_child([]() -> std::string { std::abort(); }),
                    Catch::Contains("killed by signal 6"));
  CHECK(run_in_child([] { return std::string(100000, 'x'); }).size() == 100000);
}

namespace {

Scenario two_zones() {
  return load_scenario(std::string(DEPLOYSIM_SOURCE_DIR) + "/scenarios/simgrid-two-zones.yaml",
                       StrategyRegistry::builtin().schemas());
}

double mean_of(const RunSet& set, const std::string& strategy, const std::string& metric) {
  for (const StrategySummary& s : set.summary)
    if (s.label == strategy)
      for (const MetricSummary& m : s.metrics)
        if (m.name == metric) return m.mean;
  FAIL("no " << metric << " for " << strategy);
  return 0;
}

}  // namespace

TEST_CASE("platform/simgrid: a two-zone scenario agrees with the native model where the models agree",
          "[platform][simgrid]") {
  Scenario sg = two_zones();
  sg.replications = 1;
  REQUIRE(sg.world.platform.backend == PlatformBackend::simgrid);
  Scenario native = sg;
  native.world.platform = PlatformSpec{};
  Scenario maxmin = sg;
  maxmin.world.platform.network_model = "CM02";
  maxmin.world.platform.crosstraffic = false;
  maxmin.world.platform.tcp_window = 0;
  Scenario capped = maxmin;
  capped.world.platform.tcp_window = 4194304;
  RunOptions options;
  options.jobs = 2;
  const RunSet n = run_scenario(native, StrategyRegistry::builtin(), options);
  const RunSet m = run_scenario(maxmin, StrategyRegistry::builtin(), options);
  const RunSet c = run_scenario(capped, StrategyRegistry::builtin(), options);
  const RunSet d = run_scenario(sg, StrategyRegistry::builtin(), options);
  for (const char* strategy : {"rolling", "blue_green"}) {
    INFO(strategy);
    const double native_s = mean_of(n, strategy, "deploy_duration_s");
    // Max-min sharing without window cap: the same pulls, apart from the platform's link latencies (ms).
    CHECK(mean_of(m, strategy, "deploy_duration_s") == Approx(native_s).margin(0.1));
    // LV08 (97% of the bandwidth, acknowledgements on the links) is slower.
    CHECK(mean_of(d, strategy, "deploy_duration_s") > native_s + 1);
  }
  // The TCP window cap (4 MiB over a 12 ms round trip: 350 MB/s per flow) slows the rolling update,
  // whose five pulls at a time could go faster than that, but not blue-green's twenty, which share the
  // registry's 1.25 GB/s at 62.5 MB/s each.
  CHECK(mean_of(c, "rolling", "deploy_duration_s") > mean_of(n, "rolling", "deploy_duration_s") + 1);
  CHECK(mean_of(c, "blue_green", "deploy_duration_s") ==
        Approx(mean_of(n, "blue_green", "deploy_duration_s")).margin(0.1));
}

TEST_CASE("platform/simgrid: runs in child processes give the same results whatever the threads",
          "[platform][simgrid]") {
  Scenario s = two_zones();
  s.replications = 2;
  RunOptions one, two;
  one.jobs = 1;
  two.jobs = 2;
  const RunSet a = run_scenario(s, StrategyRegistry::builtin(), one);
  const RunSet b = run_scenario(s, StrategyRegistry::builtin(), two);
  REQUIRE(a.runs.size() == 6);
  REQUIRE(b.runs.size() == a.runs.size());
  for (std::size_t i = 0; i < a.runs.size(); ++i) {
    CHECK(encode_run_result(a.runs[i]) == encode_run_result(b.runs[i]));
    // Each run alone, in a process of its own, gives the same again.
    const std::size_t strategy = i / 2;
    RunResult alone = run_one(s, strategy, a.runs[i].replication, StrategyRegistry::builtin());
    alone.extra_cost = a.runs[i].extra_cost;  // the runner computes it against the baseline
    CHECK(encode_run_result(alone) == encode_run_result(a.runs[i]));
  }
}

TEST_CASE("platform/simgrid: state profiles fail pulls, which back off, and take nodes down",
          "[platform][simgrid]") {
  const std::string yaml = R"(name: outage
duration: 10m
seed: 2
cluster:
  pools:
    - {name: cpu, nodes: 4, slots: 1, price_per_hour: 1.0}
  registry: {bandwidth: 8Gbps}
platform:
  backend: simgrid
  file: )" + std::string(DEPLOYSIM_SOURCE_DIR) +
                           R"(/tests/data/platforms/outage.xml
  network_model: CM02
  crosstraffic: false
  tcp_window: 0
traffic:
  rate: 20/s
models:
  v1:
    service_time: {dist: exponential, mean: 10ms}
    concurrency: 4
    image_size: 20GB
    startup: 5s
  v2: {based_on: v1}
release: {stable: v1, candidate: v2, replicas: 2, at: 40s}
strategies:
  - recreate
)";
  const Scenario s = parse_scenario(yaml, "outage.yaml", StrategyRegistry::builtin().schemas());
  const std::string log = run_in_child([&] {
    WorldConfig config = s.world;
    World world(config);
    world.deploy_ready(world.version_id("v1"), 2);
    struct Watch : WorldObserver {
      std::string log;
      void on_replica_state(std::uint32_t id, VersionId v, ReplicaState from, ReplicaState to,
                            Time t) override {
        if (v != 1 || from == to) return;
        char buf[96];
        std::snprintf(buf, sizeof buf, "%.1f r%u %s\n", to_seconds(t), id, to_string(to));
        log += buf;
      }
      void on_node_state(std::uint32_t node, NodeState, NodeState to, Time t) override {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%.1f node%u %s\n", to_seconds(t), node, to_string(to));
        log += buf;
      }
    } watch;
    world.add_observer(&watch);
    world.sim().call_at(40 * kSecond, [&] {
      world.scale(0, 0);
      world.scale(1, 2);
    });
    world.run_until(10 * kMinute);
    return watch.log;
  });
  INFO(log);
  // Two 20 GB pulls share the 1 GB/s registry link from 40 s: at 60 s the registry goes down and both fail
  // (40 GB would have taken 40 s). ImagePullBackOff: retries at 70 s (registry still down: fail at once),
  // 90 s (again), 130 s: then both pull 20 GB in 40 s, start 5 s, Ready at 175 s.
  CHECK_THAT(log, Catch::Contains("175.0 r2 ready") && Catch::Contains("175.0 r3 ready"));
  CHECK_THAT(log, Catch::Contains("170.0 r2 starting") && !Catch::Contains("r2 terminated"));
  // cpu-1's host goes down at 300 s: the world's node fails there, its replica is replaced, and the node
  // comes back at 400 s.
  CHECK_THAT(log, Catch::Contains("300.0 node1 failed") && Catch::Contains("400.0 node1 ready"));
}

namespace {

/// 10 s idle, 20 s fully busy, 5 s off, 5 s idle at half load: 100 x 10 + 200 x 20 + 0 x 5 + 150 x 5.
double energy_schedule(Platform& platform, Simulation& sim) {
  NodeSite site{"cpu", "a", 0, 25e9 / 8, 100, 200};
  const NodeLinkId node = platform.add_node(site);
  platform.set_node_power(node, true);
  sim.call_at(10 * kSecond, [&] { platform.set_node_load(node, 1.0); });
  sim.call_at(30 * kSecond, [&] {
    platform.set_node_load(node, 0);
    platform.set_node_power(node, false);
  });
  sim.call_at(35 * kSecond, [&] {
    platform.set_node_power(node, true);
    platform.set_node_load(node, 0.5);
  });
  sim.run_until(40 * kSecond);
  return platform.energy_joules();
}

}  // namespace

TEST_CASE("platform/simgrid: energy of idle, busy and off periods on both backends", "[platform][simgrid]") {
  const double expected = 100.0 * 10 + 200.0 * 20 + 0.0 * 5 + 150.0 * 5;
  {
    Simulation sim;
    NativePlatform native(sim, 1 * kGB);
    CHECK(energy_schedule(native, sim) == Approx(expected).epsilon(1e-12));
  }
  const std::string simgrid = run_in_child([] {
    Simulation sim;
    PlatformPool pool{"cpu", "a", 1, 25e9 / 8, 100, 200};
    SimGridPlatform platform(sim, cm02(), 1 * kGB, 0, {pool});
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9f", energy_schedule(platform, sim));
    return std::string(buf);
  });
  // SimGrid's host energy plugin, with the pool's wattages on the generated hosts.
  CHECK(std::stod(simgrid) == Approx(expected).epsilon(1e-9));
}

TEST_CASE("platform/simgrid: pulls across zones share the registry link max-min fairly",
          "[platform][simgrid]") {
  // Pulls of 1 GB to a-0, a-1 and b-0 at once. b-0's path has the 0.25 GB/s WAN link: it gets 0.25 GB/s and
  // the two in zone a share the rest of the registry's 1.25 GB/s, 0.5 GB/s each, so they end at 2 s; then
  // b-0 keeps 0.25 GB/s (its WAN link) and ends at 4 s.
  const std::string log = run_in_child([] {
    Simulation sim;
    PlatformSpec spec = cm02();
    spec.tcp_window = 0;
    spec.file = std::string(DEPLOYSIM_SOURCE_DIR) + "/tests/data/platforms/zones.xml";
    SimGridPlatform platform(sim, spec, 1 * kGB, 0,
                             {PlatformPool{"a", "a", 2, 25e9 / 8}, PlatformPool{"b", "b", 2, 25e9 / 8}});
    Log out;
    const char* tags = "xyz";
    const NodeSite sites[] = {{"a", "a", 0}, {"a", "a", 1}, {"b", "b", 0}};
    for (int i = 0; i < 3; ++i) {
      const NodeLinkId node = platform.add_node(sites[i]);
      platform.set_node_power(node, true);
      platform.start_pull(node, 1 * kGB, [&, i](PullId, PullStatus s) { out.add(sim, tags[i], s); });
    }
    sim.run_until(60 * kSecond);
    return out.text;
  });
  CHECK(log == "x:2.000000:done\ny:2.000000:done\nz:4.000000:done\n");
}
