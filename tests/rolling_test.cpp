// The rolling strategy against Kubernetes' deployment controller: exact replica trajectories for several
// max_surge / max_unavailable settings, min_ready_seconds, the progress deadline and automatic rollback.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "strategies/control.hpp"
#include "strategies/registry.hpp"

using namespace sim;

namespace {

constexpr VersionId kStable = 0;
constexpr VersionId kCandidate = 1;
// The stable replicas have served for a minute when the release starts, so they are available whatever
// min_ready_seconds is.
constexpr Time kReleaseAt = 60 * kSecond;

using Overrides = std::vector<std::pair<std::string, std::string>>;

/// Two versions that start in exactly 10 s (no image to pull, no warm-up) on one-slot nodes, and no
/// traffic, so that draining replicas terminate at once and every step of a rollout falls on a multiple
/// of 10 s.
WorldConfig trajectory_config(int nodes = 16) {
  WorldConfig c;
  PoolSpec pool;
  pool.name = "cpu";
  pool.nodes = nodes;
  pool.slots = 1;
  c.cluster.pools.push_back(pool);
  ModelVersionSpec v1;
  v1.name = "v1";
  v1.startup = Distribution::deterministic(10 * kSecond);
  ModelVersionSpec v2 = v1;
  v2.name = "v2";
  c.versions = {v1, v2};
  return c;
}

/// The replica counts of both ReplicaSets at the end of one simulated instant.
struct Step {
  double t = 0;  // seconds since the release started
  int old_desired = 0;
  int old_existing = 0;  // active or draining
  int new_desired = 0;
  int new_ready = 0;
  friend bool operator==(const Step&, const Step&) = default;
};

std::ostream& operator<<(std::ostream& os, const Step& s) {
  return os << "{t=" << s.t << " old " << s.old_desired << "/" << s.old_existing << " new " << s.new_desired
            << "/" << s.new_ready << "}";
}

/// Records the counts after every instant at which a replica changed, and the lowest stable availability.
class TrajectoryRecorder : public WorldObserver {
 public:
  TrajectoryRecorder(World& world, Time min_ready, Time origin)
      : world_(world), min_ready_(min_ready), origin_(origin) {}

  void on_replica_state(std::uint32_t, VersionId, ReplicaState, ReplicaState, Time) override {
    const Step s{to_seconds(world_.now() - origin_), world_.desired(kStable),
                 world_.active(kStable) + world_.count(kStable, ReplicaState::draining),
                 world_.desired(kCandidate), world_.ready(kCandidate)};
    // One decision makes several changes at one instant (a scale-down drains, then terminates): keep the
    // last, and only when the counts differ from the step before.
    if (!steps_.empty() && steps_.back().t == s.t) steps_.pop_back();
    if (steps_.empty() || !same_counts(steps_.back(), s)) steps_.push_back(s);
    const int stable_available = world_.available(kStable, min_ready_);
    min_stable_available_ = std::min(min_stable_available_, stable_available);
    min_available_ = std::min(min_available_, stable_available + world_.available(kCandidate, min_ready_));
  }

  const std::vector<Step>& steps() const { return steps_; }
  int min_stable_available() const { return min_stable_available_; }
  int min_available() const { return min_available_; }

 private:
  static bool same_counts(const Step& a, const Step& b) {
    return a.old_desired == b.old_desired && a.old_existing == b.old_existing &&
           a.new_desired == b.new_desired && a.new_ready == b.new_ready;
  }

