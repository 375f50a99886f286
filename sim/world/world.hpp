// The simulated world: node pools, replicas of model versions, request traffic, routing and faults.
//
// A World owns its Simulation; everything that happens is an event in it. Whoever drives a release
// (a strategy through Control, or a test) changes desired replica counts and routing; the world runs
// the replica lifecycle, places replicas on nodes, provisions nodes, pulls images, serves requests and
// tells its observers. The world never computes outcome metrics itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/simulation.hpp"
#include "sim/faults/fault_spec.hpp"
#include "sim/platform/platform.hpp"
#include "sim/world/arrivals.hpp"
#include "sim/world/cluster_spec.hpp"
#include "sim/world/model_version.hpp"
#include "sim/world/observer.hpp"
#include "sim/world/router.hpp"
#include "sim/world/users.hpp"

namespace sim {

enum class LoadBalancing : std::uint8_t { round_robin, least_outstanding, power_of_two, random };
const char* to_string(LoadBalancing lb);

struct WorldConfig {
  ClusterSpec cluster;
  std::vector<ModelVersionSpec> versions;
  std::shared_ptr<const ArrivalProcess> arrivals;  // none: no traffic
  std::shared_ptr<const UserPopulation> users;     // none: one anonymous user
  FaultSpec faults;
  PlatformSpec platform;  // native unless the scenario names SimGrid
  LoadBalancing load_balancing = LoadBalancing::round_robin;
  Time label_delay = 0;                   // rewards (conversions) reach observers this long after the answer
  Time termination_grace = 30 * kSecond;  // draining replicas are killed after this
  Time restart_backoff = 10 * kSecond;    // first crash-restart delay, doubled per restart
  Time restart_backoff_max = 5 * kMinute;
  Time backoff_reset_after = 10 * kMinute;  // a replica serving this long forgets its restarts
  std::uint64_t seed = 1;
  std::uint64_t replication = 0;
};

class World {
 public:
  explicit World(WorldConfig config);
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World();

  Simulation& sim() { return sim_; }
  Time now() const { return sim_.now(); }
  const WorldConfig& config() const { return config_; }
  void add_observer(WorldObserver* observer) { observers_.push_back(observer); }

  // ---- set-up -------------------------------------------------------------------------------------------
  /// Places `n` Ready replicas of `v` at the current time, as a deployment that already runs (images
  /// cached on their nodes). Uses free slots only; throws std::runtime_error if they do not fit.
  void deploy_ready(VersionId v, int n);
  /// The versions that exposure, bad exposure and regret refer to.
  void set_release(VersionId stable, VersionId candidate);

  // ---- control ------------------------------------------------------------------------------------------
  /// Sets the desired replica count of `v` (a ReplicaSet): new replicas go Pending, surplus ones drain
  /// (not-ready first, then the most recently ready).
  void scale(VersionId v, int n);
  void set_weights(std::span<const double> percent_by_version);
  void use_replica_proportional();
  void set_in_service(VersionId v, bool in_service);
  void set_sticky(bool sticky);
  void set_match_rules(std::vector<MatchRule> rules);
  void set_mirror(VersionId v, double percent);
  void clear_mirror();
  /// A per-user routing decision ahead of the split (feature flags); nullptr removes it. The caller keeps
  /// the hook alive while it is installed.
  void set_route_hook(RouteHook* hook);
  /// Marks `v` as a standby kept on purpose (multi-service): once it takes no live traffic, a promotion
  /// does not wait for it to be gone.
  void set_retained(VersionId v, bool retained);
  bool retained(VersionId v) const { return versions_.at(v).retained; }
  void mark(MarkKind kind, std::string reason = {});

  void run_until(Time end);

