// The blue_green strategy (Argo Rollouts): preview environment, promotion, switch, scale-down delay, and
// analysis before (on mirrored traffic) and after the switch.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/run/runner.hpp"
#include "strategies/control.hpp"
#include "strategies/registry.hpp"
#include "tests/run_fixture.hpp"

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
  std::vector<std::pair<Time, double>> candidate_share;  // at the first routing change and when it changes
  int peak_candidate = 0;
  // Mirrored requests answered by the candidate: how many, how many failed, the first and last arrival.
  std::uint64_t mirrored = 0;
  std::uint64_t mirrored_failed = 0;
  Time first_mirrored = kTimeNever;
  Time last_mirrored = kTimeNever;

  Time mark_containing(const std::string& text) const {
    for (const Mark& m : marks)
      if (m.reason.find(text) != std::string::npos) return m.time - kReleaseAt;
    return kTimeNever;
  }
};

/// Analysis parameters of a run: templates by name, and which of them the strategy uses.
struct Analyses {
  const std::map<std::string, AnalysisTemplate>* templates = nullptr;
  std::string post;
  std::string pre;
  std::string mirror_percent = "100";
  std::vector<Time> promotions;  // release.promote_at, from the release start
};

Run run_bg(WorldConfig config, const std::map<std::string, std::string>& overrides, Time until,
           const Analyses& analyses);

Run run_bg(WorldConfig config, const std::map<std::string, std::string>& overrides, Time until = 10 * kMinute,
           const std::map<std::string, AnalysisTemplate>* templates = nullptr,
           const std::string& post_analysis = "") {
  Analyses a;
  a.templates = templates;
  a.post = post_analysis;
  return run_bg(std::move(config), overrides, until, a);
}

Run run_bg(WorldConfig config, const std::map<std::string, std::string>& overrides, Time until,
           const Analyses& analyses) {
  const StrategyInfo* info = StrategyRegistry::builtin().find("blue_green");
  REQUIRE(info != nullptr);
  ParamValues params = default_params(info->params);
  for (const ParamSpec& spec : info->params)
    if (auto it = overrides.find(spec.name); it != overrides.end())
      params.set(spec.name, parse_param(spec, it->second));
  if (!analyses.post.empty()) {
    ParamValues record;
    record.set("template", analyses.post);
    params.set("post_promotion_analysis", std::make_shared<const ParamValues>(record));
  }
  if (!analyses.pre.empty()) {
    ParamValues record;
    record.set("template", analyses.pre);
    record.set("mirror_percent",
               parse_param(param_spec("p", ParamType::percent, "", ""), analyses.mirror_percent));
    params.set("pre_promotion_analysis", std::make_shared<const ParamValues>(record));
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
      // Mirroring changes routing too, but not the candidate's share of live traffic.
      const double share = w->traffic_share(1);
      if (run->candidate_share.empty() || run->candidate_share.back().second != share)
        run->candidate_share.emplace_back(t - kReleaseAt, share);
    }
    void on_replica_state(std::uint32_t, VersionId v, ReplicaState, ReplicaState, Time) override {
      if (v == 1) run->peak_candidate = std::max(run->peak_candidate, w->active(1));
    }
    void on_request(const RequestRecord& r) override {
      if (!r.shadow || r.version != 1) return;
      ++run->mirrored;
      if (r.status != RequestStatus::ok) ++run->mirrored_failed;
      if (run->first_mirrored == kTimeNever) run->first_mirrored = r.arrival - kReleaseAt;
      run->last_mirrored = r.arrival - kReleaseAt;
    }
  };
  Run run;
  Watch watch;
  watch.w = &world;
  watch.run = &run;
  world.add_observer(&watch);
  Control control(world, info->create(params), kStable, kCandidate, 4, kReleaseAt, analyses.templates);
  for (Time t : analyses.promotions) control.promote_at(kReleaseAt + t);
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
  const std::map<std::string, AnalysisTemplate> templates{
      {"guard", testing_support::error_rate_guard(20 * kSecond)}};

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
  const std::map<std::string, AnalysisTemplate> passing{
      {"guard", testing_support::error_rate_guard(20 * kSecond, 2)}};
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

namespace {

/// Two measurements of the mirrored traffic, 20 s apart after a 20 s delay; more than 1% errors fails.
AnalysisTemplate pre_guard() { return testing_support::error_rate_guard(20 * kSecond, 2); }

}  // namespace