  World& world_;
  Time min_ready_;
  Time origin_;
  std::vector<Step> steps_;
  int min_stable_available_ = 1 << 30;
  int min_available_ = 1 << 30;
};

ParamValues rolling_params(const Overrides& overrides) {
  const StrategyInfo* info = StrategyRegistry::builtin().find("rolling");
  REQUIRE(info != nullptr);
  ParamValues params = default_params(info->params);
  for (const auto& [name, text] : overrides) {
    const auto spec = std::find_if(info->params.begin(), info->params.end(),
                                   [&](const ParamSpec& p) { return p.name == name; });
    REQUIRE(spec != info->params.end());
    params.set(name, parse_param(*spec, text));
  }
  return params;
}

std::unique_ptr<Strategy> make_rolling(const Overrides& overrides) {
  return StrategyRegistry::builtin().find("rolling")->create(rolling_params(overrides));
}

struct RolloutRun {
  std::vector<Step> steps;
  OutcomeMetrics outcome;
  std::vector<Mark> marks;
  int min_stable_available = 0;
  int min_available = 0;  // of both versions: never below replicas - max_unavailable
  int stable_ready = 0;
  int candidate_existing = 0;

  /// Time since the release started of the first mark of `kind` whose reason starts with `prefix`.
  Time first_mark(MarkKind kind, const std::string& prefix = "") const {
    for (const Mark& m : marks)
      if (m.kind == kind && m.reason.rfind(prefix, 0) == 0) return m.time - kReleaseAt;
    return kTimeNever;
  }
  std::vector<std::string> notes() const {
    std::vector<std::string> out;
    for (const Mark& m : marks)
      if (m.kind == MarkKind::note) out.push_back(m.reason);
    return out;
  }
};

/// Deploys `replicas` ready stable replicas, starts the rolling strategy at kReleaseAt and runs for
/// `horizon`.
RolloutRun run_rolling(int replicas, const Overrides& overrides, WorldConfig config = trajectory_config(),
                       Time horizon = 10 * kMinute) {
  const ParamValues params = rolling_params(overrides);
  World world(std::move(config));
  world.deploy_ready(kStable, replicas);
  world.set_release(kStable, kCandidate);
  TrajectoryRecorder recorder(world, params.duration("min_ready_seconds"), kReleaseAt);
  world.add_observer(&recorder);
  OutcomeObserver outcome(world, SloSpec{}, replicas);
  world.add_observer(&outcome);
  Control control(world, make_rolling(overrides), kStable, kCandidate, replicas, kReleaseAt);
  world.run_until(kReleaseAt + horizon);

  RolloutRun run;
  run.steps = recorder.steps();
  run.outcome = outcome.finish();
  run.marks = world.marks();
  run.min_stable_available = recorder.min_stable_available();
  run.min_available = recorder.min_available();
  run.stable_ready = world.ready(kStable);
  run.candidate_existing = world.active(kCandidate) + world.count(kCandidate, ReplicaState::draining);
  return run;
}

WorldConfig crash_looping_candidate() {
  WorldConfig c = trajectory_config();
  c.versions[kCandidate].defects = {DefectSpec{DefectSpec::Kind::crash_loop, 0, 0, {}}};
  return c;
}

}  // namespace

// Each expected trajectory is derived by hand from the controller's rules (reconcileNewReplicaSet, then
// reconcileOldReplicaSets, repeated until neither scales). A step is {t, old desired/existing, new
// desired/ready} at the end of an instant.

TEST_CASE("strategies/rolling: 10 replicas at 25%/25% resolve to surge 3, unavailable 2", "[strategies]") {
  const RolloutRun run = run_rolling(10, {});
  // t=0: new 0->3 (total 13 = 10 + 3); old 10->8 (max scaled down 13 - 8 - 3 unavailable new = 2);
  //      new 3->5 (total back to 13); old stays (13 - 8 - 5 = 0).
  // t=10: the 5 new replicas are available: old 8->3 (available 13, floor 8); new 5->10.
  // t=20: all 10 new available: old 3->0; promoted.
  const std::vector<Step> expected{{0, 8, 8, 5, 0}, {10, 3, 3, 10, 5}, {20, 0, 0, 10, 10}};
  CHECK(run.steps == expected);
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.outcome.deploy_duration_s == 20);
  CHECK(run.first_mark(MarkKind::promoted) == 20 * kSecond);
  CHECK(run.min_available == 8);  // replicas - max_unavailable, at every change
  const std::vector<std::string> notes{
      "rolling update to 10 replicas: max surge 3, max unavailable 2",
      "scale candidate to 5, stable to 8 (surge 3, unavailable 2)",
      "scale candidate to 10, stable to 3 (surge 3, unavailable 2)",
      "scale candidate to 10, stable to 0 (surge 0, unavailable 0)",
  };
  CHECK(run.notes() == notes);
}

