// The multi_service strategy: the switch, standbys at reduced scale, and failover on failed checks.
#include <catch2/catch.hpp>

#include <string>

#include "sim/scenario/scenario.hpp"
#include "strategies/registry.hpp"
#include "tests/run_fixture.hpp"

using namespace sim;
using testing_support::mark_time;

namespace {

// 300 requests/s; a replica serves 100/s (concurrency 4, 40 ms), so the release's 4 replicas run at 75%
// and a 1-replica standby alone is overloaded until it has grown back.
const std::string kBase = R"(name: multiservice-test
duration: 20m
seed: 11
replications: 1
cluster:
  pools:
    - {name: cpu, nodes: 8, slots: 2, price_per_hour: 1.0}
  registry: {bandwidth: 10Gbps}
traffic:
  rate: 300/s
  users: {population: 5000}
models:
  v0:
    service_time: {dist: deterministic, value: 40ms}
    concurrency: 4
    queue_limit: 20
    image_size: 1GB
    startup: 5s
  v1: {based_on: v0}
  v2: {based_on: v0}
  v3:
    based_on: v0
    defects:
      - {kind: error_rate, rate: 20%, onset: {after_exposure: 5m}}
analysis_templates:
  errors:
    interval: 1m
    initial_delay: 1m
    min_requests: 50
    metrics:
      - {name: error_rate, max: 2%}
)";

RunResult run(const std::string& candidate, const std::string& strategy_yaml) {
  const std::string text = kBase + "release: {stable: v1, candidate: " + candidate +
                           ", replicas: 4, at: 2m}\nstrategies:\n  - " + strategy_yaml + "\n";
  return testing_support::run_yaml(text, "multiservice-test.yaml");
}

}  // namespace

TEST_CASE("strategies/multi_service: a healthy release switches and keeps the old version as standby",
          "[multi_service][strategies]") {
  const RunResult r = run("v2", "multi_service: {analysis: errors}");
  const Time switched = mark_time(r, "multi-service: v2 ready: all traffic to it");
  REQUIRE(switched != kTimeNever);
  CHECK(switched > 2 * kMinute);
  CHECK(switched < 2 * kMinute + 10 * kSecond);
  CHECK(mark_time(r, "multi-service: v1 kept as standby with 1 replicas") == switched + 30 * kSecond);
  // Promoted once the old version shrank to its standby size: it need not be gone.
  CHECK(r.metrics.outcome == "promoted");
  CHECK(r.metrics.deploy_duration_s == Approx(to_seconds(switched + 30 * kSecond - 2 * kMinute)));
  CHECK(mark_time(r, "live analysis: Successful") == kTimeNever);  // the watch never ends
  CHECK(r.metrics.failed_requests == 0);
  CHECK(r.metrics.peak_nodes == 8);
}

TEST_CASE("strategies/multi_service: failed checks fail over to the standby at once",
          "[multi_service][strategies]") {
  const RunResult r = run("v3", "multi_service: {analysis: errors, standby_replicas: 1}");
  const Time switched = mark_time(r, "multi-service: v3 ready: all traffic to it");
  REQUIRE(switched != kTimeNever);
  // Defect from switch + 5m; the measurement at switch + 6m sees a full minute of it.
  const Time abort = mark_time(r, "analysis of v3 Failed: fail over to v1 and scale it to 4");
  CHECK(abort == switched + 6 * kMinute);
  CHECK(r.metrics.time_to_detect_s == Approx(60).margin(0.1));  // onset: the first exposed request
  // The promotion (at the shrink) is undone by the failover: the release ends rolled back.
  CHECK(r.metrics.outcome == "rolled_back");
  CHECK(r.metrics.rollback_time_s == 0);
  // One standby replica takes 300 requests/s until three more have started (5 s; v1's image is still
  // cached on the nodes it ran on).
  CHECK(r.metrics.rollback_capacity_time_s >= 5);
  CHECK(r.metrics.rollback_capacity_time_s < 15);
  CHECK(r.metrics.bad_exposure_requests == Approx(300 * 60).epsilon(0.05));
  // The failed version is removed; v1 is watched again once it is back at full size, not while the single
  // standby replica is overloaded.
  const Time back = mark_time(r, "multi-service: v1 back at 4 replicas; watching it");
  CHECK(to_seconds(back - abort) == Approx(r.metrics.rollback_capacity_time_s).margin(1e-9));
  CHECK(mark_time(r, "no standby left") == kTimeNever);
}

TEST_CASE("strategies/multi_service: a hot standby avoids the overload after the failover",
          "[multi_service][strategies]") {
  const RunResult cold = run("v3", "multi_service: {analysis: errors, standby_replicas: 1}");
  const RunResult hot = run("v3", "multi_service: {analysis: errors, standby_replicas: 100%}");
  CHECK(hot.metrics.rollback_capacity_time_s == 0);
  CHECK(hot.metrics.failed_requests < cold.metrics.failed_requests);
  CHECK(hot.metrics.cost > cold.metrics.cost - 1e-9);
}

TEST_CASE("strategies/multi_service: older versions stay deployed as standbys too",
          "[multi_service][strategies]") {
  const RunResult r = run("v2", "multi_service: {analysis: errors, previous: [v0]}");
  CHECK(mark_time(r, "older standbys v0 scaled to 1") == 2 * kMinute);
  CHECK(r.metrics.outcome == "promoted");
}

TEST_CASE("strategies/multi_service: scenario errors", "[multi_service][strategies]") {
  auto issue = [](const std::string& strategy) {
    try {
      parse_scenario(kBase + "release: {stable: v1, candidate: v2, replicas: 4, at: 2m}\nstrategies:\n  - " +
                         strategy + "\n",
                     "s.yaml", StrategyRegistry::builtin().schemas());
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(issue("multi_service: {}"),
             Catch::Contains("missing required parameter 'analysis' of multi_service"));
  CHECK_THAT(issue("multi_service: {analysis: errors, previous: [v9]}"),
             Catch::Contains("unknown model 'v9'"));
  CHECK_THAT(issue("multi_service: {analysis: eror}"),
             Catch::Contains("unknown analysis template 'eror'; did you mean 'errors'?"));
}
