// maxSurge and maxUnavailable as replica counts, resolved the way Kubernetes' deployment controller and
// Argo Rollouts' canary both do it (ResolveFenceposts / resolveFenceposts).
#pragma once

#include "sim/scenario/params.hpp"

namespace sim {

struct Fenceposts {
  int surge = 0;
  int unavailable = 0;
};

/// Percentages of `replicas` round up for the surge and down for unavailability; when both come to 0,
/// one replica may be unavailable, or the rollout could never move.
inline Fenceposts resolve_fenceposts(const CountOrPercent& max_surge, const CountOrPercent& max_unavailable,
                                     int replicas) {
  Fenceposts f{max_surge.resolve(replicas, true), max_unavailable.resolve(replicas, false)};
  if (f.surge == 0 && f.unavailable == 0) f.unavailable = 1;
  return f;
}

}  // namespace sim
