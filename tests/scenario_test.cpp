// Tests for the scenario loader: a full scenario into structs, defaults, each kind of error with its
// file:line:column, path and message, and the key reference in docs/scenario-reference.md.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"
#include "sim/world/world.hpp"

using namespace sim;

namespace {

const std::string kDataDir = std::string(DEPLOYSIM_SOURCE_DIR) + "/tests/data/scenarios/";

// Stand-ins for the strategy registry: "none" and "recreate" without parameters, "rolling" with the
// Kubernetes knobs, and "gated" with a required parameter.
const StrategySchemas& fake_schemas() {
  static const std::vector<ParamSpec> no_params;
  static const std::vector<ParamSpec> rolling = {
      param_spec("max_surge", ParamType::count_or_percent, "25%", "extra replicas during the update"),
      param_spec("max_unavailable", ParamType::count_or_percent, "25%", "replicas that may be unavailable"),
      param_spec("min_ready_seconds", ParamType::duration, "0", "ready this long to count as available"),
      param_spec("progress_deadline_seconds", ParamType::duration, "600",
                 "stalled after this without progress"),
      param_spec("auto_rollback", ParamType::boolean, "false", "roll back when stalled"),
  };
  static const std::vector<ParamSpec> gated = [] {
    ParamSpec steps = param_spec("steps", ParamType::integer, "3", "number of steps");
    steps.min = 1;
    steps.max = 10;
    return std::vector<ParamSpec>{param_spec("gate", ParamType::string, "", "name of the gate"), steps};
  }();
  static const StrategySchemas schemas{[](std::string_view name) -> const std::vector<ParamSpec>* {
                                         if (name == "none" || name == "recreate") return &no_params;
                                         if (name == "rolling") return &rolling;
                                         if (name == "gated") return &gated;
                                         return nullptr;
                                       },
                                       {"none", "recreate", "rolling", "gated"}};
  return schemas;
}

Scenario parse(const std::string& yaml) { return parse_scenario(yaml, "test.yaml", fake_schemas()); }

std::vector<ScenarioIssue> issues_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const ScenarioError& e) {
    return e.issues();
  }
  FAIL("the scenario loaded without errors");
  return {};
}

/// The scenario's only issue, checked for place and path; returns its message for further checks.
std::string only_issue(const std::string& yaml, int line, int column, const std::string& path) {
  const std::vector<ScenarioIssue> issues = issues_of(yaml);
  REQUIRE(issues.size() == 1);
  INFO(issues[0].format());
  CHECK(issues[0].file == "test.yaml");
  CHECK(issues[0].line == line);
  CHECK(issues[0].column == column);
  CHECK(issues[0].path == path);
  return issues[0].message;
}

// Eight lines that load; error cases append to or replace parts of them.
const std::string kHead = R"(name: t
cluster:
  pools: [{name: cpu, nodes: 4, slots: 2}]
)";
const std::string kModels = R"(models:
  v1: {service_time: 20ms}
  v2: {based_on: v1}
)";
const std::string kTail = R"(release: {stable: v1, candidate: v2, replicas: 2}
strategies: [none]
)";
const std::string kMinimal = kHead + kModels + kTail;

}  // namespace

