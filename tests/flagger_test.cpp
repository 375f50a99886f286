// The flagger strategy: weight steps every interval while checks pass, rollback at the failed-check
// threshold.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/control.hpp"
#include "strategies/registry.hpp"
#include "tests/world_fixture.hpp"

using namespace sim;

namespace {

constexpr Time kReleaseAt = 60 * kSecond;

WorldConfig flagger_config(double rate) {
  return testing_support::two_version_config(10, 2, 10 * kSecond, 4, rate);
}

struct FlaggerRun {
  std::vector<std::pair<Time, double>> weights;  // after the release start, at every routing change
  OutcomeMetrics outcome;
};

FlaggerRun run_flagger(WorldConfig config, const std::string& yaml_params) {
  const std::string text = R"(name: f
models:
  v1: {service_time: 10ms}
  v2: {based_on: v1}
cluster:
  pools: [{name: cpu, nodes: 30}]
release: {stable: v1, candidate: v2, replicas: 4, at: 1m}
analysis_templates:
  guard:
    min_requests: 20
    metrics: [{name: error_rate, max: 1%}]
strategies:
  - flagger: )" + yaml_params +
                           "\n";
  const Scenario s = parse_scenario(text, "flagger.yaml", StrategyRegistry::builtin().schemas());
  World world(std::move(config));
  world.deploy_ready(0, 4);
  world.set_release(0, 1);
  OutcomeObserver outcome(world, SloSpec{}, 4);
  world.add_observer(&outcome);
  FlaggerRun run;
  struct Watch : WorldObserver {
    World* w;
    FlaggerRun* run;
    void on_routing_changed(Time t) override {
      run->weights.emplace_back(t - kReleaseAt, std::round(w->traffic_share(1) * 1000) / 10);
    }
  } watch;
  watch.w = &world;
  watch.run = &run;
  world.add_observer(&watch);
  Control control(world, StrategyRegistry::builtin().find("flagger")->create(s.strategies[0].params), 0, 1, 4,
                  kReleaseAt, &s.analysis_templates);
  world.run_until(30 * kMinute);
  run.outcome = outcome.finish();
  return run;
}

}  // namespace

TEST_CASE("strategies/flagger: the weight steps up each interval and promotes at max weight",
          "[strategies]") {
  const FlaggerRun run =
      run_flagger(flagger_config(200), "{analysis: guard, step_weight: 20, max_weight: 50}");
  // Canary ready at 10 s and given the first step; checks every minute from then: 40, 60 (overshoots 50),
  // then promotion once the checks pass at max weight.
  const std::vector<std::pair<Time, double>> expected{
      {0, 0}, {10 * kSecond, 20}, {70 * kSecond, 40}, {130 * kSecond, 60}, {190 * kSecond, 100}};
  CHECK(run.weights == expected);
  CHECK(run.outcome.outcome == "promoted");
}

TEST_CASE("strategies/flagger: step_weights and gradual promotion", "[strategies]") {
  const FlaggerRun run =
      run_flagger(flagger_config(200),
                  "{analysis: guard, step_weights: [5, 25, 50], max_weight: 50, step_weight_promotion: 25}");
  const std::vector<std::pair<Time, double>> expected{{0, 0},
                                                      {10 * kSecond, 5},
                                                      {70 * kSecond, 25},
                                                      {130 * kSecond, 50},
                                                      {250 * kSecond, 75},
                                                      {310 * kSecond, 100}};
  CHECK(run.weights == expected);
  CHECK(run.outcome.outcome == "promoted");
}

TEST_CASE("strategies/flagger: failed checks accumulate and roll back at the threshold", "[strategies]") {
  WorldConfig bad = flagger_config(200);
  bad.versions[1].defects = {
      DefectSpec{DefectSpec::Kind::error_rate, 0.1, 0, {DefectOnset::Kind::after_exposure, 0, 0}}};
  const FlaggerRun run = run_flagger(bad, "{analysis: guard, step_weight: 20, threshold: 3}");
  // 20% from 10 s; the canary fails 10% of requests: failed checks at 70, 130 and 190 s, no advance; the
  // threshold is compared at the next tick (250 s): rollback.
  CHECK(run.outcome.outcome == "rolled_back");
  const std::vector<std::pair<Time, double>> expected{{0, 0}, {10 * kSecond, 20}, {250 * kSecond, 0}};
  CHECK(run.weights == expected);
  CHECK(run.outcome.time_to_detect_s == Approx(240).margin(0.1));
}
