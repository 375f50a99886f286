// The SimGrid platform backend against the native one: a whole scenario run side by side (the ratio of wall
// times), and the cost of N concurrent pulls through one registry link (100, 1,000, 10,000) on both.
// SimGrid allows one engine per process, so its side always runs in a child process; the child's process
// start is part of what a SimGrid-backed run costs, and is included in the run ratio.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "sim/platform/native_platform.hpp"
#include "sim/platform/simgrid_platform.hpp"
#include "sim/run/isolate.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/registry.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

sim::Scenario two_zones() {
  sim::Scenario s =
      sim::load_scenario(std::string(DEPLOYSIM_SOURCE_DIR) + "/scenarios/simgrid-two-zones.yaml",
                         sim::StrategyRegistry::builtin().schemas());
  s.replications = 1;
  return s;
}

/// N pulls of 1 GB to N nodes at once through a 10 Gbps registry; returns when the last ends.
void pulls(sim::Platform& platform, sim::Simulation& sim, int n) {
  int done = 0;
  for (int i = 0; i < n; ++i) {
    const sim::NodeLinkId node = platform.add_node(sim::NodeSite{"cpu", "a", static_cast<std::uint32_t>(i)});
    platform.set_node_power(node, true);
    // Sizes differ a little so that completions are spread out, as real images and links make them.
    platform.start_pull(node, 1e9 * (1 + 0.001 * i), [&](sim::PullId, sim::PullStatus) { ++done; });
  }
  sim.run_until(sim::kTimeNever - 1);
  benchmark::DoNotOptimize(done);
}

}  // namespace

// One run of strategy `rolling` (index 1) of scenarios/simgrid-two-zones.yaml: native vs SimGrid (LV08).
static void BM_ScenarioSimGridVsNative(benchmark::State& state) {
  const sim::Scenario simgrid = two_zones();
  sim::Scenario native = simgrid;
  native.world.platform = sim::PlatformSpec{};
  double native_s = 0, simgrid_s = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    benchmark::DoNotOptimize(sim::run_one(native, 1, 0, sim::StrategyRegistry::builtin()));
    native_s += seconds_since(t0);
    t0 = Clock::now();
    benchmark::DoNotOptimize(sim::run_one(simgrid, 1, 0, sim::StrategyRegistry::builtin()));
    simgrid_s += seconds_since(t0);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["native_ms"] = 1e3 * native_s / n;
  state.counters["simgrid_ms"] = 1e3 * simgrid_s / n;
  state.counters["ratio"] = native_s > 0 ? simgrid_s / native_s : 0;
}
BENCHMARK(BM_ScenarioSimGridVsNative)->Unit(benchmark::kMillisecond)->Iterations(3);

// N concurrent pulls: the native fair-share model vs SimGrid (CM02, inside a child process whose own
// wall time of the pulls is reported apart from the process start).
static void BM_ConcurrentPulls(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  double native_s = 0, simgrid_s = 0, child_s = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    {
      sim::Simulation sim;
      sim::NativePlatform platform(sim, 1.25e9);
      pulls(platform, sim, n);
    }
    native_s += seconds_since(t0);
    t0 = Clock::now();
    const std::string inside = sim::run_in_child([n] {
      sim::Simulation sim;
      sim::PlatformSpec spec;
      spec.backend = sim::PlatformBackend::simgrid;
      spec.network_model = "CM02";
      spec.crosstraffic = false;
      sim::SimGridPlatform platform(sim, spec, 1.25e9, 0, {sim::PlatformPool{"cpu", "a", n}});
      const auto c0 = Clock::now();
      pulls(platform, sim, n);
      return std::to_string(seconds_since(c0));
    });
    simgrid_s += seconds_since(t0);
    child_s += std::stod(inside);
  }
  const double k = static_cast<double>(state.iterations());
  state.counters["native_ms"] = 1e3 * native_s / k;
  state.counters["simgrid_ms"] = 1e3 * simgrid_s / k;
  state.counters["simgrid_pulls_ms"] = 1e3 * child_s / k;
  state.counters["ratio"] = native_s > 0 ? simgrid_s / native_s : 0;
}
BENCHMARK(BM_ConcurrentPulls)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(1);
