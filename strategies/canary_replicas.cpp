// Argo Rollouts' basic-canary replica arithmetic (see canary_replicas.hpp).
#include "strategies/canary_replicas.hpp"

#include <algorithm>
#include <cmath>

namespace sim {
namespace {

/// Whether `weight` percent of `total` lies exactly halfway between two counts (3 replicas at 50%): then
/// the floor is not offered and the larger count wins. The expression is Argo's, so that the same
/// floating-point cases tie.
bool halfway(double weight, int total) {
  double whole = 0;
  return std::modf(static_cast<double>(total) * (weight / 100.0), &whole) == 0.5;
}

double distance(double weight, int canary, int total) {
  return std::fabs(static_cast<double>(canary) * 100.0 / static_cast<double>(total) - weight);
}

/// The replicas of a ReplicaSet that may be counted as available when deciding how many to remove.
/// Replicas above the desired count are going anyway and never count. A side whose availability is ignored
/// counts all its desired replicas, so that its unavailable ones (a crash loop) cannot block the rollout.
int countable(const ReplicaSetCounts& rs, bool ignore_availability) {
  if (rs.desired < rs.available || ignore_availability) return rs.desired;
  return rs.available;
}

/// The side being drained moves toward its target by at most `budget`.
int shrink(const ReplicaSetCounts& rs, int target, int budget, int current) {
  if (rs.desired <= target) return current;
  return std::max(target, rs.desired - budget);
}

/// After one side shrank, the other side (`kept`) gives back whatever exceeds the surge limit, but keeps
/// enough of its available replicas to stay at the availability floor; what still exceeds the limit then
/// comes off the drained side (adjustReplicaWithinLimits).
void fit_limits(const ReplicaSetCounts& drained, const ReplicaSetCounts& kept, int& drained_count,
                int& kept_count, int max_total, int min_available) {
  kept_count -= std::max(0, kept_count + drained_count - max_total);
  const int available = std::min(drained.available, drained_count) + std::min(kept.available, kept_count);
  const int given_up = std::max(0, kept.available - kept_count);
  kept_count += std::min(given_up, std::max(0, min_available - available));
  drained_count -= std::max(0, kept_count + drained_count - max_total);
}

}  // namespace

CanaryReplicas approximate_canary_replicas(int replicas, double weight, int max_surge) {
  if (replicas <= 0) return {0, 0};
  const double exact = static_cast<double>(replicas) * weight / 100.0;
  const int up = static_cast<int>(std::ceil(exact));
  const int down = static_cast<int>(std::floor(exact));
  // A weight strictly between 0 and 100 keeps a replica on each side whenever there are two replicas to
  // share, counting a surge replica.
  const bool zero_allowed = weight == 0 || weight == 100 || (replicas == 1 && max_surge == 0);

  struct Option {
    int canary;
    int total;
  };
  Option options[4];
  int n = 0;
  if (up < replicas || zero_allowed) options[n++] = {up, replicas};
  if (!halfway(weight, replicas) && (down != 0 || zero_allowed)) options[n++] = {down, replicas};
  if (max_surge > 0) {
    // One surge replica may bring the share closer (1 of 11 is nearer to 5% than 1 of 10).
    options[n++] = {up, replicas + 1};
    if (!halfway(weight, replicas + 1) && (down != 0 || zero_allowed)) options[n++] = {down, replicas + 1};
  }
  if (n == 0) return {0, replicas};
  Option best = options[0];
  for (int i = 1; i < n; ++i)
    if (distance(weight, options[i].canary, options[i].total) < distance(weight, best.canary, best.total))
      best = options[i];
  return {best.canary, best.total - best.canary};
}

CanaryReplicas basic_canary_replicas(const BasicCanaryState& s) {
  const CanaryReplicas target = approximate_canary_replicas(s.replicas, s.weight, s.max_surge);
  CanaryReplicas next{s.canary.desired, s.stable.desired};

  // Scale up within the surge: the stable side first, so that an abort restores it before anything else.
  const int max_total = s.replicas + s.max_surge;
  int room = max_total - (s.older + s.canary.desired + s.stable.desired);
  if (s.stable.desired < target.stable && room > 0) {
    next.stable = std::min(target.stable, s.stable.desired + room);
    room -= next.stable - s.stable.desired;
  }
  if (s.canary.desired < target.canary && room > 0)
    next.canary = std::min(target.canary, s.canary.desired + room);

  // Older ReplicaSets go first; until they are gone neither side shrinks.
  if (s.older > 0) return next;

  // Scale down within the availability floor. Growing the canary drains the stable side, shrinking it
  // drains the canary; the drained side's availability does not count.
  const int min_available = s.replicas - s.max_unavailable;
  const bool growing = target.canary >= s.canary.desired;
  const int counted = countable(s.canary, !growing) + countable(s.stable, growing);
  if (counted <= min_available) return next;
  const int budget = counted - min_available;
  if (growing) {
    next.stable = shrink(s.stable, target.stable, budget, next.stable);
    fit_limits(s.stable, s.canary, next.stable, next.canary, max_total, min_available);
  } else {
    next.canary = shrink(s.canary, target.canary, budget, next.canary);
    fit_limits(s.canary, s.stable, next.canary, next.stable, max_total, min_available);
  }
  next.canary = std::max(0, next.canary);
  next.stable = std::max(0, next.stable);
  return next;
}

}  // namespace sim
