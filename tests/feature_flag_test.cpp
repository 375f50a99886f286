// The feature_flag strategy: sticky percentage rollout by each flag system's bucketing, targeting rules,
// the kill switch flipped by a failing analysis, the flag's clean-up, and the loader's checks of segments.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/control.hpp"
#include "strategies/flag_bucketing.hpp"
#include "strategies/registry.hpp"
#include "tests/run_fixture.hpp"

using namespace sim;

namespace {

constexpr VersionId kStable = 0;
constexpr VersionId kCandidate = 1;
constexpr Time kReleaseAt = 60 * kSecond;
constexpr int kReplicas = 4;

/// 16 slots; v1 and v2 alike (5 ms exponential service, 8 at a time, 10 s start-up, no image): a new
/// replica is Ready 10 s after it is placed. `users` users, uniform activity, in region {eu 0.3, us 0.5,
/// ap 0.2} and tier {free 0.8, paid 0.2}.
WorldConfig flag_config(double rate, std::uint32_t users) {
  WorldConfig c;
  PoolSpec pool;
  pool.name = "cpu";
  pool.nodes = 8;
  pool.slots = 2;
  c.cluster.pools.push_back(pool);
  ModelVersionSpec v1;
  v1.name = "v1";
  v1.service_time = Distribution::exponential(5 * kMillisecond);
  v1.concurrency = 8;
  v1.startup = Distribution::deterministic(10 * kSecond);
  ModelVersionSpec v2 = v1;
  v2.name = "v2";
  c.versions = {v1, v2};
  c.arrivals = std::shared_ptr<const ArrivalProcess>(make_poisson(rate));
  UserPopulationConfig u;
  u.size = users;
  u.attributes = {SegmentAttribute{"region", {{"eu", 0.3}, {"us", 0.5}, {"ap", 0.2}}},
                  SegmentAttribute{"tier", {{"free", 0.8}, {"paid", 0.2}}}};
  c.users = std::make_shared<const UserPopulation>(u);
  return c;
}

struct StageSpec {
  double percent;
  Time duration;
};

struct RuleSpec {
  std::string segment;
  std::string serve;
};

struct FlagSetup {
  std::map<std::string, std::string> overrides;  // scalar parameters as written in YAML
  std::vector<StageSpec> stages;
  std::vector<RuleSpec> targeting;
  const std::map<std::string, AnalysisTemplate>* templates = nullptr;
  std::string analysis;
  std::vector<Time> promotions;  // from the release start
};

/// A live request as the test saw it.
struct Seen {
  Time arrival;  // from the release start
  std::uint32_t user;
  VersionId version;
};

struct Run {
  OutcomeMetrics outcome;
  std::vector<Mark> marks;
  std::vector<Seen> requests;
  std::vector<std::pair<Time, double>> candidate_share;  // when the nominal share changes
  std::shared_ptr<const UserPopulation> users;