TEST_CASE("scenario/load: a full scenario becomes the expected structs", "[scenario]") {
  const std::string path = kDataDir + "full.yaml";
  const Scenario s = load_scenario(path, fake_schemas());

  CHECK(s.name == "full-scenario");
  CHECK(s.description == "Two pools, user segments, model inheritance, defects and faults.");
  CHECK(s.source == path);
  CHECK(s.duration == 6 * kHour);
  CHECK(s.seed == 42);
  CHECK(s.world.seed == 42);
  CHECK(s.replications == 20);

  SECTION("cluster") {
    const ClusterSpec& c = s.world.cluster;
    REQUIRE(c.pools.size() == 2);
    const PoolSpec& cpu = c.pools[0];
    CHECK(cpu.name == "cpu");
    CHECK(cpu.nodes == 12);
    CHECK(cpu.max_nodes == 24);
    CHECK(cpu.slots == 4);
    CHECK(cpu.price_per_hour == 0.68);
    CHECK(cpu.idle_watts == 120.0);
    CHECK(cpu.busy_watts == 280.0);
    CHECK(cpu.provision_time.kind() == Distribution::Kind::lognormal);
    CHECK(cpu.provision_time.mean_seconds() ==
          Distribution::lognormal_quantiles(3 * kMinute, 6 * kMinute).mean_seconds());
    CHECK(cpu.scale_down_delay == 5 * kMinute);
    CHECK(cpu.zone == "eu-west-1a");
    CHECK(cpu.node_link_bytes_per_second == 3.125e9);  // the cluster's node_link
    const PoolSpec& gpu = c.pools[1];
    CHECK(gpu.name == "gpu");
    CHECK(gpu.nodes == 2);
    CHECK(gpu.max_nodes == -1);
    CHECK(gpu.slots == 1);
    CHECK(gpu.idle_watts == 300.0);
    CHECK(gpu.busy_watts == 300.0);  // busy defaults to idle
    CHECK(gpu.provision_time.kind() == Distribution::Kind::deterministic);
    CHECK(gpu.provision_time.mean_seconds() == 240.0);
    CHECK(gpu.scale_down_delay == 10 * kMinute);
    CHECK(gpu.node_link_bytes_per_second == 1.25e10);  // its own
    CHECK(c.registry_bytes_per_second == 1.25e9);
    CHECK(c.registry_latency == kMillisecond);
    CHECK(c.price_per_kwh == 0.25);
  }

  SECTION("traffic") {
    REQUIRE(s.world.arrivals);
    // Flash crowd over a diurnal base of 800/s +- 40% peaking at 14h: at 2h the base is at its low, 480/s.
    auto diurnal = [](Time t) {
      return 800 * (1 + 0.4 * std::cos(2 * std::numbers::pi * to_seconds(t - 14 * kHour) / 86400));
    };
    CHECK(s.world.arrivals->rate_at(kHour) == Approx(diurnal(kHour)));
    CHECK(s.world.arrivals->rate_at(2 * kHour + 10 * kMinute) ==
          Approx(diurnal(2 * kHour + 10 * kMinute) + 2 * 480.0));
    CHECK(s.world.arrivals->rate_at(14 * kHour) == Approx(1120.0));
    REQUIRE(s.world.users);
    CHECK(s.world.users->size() == 1000000);
    CHECK(s.world.users->zipf_exponent() == 1.1);
    REQUIRE(s.world.users->attribute_count() == 2);
    const SegmentAttribute& region = s.world.users->attribute(0);
    CHECK(region.name == "region");
    REQUIRE(region.categories.size() == 3);
    CHECK(region.categories[0].name == "eu");
    CHECK(region.categories[0].probability == 0.3);
    CHECK(region.categories[1].name == "us");
    CHECK(region.categories[1].probability == 0.5);
    CHECK(s.world.users->attribute(1).name == "platform");
    CHECK(s.world.label_delay == 30 * kSecond);
    CHECK(s.world.load_balancing == LoadBalancing::least_outstanding);
  }

  SECTION("models, with based_on inheritance and overrides") {
    REQUIRE(s.world.versions.size() == 3);
    const ModelVersionSpec& v1 = s.world.versions[0];
    CHECK(v1.name == "v1");
    CHECK(v1.service_time.kind() == Distribution::Kind::lognormal);
    CHECK(v1.service_time.mean_seconds() == Approx(0.020));
    CHECK(v1.service_time.scv() == Approx(0.36));
    CHECK(v1.concurrency == 4);
    CHECK(v1.queue_limit == 64);
    CHECK(v1.timeout == kSecond);
    CHECK(v1.error_rate == 0.001);
    CHECK(v1.quality.conversion == 0.1);
    CHECK(v1.quality.segment_attribute == 1);
    CHECK(v1.quality.conversion_by_segment == std::vector<double>{0.1, 0.08});
    CHECK(v1.image_bytes == 3e9);
    CHECK(v1.startup.kind() == Distribution::Kind::uniform);
    CHECK(v1.startup.mean_seconds() == 30.0);
    CHECK(v1.warmup == 15 * kSecond);
    CHECK(v1.pool.empty());
    CHECK(v1.defects.empty());

    const ModelVersionSpec& v2 = s.world.versions[1];
    CHECK(v2.name == "v2");
    CHECK(v2.service_time.mean_seconds() == v1.service_time.mean_seconds());  // inherited
    CHECK(v2.concurrency == 4);
    CHECK(v2.timeout == kSecond);
    CHECK(v2.startup.mean_seconds() == 30.0);
    CHECK(v2.warmup == 15 * kSecond);
    CHECK(v2.quality.conversion == 0.104);  // replaced whole: no per-segment table
    CHECK(v2.quality.segment_attribute == -1);
    CHECK(v2.quality.conversion_by_segment.empty());
    CHECK(v2.image_bytes == 536870912.0);
    REQUIRE(v2.defects.size() == 3);
    CHECK(v2.defects[0].kind == DefectSpec::Kind::latency);
    CHECK(v2.defects[0].value == 2.5);
    CHECK(v2.defects[0].onset.kind == DefectOnset::Kind::after_exposure);
    CHECK(v2.defects[0].onset.delay == 20 * kMinute);
    CHECK(v2.defects[1].kind == DefectSpec::Kind::error_rate);
    CHECK(v2.defects[1].value == 0.02);
    CHECK(v2.defects[1].onset.kind == DefectOnset::Kind::at);
    CHECK(v2.defects[1].onset.delay == 2 * kHour);
    CHECK(v2.defects[2].kind == DefectSpec::Kind::memory_leak);
    CHECK(v2.defects[2].uptime == 45 * kMinute);
    CHECK(v2.defects[2].onset.kind == DefectOnset::Kind::at_start);

    const ModelVersionSpec& v3 = s.world.versions[2];  // based on v2, itself based on v1
    CHECK(v3.pool == "gpu");
    CHECK(v3.service_time.kind() == Distribution::Kind::gamma);
    CHECK(v3.service_time.mean_seconds() == Approx(0.008));
    CHECK(v3.queue_limit == -1);
    CHECK(v3.concurrency == 4);
    CHECK(v3.quality.conversion == 0.104);
    CHECK(v3.image_bytes == 536870912.0);
    REQUIRE(v3.defects.size() == 2);
    CHECK(v3.defects[0].kind == DefectSpec::Kind::quality_drop);
    CHECK(v3.defects[0].value == 0.2);
    CHECK(v3.defects[0].onset.kind == DefectOnset::Kind::load_above);
    CHECK(v3.defects[0].onset.per_replica_rps == 150.0);
    CHECK(v3.defects[1].kind == DefectSpec::Kind::crash_loop);
    CHECK(v3.defects[1].onset.kind == DefectOnset::Kind::at_start);
  }

  SECTION("faults, SLO, release, outputs") {
    const FaultSpec& f = s.world.faults;
    CHECK(f.node_failures.enabled);
    CHECK(f.node_failures.mtbf == 30 * kDay);
    CHECK(f.node_failures.repair_time.kind() == Distribution::Kind::exponential);
    CHECK(f.node_failures.repair_time.mean_seconds() == 900.0);
    REQUIRE(f.zone_outages.size() == 1);
    CHECK(f.zone_outages[0].zone == "eu-west-1b");
    CHECK(f.zone_outages[0].at == 3 * kHour);
    CHECK(f.zone_outages[0].duration == 20 * kMinute);

    CHECK(s.slo.availability == 0.999);
    CHECK(s.slo.latency_quantile == 0.99);
    CHECK(s.slo.latency_threshold == 250 * kMillisecond);
    CHECK(s.slo.window == kMinute);

    CHECK(s.release.stable == "v1");
    CHECK(s.release.candidate == "v2");
    CHECK(s.release.replicas == 40);
    CHECK(s.release.at == kHour);
    CHECK(s.outputs.timeseries_resolution == 30 * kSecond);
  }

  SECTION("strategies: parameters, defaults and labels") {
    REQUIRE(s.strategies.size() == 4);
    CHECK(s.strategies[0].name == "none");
    CHECK(s.strategies[0].label == "none");
    CHECK(s.strategies[0].params.all().empty());
    CHECK(s.strategies[0].line == 92);

    const StrategySpec& r1 = s.strategies[1];
    CHECK(r1.name == "rolling");
    CHECK(r1.label == "rolling");
    CHECK(r1.line == 93);
    CHECK(r1.params.count_or_percent("max_surge") == CountOrPercent{true, 25});
    CHECK(r1.params.count_or_percent("max_unavailable") == CountOrPercent{false, 0});
    CHECK(r1.params.duration("min_ready_seconds") == 30 * kSecond);
    CHECK(r1.params.duration("progress_deadline_seconds") == 600 * kSecond);  // default
    CHECK_FALSE(r1.params.boolean("auto_rollback"));

    const StrategySpec& r2 = s.strategies[2];
    CHECK(r2.label == "rolling-2");
    CHECK(r2.params.count_or_percent("max_surge") == CountOrPercent{false, 1});
    CHECK(r2.params.count_or_percent("max_unavailable") == CountOrPercent{true, 25});
    CHECK(r2.params.boolean("auto_rollback"));

    const StrategySpec& r3 = s.strategies[3];
    CHECK(r3.label == "careful");
    CHECK_FALSE(r3.params.has("label"));
    CHECK(r3.params.count_or_percent("max_unavailable") == CountOrPercent{true, 10});
    CHECK(r3.params.duration("progress_deadline_seconds") == 15 * kMinute);
  }

  SECTION("the world accepts the configuration") {
    World world(s.world);
    CHECK(world.version_count() == 3);
  }
}