TEST_CASE("strategies/rolling: max_surge 1, max_unavailable 0 adds one, then removes one", "[strategies]") {
  const RolloutRun run = run_rolling(4, {{"max_surge", "1"}, {"max_unavailable", "0"}});
  const std::vector<Step> expected{
      {0, 4, 4, 1, 0}, {10, 3, 3, 2, 1}, {20, 2, 2, 3, 2}, {30, 1, 1, 4, 3}, {40, 0, 0, 4, 4}};
  CHECK(run.steps == expected);
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.first_mark(MarkKind::promoted) == 40 * kSecond);
  CHECK(run.min_available == 4);
  CHECK(run.outcome.downtime_s == 0);
}

TEST_CASE("strategies/rolling: max_surge 0, max_unavailable 1 removes one, then adds one", "[strategies]") {
  const RolloutRun run = run_rolling(4, {{"max_surge", "0"}, {"max_unavailable", "1"}});
  const std::vector<Step> expected{
      {0, 3, 3, 1, 0}, {10, 2, 2, 2, 1}, {20, 1, 1, 3, 2}, {30, 0, 0, 4, 3}, {40, 0, 0, 4, 4}};
  CHECK(run.steps == expected);
  CHECK(run.first_mark(MarkKind::promoted) == 40 * kSecond);
  CHECK(run.min_available == 3);
}

TEST_CASE("strategies/rolling: when both fenceposts resolve to 0, max_unavailable becomes 1",
          "[strategies]") {
  const std::vector<Step> expected{{0, 4, 4, 1, 0},  {10, 3, 3, 2, 1}, {20, 2, 2, 3, 2},
                                   {30, 1, 1, 4, 3}, {40, 0, 0, 5, 4}, {50, 0, 0, 5, 5}};
  SECTION("explicit zeros (the Kubernetes API rejects them; the controller's rule still applies)") {
    const RolloutRun run = run_rolling(5, {{"max_surge", "0"}, {"max_unavailable", "0"}});
    CHECK(run.steps == expected);
    CHECK(run.notes().front() == "rolling update to 5 replicas: max surge 0, max unavailable 1");
    CHECK(run.first_mark(MarkKind::promoted) == 50 * kSecond);
    CHECK(run.min_available == 4);
  }
  SECTION("a percentage that rounds down to zero") {
    const RolloutRun run = run_rolling(5, {{"max_surge", "0%"}, {"max_unavailable", "10%"}});
    CHECK(run.steps == expected);
  }
}

TEST_CASE("strategies/rolling: max_surge 100% with max_unavailable 0 is blue-green-like", "[strategies]") {
  const RolloutRun run = run_rolling(3, {{"max_surge", "100%"}, {"max_unavailable", "0"}});
  const std::vector<Step> expected{{0, 3, 3, 3, 0}, {10, 0, 0, 3, 3}};
  CHECK(run.steps == expected);
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.first_mark(MarkKind::promoted) == 10 * kSecond);
  CHECK(run.min_available == 3);
  CHECK(run.outcome.downtime_s == 0);
}