  Time mark_containing(const std::string& text) const {
    for (const Mark& m : marks)
      if (m.reason.find(text) != std::string::npos) return m.time - kReleaseAt;
    return kTimeNever;
  }
  /// Users seen in [from, to) and those of them served by the candidate there.
  std::pair<std::set<std::uint32_t>, std::set<std::uint32_t>> users_between(Time from, Time to) const {
    std::set<std::uint32_t> all, on;
    for (const Seen& s : requests) {
      if (s.arrival < from || s.arrival >= to) continue;
      all.insert(s.user);
      if (s.version == kCandidate) on.insert(s.user);
    }
    return {all, on};
  }
};

std::shared_ptr<const ParamList> record_list(std::vector<ParamValues> records) {
  auto list = std::make_shared<ParamList>();
  for (ParamValues& r : records)
    list->items.push_back(ParamList::Item{"", std::make_shared<const ParamValues>(std::move(r))});
  return list;
}

ParamValues flag_params(const FlagSetup& setup) {
  const StrategyInfo* info = StrategyRegistry::builtin().find("feature_flag");
  REQUIRE(info != nullptr);
  ParamValues params = default_params(info->params);
  for (const ParamSpec& spec : info->params)
    if (auto it = setup.overrides.find(spec.name); it != setup.overrides.end())
      params.set(spec.name, parse_param(spec, it->second));
  std::vector<ParamValues> stages;
  for (const StageSpec& s : setup.stages) {
    ParamValues r;
    r.set("percent", s.percent);
    r.set("duration", DurationValue{s.duration});
    stages.push_back(r);
  }
  params.set("stages", record_list(stages));
  std::vector<ParamValues> rules;
  for (const RuleSpec& s : setup.targeting) {
    ParamValues r;
    r.set("segment", s.segment);
    r.set("serve", s.serve);
    rules.push_back(r);
  }
  params.set("targeting", record_list(rules));
  if (!setup.analysis.empty()) {
    ParamValues r;
    r.set("template", setup.analysis);
    params.set("analysis", std::make_shared<const ParamValues>(r));
  }
  return params;
}

Run run_flag(WorldConfig config, const FlagSetup& setup, Time until) {
  const StrategyInfo* info = StrategyRegistry::builtin().find("feature_flag");
  REQUIRE(info != nullptr);
  Run run;
  run.users = config.users;
  World world(std::move(config));
  world.deploy_ready(kStable, kReplicas);
  world.set_release(kStable, kCandidate);
  OutcomeObserver outcome(world, SloSpec{}, kReplicas);
  world.add_observer(&outcome);
  struct Watch : WorldObserver {
    World* w;
    Run* run;
    void on_routing_changed(Time t) override {
      const double share = w->traffic_share(kCandidate);
      if (run->candidate_share.empty() || run->candidate_share.back().second != share)
        run->candidate_share.emplace_back(t - kReleaseAt, share);
    }
    void on_request(const RequestRecord& r) override {
      if (!r.shadow) run->requests.push_back(Seen{r.arrival - kReleaseAt, r.user, r.version});
    }
  };
  Watch watch;
  watch.w = &world;
  watch.run = &run;
  world.add_observer(&watch);
  // The strategy's route hook lives in the Control, which goes before the world.
  Control control(world, info->create(flag_params(setup)), kStable, kCandidate, kReplicas, kReleaseAt,
                  setup.templates);
  for (Time t : setup.promotions) control.promote_at(kReleaseAt + t);
  world.run_until(until);
  run.outcome = outcome.finish();
  run.marks = world.marks();
  return run;
}

/// Requests in [from, to) whose version is not what `expected(user)` says.
template <typename F>
std::uint64_t misrouted(const Run& run, Time from, Time to, F expected) {
  std::uint64_t wrong = 0;
  for (const Seen& s : run.requests)
    if (s.arrival >= from && s.arrival < to && s.version != expected(s.user)) ++wrong;
  return wrong;
}

std::uint64_t requests_between(const Run& run, Time from, Time to) {
  std::uint64_t n = 0;
  for (const Seen& s : run.requests) n += s.arrival >= from && s.arrival < to;
  return n;
}

AnalysisTemplate error_guard() { return testing_support::error_rate_guard(20 * kSecond); }

}  // namespace

TEST_CASE("strategies/feature_flag: users stay in while the percentage grows", "[feature_flag][strategies]") {
  FlagSetup setup;
  setup.stages = {{5, kMinute}, {25, kMinute}, {100, 0}};
  const Run run = run_flag(flag_config(1000, 5000), setup, kReleaseAt + 3 * kMinute);
  // The candidate is Ready 10 s after the release: 5% from 10 s, 25% from 70 s. A second of margin on each
  // side of a stage keeps requests of the other stage out.
  const auto [seen5, on5] = run.users_between(11 * kSecond, 69 * kSecond);
  const auto [seen25, on25] = run.users_between(71 * kSecond, 129 * kSecond);
  REQUIRE(seen5.size() > 4900);  // about 12 requests per user in a stage
  REQUIRE(seen25.size() > 4900);
  CHECK(static_cast<double>(on5.size()) / static_cast<double>(seen5.size()) == Approx(0.05).margin(0.015));
  CHECK(static_cast<double>(on25.size()) / static_cast<double>(seen25.size()) == Approx(0.25).margin(0.02));
  // Sticky: every user on the candidate at 5% is still on it at 25% (if seen there).
  std::size_t left = 0;
  for (std::uint32_t u : on5) left += seen25.count(u) && !on25.count(u);
  CHECK(left == 0);
  CHECK(on5.size() < on25.size());
  CHECK(run.candidate_share.front() == std::pair<Time, double>{0, 0.0});
}