TEST_CASE("scenario/load: defaults of a minimal scenario", "[scenario]") {
  const Scenario s = parse(kMinimal);
  CHECK(s.name == "t");
  CHECK(s.source == "test.yaml");
  CHECK(s.description.empty());
  CHECK(s.duration == kHour);
  CHECK(s.seed == 1);
  CHECK(s.replications == 1);
  REQUIRE(s.world.cluster.pools.size() == 1);
  const PoolSpec& pool = s.world.cluster.pools[0];
  CHECK(pool.max_nodes == -1);
  CHECK(pool.zone == "default");
  CHECK(pool.node_link_bytes_per_second == 25e9 / 8);
  CHECK(pool.scale_down_delay == 10 * kMinute);
  CHECK(s.world.cluster.registry_bytes_per_second == 10e9 / 8);
  CHECK(s.world.cluster.registry_latency == 0);
  CHECK_FALSE(s.world.arrivals);
  CHECK_FALSE(s.world.users);
  CHECK(s.world.load_balancing == LoadBalancing::round_robin);
  REQUIRE(s.world.versions.size() == 2);
  CHECK(s.world.versions[0].service_time.kind() == Distribution::Kind::deterministic);
  CHECK(s.world.versions[0].service_time.mean_seconds() == 0.02);
  CHECK(s.world.versions[1].service_time.mean_seconds() == 0.02);  // inherited
  CHECK(s.world.versions[1].queue_limit == 64);
  CHECK(s.world.versions[1].timeout == kTimeNever);
  CHECK_FALSE(s.world.faults.node_failures.enabled);
  CHECK(s.slo.availability == 0.999);
  CHECK(s.slo.latency_threshold == kTimeNever);
  CHECK(s.slo.window == kMinute);
  CHECK(s.release.replicas == 2);
  CHECK(s.release.at == 0);
  REQUIRE(s.strategies.size() == 1);
  CHECK(s.strategies[0].label == "none");
  CHECK(s.outputs.timeseries_resolution == 10 * kSecond);

  const Scenario v2 =
      parse(kHead + "models:\n  v1: {service_time: {dist: exponential, mean: 20ms}}\n  v2: {}\n" + kTail);
  CHECK(v2.world.versions[1].service_time.kind() == Distribution::Kind::exponential);
  CHECK(v2.world.versions[1].service_time.mean_seconds() == 0.02);
}