TEST_CASE("strategies/rolling: percentages round surge up and unavailability down", "[strategies]") {
  // 30% of 5 = 1.5: surge 2, unavailable 1.
  const RolloutRun run = run_rolling(5, {{"max_surge", "30%"}, {"max_unavailable", "30%"}});
  CHECK(run.notes().front() == "rolling update to 5 replicas: max surge 2, max unavailable 1");
  // t=0: new 0->2; old 5->4 (7 - 4 - 2 = 1); new 2->3. t=10: 3 new available, old 4->1 (available 7,
  // floor 4); new 3->5. t=20: old 1->0.
  const std::vector<Step> expected{{0, 4, 4, 3, 0}, {10, 1, 1, 5, 3}, {20, 0, 0, 5, 5}};
  CHECK(run.steps == expected);
}

TEST_CASE("strategies/rolling: with min_ready_seconds the controller waits for availability, not readiness",
          "[strategies]") {
  const RolloutRun run =
      run_rolling(4, {{"max_surge", "1"}, {"max_unavailable", "0"}, {"min_ready_seconds", "5"}});
  // Each new replica is ready 10 s after it was created but available only 5 s later, with no world event
  // then: the strategy wakes on its own timer. Every step takes 15 s.
  const std::vector<Step> expected{{0, 4, 4, 1, 0},  {10, 4, 4, 1, 1}, {15, 3, 3, 2, 1},
                                   {25, 3, 3, 2, 2}, {30, 2, 2, 3, 2}, {40, 2, 2, 3, 3},
                                   {45, 1, 1, 4, 3}, {55, 1, 1, 4, 4}, {60, 0, 0, 4, 4}};
  CHECK(run.steps == expected);
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.first_mark(MarkKind::promoted) == 60 * kSecond);
  CHECK(run.min_available == 4);  // counting only replicas ready for 5 s
}

TEST_CASE("strategies/rolling: unavailable old replicas are removed before available ones", "[strategies]") {
  // The stable ReplicaSet wants 5 but its fifth replica is still starting when the release begins. With
  // surge 0 and unavailable 1, max scaled down is 5 - 4 - 0 = 1, but the 4 available replicas are already
  // at the floor: only cleanupUnhealthyReplicas, which removes the starting replica at no cost in
  // availability, lets the rollout begin.
  World world(trajectory_config());
  world.deploy_ready(kStable, 4);
  world.scale(kStable, 5);
  world.set_release(kStable, kCandidate);
  TrajectoryRecorder recorder(world, 0, 0);
  world.add_observer(&recorder);
  Control control(world, make_rolling({{"max_surge", "0"}, {"max_unavailable", "1"}}), kStable, kCandidate, 5,
                  0);
  world.run_until(kSecond);
  CHECK(world.ready(kStable) == 4);
  CHECK(world.desired(kStable) == 4);
  CHECK(world.desired(kCandidate) == 1);
  world.run_until(kMinute);
  const std::vector<Step> expected{{0, 4, 4, 1, 0},  {10, 3, 3, 2, 1}, {20, 2, 2, 3, 2},
                                   {30, 1, 1, 4, 3}, {40, 0, 0, 5, 4}, {50, 0, 0, 5, 5}};
  CHECK(recorder.steps() == expected);
}

TEST_CASE("strategies/rolling: a crash-looping candidate stalls after progress_deadline_seconds",
          "[strategies]") {
  // 4 replicas at 25%/25%: surge 1, unavailable 1. t=0: new 0->1, old 4->3, new 1->2; the two new replicas
  // then crash and restart for ever, which is not progress.
  const RolloutRun run = run_rolling(4, {{"progress_deadline_seconds", "60"}}, crash_looping_candidate());
  const std::vector<Step> expected{{0, 3, 3, 2, 0}};
  CHECK(run.steps == expected);  // Kubernetes leaves the rollout where it stopped
  CHECK(run.first_mark(MarkKind::stalled, "ProgressDeadlineExceeded") == 60 * kSecond);
  CHECK(run.first_mark(MarkKind::abort) == kTimeNever);
  CHECK(run.outcome.outcome == "stalled");
  CHECK(run.min_stable_available == 3);  // replicas - max_unavailable, throughout
  CHECK(run.stable_ready == 3);
  CHECK(run.candidate_existing == 2);
}

