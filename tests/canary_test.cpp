// The canary strategy (Argo Rollouts): with traffic routing (weights, canary replica counts, pauses) and
// without it (Argo's replica arithmetic, step by step trajectories, abort).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/canary_replicas.hpp"
#include "strategies/control.hpp"
#include "strategies/fenceposts.hpp"
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

/// Loads the canary parameters (and any analysis templates) from YAML, the way a scenario gives them.
Scenario canary_scenario(const std::string& yaml_params, const std::string& templates = "") {
  const std::string text = R"(name: c
models:
  v1: {service_time: 10ms}
  v2: {based_on: v1}
cluster:
  pools: [{name: cpu, nodes: 30}]
release: {stable: v1, candidate: v2, replicas: 10, at: 1m}
)" + templates + R"(
strategies:
  - canary: )" + yaml_params +
                           "\n";
  return parse_scenario(text, "canary.yaml", StrategyRegistry::builtin().schemas());
}

/// Runs the canary in `config` with `replicas` stable replicas and samples weight and desired counts at the
/// given times after the release start.
std::vector<Sample> run_canary_in(WorldConfig config, int replicas, const Scenario& scenario,
                                  std::vector<Time> at, OutcomeMetrics* out = nullptr,
                                  Time promote_at = kTimeNever) {
  World world(std::move(config));
  world.deploy_ready(0, replicas);
  world.set_release(0, 1);
  OutcomeObserver outcome(world, SloSpec{}, replicas);
  world.add_observer(&outcome);
  Control control(world, StrategyRegistry::builtin().find("canary")->create(scenario.strategies.at(0).params),
                  0, 1, replicas, kReleaseAt, &scenario.analysis_templates);
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

std::vector<Sample> run_canary(const std::string& yaml_params, std::vector<Time> at,
                               OutcomeMetrics* out = nullptr, Time promote_at = kTimeNever) {
  return run_canary_in(canary_config(), 10, canary_scenario(yaml_params), std::move(at), out, promote_at);
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

// ---- without traffic routing: Argo's replica arithmetic ----------------------------------------------

TEST_CASE("strategies/canary_replicas: approximate counts for a weight (Argo's table)",
          "[strategies][canary]") {
  // TestApproximateWeightedNewStableReplicaCounts in argo-rollouts utils/replicaset/canary_test.go.
  struct Row {
    int replicas, weight, surge, canary, stable;
  };
  const Row rows[] = {
      {0, 0, 0, 0, 0},   {0, 50, 0, 0, 0},    {0, 100, 0, 0, 0}, {0, 0, 1, 0, 0},   {0, 50, 1, 0, 0},
      {0, 100, 1, 0, 0}, {1, 0, 0, 0, 1},     {1, 1, 0, 0, 1},   {1, 49, 0, 0, 1},  {1, 50, 0, 1, 0},
      {1, 99, 0, 1, 0},  {1, 100, 0, 1, 0},   {1, 0, 1, 0, 1},   {1, 1, 1, 1, 1},   {1, 49, 1, 1, 1},
      {1, 50, 1, 1, 1},  {1, 99, 1, 1, 1},    {1, 100, 1, 1, 0}, {2, 0, 0, 0, 2},   {2, 1, 0, 1, 1},
      {2, 50, 0, 1, 1},  {2, 99, 0, 1, 1},    {2, 100, 0, 2, 0}, {2, 0, 1, 0, 2},   {2, 1, 1, 1, 2},
      {2, 50, 1, 1, 1},  {2, 99, 1, 2, 1},    {2, 100, 1, 2, 0}, {3, 10, 0, 1, 2},  {3, 25, 0, 1, 2},
      {3, 33, 0, 1, 2},  {3, 34, 0, 1, 2},    {3, 49, 0, 1, 2},  {3, 50, 0, 2, 1},  {3, 10, 1, 1, 3},
      {3, 25, 1, 1, 3},  {3, 33, 1, 1, 2},    {3, 34, 1, 1, 2},  {3, 49, 1, 2, 2},  {3, 50, 1, 2, 2},
      {10, 0, 1, 0, 10}, {10, 1, 0, 1, 9},    {10, 14, 0, 1, 9}, {10, 15, 0, 2, 8}, {10, 16, 0, 2, 8},
      {10, 99, 0, 9, 1}, {10, 100, 1, 10, 0}, {10, 1, 1, 1, 10}, {10, 18, 1, 2, 9}, {10, 19, 1, 2, 9},
      {10, 20, 1, 2, 8}, {10, 23, 1, 2, 8},   {10, 24, 1, 3, 8}, {10, 25, 1, 3, 8}, {10, 99, 1, 10, 1},
  };
  for (const Row& r : rows) {
    INFO("replicas " << r.replicas << ", weight " << r.weight << ", surge " << r.surge);
    CHECK(approximate_canary_replicas(r.replicas, r.weight, r.surge) == CanaryReplicas{r.canary, r.stable});
  }
}

TEST_CASE("strategies/canary_replicas: one sync within max surge and max unavailable (Argo's table)",
          "[strategies][canary]") {
  // TestCalculateReplicaCountsForCanary in argo-rollouts utils/replicaset/canary_test.go, the cases without
  // traffic routing. Surge and unavailability are written as a scenario would ("2", "20%").
  struct Row {
    const char* name;
    int replicas;
    int weight;
    const char* surge;
    const char* unavailable;
    ReplicaSetCounts stable, canary;
    int want_stable, want_canary;
    int older;
  };
  const Row rows[] = {
      {"replicas above the desired count do not count", 10, 100, "3", "0", {7, 8}, {6, 3}, 7, 6, 0},
      {"max surge as a count scales the canary up", 10, 20, "2", "0", {10, 10}, {0, 0}, 10, 2, 0},
      {"max surge as a percentage scales the canary up", 10, 20, "20%", "0", {10, 10}, {0, 0}, 10, 2, 0},
      {"extra stable replicas go", 10, 20, "20%", "0", {10, 10}, {2, 2}, 8, 2, 0},
      {"never past max surge", 10, 30, "2", "0", {10, 10}, {0, 0}, 10, 2, 0},
      {"max unavailable as a count scales stable down", 10, 20, "0", "2", {10, 10}, {0, 0}, 8, 0, 0},
      {"max unavailable as a percentage scales stable down", 10, 20, "0", "20%", {10, 10}, {0, 0}, 8, 0, 0},
      {"never past max unavailable", 10, 30, "0", "2", {10, 10}, {0, 0}, 8, 0, 0},
      {"max surge and max unavailable together", 10, 50, "2", "1", {10, 10}, {0, 0}, 9, 2, 0},
      {"weight 0 scales the canary to 0", 10, 0, "1", "1", {10, 10}, {1, 1}, 10, 0, 0},
      {"weight 100 scales stable to 0", 10, 100, "1", "1", {1, 1}, {10, 10}, 0, 10, 0},
      {"a non-zero weight keeps a canary replica", 1, 20, "1", "0", {1, 1}, {0, 0}, 1, 1, 0},
      {"a weight below 100 keeps a stable replica", 1, 90, "1", "0", {1, 1}, {0, 0}, 1, 1, 0},
      {"stable scales up before the canary", 10, 30, "1", "0", {1, 1}, {0, 0}, 7, 1, 3},
      {"canary and stable scale down", 10, 30, "0", "3", {8, 5}, {4, 4}, 7, 3, 0},
      {"scale down counting available replicas", 10, 100, "1", "0", {10, 2}, {10, 8}, 2, 9, 0},
      {"older replica sets go before anything else shrinks", 10, 30, "0", "1", {8, 6}, {4, 2}, 8, 4, 3},
      {"an uneven weight does not round past max surge", 10, 5, "0", "1", {10, 10}, {0, 0}, 9, 0, 0},
      {"an uneven weight does not round past max surge, part 2", 10, 5, "0", "1", {9, 9}, {0, 0}, 9, 1, 0},
      {"0% and 0% resolve to max unavailable 1", 10, 10, "0%", "0%", {10, 10}, {0, 0}, 9, 0, 0},
      {"without traffic routing set_canary_scale plays no part",
       10,
       20,
       "20%",
       "0",
       {10, 10},
       {0, 0},
       10,
       2,
       0},
      {"max surge holds while stable is unavailable", 4, 100, "1", "0", {4, 1}, {0, 0}, 4, 1, 0},
      {"scale down to max unavailable without exceeding max surge", 3, 99, "0", "2", {3, 3}, {0, 0}, 1, 0, 0},
      {"scale down to max unavailable without exceeding max surge, part 2",
       3,
       99,
       "0",
       "2",
       {1, 1},
       {0, 0},
       1,
       2,
       0},
      {"max unavailable holds while stable is unavailable", 4, 100, "1", "0", {4, 1}, {1, 1}, 3, 1, 0},
      {"an abort surges stable before the canary shrinks", 4, 0, "1", "0", {0, 0}, {4, 4}, 1, 4, 0},
      {"an abort waits for the surged stable replica", 4, 0, "1", "0", {1, 0}, {4, 4}, 1, 4, 0},
      {"an abort shrinks the canary within max unavailable", 4, 0, "1", "0", {1, 1}, {4, 4}, 1, 3, 0},
      {"full promotion ignores the weight", 4, 100, "4", "4", {4, 4}, {0, 0}, 0, 4, 0},
      {"full promotion still honours max surge and max unavailable",
       4,
       100,
       "3",
       "0",
       {4, 4},
       {0, 0},
       4,
       3,
       0},
  };
  const ParamSpec count = param_spec("n", ParamType::count_or_percent, "", "");
  for (const Row& r : rows) {
    INFO(r.name);
    const Fenceposts f =
        resolve_fenceposts(std::get<CountOrPercent>(parse_param(count, r.surge)),
                           std::get<CountOrPercent>(parse_param(count, r.unavailable)), r.replicas);
    BasicCanaryState s;
    s.replicas = r.replicas;
    s.weight = r.weight;
    s.max_surge = f.surge;
    s.max_unavailable = std::min(f.unavailable, r.replicas);
    s.stable = r.stable;
    s.canary = r.canary;
    s.older = r.older;
    CHECK(basic_canary_replicas(s) == CanaryReplicas{r.want_canary, r.want_stable});
  }
}

TEST_CASE("strategies/canary: without traffic routing, replica counts and traffic follow Argo step by step",
          "[strategies][canary]") {
  OutcomeMetrics m;
  // 10 replicas at the default 25% / 25%: surge 3, unavailable 2. A Service over both versions: the weight
  // is the canary's share of Ready replicas.
  const auto s = run_canary(
      "{traffic_routing: false, steps: [{set_weight: 20}, {pause: 1m}, {set_weight: 50}, {pause: 1m}]}",
      {1 * kSecond, 11 * kSecond, 71 * kSecond, 81 * kSecond, 141 * kSecond, 151 * kSecond}, &m);
  // 20%: target 2 + 8. Stable drops to 8 at once (2 may be unavailable), the canary surges to 2.
  CHECK(s[0] == Sample{1 * kSecond, 0, 2, 8});
  // The two canary replicas are Ready at 10 s: 2 of 10 replicas, the step is complete; pause 1 min.
  CHECK(s[1] == Sample{11 * kSecond, 20, 2, 8});
  // 50% at 70 s: target 5 + 5. Stable 8 -> 6 (8 available must remain), canary 2 -> 5 (13 in total):
  // 2 Ready canary replicas of 8.
  CHECK(s[2] == Sample{71 * kSecond, 25, 5, 6});
  // At 80 s the three new canary replicas are Ready; stable 6 -> 5: 5 of 10.
  CHECK(s[3] == Sample{81 * kSecond, 50, 5, 5});
  // After the last pause (140 s) the weight is 100: stable 5 -> 3, canary 5 -> 10 (13 in total).
  CHECK(s[4] == Sample{141 * kSecond, 62.5, 10, 3});
  // At 150 s ten canary replicas are Ready: stable goes to 0 and the release is promoted.
  CHECK(s[5] == Sample{151 * kSecond, 100, 10, 0});
  CHECK(m.outcome == "promoted");
  CHECK(m.deploy_duration_s == Approx(150).margin(0.01));
}

TEST_CASE("strategies/canary: without traffic routing an abort restores stable within the budgets",
          "[strategies][canary]") {
  // 4 replicas: surge 1, unavailable 1. A canary failing half of its requests; the step analysis measures
  // 10 s of its traffic once the canary replicas for 50% are Ready.
  WorldConfig config = testing_support::two_version_config(12, 2, 10 * kSecond, 4, 100);
  config.versions[1].defects = {DefectSpec{DefectSpec::Kind::error_rate, 0.5, 0, {}}};
  const Scenario scenario = canary_scenario(
      "{traffic_routing: false, steps: [{set_weight: 50}, {analysis: {template: guard}}, {pause: 10m}]}",
      R"(analysis_templates:
  guard:
    initial_delay: 10s
    interval: 10s
    count: 3
    min_requests: 20
    metrics: [{name: error_rate, max: 1%}]
)");
  OutcomeMetrics m;
  const auto s = run_canary_in(config, 4, scenario,
                               {1 * kSecond, 11 * kSecond, 20 * kSecond + 1, 31 * kSecond, 5 * kMinute}, &m);
  // 50%: target 2 + 2. Stable 4 -> 3, canary 0 -> 2 (5 in total).
  CHECK(s[0] == Sample{1 * kSecond, 0, 2, 3});
  // At 10 s the canary replicas are Ready, stable 3 -> 2: half of the traffic. The analysis starts.
  CHECK(s[1] == Sample{11 * kSecond, 50, 2, 2});
  // At 20 s the first measurement fails and the rollout aborts: weight 0, target 0 + 4. Stable surges
  // 2 -> 3, the canary shrinks 2 -> 1 (3 available must remain), then stable 3 -> 4 within the surge.
  // One Ready canary replica of three.
  CHECK(s[2] == Sample{20 * kSecond + 1, 33.33, 1, 4});
  // At 30 s the two new stable replicas are Ready: the last canary replica goes.
  CHECK(s[3] == Sample{31 * kSecond, 0, 0, 4});
  CHECK(s[4] == Sample{5 * kMinute, 0, 0, 4});
  CHECK(m.outcome == "rolled_back");
  // Traffic leaves the canary with its replicas, not at once as with a traffic router.
  CHECK(m.rollback_time_s == Approx(10).margin(0.01));
  CHECK(m.rollback_capacity_time_s == Approx(10).margin(0.01));
  CHECK(m.deploy_duration_s == Approx(30).margin(0.05));
}

TEST_CASE("strategies/canary: without traffic routing the knobs that need a router are rejected",
          "[strategies][canary]") {
  const StrategyInfo* info = StrategyRegistry::builtin().find("canary");
  REQUIRE(info != nullptr);
  auto create = [&](const std::string& yaml) {
    return info->create(canary_scenario(yaml).strategies.at(0).params);
  };
  CHECK_THROWS_AS(create("{traffic_routing: false, dynamic_stable_scale: true}"), std::invalid_argument);
  CHECK_THROWS_AS(create("{traffic_routing: false, steps: [{set_canary_scale: {replicas: 2}}]}"),
                  std::invalid_argument);
  CHECK_NOTHROW(create("{traffic_routing: true, steps: [{set_canary_scale: {replicas: 2}}]}"));
  CHECK_NOTHROW(create("{traffic_routing: false, max_surge: 0, max_unavailable: 1}"));
}

TEST_CASE("strategies/canary: without traffic routing max surge 0 moves replicas one for one",
          "[strategies][canary]") {
  OutcomeMetrics m;
  // 10 replicas, surge 0, unavailable 1: never more than 10 replicas desired, never fewer than 9 Ready.
  // Each time a canary replica is Ready, one stable replica goes and one more canary replica starts.
  const auto s = run_canary(
      "{traffic_routing: false, max_surge: 0, max_unavailable: 1, steps: [{set_weight: 30}, {pause: {}}]}",
      {1 * kSecond, 11 * kSecond, 21 * kSecond, 31 * kSecond, 10 * kMinute}, &m);
  CHECK(s[0] == Sample{1 * kSecond, 0, 1, 9});
  CHECK(s[1] == Sample{11 * kSecond, 11.11, 2, 8});
  CHECK(s[2] == Sample{21 * kSecond, 22.22, 3, 7});
  CHECK(s[3] == Sample{31 * kSecond, 30, 3, 7});
  CHECK(s[4] == Sample{10 * kMinute, 30, 3, 7});
  CHECK(m.outcome == "incomplete");
}
