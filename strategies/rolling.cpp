// `rolling`: Kubernetes' RollingUpdate deployment strategy, with the deployment controller's arithmetic
// (pkg/controller/deployment/rolling.go and util/deployment_util.go), progress deadline and optional
// automatic rollback.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"
#include "strategies/fenceposts.hpp"

namespace sim {
namespace {

constexpr std::uint64_t kAvailabilityTimer = 1;
constexpr std::uint64_t kDeadlineTimer = 2;

/// The deployment status fields the controller compares between syncs to tell progress.
struct RolloutStatus {
  int updated = 0;    // replicas of the candidate, draining ones excluded (status.updatedReplicas)
  int old = 0;        // replicas of the stable version, draining ones excluded
  int available = 0;  // available replicas of both (status.availableReplicas)
};

class RollingUpdate final : public Strategy {
 public:
  explicit RollingUpdate(const ParamValues& params);

  void start(Control& control) override;
  void on_change(Control& control) override { sync(control); }
  void on_timer(Control& control, std::uint64_t token) override;

 private:
  enum class Phase { rolling, rolling_back };

  // A rollback is `kubectl rollout undo`: the same rolling update with the roles swapped.
  VersionId new_version(const Control& c) const {
    return phase_ == Phase::rolling ? c.candidate() : c.stable();
  }
  VersionId old_version(const Control& c) const {
    return phase_ == Phase::rolling ? c.stable() : c.candidate();
  }

  void sync(Control& control);
  bool reconcile_new(Control& control);
  bool reconcile_old(Control& control);
  bool finish_if_done(Control& control);
  void track_progress(Control& control);
  void arm_deadline(Control& control);
  void stall(Control& control);
  void watch_availability(Control& control);
  void note_scaling(Control& control);
  RolloutStatus status(const Control& control) const;

  CountOrPercent max_surge_param_;
  CountOrPercent max_unavailable_param_;
  Time min_ready_;
  Time progress_deadline_;
  bool auto_rollback_;

