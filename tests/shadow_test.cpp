// The shadow strategy: challengers on mirrored traffic, the offline comparison with the champion, rejection,
// and the nested strategy that swaps the winner in.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "sim/scenario/scenario.hpp"
#include "strategies/registry.hpp"
#include "tests/run_fixture.hpp"

using namespace sim;
using testing_support::count_marks;
using testing_support::mark_time;

namespace {

// Release at 2m; challengers pull 1 GB at 10 Gbps and start in 5 s, so mirroring starts about 2m06s and
// comparisons run every minute from 3m.
const std::string kBase = R"(name: shadow-test
duration: 20m
seed: 3
replications: 1
cluster:
  pools:
    - {name: cpu, nodes: 8, slots: 2, price_per_hour: 1.0}
  registry: {bandwidth: 10Gbps}
traffic:
  rate: 100/s
  users: {population: 5000, zipf: 0.8}
  label_delay: 30s
models:
  v1:
    service_time: {dist: exponential, mean: 10ms}
    concurrency: 4
    image_size: 1GB
    startup: 5s
    quality: {conversion: 0.10}
  v2:
    based_on: v1
    quality: {conversion: 0.12}
  v3:
    based_on: v1
    service_time: {dist: exponential, mean: 40ms}
  v4:
    based_on: v1
    quality: {conversion: 0.05}
release: {stable: v1, candidate: v2, replicas: 4, at: 2m}
)";

RunResult run(const std::string& strategy_yaml, const std::string& candidate = "v2") {
  std::string text = kBase + "strategies:\n  - " + strategy_yaml + "\n";
  if (candidate != "v2") {
    const std::string from = "candidate: v2";
    text.replace(text.find(from), from.size(), "candidate: " + candidate);
  }
  return testing_support::run_yaml(text, "shadow-test.yaml");
}

}  // namespace

TEST_CASE("strategies/shadow: a healthy challenger passes, then a nested rolling update swaps it in",
          "[shadow][strategies]") {
  const RunResult r =
      run("shadow: {promote_after: 5m, promotion: {rolling: {max_surge: 1, max_unavailable: 0}}}");
  const Time mirrored = mark_time(r, "shadow: v2 ready, mirroring 100%");
  REQUIRE(mirrored != kTimeNever);
  CHECK(mirrored > 2 * kMinute);
  CHECK(mirrored < 2 * kMinute + 10 * kSecond);
  // Passing since the first window started (when mirroring began): 5 minutes are reached at the 8m tick.
  CHECK(mark_time(r, "shadow: v2 passed for") == 8 * kMinute);
  CHECK(count_marks(r, "shadow v2: pass for") == 6);  // ticks 3m .. 8m
  CHECK(mark_time(r, "rolling update") != kTimeNever);
  CHECK(r.metrics.outcome == "promoted");
  // No user saw v2 before the swap; every request before it was mirrored.
  CHECK(r.metrics.shadow_requests == Approx(100.0 * to_seconds(8 * kMinute - mirrored)).epsilon(0.05));
  CHECK(r.metrics.exposure_requests > 0);
  CHECK(r.metrics.deploy_duration_s > 6 * 60);
}

TEST_CASE("strategies/shadow: no exposure and no swap while the comparison has not passed long enough",
          "[shadow][strategies]") {
  const RunResult r = run("shadow: {promote_after: 1h}");
  CHECK(r.metrics.exposure_requests == 0);
  CHECK(r.metrics.exposure_users == 0);
  CHECK(r.metrics.shadow_requests > 90000);
  CHECK(r.metrics.outcome == "incomplete");
  // The first window (54 s of answers, labels 30 s late) already has enough labels at 100 requests/s.
  CHECK(mark_time(r, "quality pending") == kTimeNever);
  CHECK(count_marks(r, "shadow v2: pass for") == 18);  // ticks 3m .. 20m
}

TEST_CASE("strategies/shadow: several challengers, a slow one rejected and the other winning",
          "[shadow][strategies]") {
  const RunResult r =
      run("shadow: {challengers: [v3, v2], threshold: 3, promote_after: 5m, promotion: {blue_green: {}}}");
  // v3 (4x the service time) fails its p99 comparison at 3m, 4m and 5m.
  CHECK(count_marks(r, "shadow v3: failed check") == 3);
  CHECK(mark_time(r, "shadow: v3 rejected after 3 failed checks") == 5 * kMinute);
  CHECK(count_marks(r, "shadow v3:") == 3);  // no comparison after the rejection
  CHECK(mark_time(r, "shadow: v2 passed for") == 8 * kMinute);
  CHECK(r.metrics.outcome == "promoted");
  CHECK(r.metrics.exposure_requests > 0);
}

TEST_CASE("strategies/shadow: the winner becomes the release candidate", "[shadow][strategies]") {
  // The release names v3 but only v2 passes: v2 is swapped in and is what users are exposed to.
  const RunResult r = run("shadow: {challengers: [v3, v2], threshold: 2, promote_after: 3m}", "v3");
  CHECK(mark_time(r, "shadow: v3 rejected") == 4 * kMinute);
  CHECK(mark_time(r, "shadow: v2 passed") == 6 * kMinute);
  CHECK(r.metrics.outcome == "promoted");
  CHECK(r.metrics.exposure_requests > 0);
}

TEST_CASE("strategies/shadow: worse quality on delayed labels rejects and the release rolls back at once",
          "[shadow][strategies]") {
  const RunResult r = run("shadow: {threshold: 2}", "v4");
  // v4 converts at 5% against the champion's 10%: far below 0.98 x 10%.
  CHECK(count_marks(r, "shadow v4: failed check 1/2: worse quality") == 1);
  const Time abort = mark_time(r, "every challenger failed its shadow comparison");
  CHECK(abort == 4 * kMinute);
  CHECK(r.metrics.outcome == "rolled_back");
  CHECK(r.metrics.rollback_time_s == 0);
  CHECK(r.metrics.exposure_requests == 0);
  CHECK(r.metrics.shadow_requests > 0);
}

TEST_CASE("strategies/shadow: labels that never suffice keep the quality pending until max_duration",
          "[shadow][strategies]") {
  const RunResult r = run("shadow: {min_labels: 100000, max_duration: 10m}");
  // Ticks at 3m .. 11m; at 12m the deadline, set at the start, fires before that minute's tick.
  CHECK(count_marks(r, "quality pending") == 9);
  CHECK(mark_time(r, "no challenger passed within max_duration 10m") == 12 * kMinute);
  CHECK(r.metrics.outcome == "rolled_back");
  CHECK(r.metrics.exposure_requests == 0);
}

TEST_CASE("strategies/shadow: scenario errors name the key and what is allowed", "[shadow][strategies]") {
  auto issue = [](const std::string& strategy) {
    try {
      parse_scenario(kBase + "strategies:\n  - " + strategy + "\n", "s.yaml",
                     StrategyRegistry::builtin().schemas());
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(issue("shadow: {challengers: [v5]}"),
             Catch::Contains("strategies[0].shadow.challengers[0]") && Catch::Contains("unknown model 'v5'"));
  CHECK_THAT(issue("shadow: {promotion: {rollin: {}}}"),
             Catch::Contains("unknown alternative 'rollin'; did you mean 'rolling'?"));
  CHECK_THAT(issue("shadow: {promotion: {rolling: {max_surje: 1}}}"),
             Catch::Contains("unknown key 'max_surje'; did you mean 'max_surge'?"));
  CHECK_THAT(issue("shadow: {promotion: {rolling: {}, recreate: {}}}"),
             Catch::Contains("expected a map with one key out of rolling, blue_green, recreate, canary"));
}