TEST_CASE("scenario/load: rate forms", "[scenario]") {
  auto arrivals = [](const std::string& rate) {
    const Scenario s = parse(kMinimal + "traffic:\n  rate: " + rate + "\n");
    REQUIRE(s.world.arrivals);
    return s.world.arrivals;
  };
  CHECK(arrivals("800/s")->rate_at(0) == 800.0);
  CHECK(arrivals("250")->rate_at(0) == 250.0);
  CHECK(arrivals("{constant: 48000/min}")->rate_at(kHour) == 800.0);
  const auto piecewise = arrivals("{piecewise: [{at: 0s, rate: 100/s}, {at: 10m, rate: 2/ms}]}");
  CHECK(piecewise->rate_at(5 * kMinute) == 100.0);
  CHECK(piecewise->rate_at(11 * kMinute) == 2000.0);
  const auto diurnal = arrivals("{diurnal: {mean: 100/s, amplitude: 0.5, period: 1h, peak_at: 30m}}");
  CHECK(diurnal->rate_at(30 * kMinute) == Approx(150.0));
  CHECK(diurnal->rate_at(0) == Approx(50.0));
  const auto flash = arrivals("{flash_crowd: {base: 100/s, at: 1m, multiplier: 4, hold: 1m}}");
  CHECK(flash->rate_at(0) == 100.0);
  CHECK(flash->rate_at(90 * kSecond) == Approx(400.0));
  CHECK(flash->rate_at(3 * kMinute) == Approx(100.0));
  const auto reference = arrivals(
      "{flash_crowd: {base: {constant: 100/s}, at: 0s, multiplier: 2, reference_rate: 50/s, hold: 1h}}");
  CHECK(reference->rate_at(kMinute) == Approx(150.0));

  // A trace is found relative to the scenario file: here a scenario named as if it lay beside the traces.
  const std::string beside_traces = std::string(DEPLOYSIM_DATA_DIR) + "/traces/inline.yaml";
  const Scenario traced = parse_scenario(
      kMinimal +
          "traffic:\n  rate: {trace: nasa_ksc_jul1995_requests_per_minute.csv, scale: 2, mode: poisson}\n",
      beside_traces, fake_schemas());
  REQUIRE(traced.world.arrivals);
  CHECK(traced.world.arrivals->rate_at(30 * kSecond) == Approx(42.0 * 2 / 60));  // first bin: 42 per minute
  CHECK(traced.world.arrivals->rate_at(90 * kSecond) == Approx(61.0 * 2 / 60));
}

TEST_CASE("scenario/load: distribution forms", "[scenario]") {
  auto service = [](const std::string& dist) {
    const Scenario s = parse(kHead + "models:\n  v1: {service_time: " + dist + "}\n  v2: {}\n" + kTail);
    return s.world.versions[0].service_time;
  };
  CHECK(service("0").mean_seconds() == 0.0);
  CHECK(service("{dist: deterministic, value: 5ms}").mean_seconds() == 0.005);
  CHECK(service("{dist: exponential, mean: 1s}").scv() == Approx(1.0));
  CHECK(service("{dist: lognormal, mean: 100ms, cv: 2}").scv() == Approx(4.0));
  CHECK(service("{dist: gamma, mean: 1s, cv: 0.5}").scv() == Approx(0.25));
  CHECK(service("{dist: uniform, min: 1s, max: 3s}").mean_seconds() == 2.0);
  const Distribution empirical = service("{dist: empirical, values: [1ms, 2ms, 6ms]}");
  CHECK(empirical.kind() == Distribution::Kind::empirical);
  CHECK(empirical.mean_seconds() == Approx(0.003));
}

TEST_CASE("scenario/errors: unknown key with a suggestion", "[scenario]") {
  const std::string msg = only_issue(kHead + kModels + R"(release: {stable: v1, candidate: v2, replicsa: 2}
strategies: [none]
)",
                                     7, 38, "release.replicsa");
  CHECK(msg == "unknown key 'replicsa'; did you mean 'replicas'?");

  // camelCase finds snake_case; without a close key the allowed ones are listed.
  CHECK(
      only_issue(kMinimal + "outputs: {timeseriesResolution: 1s}\n", 9, 11, "outputs.timeseriesResolution") ==
      "unknown key 'timeseriesResolution'; did you mean 'timeseries_resolution'?");
  CHECK(only_issue(kMinimal + "slo: {colour: blue}\n", 9, 7, "slo.colour") ==
        "unknown key 'colour'; allowed keys: availability, latency, window");
}

TEST_CASE("scenario/errors: a bad unit", "[scenario]") {
  const std::string msg = only_issue(kHead + R"(models:
  v1: {service_time: 20ms, image_size: 3 parsecs}
  v2: {based_on: v1}
)" + kTail,
                                     5, 40, "models.v1.image_size");
  CHECK(msg ==
        "invalid size '3 parsecs': unknown unit 'parsecs'; expected a number followed by one of B, KB, MB, "
        "GB, TB, "
        "KiB, MiB, GiB, TiB (e.g. 3GB, 512MiB)");
  CHECK_THAT(only_issue(kMinimal + "duration: 3 parsecs\n", 9, 11, "duration"),
             Catch::StartsWith("invalid duration '3 parsecs': unknown unit 'parsecs'"));
}