TEST_CASE("strategies/blue_green: the pre-promotion analysis measures mirrored traffic and gates the switch",
          "[strategies]") {
  const std::map<std::string, AnalysisTemplate> templates{{"pre", pre_guard()}};
  Analyses a;
  a.templates = &templates;
  a.pre = "pre";
  SECTION("auto promotion: the switch follows the analysis' success") {
    const Run run = run_bg(bg_config(4, 4, 200), {}, 10 * kMinute, a);
    // Preview ready at 38 s: the analysis starts and live traffic is mirrored to the preview. Measurements at
    // 58 s and 78 s; success at 78 s, the mirror stops and the active service switches at once.
    CHECK(run.mark_containing("preview ready: pre-promotion analysis") == 38 * kSecond);
    CHECK(run.mark_containing("pre-promotion analysis successful") == 78 * kSecond);
    REQUIRE(run.candidate_share.size() == 2);
    CHECK(run.candidate_share[1] == std::pair<Time, double>{78 * kSecond, 1.0});
    CHECK(run.mark_containing("scale down delay over") == 108 * kSecond);
    CHECK(run.outcome.outcome == "promoted");
    CHECK(run.outcome.deploy_duration_s == Approx(108).margin(0.01));
    // Every request is copied while the analysis runs, and only then.
    CHECK(run.first_mirrored >= 38 * kSecond);
    CHECK(run.first_mirrored < 38 * kSecond + 100 * kMillisecond);
    CHECK(run.last_mirrored < 78 * kSecond);
    CHECK(run.last_mirrored > 78 * kSecond - 100 * kMillisecond);
    CHECK(static_cast<double>(run.mirrored) == Approx(200 * 40).epsilon(0.05));
    // Mirrored copies are shadow requests: no exposure before the switch.
    CHECK(run.outcome.shadow_requests == run.mirrored);
    CHECK(static_cast<double>(run.outcome.exposure_requests) ==
          Approx(200 * (to_seconds(10 * kMinute - kReleaseAt) - 78)).epsilon(0.03));
  }
  SECTION("auto_promotion_seconds counts from the analysis' success, not from the preview's readiness") {
    const Run run = run_bg(bg_config(4, 4, 200), {{"auto_promotion_seconds", "60"}}, 10 * kMinute, a);
    CHECK(run.mark_containing("promotion in 1m") == 78 * kSecond);
    CHECK(run.candidate_share.back() == std::pair<Time, double>{138 * kSecond, 1.0});
    CHECK(run.last_mirrored < 78 * kSecond);
  }
  SECTION("with auto promotion disabled, a manual promotion during the analysis changes nothing") {
    a.promotions = {45 * kSecond, 5 * kMinute};
    const Run run = run_bg(bg_config(4, 4, 200), {{"auto_promotion_enabled", "false"}}, 10 * kMinute, a);
    // The promotion at 45 s finds no pause to resume; the analysis succeeds at 78 s and the rollout pauses
    // until the promotion at 5 min.
    CHECK(run.mark_containing("manual promotion") == 45 * kSecond);
    CHECK(run.mark_containing("paused: auto promotion is disabled") == 78 * kSecond);
    REQUIRE(run.candidate_share.size() == 2);
    CHECK(run.candidate_share[1] == std::pair<Time, double>{5 * kMinute, 1.0});
    CHECK(run.outcome.outcome == "promoted");
  }
}

TEST_CASE("strategies/blue_green: a failing pre-promotion analysis aborts before any exposure",
          "[strategies]") {
  const std::map<std::string, AnalysisTemplate> templates{{"pre", pre_guard()}};
  Analyses a;
  a.templates = &templates;
  a.pre = "pre";
  WorldConfig bad = bg_config(4, 4, 200);
  bad.versions[1].defects = {DefectSpec{DefectSpec::Kind::error_rate, 0.2, 0, {}}};
  const Run run = run_bg(bad, {}, 10 * kMinute, a);
  // The first measurement (58 s) sees about 20% of the mirrored copies fail: Failed, abort. The active
  // service never left stable; the preview goes after the abort scale-down delay.
  CHECK(run.mark_containing("pre-promotion analysis: Failed") == 58 * kSecond);
  CHECK(run.mark_containing("the preview is not promoted") == 58 * kSecond);
  CHECK(run.mark_containing("abort scale down delay over") == 88 * kSecond);
  REQUIRE(run.candidate_share.size() == 1);
  CHECK(run.outcome.outcome == "rolled_back");
  CHECK(run.outcome.rollback_time_s == 0);
  CHECK(run.outcome.deploy_duration_s == Approx(88).margin(0.01));
  CHECK(run.outcome.exposure_requests == 0);
  CHECK(run.outcome.failed_requests == 0);
  CHECK(static_cast<double>(run.mirrored) == Approx(200 * 20).epsilon(0.07));
  CHECK(static_cast<double>(run.mirrored_failed) ==
        Approx(0.2 * static_cast<double>(run.mirrored)).epsilon(0.15));
  CHECK(run.last_mirrored < 58 * kSecond);
}