TEST_CASE("strategies/feature_flag: the users on the candidate are those each system buckets in",
          "[feature_flag][strategies]") {
  const auto [hash, key] = GENERATE(std::pair<std::string, std::string>{"unleash", ""},
                                    std::pair<std::string, std::string>{"flagd", "new-ranker"},
                                    std::pair<std::string, std::string>{"launchdarkly", "new-ranker"},
                                    std::pair<std::string, std::string>{"deploysim", ""});
  INFO("hash " << hash << ", key '" << key << "'");
  FlagSetup setup;
  setup.overrides = {{"hash", hash}};
  if (!key.empty()) setup.overrides["flag_key"] = key;
  setup.stages = {{30, 2 * kMinute}, {100, 0}};
  const Run run = run_flag(flag_config(300, 2000), setup, kReleaseAt + kMinute + 30 * kSecond);
  const FlagHash h = parse_flag_hash(hash);
  const std::string flag_key = key.empty() ? "v2" : key;  // default: the candidate's name
  std::set<std::uint32_t> on;
  const std::uint64_t wrong = misrouted(run, 10 * kSecond + kMillisecond, 90 * kSecond, [&](std::uint32_t u) {
    const bool in = flag_bucket(h, flag_key, std::to_string(u)) < 0.30;
    if (in) on.insert(u);
    return in ? kCandidate : kStable;
  });
  CHECK(requests_between(run, 10 * kSecond + kMillisecond, 90 * kSecond) > 20000);
  CHECK(wrong == 0);
  CHECK(static_cast<double>(on.size()) / 2000 == Approx(0.3).margin(0.05));
  CHECK(run.mark_containing("feature flag " + flag_key + " (" + hash + " bucketing)") == 0);
  CHECK(run.mark_containing("stage 1/2: flag " + flag_key + " on for 30% of users for 2m") == 10 * kSecond);
  // Before the candidate is Ready, nobody is on it.
  CHECK(requests_between(run, 0, 10 * kSecond) > 2000);
  CHECK(misrouted(run, 0, 10 * kSecond, [](std::uint32_t) { return kStable; }) == 0);
}

TEST_CASE("strategies/feature_flag: targeting rules override the percentage, first match first",
          "[feature_flag][strategies]") {
  FlagSetup setup;
  setup.stages = {{50, 2 * kMinute}, {100, 0}};
  // Paid users keep stable wherever they are; free users in eu get the candidate, in us stable; ap users
  // follow the percentage.
  setup.targeting = {{"tier=paid", "off"}, {"region=eu", "on"}, {"region=us", "off"}};
  const Run run = run_flag(flag_config(300, 2000), setup, kReleaseAt + kMinute + 30 * kSecond);
  const UserPopulation& users = *run.users;
  std::uint64_t paid = 0, eu = 0, us = 0, ap = 0;
  const std::uint64_t wrong = misrouted(run, 10 * kSecond + kMillisecond, 90 * kSecond, [&](std::uint32_t u) {
    if (users.segment_of(u, 1) == 1) {
      ++paid;
      return kStable;
    }
    const std::uint8_t region = users.segment_of(u, 0);
    if (region == 0) {
      ++eu;
      return kCandidate;
    }
    if (region == 1) {
      ++us;
      return kStable;
    }
    ++ap;
    return flag_bucket(FlagHash::unleash, "v2", std::to_string(u)) < 0.5 ? kCandidate : kStable;
  });
  CHECK(wrong == 0);
  CHECK(paid > 1000);
  CHECK(eu > 1000);
  CHECK(us > 1000);
  CHECK(ap > 1000);
  CHECK(run.mark_containing("targeting tier=paid off, region=eu on, region=us off") == 10 * kSecond);
  // The nominal split ignores targeting, as for match rules.
  CHECK(run.candidate_share.back() == std::pair<Time, double>{10 * kSecond, 0.5});
}