TEST_CASE("scenario/errors: wrong types", "[scenario]") {
  CHECK(only_issue(kMinimal + "replications: [1, 2]\n", 9, 15, "replications") ==
        "found a list, expected an integer from 1 to 1000000");
  CHECK(only_issue(kMinimal + "slo: 99.9%\n", 9, 6, "slo") ==
        "found '99.9%', expected a map with availability, latency and window");
  CHECK(only_issue(kMinimal + "replications: 0\n", 9, 15, "replications") ==
        "found '0', expected an integer from 1 to 1000000");
  CHECK(only_issue(kMinimal + "outputs: {timeseries_resolution: -1s}\n", 9, 34,
                   "outputs.timeseries_resolution") == "found '-1s', expected a duration > 0");
  CHECK(only_issue(kMinimal + "traffic: {rate: 10/s, load_balancing: roundrobin}\n", 9, 39,
                   "traffic.load_balancing") ==
        "unknown load balancing policy 'roundrobin'; did you mean 'round_robin'?");
}

TEST_CASE("scenario/errors: missing required keys", "[scenario]") {
  CHECK(only_issue(kHead + kModels + "release: {stable: v1}\nstrategies: [none]\n", 7, 10,
                   "release.candidate") == "missing required key 'candidate'");
  CHECK(only_issue(kMinimal.substr(kMinimal.find('\n') + 1), 1, 1, "name") == "missing required key 'name'");
  const std::vector<ScenarioIssue> issues = issues_of("name: t\n");
  REQUIRE(issues.size() == 4);
  CHECK(issues[0].path == "cluster");
  CHECK(issues[1].path == "models");
  CHECK(issues[2].path == "release");
  CHECK(issues[3].path == "strategies");
}

TEST_CASE("scenario/errors: unknown based_on and a based_on cycle", "[scenario]") {
  CHECK(only_issue(kHead + "models:\n  v1: {service_time: 20ms}\n  v2: {based_on: v0}\n" + kTail, 6, 18,
                   "models.v2.based_on") == "unknown base model 'v0'; did you mean 'v1'?");
  CHECK(only_issue(
            kHead + "models:\n  v1: {based_on: v3}\n  v2: {based_on: v1}\n  v3: {based_on: v2}\n" + kTail, 6,
            18, "models.v2.based_on") == "based_on forms a cycle: v1 -> v3 -> v2 -> v1");
  CHECK(only_issue(kHead + "models:\n  v1: {based_on: v1}\n  v2: {}\n" + kTail, 5, 18,
                   "models.v1.based_on") == "based_on forms a cycle: v1 -> v1");
}

TEST_CASE("scenario/errors: strategies and their parameters", "[scenario]") {
  const std::string head = kHead + kModels + "release: {stable: v1, candidate: v2}\n";
  CHECK(only_issue(head + "strategies:\n  - none\n  - rollnig\n", 10, 5, "strategies[1]") ==
        "unknown strategy 'rollnig'; did you mean 'rolling'?");
  CHECK(only_issue(head + "strategies:\n  - canary: {steps: 3}\n", 9, 5, "strategies[0]") ==
        "unknown strategy 'canary'; known: none, recreate, rolling, gated");
  CHECK(only_issue(head + "strategies:\n  - rolling: {max_surgee: 1}\n", 9, 15,
                   "strategies[0].rolling.max_surgee") ==
        "unknown rolling parameter 'max_surgee'; did you mean 'max_surge'?");
  CHECK(only_issue(head + "strategies:\n  - rolling: {maxUnavailable: 1}\n", 9, 15,
                   "strategies[0].rolling.maxUnavailable") ==
        "unknown rolling parameter 'maxUnavailable'; did you mean 'max_unavailable'?");
  CHECK(only_issue(head + "strategies:\n  - rolling: {max_surge: lots}\n", 9, 26,
                   "strategies[0].rolling.max_surge") ==
        "found 'lots', expected a count or a percentage, e.g. 1 or 25%");
  CHECK(only_issue(head + "strategies:\n  - rolling: {auto_rollback: [true]}\n", 9, 30,
                   "strategies[0].rolling.auto_rollback") == "found a list, expected true or false");
  CHECK(only_issue(head + "strategies:\n  - gated: {steps: 2}\n", 9, 5, "strategies[0].gated.gate") ==
        "missing required parameter 'gate' of gated (a string)");
  CHECK(only_issue(head + "strategies:\n  - gated: {gate: g, steps: 11}\n", 9, 29,
                   "strategies[0].gated.steps") == "found '11', expected an integer from 1 to 10");
  CHECK(only_issue(head + "strategies:\n  - none: {label: a}\n  - rolling: {label: a}\n", 10, 22,
                   "strategies[1].rolling.label") == "label 'a' is already used by another strategy");
  CHECK(only_issue(head + "strategies:\n  - {none: {}, rolling: {}}\n", 9, 5, "strategies[0]") ==
        "found a map with 2 keys, expected a strategy name or a map with one key, {NAME: {parameters}}");
  CHECK(only_issue(head + "strategies: []\n", 8, 13, "strategies") ==
        "found an empty list, expected at least one strategy");

  // An explicit label takes precedence over the automatic ones, which then skip it.
  const Scenario s = parse(head + "strategies:\n  - none: {label: rolling}\n  - rolling\n  - rolling\n");
  REQUIRE(s.strategies.size() == 3);
  CHECK(s.strategies[0].label == "rolling");
  CHECK(s.strategies[1].label == "rolling-2");
  CHECK(s.strategies[2].label == "rolling-3");
}