TEST_CASE(
    "strategies/blue_green: an inconclusive pre-promotion analysis waits for a manual promotion, which "
    "runs it again",
    "[strategies]") {
  // One measurement 20 s in; fewer than 100 requests is no data, and no data is inconclusive.
  AnalysisTemplate once = testing_support::error_rate_guard(20 * kSecond);
  once.interval = 0;  // a single measurement
  once.no_data = NoDataPolicy::inconclusive;
  const std::map<std::string, AnalysisTemplate> templates{{"once", once}};
  Analyses a;
  a.templates = &templates;
  a.pre = "once";
  a.promotions = {6 * kMinute};
  // 1 request/s until 5 minutes, then 200/s.
  WorldConfig quiet = bg_config(4, 4, 0);
  quiet.arrivals =
      std::shared_ptr<const ArrivalProcess>(make_piecewise_poisson({{0, 1.0}, {5 * kMinute, 200.0}}));
  const Run run = run_bg(quiet, {}, 10 * kMinute, a);
  // 38 s to 58 s mirrors about 20 requests: Inconclusive, the rollout pauses with traffic on stable.
  CHECK(run.mark_containing("pre-promotion analysis inconclusive") == 58 * kSecond);
  // The manual promotion at 6 min starts a new run; 20 s of 200/s passes it and the switch follows.
  CHECK(run.mark_containing("manual promotion after an Inconclusive run") == 6 * kMinute);
  CHECK(run.mark_containing("pre-promotion analysis successful") == 6 * kMinute + 20 * kSecond);
  REQUIRE(run.candidate_share.size() == 2);
  CHECK(run.candidate_share[1] == std::pair<Time, double>{6 * kMinute + 20 * kSecond, 1.0});
  CHECK(run.outcome.outcome == "promoted");
  // Nothing is mirrored during the pause.
  CHECK(static_cast<double>(run.mirrored) == Approx(20 + 200 * 20).epsilon(0.06));
  CHECK(run.last_mirrored > 6 * kMinute + 19 * kSecond);
}

TEST_CASE("strategies/blue_green: mirrored requests are shadow traffic that costs the preview's capacity",
          "[strategies]") {
  // A one-replica preview (4 requests at a time, 5 ms each: about 800/s) with a short queue; 1500 live
  // requests per second on four stable replicas. The preview is Ready at 32 s.
  WorldConfig busy = bg_config(4, 4, 1500);
  busy.versions[1].queue_limit = 8;
  const Time until = kReleaseAt + 2 * kMinute;
  auto run = [&](const AnalysisTemplate& t, const std::string& mirror_percent) {
    const std::map<std::string, AnalysisTemplate> templates{{"pre", t}};
    Analyses a;
    a.templates = &templates;
    a.pre = "pre";
    a.mirror_percent = mirror_percent;
    return run_bg(busy, {{"preview_replica_count", "1"}}, until, a);
  };
  SECTION("the copies take the preview's capacity, never a user's") {
    // An analysis that cannot fail and runs to the end: the mirror stays on from 32 s to 120 s.
    AnalysisTemplate lenient = pre_guard();
    lenient.count = 0;
    lenient.metrics[0].max = 1.0;
    const Run full = run(lenient, "100%");
    const Run quarter = run(lenient, "25%");
    CHECK(static_cast<double>(full.mirrored) == Approx(1500 * 88).epsilon(0.03));
    CHECK(static_cast<double>(quarter.mirrored) == Approx(375 * 88).epsilon(0.03));
    // All of it mirrored overwhelms the preview: about half of the copies find its queue full. A quarter
    // fits (M/M/4 at 47% utilisation overflows a queue of 8 about once in 5000 requests).
    CHECK(static_cast<double>(full.mirrored_failed) > 0.4 * static_cast<double>(full.mirrored));
    CHECK(static_cast<double>(quarter.mirrored_failed) < 0.002 * static_cast<double>(quarter.mirrored));
    for (const Run* r : {&full, &quarter}) {
      // Users never see the copies: no exposure, no failed live request, nothing promoted yet.
      CHECK(r->outcome.shadow_requests == r->mirrored);
      CHECK(r->outcome.exposure_requests == 0);
      CHECK(r->outcome.failed_requests == 0);
      CHECK(r->outcome.outcome == "incomplete");
    }
  }
  SECTION("an overloaded preview fails an error-rate analysis of a healthy candidate") {
    AnalysisTemplate guard = pre_guard();
    guard.count = 0;
    const Run full = run(guard, "100%");
    const Run quarter = run(guard, "25%");
    CHECK(full.mark_containing("pre-promotion analysis: Failed") == 52 * kSecond);
    CHECK(full.outcome.outcome == "rolled_back");
    CHECK(quarter.mark_containing("pre-promotion analysis: Failed") == kTimeNever);
    CHECK(quarter.outcome.outcome == "incomplete");
  }
}