  // ---- queries ------------------------------------------------------------------------------------------
  std::size_t version_count() const { return config_.versions.size(); }
  const ModelVersionSpec& version(VersionId v) const { return config_.versions.at(v); }
  /// Throws std::out_of_range naming the version and the known ones.
  VersionId version_id(const std::string& name) const;
  const Router& router() const { return router_; }
  int desired(VersionId v) const { return versions_.at(v).desired; }
  int count(VersionId v, ReplicaState s) const { return versions_.at(v).by_state[static_cast<int>(s)]; }
  int ready(VersionId v) const { return static_cast<int>(versions_.at(v).ready.size()); }
  /// Ready for at least `min_ready` (Kubernetes minReadySeconds: "available").
  int available(VersionId v, Time min_ready) const;
  /// Replicas that are neither draining nor terminated.
  int active(VersionId v) const;
  std::span<const int> ready_counts() const { return ready_counts_; }
  /// Configured share of live traffic that `v` receives now.
  double traffic_share(VersionId v) const { return router_.share(v, ready_counts_); }
  /// True when some live traffic would find a Ready replica of the version it is routed to.
  bool live_traffic_servable() const;
  bool defect_active(VersionId v) const { return versions_.at(v).any_defect; }
  VersionId stable() const { return stable_; }
  VersionId candidate() const { return candidate_; }
  const std::vector<Mark>& marks() const { return marks_; }
  int billed_nodes() const { return billed_nodes_; }
  int nodes_in_state(NodeState s) const;
  double cost_so_far();           // node-hours x price + energy x price per kWh, up to now
  double energy_joules_so_far();  // idle power of powered nodes + busy increments of served requests
  double expected_quality(VersionId v, std::uint32_t user) const;
  /// Whether some version has a conversion probability: rewards and labels flow only then.
  bool has_quality() const { return has_quality_; }
  std::uint64_t arrivals() const { return arrivals_; }
  std::size_t pending_rewards() const { return rewards_.size() - reward_head_; }
  /// Delivers rewards whose label delay has passed (done lazily on arrivals, and here).
  void flush_rewards();

  struct ReplicaView {
    VersionId version;
    ReplicaState state;
    std::uint32_t node;
    Time ready_since;
    std::uint32_t restarts;
    int outstanding;
  };
  std::size_t replica_count() const { return replicas_.size(); }
  ReplicaView replica(std::uint32_t id) const;

 private:
  struct Request {
    Time arrival;
    Time service_start;
    std::uint32_t user;
    std::uint32_t replica;
    VersionId version;
    std::uint8_t segment;
    bool shadow;
    std::uint32_t position = 0;  // index in the replica's in_service list, for O(1) removal
  };

  struct Replica {
    VersionId version;
    ReplicaState state = ReplicaState::pending;
    std::uint32_t node = UINT32_MAX;
    std::uint32_t lifecycle_gen = 0;  // invalidates pending lifecycle events
    std::uint32_t incarnation = 0;    // invalidates in-flight request events after a crash
    int concurrency = 1;
    std::vector<std::uint32_t> in_service;  // request slots
    std::vector<std::uint32_t> queue;       // ring buffer of request slots
    std::size_t queue_head = 0;
    std::size_t queue_size = 0;
    int ready_index = -1;
    Time ready_since = 0;
    Time serving_since = 0;
    std::uint32_t restarts = 0;
    std::uint32_t pull_failures = 0;  // consecutive failed pulls, for the image-pull back-off
    PullId pull{};
    bool pulling = false;
    bool stop_requested = false;
    bool crash_pending = false;  // crash-loop: the start ends in a crash
  };

  struct Node {
    std::uint32_t pool;
    std::uint32_t ordinal;  // index within the pool, stable across worlds (fault streams)
    NodeState state = NodeState::provisioning;
    int used_slots = 0;
    std::uint32_t gen = 0;  // invalidates scheduled scale-down checks
    NodeLinkId link{};
    std::vector<std::uint8_t> image_cached;  // by version
    int busy_requests = 0;
    std::uint32_t failure_count = 0;
  };

  struct Pool {
    PoolSpec spec;
    int provisioning = 0;
    int ready = 0;
    int failed = 0;
    std::uint32_t next_ordinal = 0;
    std::vector<std::uint32_t> pending;  // replicas waiting for a slot, FIFO
    bool scan_scheduled = false;         // an autoscaler scan is pending
  };

  struct VersionState {
    int desired = 0;
    int by_state[7] = {0, 0, 0, 0, 0, 0, 0};
    std::vector<std::uint32_t> ready;  // replica ids, for load balancing
    std::size_t rr_cursor = 0;
    std::uint32_t pool = 0;
    Time first_exposure = kTimeNever;
    std::vector<std::uint8_t> defect_on;
    bool any_defect = false;
    double latency_multiplier = 1;
    double extra_error = 0;
    double quality_factor = 1;
    bool crash_loop = false;
    Time leak_uptime = kTimeNever;
    Time load_second = -1;  // for load_above onsets
    long load_count = 0;
    bool retained = false;
  };