TEST_CASE("scenario/errors: cross references and ranges", "[scenario]") {
  CHECK(only_issue(kHead + "models:\n  v1: {pool: cpus}\n  v2: {}\n" + kTail, 5, 14, "models.v1.pool") ==
        "unknown pool 'cpus'; did you mean 'cpu'?");
  CHECK(only_issue(kHead + kModels + "release: {stable: v1, candidate: v1}\nstrategies: [none]\n", 7, 34,
                   "release.candidate") == "found 'v1', the stable model; expected another model");
  CHECK(only_issue(kHead + kModels + "release: {stable: v1, candidate: v2, at: 1h}\nstrategies: [none]\n", 7,
                   42, "release.at") ==
        "found '1h', expected a time before the end of the scenario (duration 1h)");
  CHECK(only_issue("name: t\ncluster:\n  pools: [{name: cpu, nodes: 4, max_nodes: 2}]\n" + kModels + kTail, 3,
                   44, "cluster.pools[0].max_nodes") == "found '2', expected max_nodes >= nodes (4)");
  CHECK(only_issue(kMinimal + "traffic:\n  rate: 1/s\n  segments: {region: {eu: 0.3, us: 0.6}}\n", 11, 22,
                   "traffic.segments.region") == "probabilities sum to 0.9, expected 1");
  CHECK(only_issue(kMinimal + "traffic:\n  rate: {diurnal: {mean: 1/s, amplitude: 1.5}}\n", 10, 42,
                   "traffic.rate.diurnal.amplitude") ==
        "invalid fraction '1.5': a bare number is a fraction from 0 to 1; write 1.5% for a percentage; "
        "expected a "
        "percentage from 0% to 100% (e.g. 99.9%) or a number from 0 to 1 (e.g. 0.999)");
  CHECK(only_issue(kHead +
                       "traffic:\n  segments: {region: {eu: 1}}\n  rate: 1/s\nmodels:\n  v1: {quality: "
                       "{by_segment: {attribute: regoin, values: {eu: 0.1}}}}\n  v2: {}\n" +
                       kTail,
                   8, 42, "models.v1.quality.by_segment.attribute") ==
        "unknown attribute 'regoin'; did you mean 'region'?");
  CHECK(only_issue(kHead +
                       "traffic:\n  segments: {region: {eu: 1}}\n  rate: 1/s\nmodels:\n  v1: {quality: "
                       "{by_segment: {attribute: region, values: {us: 0.1}}}}\n  v2: {}\n" +
                       kTail,
                   8, 59,
                   "models.v1.quality.by_segment.values.us") == "unknown category 'us'; region has: eu");
  CHECK(only_issue(kMinimal + "faults:\n  zone_outages: [{zone: eu, at: 1m, duration: 1m}]\n", 10, 25,
                   "faults.zone_outages[0].zone") == "unknown zone 'eu'; pools are in: default");
}

TEST_CASE("scenario/errors: forms of distributions, rates and defects", "[scenario]") {
  auto with_service = [](const std::string& dist) {
    return kHead + "models:\n  v1: {service_time: " + dist + "}\n  v2: {}\n" + kTail;
  };
  CHECK(only_issue(with_service("{dist: exponential, mean: 20ms, cv: 0.5}"), 5, 54,
                   "models.v1.service_time.cv") ==
        "'cv' does not apply to an exponential distribution; it takes mean");
  CHECK(only_issue(with_service("{dist: lognormal, mean: 20ms}"), 5, 22, "models.v1.service_time.cv") ==
        "missing required key 'cv'");
  CHECK(only_issue(with_service("{dist: lognormal, mean: 20ms, cv: 1, median: 10ms}"), 5, 22,
                   "models.v1.service_time") ==
        "a lognormal distribution takes either mean and cv or median and p95, not both");
  CHECK(only_issue(with_service("{dist: lognormal, median: 20ms, p95: 10ms}"), 5, 59,
                   "models.v1.service_time.p95") == "found '10ms', expected p95 >= median (20ms)");
  CHECK(only_issue(with_service("{dist: weibull, mean: 1s}"), 5, 29, "models.v1.service_time.dist") ==
        "unknown distribution 'weibull'; expected one of: deterministic, exponential, lognormal, gamma, "
        "uniform, "
        "empirical");
  CHECK(only_issue(with_service("[1ms]"), 5, 22, "models.v1.service_time") ==
        "found a list, expected a duration (a fixed time) or a map such as {dist: lognormal, mean: 20ms, cv: "
        "0.6} "
        "with dist one of deterministic, exponential, lognormal, gamma, uniform, empirical");

  CHECK(only_issue(kMinimal + "traffic:\n  rate: {constant: 1/s, diurnal: {mean: 1/s}}\n", 10, 9,
                   "traffic.rate") ==
        "found constant, diurnal together, expected exactly one of constant, piecewise, diurnal, "
        "flash_crowd, trace");
  CHECK(only_issue(kMinimal + "traffic:\n  rate: {constant: 1/s, scale: 2}\n", 10, 25,
                   "traffic.rate.scale") == "'scale' is an option of the trace form only");
  CHECK(only_issue(kMinimal + "traffic:\n  rate: {piecewise: [{at: 1m, rate: 1/s}, {at: 1m, rate: 2/s}]}\n",
                   10, 48, "traffic.rate.piecewise[1].at") ==
        "found '1m', expected a time after the previous piece's 1m");
  CHECK_THAT(
      only_issue(kMinimal + "traffic:\n  rate: {trace: no-such-trace.csv}\n", 10, 17, "traffic.rate.trace"),
      Catch::StartsWith("cannot load the trace: ") && Catch::Contains("no-such-trace.csv"));

  auto with_defect = [](const std::string& defect) {
    return kHead + "models:\n  v1: {}\n  v2: {defects: [" + defect + "]}\n" + kTail;
  };
  CHECK(only_issue(with_defect("{kind: error_rate, rate: 1%, multiplier: 2}"), 6, 47,
                   "models.v2.defects[0].multiplier") ==
        "'multiplier' does not apply to an error_rate defect; it takes rate and onset");
  CHECK(
      only_issue(with_defect("{kind: latency, multiplier: 2, onset: {at: 1m, after_exposure: 1m}}"), 6, 56,
                 "models.v2.defects[0].onset") ==
      "found at, after_exposure together, expected exactly one of at_start, at, after_exposure, load_above");
  CHECK(only_issue(with_defect("{kind: leak}"), 6, 25, "models.v2.defects[0].kind") ==
        "unknown defect kind 'leak'; expected one of: error_rate, latency, quality_drop, crash_loop, "
        "memory_leak");
  CHECK(only_issue(with_defect("{kind: memory_leak}"), 6, 18, "models.v2.defects[0].uptime") ==
        "missing required key 'uptime'");
}

