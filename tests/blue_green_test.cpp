// The blue_green strategy (Argo Rollouts): preview environment, promotion, switch, scale-down delay.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/run/runner.hpp"
#include "strategies/control.hpp"
#include "strategies/registry.hpp"

using namespace sim;

namespace {

constexpr VersionId kStable = 0;
constexpr VersionId kCandidate = 1;
constexpr Time kReleaseAt = 60 * kSecond;

/// Nodes with two slots behind a 1 GB/s registry; 2 GB images, 20 s start-up, 10 s warm-up: four pulls at
/// once take 8 s, so four new replicas are Ready 38 s after they were placed.
WorldConfig bg_config(int nodes, int max_nodes, double rate) {
  WorldConfig c;
  PoolSpec pool;
  pool.name = "cpu";
  pool.nodes = nodes;
  pool.max_nodes = max_nodes;
  pool.slots = 2;
  pool.price_per_hour = 3.6;  // $0.001 per node-second
  pool.provision_time = Distribution::deterministic(2 * kMinute);
  c.cluster.pools.push_back(pool);
  c.cluster.registry_bytes_per_second = 1e9;
  ModelVersionSpec v1;
  v1.name = "v1";
  v1.service_time = Distribution::exponential(5 * kMillisecond);
  v1.concurrency = 4;
  v1.image_bytes = 2e9;
  v1.startup = Distribution::deterministic(20 * kSecond);
  v1.warmup = 10 * kSecond;
  ModelVersionSpec v2 = v1;
  v2.name = "v2";
  c.versions = {v1, v2};
  if (rate > 0) c.arrivals = std::shared_ptr<const ArrivalProcess>(make_poisson(rate));
  return c;
}

struct Run {
  OutcomeMetrics outcome;
  std::vector<Mark> marks;
  std::vector<std::pair<Time, double>> candidate_share;  // at every routing change
  int peak_candidate = 0;

  Time mark_containing(const std::string& text) const {
    for (const Mark& m : marks)
      if (m.reason.find(text) != std::string::npos) return m.time - kReleaseAt;
    return kTimeNever;
  }
};

Run run_bg(WorldConfig config, const std::map<std::string, std::string>& overrides, Time until = 10 * kMinute,
           const std::map<std::string, AnalysisTemplate>* templates = nullptr,
           const std::string& post_analysis = "") {
  const StrategyInfo* info = StrategyRegistry::builtin().find("blue_green");
  REQUIRE(info != nullptr);
  ParamValues params = default_params(info->params);
  for (const ParamSpec& spec : info->params)
    if (auto it = overrides.find(spec.name); it != overrides.end())
      params.set(spec.name, parse_param(spec, it->second));
  if (!post_analysis.empty()) {
    ParamValues record;
    record.set("template", post_analysis);
    params.set("post_promotion_analysis", std::make_shared<const ParamValues>(record));
  }
  World world(std::move(config));
  world.deploy_ready(kStable, 4);
  world.set_release(kStable, kCandidate);
  OutcomeObserver outcome(world, SloSpec{}, 4);
  world.add_observer(&outcome);
  struct Watch : WorldObserver {
    World* w;
    Run* run;
    void on_routing_changed(Time t) override {
      run->candidate_share.emplace_back(t - kReleaseAt, w->traffic_share(1));
    }
    void on_replica_state(std::uint32_t, VersionId v, ReplicaState, ReplicaState, Time) override {
      if (v == 1) run->peak_candidate = std::max(run->peak_candidate, w->active(1));
    }
  };
  Run run;
  Watch watch;
  watch.w = &world;
  watch.run = &run;
  world.add_observer(&watch);
  Control control(world, info->create(params), kStable, kCandidate, 4, kReleaseAt, templates);
  world.run_until(until);
  run.outcome = outcome.finish();
  run.marks = world.marks();
  return run;
}

}  // namespace

TEST_CASE("strategies/blue_green: full preview, switch when ready, old version kept for the delay",
          "[strategies]") {
  const Run run = run_bg(bg_config(4, 4, 200), {});
  // Preview of 4 ready after 8 s of pulls + 20 s + 10 s; the switch happens then; stable goes 30 s later.
  REQUIRE(run.candidate_share.size() == 2);
  CHECK(run.candidate_share[0] == std::pair<Time, double>{0, 0.0});
  CHECK(run.candidate_share[1] == std::pair<Time, double>{38 * kSecond, 1.0});
  CHECK(run.mark_containing("scale down delay over") == 68 * kSecond);
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.outcome.deploy_duration_s == Approx(68).margin(0.01));
  CHECK(run.outcome.downtime_s == 0);
  CHECK(run.outcome.failed_requests == 0);
  CHECK(run.peak_candidate == 4);
  // Exposure begins at the switch: about 200/s from 38 s to the end of the run.
  CHECK(static_cast<double>(run.outcome.exposure_requests) ==
        Approx(200 * (to_seconds(10 * kMinute - kReleaseAt) - 38)).epsilon(0.03));
}

TEST_CASE("strategies/blue_green: a full pool must grow for the preview, which costs time and money",
          "[strategies]") {
  const Run full = run_bg(bg_config(2, 4, 0), {}, 30 * kMinute);
  // The preview waits for the autoscaler scan (10 s) and two new nodes (2 min), then pulls and starts.
  CHECK(full.candidate_share[1].first == (10 + 120 + 38) * kSecond);
  CHECK(full.outcome.outcome == "promoted");
  CHECK(full.outcome.peak_nodes == 4);
  const Run roomy = run_bg(bg_config(4, 4, 0), {}, 30 * kMinute);
  // Two extra nodes from the scan until the old nodes empty out and are released 10 minutes later.
  CHECK(full.outcome.cost < roomy.outcome.cost);  // the roomy cluster pays for 4 nodes all along
  CHECK(full.outcome.peak_nodes == roomy.outcome.peak_nodes);
}

