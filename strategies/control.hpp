// Control: everything a strategy may do to the world, and all it may read of it.
//
// Strategies never touch replicas, nodes or the calendar directly. Control also owns the strategy's
// timers and turns world signals into coalesced on_change calls made outside the world's bookkeeping.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "sim/monitor/analysis.hpp"
#include "sim/monitor/metric_window.hpp"
#include "sim/world/world.hpp"
#include "strategies/strategy.hpp"

namespace sim {

class Control : private WorldObserver {
 public:
  /// Attaches to `world`; the strategy starts at `start_at`. Stable and candidate are version ids; `replicas`
  /// is the release's target replica count.
  Control(World& world, std::unique_ptr<Strategy> strategy, VersionId stable, VersionId candidate,
          int replicas, Time start_at,
          const std::map<std::string, AnalysisTemplate>* analysis_templates = nullptr);
  ~Control() override;
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  // ---- reading ------------------------------------------------------------------------------------------
  Time now() const { return world_.now(); }
  VersionId stable() const { return stable_; }
  VersionId candidate() const { return candidate_; }
  const std::string& version_name(VersionId v) const { return world_.version(v).name; }
  /// Throws std::out_of_range for an unknown name (the scenario loader has checked model parameters).
  VersionId version_id(const std::string& name) const { return world_.version_id(name); }
  /// Whether versions have a quality, so that rewards and labels arrive.
  bool has_quality() const { return world_.has_quality(); }
  /// The user population (segments), or nullptr for one anonymous user.
  const UserPopulation* users() const { return world_.config().users.get(); }
  int replicas() const { return replicas_; }
  std::size_t version_count() const { return world_.version_count(); }
  int desired(VersionId v) const { return world_.desired(v); }
  int ready(VersionId v) const { return world_.ready(v); }
  int available(VersionId v, Time min_ready) const { return world_.available(v, min_ready); }
  /// Replicas that are neither draining nor terminated.
  int active(VersionId v) const { return world_.active(v); }
  int count(VersionId v, ReplicaState s) const { return world_.count(v, s); }
  /// Active or draining: the replicas of `v` that still exist.
  int existing(VersionId v) const { return world_.active(v) + world_.count(v, ReplicaState::draining); }
  double traffic_share(VersionId v) const { return world_.traffic_share(v); }
  bool finished() const { return finished_; }
  /// Per-version metric windows; collecting starts on the first call.
  const MetricCollector& metrics();
  /// The scenario's analysis template of that name; throws std::out_of_range if there is none (the scenario
  /// loader has already checked every name a strategy parameter gives).
  const AnalysisTemplate& analysis_template(const std::string& name) const;

  // ---- acting -------------------------------------------------------------------------------------------
  void scale(VersionId v, int replicas) { world_.scale(v, replicas); }
  void set_weights(std::span<const double> percent_by_version) { world_.set_weights(percent_by_version); }
  /// Convenience for two versions: `candidate_percent` to the candidate, the rest to stable.
  void set_candidate_weight(double candidate_percent);
  void use_replica_proportional() { world_.use_replica_proportional(); }
  void set_in_service(VersionId v, bool in_service) { world_.set_in_service(v, in_service); }
  void set_mirror(VersionId v, double percent) { world_.set_mirror(v, percent); }
  void clear_mirror() { world_.clear_mirror(); }
  /// A per-user routing decision ahead of the weights (feature flags); nullptr removes it.
  void set_route_hook(RouteHook* hook) { world_.set_route_hook(hook); }
  /// Keeps `v` deployed on purpose as a standby (see World::set_retained).
  void set_retained(VersionId v, bool retained) { world_.set_retained(v, retained); }
  /// Makes `v` the release's candidate (a shadow challenger that won); exposure and the outcome then
  /// refer to it.
  void set_candidate(VersionId v);
  /// Schedules a manual promotion: Strategy::on_promote at time `at` (ignored once the strategy finished).
  void promote_at(Time at);
  /// Calls Strategy::on_timer(token) after `delay`.
  void timer(Time delay, std::uint64_t token);
  /// Records a decision with its reason (shown in reports).
  void note(std::string reason) { world_.mark(MarkKind::note, std::move(reason)); }
  /// The candidate is the new stable version; the strategy is done.
  void promoted(std::string reason);
  /// The decision to roll back.
  void abort(std::string reason);
  /// The rollout stopped making progress (progress deadline).
  void stalled(std::string reason);
  /// The rollback completed; the strategy is done.
  void rolled_back(std::string reason);

 private:
  void on_replica_state(std::uint32_t, VersionId, ReplicaState, ReplicaState, Time) override { poke(); }
  void on_replica_crash(std::uint32_t, VersionId, std::uint32_t, Time) override { poke(); }
  void on_node_state(std::uint32_t, NodeState, NodeState, Time) override { poke(); }
  void poke();

  World& world_;
  std::unique_ptr<Strategy> strategy_;
  VersionId stable_;
  VersionId candidate_;
  int replicas_;
  bool started_ = false;
  bool finished_ = false;
  bool change_pending_ = false;
  const std::map<std::string, AnalysisTemplate>* templates_;
  std::unique_ptr<MetricCollector> collector_;
};

/// Runs one Argo analysis of a version on a strategy's timers: start it, pass every timer token to
/// on_timer, and it reports the run's phase once completed (recording each measurement as a note).
class AnalysisDriver {
 public:
  /// `token` identifies this driver's timers among the strategy's.
  AnalysisDriver(std::string label, std::uint64_t token) : label_(std::move(label)), token_(token) {}
  /// Measures `traffic` of `version`: live requests, or the mirrored copies a shadow version answers.
  void start(Control& control, const AnalysisTemplate& t, VersionId version, Traffic traffic = Traffic::live);
  /// For this driver's token: takes the measurement and returns the run's phase when it completed.
  std::optional<AnalysisPhase> on_timer(Control& control, std::uint64_t token);
  bool running() const { return run_ && !run_->done(); }
  const ArgoAnalysisRun* run() const { return run_.get(); }

 private:
  void schedule(Control& control);
  std::string label_;
  std::uint64_t token_;
  std::unique_ptr<ArgoAnalysisRun> run_;
  std::optional<WindowCursor> cursor_;
};

}  // namespace sim
