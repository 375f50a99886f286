// Outcome metrics of one run (design section 5), computed by an observer of world signals.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/core/time.hpp"
#include "sim/monitor/latency_sketch.hpp"
#include "sim/world/observer.hpp"

namespace sim {

class World;

/// The service level objective that degraded seconds and the error budget refer to.
struct SloSpec {
  double availability = 0.999;          // fraction of live requests that must succeed
  double latency_quantile = 0.99;       // e.g. p99 ...
  Time latency_threshold = kTimeNever;  // ... must stay at or below this
  Time window = kMinute;                // rolling window, evaluated every second
};

inline constexpr double kNotApplicable = std::numeric_limits<double>::quiet_NaN();

struct OutcomeMetrics {
  std::string outcome = "none";  // none (no release) | promoted | rolled_back | stalled | incomplete
  double deploy_duration_s = kNotApplicable;
  double downtime_s = 0;
  double degraded_s = 0;
  std::uint64_t requests = 0;  // live requests
  std::uint64_t failed_requests = 0;
  double error_budget_used = 0;
  double time_to_detect_s = kNotApplicable;
  double rollback_time_s = kNotApplicable;           // abort -> all live traffic on stable
  double rollback_capacity_time_s = kNotApplicable;  // abort -> stable back at full capacity
  std::uint64_t exposure_requests = 0;
  std::uint64_t exposure_users = 0;
  std::uint64_t bad_exposure_requests = 0;
  std::uint64_t bad_exposure_users = 0;
  std::uint64_t shadow_requests = 0;
  double cost = 0;
  double energy_kwh = 0;
  int peak_nodes = 0;
  double latency_p50_s = 0, latency_p95_s = 0, latency_p99_s = 0;
  double rollout_latency_p50_s = kNotApplicable, rollout_latency_p95_s = kNotApplicable,
         rollout_latency_p99_s = kNotApplicable;
  double reward = 0;  // conversions delivered
  double regret = 0;  // expected conversions lost against serving the best version

  /// Every numeric field by name, in a fixed order (for dumps, CSV and comparisons).
  std::vector<std::pair<std::string, double>> fields() const;
  /// Sets the field `name` of fields() (integers from the value as written by fields()); false if unknown.
  bool set(std::string_view name, double value);
  /// One "name=value" line per field with full precision; equal runs give equal dumps, byte for byte.
  std::string dump() const;
};

/// Extra cost of a run over the same window of a run without any release.
inline double extra_cost(const OutcomeMetrics& run, const OutcomeMetrics& baseline) {
  return run.cost - baseline.cost;
}

class OutcomeObserver : public WorldObserver {
 public:
  /// `release_replicas`: the stable capacity that counts as "fully restored" after a rollback.
  OutcomeObserver(World& world, SloSpec slo, int release_replicas);

  void on_request(const RequestRecord& r) override;
  void on_replica_state(std::uint32_t, VersionId, ReplicaState, ReplicaState, Time) override { update(); }
  void on_node_state(std::uint32_t, NodeState, NodeState, Time) override;
  void on_routing_changed(Time) override { update(); }
  void on_defect_onset(VersionId v, std::size_t, Time t) override;
  void on_mark(const Mark& m) override;
  void on_reward(VersionId, std::uint32_t, bool converted, Time) override { reward_ += converted ? 1 : 0; }

  /// Closes the books at the world's current time and returns the metrics.
  OutcomeMetrics finish();

 private:
  void update();
  void advance_seconds(Time second);
  void count_user(std::vector<std::uint64_t>& bits, std::uint64_t& count, std::uint32_t user);

  World& world_;
  SloSpec slo_;
  int release_replicas_;

  // downtime
  bool servable_ = true;
  Time last_change_ = 0;
  double downtime_ns_ = 0;

  // release milestones
  Time release_start_ = kTimeNever;
  Time abort_at_ = kTimeNever;
  Time onset_at_ = kTimeNever;
  Time deploy_end_ = kTimeNever;
  Time rollback_traffic_at_ = kTimeNever;
  Time rollback_capacity_at_ = kTimeNever;
  bool promoted_ = false;
  bool rolled_back_ = false;
  bool stalled_ = false;

  // requests
  std::uint64_t requests_ = 0, failed_ = 0, shadow_ = 0;
  std::uint64_t exposure_ = 0, bad_exposure_ = 0, exposure_users_ = 0, bad_exposure_users_ = 0;
  std::vector<std::uint64_t> exposed_bits_, bad_bits_;
  LatencySketch latency_;
  LatencySketch rollout_latency_;
  double reward_ = 0;
  double regret_ = 0;
  int peak_nodes_ = 0;

  // rolling SLO window, one bucket per second
  struct SecondBucket {
    std::uint32_t total = 0, errors = 0, slow = 0;
  };
  std::vector<SecondBucket> ring_;
  Time current_second_ = 0;
  std::uint64_t window_total_ = 0, window_errors_ = 0, window_slow_ = 0;
  std::uint64_t degraded_seconds_ = 0;
};

}  // namespace sim
