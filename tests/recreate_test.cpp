// The recreate strategy (downtime = termination + pull + start + readiness), the `none` baseline and the
// strategy registry.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "strategies/control.hpp"
#include "strategies/registry.hpp"

using namespace sim;

namespace {

constexpr VersionId kStable = 0;
constexpr VersionId kCandidate = 1;
constexpr double kGB = 1e9;
constexpr Time kReleaseAt = 60 * kSecond;

/// Four one-slot nodes behind a 1 GB/s registry. v2 has a 2 GB image, a 20 s start-up and a 10 s warm-up,
/// all deterministic: four pulls share the registry and finish together after 8 s, so a new replica is
/// Ready 38 s after it was placed.
WorldConfig recreate_config(double rate_per_second) {
  WorldConfig c;
  PoolSpec pool;
  pool.name = "cpu";
  pool.nodes = 4;
  pool.slots = 1;
  c.cluster.pools.push_back(pool);
  c.cluster.registry_bytes_per_second = 1 * kGB;
  ModelVersionSpec v1;
  v1.name = "v1";
  v1.service_time = Distribution::exponential(5 * kMillisecond);
  v1.concurrency = 4;
  v1.image_bytes = 2 * kGB;
  ModelVersionSpec v2 = v1;
  v2.name = "v2";
  v2.startup = Distribution::deterministic(20 * kSecond);
  v2.warmup = 10 * kSecond;
  c.versions = {v1, v2};
  if (rate_per_second > 0) c.arrivals = std::shared_ptr<const ArrivalProcess>(make_poisson(rate_per_second));
  return c;
}

ParamValues params_for(const std::string& strategy, const std::map<std::string, std::string>& overrides) {
  const StrategyInfo* info = StrategyRegistry::builtin().find(strategy);
  REQUIRE(info != nullptr);
  ParamValues params = default_params(info->params);
  for (const ParamSpec& spec : info->params) {
    const auto it = overrides.find(spec.name);
    if (it != overrides.end()) params.set(spec.name, parse_param(spec, it->second));
  }
  return params;
}

struct RecreateRun {
  OutcomeMetrics outcome;
  std::vector<Mark> marks;
  std::map<RequestStatus, std::uint64_t> status;

  Time first_mark(MarkKind kind) const {
    for (const Mark& m : marks)
      if (m.kind == kind) return m.time;
    return kTimeNever;
  }
};

RecreateRun run_recreate(WorldConfig config, const std::map<std::string, std::string>& overrides = {}) {
  World world(std::move(config));
  world.deploy_ready(kStable, 4);
  world.set_release(kStable, kCandidate);
  OutcomeObserver outcome(world, SloSpec{}, 4);
  world.add_observer(&outcome);
  struct Statuses : WorldObserver {
    std::map<RequestStatus, std::uint64_t> count;
    void on_request(const RequestRecord& r) override { ++count[r.status]; }
  } statuses;
  world.add_observer(&statuses);
  Control control(world,
                  StrategyRegistry::builtin().find("recreate")->create(params_for("recreate", overrides)),
                  kStable, kCandidate, 4, kReleaseAt);
  world.run_until(5 * kMinute);
  CHECK(world.ready(kCandidate) == 4);
  CHECK(world.active(kStable) + world.count(kStable, ReplicaState::draining) == 0);
  return RecreateRun{outcome.finish(), world.marks(), statuses.count};
}

}  // namespace

TEST_CASE("strategies/recreate: downtime is pull + start + readiness when old replicas stop at once",
          "[strategies]") {
  // No traffic: the old replicas have nothing in flight and terminate the instant they are scaled down.
  const RecreateRun run = run_recreate(recreate_config(0));
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.outcome.downtime_s == Approx(8 + 20 + 10).margin(1e-6));
  CHECK(run.outcome.deploy_duration_s == Approx(38).margin(1e-6));
  CHECK(run.first_mark(MarkKind::promoted) - kReleaseAt == 38 * kSecond);
  std::vector<std::string> notes;
  for (const Mark& m : run.marks)
    if (m.kind == MarkKind::note) notes.push_back(m.reason);
  CHECK(notes == std::vector<std::string>{"scale stable to 0", "stable gone: scale candidate to 4"});
}

TEST_CASE("strategies/recreate: busy old replicas add their termination grace to the downtime",
          "[strategies]") {
  // Every v1 replica is busy with a 100 s request at the release: each drains for the whole 30 s grace
  // before it is killed, and only then does v2 start. Downtime = 30 + 8 + 20 + 10 s.
  WorldConfig c = recreate_config(10);
  c.versions[kStable].service_time = Distribution::deterministic(100 * kSecond);
  c.versions[kStable].concurrency = 1;
  c.termination_grace = 30 * kSecond;
  const RecreateRun run = run_recreate(c);
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.outcome.downtime_s == Approx(30 + 8 + 20 + 10).margin(1e-6));
  CHECK(run.first_mark(MarkKind::promoted) - kReleaseAt == 68 * kSecond);
}