TEST_CASE("strategies/feature_flag: the full rollout, the flag's clean-up and the promotion",
          "[feature_flag][strategies]") {
  AnalysisTemplate guard = error_guard();
  const std::map<std::string, AnalysisTemplate> templates{{"guard", guard}};
  FlagSetup setup;
  setup.stages = {{5, kMinute}, {25, 2 * kMinute}, {100, kMinute}};
  setup.templates = &templates;
  setup.analysis = "guard";
  SECTION("a full-size candidate") {
    const Run run = run_flag(flag_config(300, 2000), setup, kReleaseAt + 10 * kMinute);
    CHECK(run.mark_containing("flag analysis: analysis started") == 10 * kSecond);
    CHECK(run.mark_containing("stage 1/3: flag v2 on for 5% of users for 1m") == 10 * kSecond);
    CHECK(run.mark_containing("stage 2/3: flag v2 on for 25% of users for 2m") == 70 * kSecond);
    CHECK(run.mark_containing("stage 3/3: flag v2 on for 100% of users for 1m") == 190 * kSecond);
    CHECK(run.mark_containing("flag v2 cleaned up") == 250 * kSecond);
    CHECK(run.mark_containing("the analysis ends with the flag") == 250 * kSecond);
    const std::vector<std::pair<Time, double>> shares{
        {0, 0.0}, {10 * kSecond, 0.05}, {70 * kSecond, 0.25}, {190 * kSecond, 1.0}};
    CHECK(run.candidate_share == shares);
    CHECK(run.outcome.outcome == "promoted");
    CHECK(run.outcome.deploy_duration_s == Approx(250).margin(0.05));
    CHECK(run.outcome.failed_requests == 0);
    CHECK(run.outcome.downtime_s == 0);
    // No analysis measurement after the clean-up.
    Time last_measurement = 0;
    for (const Mark& m : run.marks)
      if (m.reason.rfind("flag analysis: ", 0) == 0 && m.reason != "flag analysis: analysis started")
        last_measurement = m.time - kReleaseAt;
    CHECK(last_measurement > 200 * kSecond);
    CHECK(last_measurement <= 250 * kSecond);
    CHECK(misrouted(run, 250 * kSecond + kMillisecond, 10 * kMinute - kReleaseAt,
                    [](std::uint32_t) { return kCandidate; }) == 0);
  }
  SECTION("a one-replica candidate grows to full size before the flag is removed") {
    setup.overrides = {{"candidate_replicas", "1"}};
    const Run run = run_flag(flag_config(300, 2000), setup, kReleaseAt + 10 * kMinute);
    CHECK(run.mark_containing("deploy the candidate with 1 replicas") == 0);
    CHECK(run.mark_containing("stage 1/3") == 10 * kSecond);
    CHECK(run.mark_containing("all stages done: scale candidate to 4 before removing flag v2") ==
          250 * kSecond);
    CHECK(run.mark_containing("flag v2 cleaned up") == 260 * kSecond);
    CHECK(run.outcome.outcome == "promoted");
    CHECK(run.outcome.deploy_duration_s == Approx(260).margin(0.05));
  }
}

TEST_CASE("strategies/feature_flag: a failing analysis flips the kill switch", "[feature_flag][strategies]") {
  const std::map<std::string, AnalysisTemplate> templates{{"guard", error_guard()}};
  FlagSetup setup;
  setup.stages = {{10, 5 * kMinute}, {50, 5 * kMinute}, {100, 0}};
  setup.templates = &templates;
  setup.analysis = "guard";
  WorldConfig bad = flag_config(1000, 5000);
  bad.versions[1].defects = {
      DefectSpec{DefectSpec::Kind::error_rate, 0.2, 0, {DefectOnset::Kind::after_exposure, 0, 0}}};
  const Run run = run_flag(bad, setup, kReleaseAt + 5 * kMinute);
  // The first stage starts at 10 s; the first measurement 20 s later sees about 20% errors: Failed.
  const Time abort_at = 30 * kSecond;
  CHECK(run.mark_containing("flag analysis: Failed") == abort_at);
  CHECK(run.mark_containing("analysis Failed: kill switch on, flag v2 off for every user") == abort_at);
  CHECK(run.mark_containing("abort scale down delay over") == abort_at + 30 * kSecond);
  CHECK(run.outcome.outcome == "rolled_back");
  CHECK(run.outcome.time_to_detect_s == Approx(20).margin(0.05));
  CHECK(run.outcome.rollback_time_s == 0);
  CHECK(run.outcome.deploy_duration_s == Approx(60).margin(0.05));
  // Every request from the abort on goes to stable; before it, about 10% went to the candidate.
  CHECK(requests_between(run, abort_at, 5 * kMinute) > 200000);
  CHECK(misrouted(run, abort_at, 5 * kMinute, [](std::uint32_t) { return kStable; }) == 0);
  CHECK(static_cast<double>(run.outcome.exposure_requests) == Approx(0.1 * 1000 * 20).epsilon(0.1));
  CHECK(run.outcome.exposure_users < 5000 / 10 + 50);
  // The stage timers stop with the kill switch.
  CHECK(run.mark_containing("stage 2/3") == kTimeNever);
  const std::vector<std::pair<Time, double>> shares{{0, 0.0}, {10 * kSecond, 0.1}, {abort_at, 0.0}};
  CHECK(run.candidate_share == shares);
}