TEST_CASE("strategies/blue_green: auto promotion delay, manual promotion and a small preview",
          "[strategies]") {
  SECTION("auto_promotion_seconds waits after the preview is ready") {
    const Run run = run_bg(bg_config(4, 4, 0), {{"auto_promotion_seconds", "60"}});
    CHECK(run.candidate_share.back() == std::pair<Time, double>{98 * kSecond, 1.0});
  }
  SECTION("auto_promotion_enabled false pauses with the preview up and traffic on stable") {
    const Run run = run_bg(bg_config(4, 4, 50), {{"auto_promotion_enabled", "false"}});
    CHECK(run.candidate_share.size() == 1);
    CHECK(run.outcome.outcome == "incomplete");
    CHECK(run.outcome.exposure_requests == 0);
    CHECK(run.mark_containing("paused") == 38 * kSecond);
  }
  SECTION("a preview of one replica is scaled to full before the switch") {
    const Run run = run_bg(bg_config(4, 4, 0), {{"preview_replica_count", "1"}});
    // One pull alone: 2 s + 30 s. Of three more replicas, one shares the first one's node and its cached
    // image; two pull together (4 s) and start (30 s).
    CHECK(run.mark_containing("scale candidate to 4 before the switch") == 32 * kSecond);
    CHECK(run.candidate_share.back() == std::pair<Time, double>{66 * kSecond, 1.0});
  }
}

TEST_CASE("strategies/blue_green: a failing post-promotion analysis switches back to stable",
          "[strategies]") {
  AnalysisTemplate guard;
  guard.interval = 20 * kSecond;
  guard.initial_delay = 20 * kSecond;
  guard.min_requests = 100;
  MetricCheck errors;
  errors.metric = Metric::error_rate;
  errors.max = 0.01;
  guard.metrics = {errors};
  const std::map<std::string, AnalysisTemplate> templates{{"guard", guard}};

  WorldConfig bad = bg_config(4, 4, 200);
  bad.versions[1].defects = {
      DefectSpec{DefectSpec::Kind::error_rate, 0.2, 0, {DefectOnset::Kind::after_exposure, 0, 0}}};
  const Run run = run_bg(bad, {}, 10 * kMinute, &templates, "guard");
  // Switch at 38 s; the first measurement 20 s later sees ~20% errors: the run fails (failure_limit 0).
  REQUIRE(run.candidate_share.size() == 3);
  CHECK(run.candidate_share[1] == std::pair<Time, double>{38 * kSecond, 1.0});
  CHECK(run.candidate_share[2] == std::pair<Time, double>{58 * kSecond, 0.0});
  CHECK(run.outcome.outcome == "rolled_back");
  CHECK(run.outcome.time_to_detect_s == Approx(20).margin(0.05));
  CHECK(run.outcome.rollback_time_s == 0);
  CHECK(run.outcome.deploy_duration_s == Approx(58 + 30).margin(0.05));  // abort scale-down delay
  CHECK(run.mark_containing("post-promotion analysis: Failed") == 58 * kSecond);

  // A healthy candidate passes: the stable version goes only after the analysis succeeded.
  AnalysisTemplate twice = guard;
  twice.count = 2;
  const std::map<std::string, AnalysisTemplate> passing{{"guard", twice}};
  const Run good = run_bg(bg_config(4, 4, 200), {}, 10 * kMinute, &passing, "guard");
  CHECK(good.outcome.outcome == "promoted");
  CHECK(good.mark_containing("post-promotion analysis successful") == (38 + 20 + 20) * kSecond);
  CHECK(good.mark_containing("scale down delay over") == (38 + 40 + 30) * kSecond);
}

TEST_CASE("strategies/blue_green: release.promote_at promotes a preview waiting for it", "[strategies]") {
  const std::string text = R"(name: manual
duration: 30m
models:
  v1: {service_time: 5ms, startup: 20s, image_size: 1GB}
  v2: {based_on: v1}
cluster:
  pools: [{name: cpu, nodes: 8, slots: 2}]
release: {stable: v1, candidate: v2, replicas: 4, at: 1m, promote_at: [10m, 20m]}
strategies:
  - blue_green: {auto_promotion_enabled: false}
)";
  const Scenario s = parse_scenario(text, "manual.yaml", StrategyRegistry::builtin().schemas());
  CHECK(s.release.promotions == std::vector<Time>{10 * kMinute, 20 * kMinute});
  const RunResult r = run_one(s, 0, 0, StrategyRegistry::builtin());
  CHECK(r.metrics.outcome == "promoted");
  Time manual = kTimeNever;
  for (const Mark& m : r.marks)
    if (m.reason == "manual promotion" && manual == kTimeNever) manual = m.time;
  CHECK(manual == 10 * kMinute);
  // Switch at the promotion, stable gone 30 s later.
  CHECK(r.metrics.deploy_duration_s == Approx(9 * 60 + 30).margin(0.01));

  CHECK_THROWS_WITH(
      parse_scenario(std::string(text).replace(text.find("promote_at: [10m"), 16, "promote_at: [30s"),
                     "manual.yaml", StrategyRegistry::builtin().schemas()),
      Catch::Contains("expected a time from release.at (1m) to the end of the scenario"));
}
