// World signals: what observers (metrics, time series, traces) are told. Observers never change the world.
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/time.hpp"
#include "sim/world/router.hpp"

namespace sim {

enum class RequestStatus : std::uint8_t {
  ok,
  error,       // the version's error probability or an error-rate defect
  timeout,     // not finished within the request timeout
  queue_full,  // the replica's queue was at its limit
  no_replica,  // no Ready replica of the chosen version
  aborted,     // the replica crashed or was killed while the request was in flight
};
const char* to_string(RequestStatus s);

struct RequestRecord {
  Time arrival = 0;
  Time done = 0;     // when the outcome is known (now)
  Time wait = 0;     // time spent queued before service
  Time latency = 0;  // done - arrival, capped at the timeout for timeouts
  std::uint32_t user = 0;
  std::uint8_t segment = 0;  // category of the first user attribute (0 if none)
  VersionId version = 0;
  RequestStatus status = RequestStatus::ok;
  bool shadow = false;          // a mirrored copy: costs capacity, never returned to the user
  bool defect_active = false;   // a defect of the serving version was active
  double expected_quality = 0;  // conversion probability of the serving version for this user, now
  double best_quality = 0;      // the best conversion probability among the release's versions, now
};

enum class ReplicaState : std::uint8_t { pending, pulling, starting, warming, ready, draining, terminated };
const char* to_string(ReplicaState s);

enum class NodeState : std::uint8_t { provisioning, ready, failed, released };
const char* to_string(NodeState s);

/// Decisions and milestones recorded by whoever drives the release (a strategy or a test).
enum class MarkKind : std::uint8_t {
  release_start,
  promoted,  // the candidate is declared the new stable version
  abort,     // the decision to roll back
  stalled,   // the rollout stopped making progress (progress deadline)
  note,      // any other decision, for the record
};
const char* to_string(MarkKind k);

struct Mark {
  MarkKind kind;
  Time time;
  std::string reason;
};

/// Observers are told of changes as they happen, from inside the world's own bookkeeping: they must not
/// change the world from a callback. To react (as a strategy does), schedule the action with
/// `world.sim().call_in(0, ...)`; it runs right after the current event, at the same simulated time.
class WorldObserver {
 public:
  virtual ~WorldObserver() = default;
  virtual void on_request(const RequestRecord&) {}
  virtual void on_replica_state(std::uint32_t /*replica*/, VersionId, ReplicaState /*from*/,
                                ReplicaState /*to*/, Time) {}
  /// A replica's process failed (crash loop, memory leak); it restarts after its back-off in Starting.
  virtual void on_replica_crash(std::uint32_t /*replica*/, VersionId, std::uint32_t /*restarts*/, Time) {}
  virtual void on_node_state(std::uint32_t /*node*/, NodeState /*from*/, NodeState /*to*/, Time) {}
  virtual void on_routing_changed(Time) {}
  virtual void on_defect_onset(VersionId, std::size_t /*defect index*/, Time) {}
  virtual void on_mark(const Mark&) {}
  virtual void on_reward(VersionId, std::uint32_t /*user*/, bool /*converted*/, Time /*delivered*/) {}
  /// The label of a mirrored answer arrived: whether the shadow version's prediction was right (drawn with
  /// its quality for that user, as a conversion is for a live answer). Never part of reward or regret.
  virtual void on_shadow_label(VersionId, std::uint32_t /*user*/, bool /*correct*/, Time /*delivered*/) {}
};

}  // namespace sim