TEST_CASE("strategies/feature_flag: an inconclusive analysis halts the rollout until promoted by hand",
          "[feature_flag][strategies]") {
  // One measurement 20 s in; far too few requests is no data, and no data is inconclusive.
  AnalysisTemplate once = error_guard();
  once.interval = 0;
  once.min_requests = 1000000;
  once.no_data = NoDataPolicy::inconclusive;
  const std::map<std::string, AnalysisTemplate> templates{{"once", once}};
  FlagSetup setup;
  setup.stages = {{10, kMinute}, {50, kMinute}, {100, 0}};
  setup.templates = &templates;
  setup.analysis = "once";
  setup.promotions = {5 * kMinute};
  const Run run = run_flag(flag_config(100, 1000), setup, kReleaseAt + 8 * kMinute);
  CHECK(run.mark_containing("analysis inconclusive: rollout halted at 10%") == 30 * kSecond);
  // The first stage's timer (70 s) changes nothing; the promotion resumes with the next stage and a new run,
  // which is inconclusive again.
  CHECK(run.mark_containing("manual promotion: resume") == 5 * kMinute);
  CHECK(run.mark_containing("stage 2/3") == 5 * kMinute);
  CHECK(run.mark_containing("analysis inconclusive: rollout halted at 50%") == 5 * kMinute + 20 * kSecond);
  CHECK(run.mark_containing("stage 3/3") == kTimeNever);
  CHECK(run.outcome.outcome == "incomplete");
}

TEST_CASE("strategies/feature_flag: the scenario loader checks targeting segments",
          "[feature_flag][strategies]") {
  const std::string head = R"(name: t
cluster:
  pools: [{name: cpu, nodes: 4, slots: 2}]
traffic:
  rate: 10/s
  segments: {region: {eu: 0.4, us: 0.6}}
models:
  v1: {service_time: 20ms}
  v2: {based_on: v1}
release: {stable: v1, candidate: v2, replicas: 2}
strategies:
)";
  auto issues = [&](const std::string& strategy) {
    try {
      parse_scenario(head + strategy, "flag.yaml", StrategyRegistry::builtin().schemas());
    } catch (const ScenarioError& e) {
      return e.issues();
    }
    return std::vector<ScenarioIssue>{};
  };
  const Scenario ok = parse_scenario(
      head +
          "  - feature_flag: {targeting: [{segment: region=eu, serve: on}], stages: [{percent: 5, "
          "duration: 10m}, {percent: 100}]}\n",
      "flag.yaml", StrategyRegistry::builtin().schemas());
  REQUIRE(ok.strategies.size() == 1);
  const ParamList& stages = ok.strategies[0].params.list("stages");
  REQUIRE(stages.items.size() == 2);
  CHECK(std::get<std::shared_ptr<const ParamValues>>(stages.items[1].value)->duration("duration") == 0);

  std::vector<ScenarioIssue> found =
      issues("  - feature_flag: {targeting: [{segment: region=asia, serve: on}]}\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].line == 12);
  CHECK(found[0].path == "strategies[0].feature_flag.targeting[0].segment");
  CHECK(found[0].message == "unknown category 'asia'; region has: eu, us");

  found = issues("  - feature_flag: {targeting: [{segment: regoin=eu, serve: off}]}\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].message == "unknown attribute 'regoin'; did you mean 'region'?");

  found = issues("  - feature_flag: {targeting: [{segment: eu, serve: on}]}\n");
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].message, Catch::Contains("expected a segment as attribute=category, e.g. region=eu"));

  found = issues("  - feature_flag: {targeting: [{segment: region=eu, serve: maybe}]}\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].path == "strategies[0].feature_flag.targeting[0].serve");
  CHECK_THAT(found[0].message, Catch::Contains("expected one of on, off"));

  found = issues("  - feature_flag: {targeting: [{segment: region=eu}]}\n");
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].message, Catch::Contains("missing 'serve'"));

  found = issues("  - feature_flag: {hash: murmur}\n");
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].message, Catch::Contains("expected one of unleash, flagd, launchdarkly, deploysim"));
}