TEST_CASE("scenario/errors: the platform section", "[scenario]") {
  CHECK(only_issue(kMinimal + "platform: {backend: simgrid, file: p.xml}\n", 9, 36, "platform.file") ==
        "cannot read the platform file 'p.xml'");
  CHECK(only_issue(kMinimal + "platform: {backend: simgird}\n", 9, 21, "platform.backend") ==
        "unknown backend 'simgird'; did you mean 'simgrid'?");
  CHECK(only_issue(kMinimal + "platform: {network_model: CM02}\n", 9, 27, "platform.network_model") ==
        "only used by the simgrid backend (platform.backend: simgrid)");
  CHECK(only_issue(kMinimal + "platform: {backend: simgrid, network_model: CM03}\n", 9, 45,
                   "platform.network_model") == "unknown network model 'CM03'; did you mean 'CM02'?");
  CHECK(only_issue(kMinimal + "platform: {backend: simgrid, pools: {cpu: c-}}\n", 9, 37, "platform.pools") ==
        "only used with a platform file (platform.file)");
  const Scenario s =
      parse(kMinimal + "platform: {backend: simgrid, network_model: CM02, crosstraffic: false}\n");
  CHECK(s.world.platform.backend == PlatformBackend::simgrid);
  CHECK(s.world.platform.network_model == "CM02");
  CHECK_FALSE(s.world.platform.crosstraffic);
  CHECK(s.world.platform.file.empty());
}

TEST_CASE("scenario/load: analysis templates with units per metric, and their errors", "[scenario]") {
  const Scenario s = parse_scenario(kMinimal + R"(analysis_templates:
  latency-guard:
    interval: 1m
    failure_limit: 2
    min_requests: 100
    no_data: inconclusive
    metrics:
      - {name: error_rate, max: 1%}
      - {name: latency_p99, max: 250ms}
      - {name: request_rate, min: 10/s}
)",
                                    "templates.yaml", fake_schemas());
  REQUIRE(s.analysis_templates.count("latency-guard") == 1);
  const AnalysisTemplate& t = s.analysis_templates.at("latency-guard");
  CHECK(t.interval == kMinute);
  CHECK(t.failure_limit == 2);
  CHECK(t.min_requests == 100);
  CHECK(t.no_data == NoDataPolicy::inconclusive);
  REQUIRE(t.metrics.size() == 3);
  CHECK(t.metrics[0].metric == Metric::error_rate);
  CHECK(t.metrics[0].max == Approx(0.01));
  CHECK(t.metrics[1].metric == Metric::latency_p99);
  CHECK(t.metrics[1].max == Approx(0.25));
  CHECK(t.metrics[2].min == Approx(10));
  CHECK(only_issue(
            kMinimal +
                "analysis_templates:\n  guard: {interval: 1m, metrics: [{name: latency_p98, max: 1s}]}\n",
            10, 42, "analysis_templates.guard.metrics[0].name")
            .find("latency_p98") != std::string::npos);
  CHECK(only_issue(
            kMinimal + "analysis_templates:\n  guard: {intervall: 1m, metrics: [{name: error_rate}]}\n", 10,
            11, "analysis_templates.guard.intervall") == "unknown key 'intervall'; did you mean 'interval'?");
}