  int max_surge_ = 0;
  int max_unavailable_ = 0;
  Phase phase_ = Phase::rolling;
  RolloutStatus last_status_;
  Time last_progress_ = 0;
  bool stalled_ = false;
  bool deadline_timer_set_ = false;
  Time availability_check_at_ = -1;  // the latest availability timer set, so one instant sets one timer
};

RollingUpdate::RollingUpdate(const ParamValues& params)
    : max_surge_param_(params.count_or_percent("max_surge")),
      max_unavailable_param_(params.count_or_percent("max_unavailable")),
      min_ready_(params.duration("min_ready_seconds")),
      progress_deadline_(params.duration("progress_deadline_seconds")),
      auto_rollback_(params.boolean("auto_rollback")) {
  // Kubernetes' API validation: otherwise a rollout times out while its replicas wait to become available.
  if (progress_deadline_ <= min_ready_)
    throw std::invalid_argument("rolling: progress_deadline_seconds must be greater than min_ready_seconds");
}

void RollingUpdate::start(Control& control) {
  const int replicas = control.replicas();
  const Fenceposts fenceposts = resolve_fenceposts(max_surge_param_, max_unavailable_param_, replicas);
  max_surge_ = fenceposts.surge;
  max_unavailable_ = fenceposts.unavailable;
  control.note("rolling update to " + std::to_string(replicas) + " replicas: max surge " +
               std::to_string(max_surge_) + ", max unavailable " + std::to_string(max_unavailable_));
  // The Progressing condition starts when the new ReplicaSet is created.
  last_progress_ = control.now();
  last_status_ = status(control);
  arm_deadline(control);
  sync(control);
}

void RollingUpdate::on_timer(Control& control, std::uint64_t token) {
  if (token == kDeadlineTimer) deadline_timer_set_ = false;
  sync(control);
  if (token != kDeadlineTimer || control.finished() || phase_ != Phase::rolling || stalled_) return;
  const Time due = last_progress_ + progress_deadline_;
  if (control.now() >= due) {
    stall(control);
  } else {
    arm_deadline(control);
  }
}

void RollingUpdate::sync(Control& control) {
  // The controller scales up or down once per sync and is woken again by the change it made; repeating
  // until nothing moves gives the same sequence at one simulated instant.
  bool scaled = false;
  while (reconcile_new(control) || reconcile_old(control)) scaled = true;
  if (scaled) note_scaling(control);
  if (finish_if_done(control)) return;
  track_progress(control);
  watch_availability(control);
}

bool RollingUpdate::reconcile_new(Control& control) {
  // reconcileNewReplicaSet and NewRSNewReplicas: grow the new ReplicaSet while the desired replicas of
  // both stay within replicas + maxSurge, never beyond replicas.
  const VersionId nv = new_version(control);
  const int replicas = control.replicas();
  const int new_desired = control.desired(nv);
  if (new_desired == replicas) return false;
  if (new_desired > replicas) {
    control.scale(nv, replicas);
    return true;
  }
  const int total = new_desired + control.desired(old_version(control));
  const int max_total = replicas + max_surge_;
  if (total >= max_total) return false;
  const int scale_up = std::min(max_total - total, replicas - new_desired);
  control.scale(nv, new_desired + scale_up);
  return true;
}

bool RollingUpdate::reconcile_old(Control& control) {
  // reconcileOldReplicaSets: shrink the old ReplicaSet without letting availability fall below
  // replicas - maxUnavailable, counting new replicas that are not yet available as unavailable.
  const VersionId nv = new_version(control);
  const VersionId ov = old_version(control);
  const int old_desired = control.desired(ov);
  if (old_desired == 0) return false;
  const int new_desired = control.desired(nv);
  const int min_available = control.replicas() - max_unavailable_;
  const int new_available = control.available(nv, min_ready_);
  const int old_available = control.available(ov, min_ready_);
  const int max_scaled_down = old_desired + new_desired - min_available - (new_desired - new_available);
  if (max_scaled_down <= 0) return false;

  // cleanupUnhealthyReplicas: old replicas that are not available cost no availability, and left alone
  // they would block the rollout (kubernetes/kubernetes#16737). The world removes not-ready replicas first.
  int remaining = old_desired;
  const int cleanup = std::min(max_scaled_down, std::max(0, old_desired - old_available));
  if (cleanup > 0) {
    remaining -= cleanup;
    control.scale(ov, remaining);
  }

  // scaleDownOldReplicaSetsForRollingUpdate: remove available old replicas down to the availability floor.
  // The counts are those read before the cleanup, as the controller reads one status per sync; the cleanup
  // removed no available replica.
  const int available = old_available + new_available;
  int scale_down = 0;
  if (available > min_available && remaining > 0) {
    scale_down = std::min(remaining, available - min_available);
    control.scale(ov, remaining - scale_down);
  }
  return cleanup + scale_down > 0;
}

bool RollingUpdate::finish_if_done(Control& control) {
  const VersionId nv = new_version(control);
  const VersionId ov = old_version(control);
  const int replicas = control.replicas();
  if (control.desired(nv) != replicas || control.available(nv, min_ready_) < replicas ||
      control.existing(ov) > 0)
    return false;
  if (phase_ == Phase::rolling) {
    control.promoted(std::to_string(replicas) + " candidate replicas available, stable gone");
  } else {
    control.rolled_back(std::to_string(replicas) + " stable replicas available, candidate gone");
  }
  return true;
}

RolloutStatus RollingUpdate::status(const Control& control) const {
  RolloutStatus s;
  s.updated = control.active(control.candidate());
  s.old = control.active(control.stable());
  s.available =
      control.available(control.candidate(), min_ready_) + control.available(control.stable(), min_ready_);
  return s;
}

void RollingUpdate::track_progress(Control& control) {
  // DeploymentProgressing: new replicas were created or became available, or old ones went away. Crashes
  // and restarts of replicas that never become available are not progress.
  if (phase_ != Phase::rolling) return;
  const RolloutStatus now = status(control);
  const bool progressing = now.updated > last_status_.updated || now.old < last_status_.old ||
                           now.available > last_status_.available;
  last_status_ = now;
  if (!progressing) return;
  last_progress_ = control.now();
  if (stalled_) {
    // Kubernetes keeps reconciling after the deadline and clears the condition when progress resumes.
    stalled_ = false;
    control.note("progressing again after ProgressDeadlineExceeded");
  }
  arm_deadline(control);
}

void RollingUpdate::arm_deadline(Control& control) {
  // One pending deadline timer at a time; when it fires early (progress since), it re-arms for the rest.
  if (deadline_timer_set_) return;
  deadline_timer_set_ = true;
  control.timer(last_progress_ + progress_deadline_ - control.now(), kDeadlineTimer);
}

void RollingUpdate::stall(Control& control) {
  stalled_ = true;
  const VersionId cv = control.candidate();
  control.stalled(
      "ProgressDeadlineExceeded: the candidate's ReplicaSet has timed out progressing (no progress for " +
      format_duration(progress_deadline_) + "; " + std::to_string(control.available(cv, min_ready_)) +
      " of " + std::to_string(control.replicas()) + " candidate replicas available)");
  if (!auto_rollback_) return;
  control.abort("auto_rollback: rolling back to stable after ProgressDeadlineExceeded");
  phase_ = Phase::rolling_back;
  sync(control);
}

void RollingUpdate::watch_availability(Control& control) {
  // Availability changes with time alone (ready for min_ready_seconds), with no world event to wake the
  // controller: a replica that became ready now is available min_ready_ from now. The ReplicaSet
  // controller requeues itself after minReadySeconds for the same reason.
  if (min_ready_ <= 0 || control.now() + min_ready_ <= availability_check_at_) return;
  const VersionId versions[] = {control.stable(), control.candidate()};
  for (const VersionId v : versions) {
    if (control.ready(v) > control.available(v, min_ready_)) {
      availability_check_at_ = control.now() + min_ready_;
      control.timer(min_ready_, kAvailabilityTimer);
      return;
    }
  }
}

void RollingUpdate::note_scaling(Control& control) {
  const VersionId cv = control.candidate();
  const VersionId sv = control.stable();
  const int replicas = control.replicas();
  const int surge = std::max(0, control.desired(cv) + control.desired(sv) - replicas);
  const int unavailable =
      std::max(0, replicas - control.available(cv, min_ready_) - control.available(sv, min_ready_));
  control.note(std::string(phase_ == Phase::rolling ? "" : "roll back: ") + "scale candidate to " +
               std::to_string(control.desired(cv)) + ", stable to " + std::to_string(control.desired(sv)) +
               " (surge " + std::to_string(surge) + ", unavailable " + std::to_string(unavailable) + ")");
}

}  // namespace

StrategyInfo rolling_strategy_info() {
  StrategyInfo info;
  info.name = "rolling";
  info.description =
      "Kubernetes RollingUpdate: replace replicas within max_surge / max_unavailable, with a progress "
      "deadline";
  info.params = {
      param_spec(
          "max_surge", ParamType::count_or_percent, "25%",
          "replicas allowed above the target during the update; percentages round up (Kubernetes maxSurge)"),
      param_spec(
          "max_unavailable", ParamType::count_or_percent, "25%",
          "replicas allowed below the target during the update; percentages round down; if both resolve to "
          "0 this becomes 1 (Kubernetes maxUnavailable)"),
      param_spec("min_ready_seconds", ParamType::duration, "0",
                 "a replica counts as available once ready this long (Kubernetes minReadySeconds)"),
      param_spec("progress_deadline_seconds", ParamType::duration, "600",
                 "without progress for this long the rollout is stalled, ProgressDeadlineExceeded "
                 "(Kubernetes progressDeadlineSeconds)"),
      param_spec("auto_rollback", ParamType::boolean, "false",
                 "roll back to the stable version when the rollout stalls (Kubernetes never does by itself)"),
  };
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<RollingUpdate>(params);
  };
  return info;
}

}  // namespace sim
