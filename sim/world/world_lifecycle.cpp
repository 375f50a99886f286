// Replica lifecycle (Pending -> Pulling -> Starting -> Warming -> Ready -> Draining -> Terminated), the
// ReplicaSet reconciliation, node pools (placement, provisioning, scale-down) and node failures.
#include <algorithm>
#include <cmath>

#include "sim/world/world.hpp"

namespace sim {

const char* to_string(RequestStatus s) {
  switch (s) {
    case RequestStatus::ok:
      return "ok";
    case RequestStatus::error:
      return "error";
    case RequestStatus::timeout:
      return "timeout";
    case RequestStatus::queue_full:
      return "queue_full";
    case RequestStatus::no_replica:
      return "no_replica";
    case RequestStatus::aborted:
      return "aborted";
  }
  return "?";
}

const char* to_string(ReplicaState s) {
  static const char* const names[] = {"pending", "pulling",  "starting",  "warming",
                                      "ready",   "draining", "terminated"};
  return names[static_cast<int>(s)];
}

const char* to_string(NodeState s) {
  static const char* const names[] = {"provisioning", "ready", "failed", "released"};
  return names[static_cast<int>(s)];
}

const char* to_string(MarkKind k) {
  static const char* const names[] = {"release_start", "promoted", "abort", "stalled", "note"};
  return names[static_cast<int>(k)];
}

void World::on_lifecycle_event(void* self, const Event& e) { static_cast<World*>(self)->handle_lifecycle(e); }

void World::schedule_lifecycle(std::uint32_t replica_id, Time at, LifecycleStep step) {
  sim_.schedule(at, lifecycle_kind_, replica_id, step, replicas_[replica_id].lifecycle_gen);
}

void World::handle_lifecycle(const Event& e) {
  Replica& r = replicas_[e.target];
  if (e.generation != r.lifecycle_gen) return;  // superseded (terminated, crashed, restarted)
  switch (e.payload) {
    case kStartDone:
      if (versions_[r.version].crash_loop) {
        crash(e.target);
      } else if (config_.versions[r.version].warmup > 0) {
        set_state(e.target, ReplicaState::warming);
        schedule_lifecycle(e.target, now() + config_.versions[r.version].warmup, kWarmDone);
      } else {
        become_ready(e.target);
      }
      break;
    case kWarmDone:
      become_ready(e.target);
      break;
    case kRestart:
      begin_start(e.target);
      break;
    case kPullRetry:
      if (r.state == ReplicaState::pulling) begin_pull(e.target);
      break;
    case kGraceExpired:
      abort_requests(e.target);
      terminate(e.target);
      break;
    case kLeakCrash:
      if (r.state == ReplicaState::ready && versions_[r.version].leak_uptime != kTimeNever &&
          now() - r.serving_since >= versions_[r.version].leak_uptime)
        crash(e.target);
      break;
    default:
      break;
  }
}

std::uint32_t World::create_replica(VersionId v) {
  const ModelVersionSpec& spec = config_.versions[v];
  Replica r;
  r.version = v;
  r.concurrency = spec.concurrency;
  r.in_service.reserve(static_cast<std::size_t>(spec.concurrency));
  r.queue.resize(spec.queue_limit >= 0 ? static_cast<std::size_t>(std::max(spec.queue_limit, 1)) : 16);
  replicas_.push_back(std::move(r));
  const auto id = static_cast<std::uint32_t>(replicas_.size() - 1);
  ++versions_[v].by_state[static_cast<int>(ReplicaState::pending)];
  for (WorldObserver* o : observers_)
    o->on_replica_state(id, v, ReplicaState::terminated, ReplicaState::pending, now());
  return id;
}

void World::set_state(std::uint32_t replica_id, ReplicaState s) {
  Replica& r = replicas_[replica_id];
  const ReplicaState from = r.state;
  if (from == s) return;
  VersionState& vs = versions_[r.version];
  --vs.by_state[static_cast<int>(from)];
  ++vs.by_state[static_cast<int>(s)];
  r.state = s;
  if (from == ReplicaState::ready) {
    // Swap-remove from the load-balancing list.
    const int idx = r.ready_index;
    const std::uint32_t moved = vs.ready.back();
    vs.ready[static_cast<std::size_t>(idx)] = moved;
    replicas_[moved].ready_index = idx;
    vs.ready.pop_back();
    r.ready_index = -1;
    --ready_counts_[r.version];
  }
  if (s == ReplicaState::ready) {
    r.ready_index = static_cast<int>(vs.ready.size());
    vs.ready.push_back(replica_id);
    ++ready_counts_[r.version];
  }
  for (WorldObserver* o : observers_) o->on_replica_state(replica_id, r.version, from, s, now());
}

void World::reconcile(VersionId v) {
  VersionState& vs = versions_[v];
  const int current = active(v);
  if (current < vs.desired) {
    for (int i = current; i < vs.desired; ++i) {
      const std::uint32_t id = create_replica(v);
      pools_[vs.pool].pending.push_back(id);
    }
    try_place(vs.pool);
    return;
  }
  if (current == vs.desired) return;
  // Scale down like a ReplicaSet: unplaced before placed, not ready before ready, newest ready first.
  std::vector<std::uint32_t> victims;
  for (std::uint32_t id = 0; id < replicas_.size(); ++id) {
    const Replica& r = replicas_[id];
    if (r.version == v && r.state <= ReplicaState::ready) victims.push_back(id);
  }
  std::stable_sort(victims.begin(), victims.end(), [&](std::uint32_t a, std::uint32_t b) {
    const Replica& ra = replicas_[a];
    const Replica& rb = replicas_[b];
    if (ra.state != rb.state) return ra.state < rb.state;
    if (ra.state == ReplicaState::ready && ra.ready_since != rb.ready_since)
      return ra.ready_since > rb.ready_since;
    return a > b;
  });
  const int surplus = current - vs.desired;
  for (int i = 0; i < surplus; ++i) {
    const std::uint32_t id = victims[static_cast<std::size_t>(i)];
    if (replicas_[id].state == ReplicaState::ready) {
      begin_drain(id);
    } else {
      terminate(id);
    }
  }
}

void World::try_place(std::uint32_t pool_id) {
  Pool& pool = pools_[pool_id];
  std::size_t placed = 0;
  std::uint32_t node_id = 0;
  while (placed < pool.pending.size()) {
    while (node_id < nodes_.size() &&
           !(nodes_[node_id].pool == pool_id && nodes_[node_id].state == NodeState::ready &&
             nodes_[node_id].used_slots < pool.spec.slots))
      ++node_id;
    if (node_id == nodes_.size()) break;
    place(pool.pending[placed++], node_id);
  }
  pool.pending.erase(pool.pending.begin(), pool.pending.begin() + static_cast<std::ptrdiff_t>(placed));
  provision_if_needed(pool_id);
}

void World::place(std::uint32_t replica_id, std::uint32_t node_id) {
  Replica& r = replicas_[replica_id];
  Node& node = nodes_[node_id];
  ++node.used_slots;
  ++node.gen;  // cancels a pending scale-down check
  r.node = node_id;
  if (node.image_cached[r.version] || config_.versions[r.version].image_bytes <= 0) {
    begin_start(replica_id);
  } else {
    begin_pull(replica_id);
  }
}

void World::begin_pull(std::uint32_t replica_id) {
  Replica& r = replicas_[replica_id];
  set_state(replica_id, ReplicaState::pulling);
  r.pulling = true;
  const std::uint32_t gen = r.lifecycle_gen;
  r.pull = platform_->start_pull(nodes_[r.node].link, config_.versions[r.version].image_bytes,
                                 [this, replica_id, gen](PullId, PullStatus status) {
                                   Replica& rr = replicas_[replica_id];
                                   if (rr.lifecycle_gen != gen || rr.state != ReplicaState::pulling) return;
                                   rr.pulling = false;
                                   if (status == PullStatus::failed) return pull_failed(replica_id);
                                   rr.pull_failures = 0;
                                   nodes_[rr.node].image_cached[rr.version] = 1;
                                   begin_start(replica_id);
                                 });
}

void World::pull_failed(std::uint32_t replica_id) {
  // Kubernetes ImagePullBackOff: the kubelet retries after a delay that doubles per failure, capped.
  Replica& r = replicas_[replica_id];
  ++r.pull_failures;
  const double factor = std::ldexp(1.0, static_cast<int>(std::min<std::uint32_t>(r.pull_failures - 1, 40)));
  const Time delay = static_cast<Time>(std::min(static_cast<double>(config_.restart_backoff) * factor,
                                                static_cast<double>(config_.restart_backoff_max)));
  schedule_lifecycle(replica_id, now() + delay, kPullRetry);
}

void World::begin_start(std::uint32_t replica_id) {
  Replica& r = replicas_[replica_id];
  set_state(replica_id, ReplicaState::starting);
  const Time t = config_.versions[r.version].startup.sample(sim_.rng(Stream::startup));
  schedule_lifecycle(replica_id, now() + t, kStartDone);
}

void World::become_ready(std::uint32_t replica_id) {
  Replica& r = replicas_[replica_id];
  r.ready_since = now();
  r.serving_since = now();
  set_state(replica_id, ReplicaState::ready);
  const VersionState& vs = versions_[r.version];
  if (vs.leak_uptime != kTimeNever) schedule_lifecycle(replica_id, now() + vs.leak_uptime, kLeakCrash);
}

void World::crash(std::uint32_t replica_id) {
  Replica& r = replicas_[replica_id];
  if (r.state == ReplicaState::ready && now() - r.serving_since >= config_.backoff_reset_after)
    r.restarts = 0;
  abort_requests(replica_id);
  ++r.lifecycle_gen;
  ++r.restarts;
  // Kubernetes CrashLoopBackOff: the container waits base * 2^(restarts-1), capped, in a not-ready state.
  const double factor = std::ldexp(1.0, static_cast<int>(std::min<std::uint32_t>(r.restarts - 1, 40)));
  const Time delay = static_cast<Time>(std::min(static_cast<double>(config_.restart_backoff) * factor,
                                                static_cast<double>(config_.restart_backoff_max)));
  set_state(replica_id, ReplicaState::starting);
  for (WorldObserver* o : observers_) o->on_replica_crash(replica_id, r.version, r.restarts, now());
  schedule_lifecycle(replica_id, now() + delay, kRestart);
}

void World::begin_drain(std::uint32_t replica_id) {
  Replica& r = replicas_[replica_id];
  ++r.lifecycle_gen;
  set_state(replica_id, ReplicaState::draining);
  if (r.in_service.empty() && r.queue_size == 0) {
    terminate(replica_id);
  } else {
    schedule_lifecycle(replica_id, now() + config_.termination_grace, kGraceExpired);
  }
}

void World::terminate(std::uint32_t replica_id) {
  Replica& r = replicas_[replica_id];
  if (r.state == ReplicaState::terminated) return;
  ++r.lifecycle_gen;
  if (r.pulling) {
    platform_->cancel_pull(r.pull);
    r.pulling = false;
  }
  if (r.node == UINT32_MAX) {
    auto& pending = pools_[versions_[r.version].pool].pending;
    pending.erase(std::remove(pending.begin(), pending.end(), replica_id), pending.end());
  }
  if (!r.in_service.empty() || r.queue_size > 0) abort_requests(replica_id);
  set_state(replica_id, ReplicaState::terminated);
  std::vector<std::uint32_t>().swap(r.queue);  // terminated replicas keep no buffers
  std::vector<std::uint32_t>().swap(r.in_service);
  r.queue_head = r.queue_size = 0;
  free_slot(replica_id);
}

void World::free_slot(std::uint32_t replica_id) {
  Replica& r = replicas_[replica_id];
  if (r.node == UINT32_MAX) return;
  const std::uint32_t node_id = r.node;
  r.node = UINT32_MAX;
  Node& node = nodes_[node_id];
  if (node.state == NodeState::failed) return;  // a failed node has already lost its replicas
  --node.used_slots;
  try_place(node.pool);
  maybe_release(node_id);
}

// ---- nodes ----------------------------------------------------------------------------------------------

std::uint32_t World::add_node(std::uint32_t pool_id, NodeState state) {
  Pool& pool = pools_[pool_id];
  Node node;
  node.pool = pool_id;
  node.ordinal = pool.next_ordinal++;
  node.state = NodeState::released;  // set_node_state counts the transition into `state`
  NodeSite site;
  site.pool = pool.spec.name;
  site.zone = pool.spec.zone;
  site.index = node.ordinal;
  site.link_bytes_per_second = pool.spec.node_link_bytes_per_second;
  site.idle_watts = pool.spec.idle_watts;
  site.busy_watts = pool.spec.busy_watts;
  node.link = platform_->add_node(site);
  node.image_cached.assign(config_.versions.size(), 0);
  nodes_.push_back(std::move(node));
  const auto id = static_cast<std::uint32_t>(nodes_.size() - 1);
  set_node_state(id, state);
  if (state == NodeState::provisioning) {
    const Time t = pool.spec.provision_time.sample(sim_.rng(Stream::provisioning));
    sim_.call_in(t, [this, id] { node_ready(id); });
  }
  return id;
}

void World::set_node_state(std::uint32_t node_id, NodeState s) {
  Node& node = nodes_[node_id];
  const NodeState from = node.state;
  if (from == s) return;
  account();
  Pool& pool = pools_[node.pool];
  auto adjust = [&](NodeState st, int d) {
    if (st == NodeState::provisioning) pool.provisioning += d;
    if (st == NodeState::ready) pool.ready += d;
    if (st == NodeState::failed) pool.failed += d;
    if (st != NodeState::released) billed_nodes_ += d;
    if (st == NodeState::provisioning || st == NodeState::ready) {
      powered_nodes_ += d;
    }
  };
  adjust(from, -1);
  adjust(s, +1);
  node.state = s;
  const auto powered = [](NodeState st) { return st == NodeState::provisioning || st == NodeState::ready; };
  if (powered(from) != powered(s)) platform_->set_node_power(node.link, powered(s));
  if (from != NodeState::released || s != NodeState::released)
    for (WorldObserver* o : observers_) o->on_node_state(node_id, from, s, now());
}

void World::provision_if_needed(std::uint32_t pool_id) {
  Pool& pool = pools_[pool_id];
  if (pool.pending.empty() || pool.scan_scheduled) return;
  const Time delay = config_.cluster.autoscaler_delay;
  if (delay > 0) {
    pool.scan_scheduled = true;
    sim_.call_in(delay, [this, pool_id] {
      pools_[pool_id].scan_scheduled = false;
      grow(pool_id);
    });
    return;
  }
  grow(pool_id);
}

void World::grow(std::uint32_t pool_id) {
  Pool& pool = pools_[pool_id];
  const long demand = static_cast<long>(pool.pending.size());
  while (static_cast<long>(pool.provisioning) * pool.spec.slots < demand &&
         pool.provisioning + pool.ready + pool.failed < pool.spec.max_nodes)
    add_node(pool_id, NodeState::provisioning);
}

void World::node_ready(std::uint32_t node_id) {
  if (nodes_[node_id].state != NodeState::provisioning) return;
  set_node_state(node_id, NodeState::ready);
  schedule_node_failure(node_id);
  try_place(nodes_[node_id].pool);
  maybe_release(node_id);
}

void World::maybe_release(std::uint32_t node_id) {
  Node& node = nodes_[node_id];
  const Pool& pool = pools_[node.pool];
  if (node.state != NodeState::ready || node.used_slots > 0) return;
  if (pool.ready + pool.provisioning + pool.failed <= pool.spec.nodes) return;
  const std::uint32_t gen = ++node.gen;
  sim_.call_in(pool.spec.scale_down_delay, [this, node_id, gen] {
    Node& n = nodes_[node_id];
    const Pool& p = pools_[n.pool];
    if (n.gen != gen || n.state != NodeState::ready || n.used_slots > 0) return;
    if (p.ready + p.provisioning + p.failed <= p.spec.nodes) return;
    set_node_state(node_id, NodeState::released);
    platform_->remove_node(n.link);
  });
}

void World::schedule_node_failure(std::uint32_t node_id) {
  const NodeFailureSpec& spec = config_.faults.node_failures;
  if (!spec.enabled || spec.mtbf <= 0) return;
  Node& node = nodes_[node_id];
  // A keyed stream per (pool, ordinal, failure number): the same node fails at the same times in every
  // world of a replication, whatever else differs (common random numbers).
  Rng rng(mix64(derive_seed(sim_.streams().root_seed(), sim_.streams().replication(), Stream::failures) ^
                mix64((static_cast<std::uint64_t>(node.pool) << 40) ^
                      (static_cast<std::uint64_t>(node.ordinal) << 16) ^ node.failure_count)));
  ++node.failure_count;
  const double u = uniform01(rng);
  const Time ttf = static_cast<Time>(-std::log1p(-u) * static_cast<double>(spec.mtbf));
  const Time repair = spec.repair_time.sample(rng);
  const std::uint32_t count = node.failure_count;
  sim_.call_in(ttf, [this, node_id, count, repair] {
    Node& n = nodes_[node_id];
    if (n.state != NodeState::ready || n.failure_count != count) return;
    node_fail(node_id, now() + repair);
  });
}

void World::node_fail(std::uint32_t node_id, Time repair_at) {
  Node& node = nodes_[node_id];
  if (node.state == NodeState::failed || node.state == NodeState::released) return;
  set_node_state(node_id, NodeState::failed);
  platform_->set_node_up(node.link, false);
  std::vector<VersionId> affected;
  for (std::uint32_t id = 0; id < replicas_.size(); ++id) {
    Replica& r = replicas_[id];
    if (r.node != node_id || r.state == ReplicaState::terminated) continue;
    affected.push_back(r.version);
    terminate(id);  // free_slot sees the failed node and leaves the slot count alone
  }
  node.used_slots = 0;
  if (repair_at != kTimeNever) sim_.call_at(repair_at, [this, node_id] { node_repair(node_id); });
  // The ReplicaSets replace what was lost, elsewhere if they can.
  std::sort(affected.begin(), affected.end());
  affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
  for (VersionId v : affected) reconcile(v);
}

void World::node_repair(std::uint32_t node_id) {
  Node& node = nodes_[node_id];
  if (node.state != NodeState::failed) return;
  platform_->set_node_up(node.link, true);
  set_node_state(node_id, NodeState::ready);
  schedule_node_failure(node_id);
  try_place(node.pool);
  maybe_release(node_id);
}

}  // namespace sim