TEST_CASE("strategies/rolling: with auto_rollback a stalled rollout rolls back to stable", "[strategies]") {
  const RolloutRun run = run_rolling(4, {{"progress_deadline_seconds", "60"}, {"auto_rollback", "true"}},
                                     crash_looping_candidate());
  // t=60: the reverse rolling update (kubectl rollout undo) removes both unavailable candidate replicas at
  // once (max scaled down 2 + 3 - 3 - 0 = 2), then grows stable 3->4 (total 4 <= 4 + 1); the new stable
  // replica is ready at t=70.
  const std::vector<Step> expected{{0, 3, 3, 2, 0}, {60, 4, 4, 0, 0}};
  CHECK(run.steps == expected);
  CHECK(run.first_mark(MarkKind::stalled) == 60 * kSecond);
  CHECK(run.first_mark(MarkKind::abort) == 60 * kSecond);
  CHECK(run.first_mark(MarkKind::note, "rolled back") == 70 * kSecond);
  CHECK(run.notes().back() == "rolled back: 4 stable replicas available, candidate gone");
  CHECK(run.outcome.outcome == "rolled_back");
  CHECK(run.outcome.rollback_time_s == 0);  // the candidate never served: live traffic never left stable
  CHECK(run.outcome.rollback_capacity_time_s == 10);
  CHECK(run.outcome.deploy_duration_s == 60);  // the candidate is gone at the abort
  CHECK(run.min_stable_available == 3);
  CHECK(run.stable_ready == 4);
  CHECK(run.candidate_existing == 0);
}

TEST_CASE("strategies/rolling: progress pushes the deadline back", "[strategies]") {
  // Every 10 s a new replica becomes available: a 15 s deadline is never reached.
  const RolloutRun run =
      run_rolling(4, {{"max_surge", "1"}, {"max_unavailable", "0"}, {"progress_deadline_seconds", "15"}});
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.first_mark(MarkKind::stalled) == kTimeNever);
}

TEST_CASE("strategies/rolling: a stall clears when progress resumes", "[strategies]") {
  // The candidate's replica waits for a node (10 s autoscaler scan + 90 s provisioning + 10 s start),
  // longer than the 60 s deadline: the rollout stalls, then completes once the pool has grown.
  WorldConfig c = trajectory_config(4);
  c.cluster.pools[0].max_nodes = 5;
  c.cluster.pools[0].provision_time = Distribution::deterministic(90 * kSecond);
  const RolloutRun run =
      run_rolling(4, {{"max_surge", "1"}, {"max_unavailable", "0"}, {"progress_deadline_seconds", "60"}}, c);
  CHECK(run.first_mark(MarkKind::stalled) == 60 * kSecond);
  CHECK(run.first_mark(MarkKind::note, "progressing again") == 110 * kSecond);
  CHECK(run.outcome.outcome == "promoted");
}

TEST_CASE("strategies/rolling: under traffic the rollout keeps serving", "[strategies]") {
  WorldConfig c = trajectory_config();
  c.arrivals = std::shared_ptr<const ArrivalProcess>(make_poisson(100));
  const RolloutRun run = run_rolling(10, {}, c);
  CHECK(run.outcome.outcome == "promoted");
  CHECK(run.outcome.downtime_s == 0);
  CHECK(run.outcome.exposure_requests > 0);
  // Draining replicas finish their in-flight requests first, so the last step can end a little late.
  CHECK(run.outcome.deploy_duration_s == Approx(20).margin(0.5));
}

TEST_CASE("strategies/rolling: progress_deadline_seconds must exceed min_ready_seconds", "[strategies]") {
  CHECK_THROWS_AS(make_rolling({{"min_ready_seconds", "600"}}), std::invalid_argument);
  CHECK_NOTHROW(make_rolling({{"min_ready_seconds", "599"}}));
}