TEST_CASE("scenario/errors: YAML syntax errors carry the parser's position", "[scenario]") {
  const std::vector<ScenarioIssue> issues =
      issues_of("name: t\ncluster:\n  pools: [{name: cpu\nmodels: {}\n");
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].file == "test.yaml");
  CHECK(issues[0].line == 4);
  CHECK(issues[0].column == 7);
  CHECK(issues[0].path.empty());
  CHECK_THAT(issues[0].message, Catch::StartsWith("YAML syntax error: "));
  CHECK(issues[0].format() == "test.yaml:4:7: " + issues[0].message);

  const std::vector<ScenarioIssue> repeated = issues_of(kMinimal + "seed: 1\nseed: 2\n");
  REQUIRE(repeated.size() == 1);
  CHECK(repeated[0].format() == "test.yaml:10:1: seed: repeated key 'seed' (first at line 9)");

  const std::vector<ScenarioIssue> empty = issues_of("");
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].line == 1);
  CHECK_THAT(empty[0].message, Catch::StartsWith("the scenario is empty"));
}

TEST_CASE("scenario/errors: every problem of a file, in file order", "[scenario]") {
  const std::string path = kDataDir + "errors.yaml";
  try {
    load_scenario(path, fake_schemas());
    FAIL("errors.yaml loaded");
  } catch (const ScenarioError& e) {
    const std::vector<ScenarioIssue>& issues = e.issues();
    std::vector<std::string> lines;
    for (const ScenarioIssue& issue : issues) {
      CHECK(issue.file == path);
      lines.push_back(std::to_string(issue.line) + ":" + std::to_string(issue.column) + " " + issue.path);
    }
    CHECK(lines == std::vector<std::string>{"5:26 strategies[0].rolling.max_surge", "6:5 strategies[1]",
                                            "9:36 cluster.pools[0].slots", "11:54 models.v1.service_time.cv",
                                            "12:34 models.v2.image_size", "13:34 release.candidate",
                                            "13:42 release.at", "14:28 slo.windwo"});
    REQUIRE(issues.size() == 8);
    CHECK_THAT(issues[1].message, Catch::Contains("unknown strategy 'blue_grene'"));
    CHECK_THAT(issues[4].message, Catch::Contains("unknown unit 'parsecs'"));
    CHECK(issues[7].message == "unknown key 'windwo'; did you mean 'window'?");
    // what() holds one formatted line per issue.
    std::string expected;
    for (const ScenarioIssue& issue : issues) expected += (expected.empty() ? "" : "\n") + issue.format();
    CHECK(std::string(e.what()) == expected);
    CHECK(issues[0].format() == path + ":5:26: strategies[0].rolling.max_surge: " + issues[0].message);
  }
}

TEST_CASE("scenario/errors: a missing file", "[scenario]") {
  const std::string path = kDataDir + "no-such-scenario.yaml";
  try {
    load_scenario(path, fake_schemas());
    FAIL("a missing file loaded");
  } catch (const ScenarioError& e) {
    REQUIRE(e.issues().size() == 1);
    CHECK(e.issues()[0].file == path);
    CHECK(e.issues()[0].line == 0);
    CHECK_THAT(e.issues()[0].message, Catch::StartsWith("cannot read the scenario file"));
    CHECK_THAT(e.what(), Catch::StartsWith(path + ": cannot read the scenario file"));
  }
}

TEST_CASE("scenario/keys: every key is documented in docs/scenario-reference.md", "[scenario]") {
  std::ifstream in(std::string(DEPLOYSIM_SOURCE_DIR) + "/docs/scenario-reference.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  REQUIRE(!scenario_keys().empty());
  for (const ScenarioKeyDoc& key : scenario_keys()) {
    INFO(key.path);
    CHECK(doc.find("`" + key.path + "`") != std::string::npos);
    CHECK(!key.type.empty());
    CHECK(!key.description.empty());
  }
}

TEST_CASE("scenario/keys: the example in docs/scenario-reference.md loads", "[scenario]") {
  std::ifstream in(std::string(DEPLOYSIM_SOURCE_DIR) + "/docs/scenario-reference.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::size_t start = doc.find("```yaml\n", doc.find("## Example"));
  REQUIRE(start != std::string::npos);
  const std::size_t end = doc.find("```\n", start + 8);
  REQUIRE(end != std::string::npos);
  const Scenario s = parse(doc.substr(start + 8, end - start - 8));
  CHECK(s.name == "rolling-vs-recreate");
  CHECK(s.world.versions.size() == 2);
  REQUIRE(s.strategies.size() == 3);
  CHECK(s.strategies[2].label == "one-at-a-time");
}

TEST_CASE("scenario/keys: the documented durations are the loaded defaults", "[scenario]") {
  const Scenario s = parse(kMinimal);
  auto documented = [](const std::string& path) {
    for (const ScenarioKeyDoc& key : scenario_keys())
      if (key.path == path) return parse_duration(key.default_value);
    FAIL("no key " << path);
    return Time{0};
  };
  CHECK(documented("duration") == s.duration);
  CHECK(documented("slo.window") == s.slo.window);
  CHECK(documented("outputs.timeseries_resolution") == s.outputs.timeseries_resolution);
  CHECK(documented("cluster.pools[].scale_down_delay") == s.world.cluster.pools[0].scale_down_delay);
  CHECK(documented("cluster.registry.latency") == s.world.cluster.registry_latency);
  CHECK(documented("traffic.label_delay") == s.world.label_delay);
  CHECK(documented("release.at") == s.release.at);
  CHECK(documented("models.NAME.warmup") == s.world.versions[0].warmup);
}
