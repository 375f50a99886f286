// The canary strategy (Argo Rollouts with traffic routing): weights, canary replica counts, pauses.
#include <catch2/catch.hpp>

#include <cmath>
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

/// Twelve two-slot nodes, 10 s start-up, no image to pull: a new replica is Ready 10 s after placement.
WorldConfig canary_config() { return testing_support::two_version_config(12, 2, 10 * kSecond); }

struct Sample {
  Time t;
  double weight;
  int canary, stable;
  bool operator==(const Sample&) const = default;
};

/// Loads the canary parameters from YAML, the way a scenario gives them.
ParamValues canary_params(const std::string& yaml_params) {
  const std::string text = R"(name: c
models:
  v1: {service_time: 10ms}
  v2: {based_on: v1}
cluster:
  pools: [{name: cpu, nodes: 30}]
release: {stable: v1, candidate: v2, replicas: 10, at: 1m}
strategies:
  - canary: )" + yaml_params +
                           "\n";
  return parse_scenario(text, "canary.yaml", StrategyRegistry::builtin().schemas()).strategies.at(0).params;
}

std::vector<Sample> run_canary(const std::string& yaml_params, std::vector<Time> at,
                               OutcomeMetrics* out = nullptr, Time promote_at = kTimeNever) {
  World world(canary_config());
  world.deploy_ready(0, 10);
  world.set_release(0, 1);
  OutcomeObserver outcome(world, SloSpec{}, 10);
  world.add_observer(&outcome);
  Control control(world, StrategyRegistry::builtin().find("canary")->create(canary_params(yaml_params)), 0, 1,
                  10, kReleaseAt);
  if (promote_at != kTimeNever) control.promote_at(kReleaseAt + promote_at);
  std::vector<Sample> samples;
  for (Time t : at) {
    world.run_until(kReleaseAt + t);
    samples.push_back(
        {t, std::round(world.traffic_share(1) * 10000) / 100, world.desired(1), world.desired(0)});
  }
  if (out) *out = outcome.finish();
  return samples;
}

}  // namespace

TEST_CASE("strategies/canary: weights follow the steps once canary replicas are ready", "[strategies]") {
  OutcomeMetrics m;
  const auto s = run_canary("{steps: [{set_weight: 20}, {pause: 1m}, {set_weight: 55}, {pause: 1m}]}",
                            {1 * kSecond, 11 * kSecond, 71 * kSecond, 81 * kSecond, 141 * kSecond,
                             151 * kSecond, 181 * kSecond, 190 * kSecond},
                            &m);
  // 20% of 10 replicas: 2 canary replicas, ready at 10 s; the weight moves then. 55%: ceil(5.5) = 6.
  CHECK(s[0] == Sample{1 * kSecond, 0, 2, 10});
  CHECK(s[1] == Sample{11 * kSecond, 20, 2, 10});
  CHECK(s[2] == Sample{71 * kSecond, 20, 6, 10});
  CHECK(s[3] == Sample{81 * kSecond, 55, 6, 10});
  // After the last pause (at 140 s) the canary is scaled to 10, takes 100% when ready (150 s), and stable
  // goes 30 s later.
  CHECK(s[4] == Sample{141 * kSecond, 55, 10, 10});
  CHECK(s[5] == Sample{151 * kSecond, 100, 10, 10});
  CHECK(s[6] == Sample{181 * kSecond, 100, 10, 0});
  CHECK(m.outcome == "promoted");
  CHECK(m.deploy_duration_s == Approx(180).margin(0.01));
}

TEST_CASE("strategies/canary: an indefinite pause, canary scale and dynamic stable scale", "[strategies]") {
  SECTION("pause without a duration holds the rollout") {
    OutcomeMetrics m;
    const auto s = run_canary("{steps: [{set_weight: 10}, {pause: {}}]}", {20 * kMinute}, &m);
    CHECK(s[0] == Sample{20 * kMinute, 10, 1, 10});
    CHECK(m.outcome == "incomplete");
  }
  SECTION("set_canary_scale decouples replicas from the weight") {
    const auto s = run_canary("{steps: [{set_canary_scale: {replicas: 4}}, {set_weight: 10}, {pause: {}}]}",
                              {30 * kSecond});
    CHECK(s[0] == Sample{30 * kSecond, 10, 4, 10});
  }
  SECTION("dynamic_stable_scale shrinks stable as traffic leaves it") {
    const auto s =
        run_canary("{steps: [{set_weight: 30}, {pause: {}}], dynamic_stable_scale: true}", {30 * kSecond});
    CHECK(s[0] == Sample{30 * kSecond, 30, 3, 7});
  }
}

TEST_CASE("strategies/canary: a manual promotion ends a pause without a duration", "[strategies]") {
  OutcomeMetrics m;
  // Paused at 10 % from 10 s; promoted by hand at 5 min: the 50 % step (ready 10 s later) and the rest
  // follow.
  const auto s = run_canary("{steps: [{set_weight: 10}, {pause: {}}, {set_weight: 50}, {pause: 1m}]}",
                            {4 * kMinute, 5 * kMinute + 11 * kSecond, 10 * kMinute}, &m, 5 * kMinute);
  CHECK(s[0] == Sample{4 * kMinute, 10, 1, 10});
  CHECK(s[1] == Sample{5 * kMinute + 11 * kSecond, 50, 5, 10});
  CHECK(m.outcome == "promoted");
}