  struct PendingReward {
    Time due;
    std::uint32_t user;
    VersionId version;
    bool converted;
    bool shadow;
  };

  enum LifecycleStep : std::uint64_t {
    kStartDone = 1,
    kWarmDone,
    kRestart,
    kGraceExpired,
    kLeakCrash,
    kPullRetry
  };

  // event handlers (request path: POD events)
  static void on_arrival_event(void* self, const Event& e);
  static void on_completion_event(void* self, const Event& e);
  static void on_lifecycle_event(void* self, const Event& e);
  void handle_arrival();
  void handle_completion(const Event& e);
  void handle_lifecycle(const Event& e);

  // requests
  void dispatch(VersionId v, std::uint32_t user, std::uint8_t segment, Time arrival, bool shadow);
  std::uint32_t pick_replica(VersionState& vs);
  void start_service(std::uint32_t replica_id, std::uint32_t slot);
  void finish(const Request& r, Time wait, RequestStatus status);
  void serve_next(std::uint32_t replica_id);
  std::uint32_t new_request_slot();
  void abort_requests(std::uint32_t replica_id);
  void count_load(VersionState& vs, VersionId v);

  // lifecycle
  std::uint32_t create_replica(VersionId v);
  void set_state(std::uint32_t replica_id, ReplicaState s);
  void try_place(std::uint32_t pool_id);
  void place(std::uint32_t replica_id, std::uint32_t node_id);
  void begin_pull(std::uint32_t replica_id);
  void pull_failed(std::uint32_t replica_id);
  void begin_start(std::uint32_t replica_id);
  void become_ready(std::uint32_t replica_id);
  void begin_drain(std::uint32_t replica_id);
  void terminate(std::uint32_t replica_id);
  void crash(std::uint32_t replica_id);
  void reconcile(VersionId v);
  void schedule_lifecycle(std::uint32_t replica_id, Time at, LifecycleStep step);

  // nodes
  std::uint32_t add_node(std::uint32_t pool_id, NodeState state);
  void provision_if_needed(std::uint32_t pool_id);  // schedules an autoscaler scan
  void grow(std::uint32_t pool_id);                 // provisions nodes for the replicas still pending
  void node_ready(std::uint32_t node_id);
  void node_fail(std::uint32_t node_id, Time repair_at);
  void node_repair(std::uint32_t node_id);
  void maybe_release(std::uint32_t node_id);
  void set_node_state(std::uint32_t node_id, NodeState s);
  void schedule_node_failure(std::uint32_t node_id);
  void free_slot(std::uint32_t replica_id);
  void account();  // integrates billed node time and idle power up to now

  // faults
  void activate_defect(VersionId v, std::size_t index);
  void recompute_defects(VersionId v);
  void expose(VersionId v);

  void notify_routing();

  WorldConfig config_;
  Simulation sim_;
  std::unique_ptr<Platform> platform_;
  Router router_;
  std::unique_ptr<ArrivalProcess> arrivals_process_;
  std::vector<WorldObserver*> observers_;

  std::vector<Replica> replicas_;
  std::vector<Node> nodes_;
  std::vector<Pool> pools_;
  std::vector<VersionState> versions_;
  std::vector<int> ready_counts_;
  std::vector<Request> requests_;
  std::vector<std::uint32_t> free_requests_;
  std::vector<PendingReward> rewards_;
  std::size_t reward_head_ = 0;
  std::vector<Mark> marks_;
  std::vector<std::uint8_t> segment_scratch_;

  std::uint16_t arrival_kind_ = 0;
  std::uint16_t completion_kind_ = 0;
  std::uint16_t lifecycle_kind_ = 0;

  VersionId stable_ = 0;
  VersionId candidate_ = 0;
  std::uint64_t arrivals_ = 0;
  bool has_quality_ = false;  // some version converts: rewards and regret are worth computing

  int billed_nodes_ = 0;
  int powered_nodes_ = 0;
  double node_seconds_cost_ = 0;  // money from node-hours
  double busy_joules_ = 0;        // busy power above idle of the requests served
  Time accounted_until_ = 0;
};

}  // namespace sim