TEST_CASE("strategies/recreate: under traffic requests fail for lack of a replica during the gap",
          "[strategies]") {
  const RecreateRun run = run_recreate(recreate_config(200));
  const double predicted = 8 + 20 + 10;
  // Draining adds the in-flight requests' few milliseconds.
  CHECK(run.outcome.downtime_s >= predicted);
  CHECK(run.outcome.downtime_s < predicted + 0.2);
  CHECK(run.outcome.outcome == "promoted");
  CHECK(static_cast<double>(run.status.at(RequestStatus::no_replica)) ==
        Approx(200 * predicted).epsilon(0.1));
  CHECK(run.outcome.exposure_requests > 0);
}

TEST_CASE("strategies/recreate: min_ready_seconds delays the promotion, not the service", "[strategies]") {
  const RecreateRun run = run_recreate(recreate_config(0), {{"min_ready_seconds", "5"}});
  CHECK(run.outcome.downtime_s == Approx(38).margin(1e-6));
  CHECK(run.first_mark(MarkKind::promoted) - kReleaseAt == 43 * kSecond);
}

TEST_CASE("strategies/none: releases nothing and leaves the world alone", "[strategies]") {
  const StrategyInfo* info = StrategyRegistry::builtin().find("none");
  REQUIRE(info != nullptr);
  CHECK_FALSE(info->releases);
  CHECK(info->params.empty());
  World world(recreate_config(0));
  world.deploy_ready(kStable, 4);
  world.set_release(kStable, kCandidate);
  Control control(world, info->create(ParamValues{}), kStable, kCandidate, 4, kReleaseAt);
  world.run_until(5 * kMinute);
  CHECK(world.ready(kStable) == 4);
  CHECK(world.desired(kCandidate) == 0);
  REQUIRE(world.marks().size() == 1);  // only Control's own release start
  CHECK(world.marks()[0].kind == MarkKind::release_start);
}

TEST_CASE("strategies/registry: lists the built-in strategies and their schemas", "[strategies]") {
  const StrategyRegistry& registry = StrategyRegistry::builtin();
  CHECK(&registry == &StrategyRegistry::builtin());
  std::vector<std::string> names;
  for (const StrategyInfo& info : registry.all()) {
    names.push_back(info.name);
    CHECK(!info.description.empty());
    // Every default parses; a strategy whose parameters all have defaults (or are optional) can be created
    // from the defaults alone. Only flagger and multi_service require one (their analysis template).
    bool needs_parameters = false;
    for (const ParamSpec& spec : info.params) {
      CHECK(!spec.description.empty());
      if (spec.default_value.empty()) {
        needs_parameters = needs_parameters || !spec.optional;
        continue;
      }
      CHECK_NOTHROW(parse_param(spec, spec.default_value));
    }
    CHECK(needs_parameters == (info.name == "flagger" || info.name == "multi_service"));
    if (!needs_parameters) CHECK(info.create(default_params(info.params)) != nullptr);
  }
  CHECK(names == std::vector<std::string>{"none", "recreate", "rolling", "blue_green", "canary", "flagger",
                                          "shadow", "feature_flag", "multi_service"});
  CHECK(registry.find("canary-typo") == nullptr);

  const StrategySchemas schemas = registry.schemas();
  CHECK(schemas.names == names);
  REQUIRE(schemas.find("rolling") != nullptr);
  std::vector<std::string> rolling;
  for (const ParamSpec& spec : *schemas.find("rolling")) rolling.push_back(spec.name);
  CHECK(rolling == std::vector<std::string>{"max_surge", "max_unavailable", "min_ready_seconds",
                                            "progress_deadline_seconds", "auto_rollback"});
  CHECK(schemas.find("nope") == nullptr);
  const ParamValues defaults = default_params(*schemas.find("rolling"));
  CHECK(defaults.count_or_percent("max_surge") == CountOrPercent{true, 25});
  CHECK(defaults.duration("progress_deadline_seconds") == 600 * kSecond);
  CHECK_FALSE(defaults.boolean("auto_rollback"));
}

TEST_CASE("strategies/registry: a name is registered once", "[strategies]") {
  StrategyRegistry registry;
  StrategyInfo info = *StrategyRegistry::builtin().find("none");
  registry.add(info);
  CHECK_THROWS_AS(registry.add(info), std::logic_error);
  info.name = "";
  CHECK_THROWS_AS(registry.add(info), std::logic_error);
  CHECK(registry.all().size() == 1);
}
