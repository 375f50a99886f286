// Replica arithmetic of Argo Rollouts' canary without traffic routing ("basic canary"): a Kubernetes
// Service spreads traffic over the Ready pods of both ReplicaSets, so the weight is whatever share of
// replicas the canary has. Follows utils/replicaset/canary.go (approximateWeightedCanaryStableReplicaCounts,
// CalculateReplicaCountsForBasicCanary and the helpers they call).
#pragma once

namespace sim {

/// A ReplicaSet as the controller reads it: spec.replicas and status.availableReplicas.
struct ReplicaSetCounts {
  int desired = 0;
  int available = 0;
};

struct CanaryReplicas {
  int canary = 0;
  int stable = 0;
  friend bool operator==(const CanaryReplicas&, const CanaryReplicas&) = default;
};

/// The canary and stable counts whose canary share is closest to `weight` percent. The total is `replicas`,
/// or `replicas + 1` when `max_surge` allows it and that comes closer. For a weight strictly between 0 and
/// 100 neither side gets 0 replicas, unless a single replica without surge leaves no choice; when two
/// counts are equally close the first candidate wins (ceil before floor, `replicas` before `replicas + 1`).
CanaryReplicas approximate_canary_replicas(int replicas, double weight, int max_surge);

/// What one sync of the controller sees.
struct BasicCanaryState {
  int replicas = 0;  // spec.replicas
  /// The canary weight wanted now, in percent: the latest set_weight step, 100 once the steps are done, 0
  /// after an abort.
  double weight = 0;
  int max_surge = 0;        // resolved (resolve_fenceposts)
  int max_unavailable = 0;  // resolved and at most `replicas`
  ReplicaSetCounts canary;
  ReplicaSetCounts stable;
  int older = 0;  // spec.replicas of any other old ReplicaSets; while they exist nothing is scaled down
};

/// The counts this sync moves the ReplicaSets to (CalculateReplicaCountsForBasicCanary):
///  1. the target is approximate_canary_replicas(replicas, weight, max_surge);
///  2. scale up within replicas + max_surge desired replicas in total, stable first, then the canary;
///  3. scale down within replicas - max_unavailable available replicas. When the canary grows (its
///     target is at least its desired count) the stable side shrinks, counting the canary's available
///     replicas but the stable's desired ones (its unavailable replicas may go); when it shrinks (an abort
///     or a lower weight) the canary shrinks, counting the stable's available replicas;
///  4. the other side then gives back anything over the surge limit, keeping enough of its available
///     replicas for the availability floor.
CanaryReplicas basic_canary_replicas(const BasicCanaryState& s);

}  // namespace sim
