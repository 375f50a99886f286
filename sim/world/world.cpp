// World construction, control operations, queries and cost accounting.
#include "sim/world/world.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace sim {

const char* to_string(LoadBalancing lb) {
  switch (lb) {
    case LoadBalancing::round_robin:
      return "round_robin";
    case LoadBalancing::least_outstanding:
      return "least_outstanding";
    case LoadBalancing::power_of_two:
      return "power_of_two";
    case LoadBalancing::random:
      return "random";
  }
  return "?";
}

namespace {

std::vector<PlatformPool> platform_pools(const ClusterSpec& cluster) {
  std::vector<PlatformPool> out;
  for (const PoolSpec& p : cluster.pools)
    out.push_back(PlatformPool{p.name, p.zone, std::max(p.nodes, p.max_nodes), p.node_link_bytes_per_second,
                               p.idle_watts, p.busy_watts});
  return out;
}

}  // namespace

World::World(WorldConfig config)
    : config_(std::move(config)),
      sim_(config_.seed, config_.replication),
      platform_(make_platform(sim_, config_.platform, config_.cluster.registry_bytes_per_second,
                              config_.cluster.registry_latency, platform_pools(config_.cluster))),
      router_(config_.versions.size(), derive_seed(config_.seed, config_.replication, Stream::routing)) {
  if (config_.versions.empty()) throw std::invalid_argument("world: at least one model version is needed");
  if (config_.versions.size() >= kNoVersion) throw std::invalid_argument("world: too many model versions");
  if (config_.cluster.pools.empty()) throw std::invalid_argument("world: at least one node pool is needed");

  // Nodes the platform itself takes down or up (SimGrid state profiles) fail and recover like any node.
  platform_->set_node_listener([this](NodeLinkId link, bool up) {
    for (std::uint32_t id = 0; id < nodes_.size(); ++id) {
      if (nodes_[id].link != link || nodes_[id].state == NodeState::released) continue;
      if (up)
        node_repair(id);
      else
        node_fail(id, kTimeNever);
      return;
    }
  });
  arrival_kind_ = sim_.add_handler(&World::on_arrival_event, this);
  completion_kind_ = sim_.add_handler(&World::on_completion_event, this);
  lifecycle_kind_ = sim_.add_handler(&World::on_lifecycle_event, this);

  for (const PoolSpec& spec : config_.cluster.pools) {
    if (spec.nodes < 0 || spec.slots < 1)
      throw std::invalid_argument("pool " + spec.name + ": bad nodes or slots");
    Pool p;
    p.spec = spec;
    if (p.spec.max_nodes < 0) p.spec.max_nodes = spec.nodes;
    if (p.spec.max_nodes < spec.nodes)
      throw std::invalid_argument("pool " + spec.name + ": max_nodes is below nodes");
    pools_.push_back(std::move(p));
  }
  for (std::uint32_t pi = 0; pi < pools_.size(); ++pi)
    for (int i = 0; i < pools_[pi].spec.nodes; ++i) add_node(pi, NodeState::ready);

  versions_.resize(config_.versions.size());
  ready_counts_.assign(config_.versions.size(), 0);
  for (std::size_t v = 0; v < config_.versions.size(); ++v) {
    const ModelVersionSpec& spec = config_.versions[v];
    if (spec.concurrency < 1)
      throw std::invalid_argument("version " + spec.name + ": concurrency must be >= 1");
    VersionState& vs = versions_[v];
    vs.pool = 0;
    if (!spec.pool.empty()) {
      auto it =
          std::find_if(pools_.begin(), pools_.end(), [&](const Pool& p) { return p.spec.name == spec.pool; });
      if (it == pools_.end())
        throw std::invalid_argument("version " + spec.name + ": unknown pool " + spec.pool);
      vs.pool = static_cast<std::uint32_t>(it - pools_.begin());
    }
    vs.defect_on.assign(spec.defects.size(), 0);
    has_quality_ = has_quality_ || spec.quality.conversion > 0 || !spec.quality.conversion_by_segment.empty();
    for (std::size_t d = 0; d < spec.defects.size(); ++d) {
      const DefectOnset& onset = spec.defects[d].onset;
      // Scheduled rather than applied here, so that observers added before the run see the onset.
      if (onset.kind == DefectOnset::Kind::at_start || onset.kind == DefectOnset::Kind::at) {
        const Time at = onset.kind == DefectOnset::Kind::at ? onset.delay : 0;
        sim_.call_at(at, [this, v, d] { activate_defect(static_cast<VersionId>(v), d); });
      }
    }
  }
  if (config_.versions.size() > 1) candidate_ = 1;

  if (config_.users) segment_scratch_.assign(config_.users->attribute_count(), 0);
  if (config_.arrivals) {
    arrivals_process_ = config_.arrivals->clone();
    const Time first = arrivals_process_->next(-1, sim_.rng(Stream::arrivals));
    if (first != kTimeNever) sim_.schedule(first, arrival_kind_, 0);
  }
  for (std::uint32_t n = 0; n < nodes_.size(); ++n) schedule_node_failure(n);
  for (const ZoneOutageSpec& z : config_.faults.zone_outages) {
    sim_.call_at(z.at, [this, z] {
      for (std::uint32_t n = 0; n < nodes_.size(); ++n) {
        if (pools_[nodes_[n].pool].spec.zone == z.zone && nodes_[n].state != NodeState::released)
          node_fail(n, sim_.now() + z.duration);
      }
    });
  }
}

World::~World() = default;

VersionId World::version_id(const std::string& name) const {
  std::string known;
  for (std::size_t v = 0; v < config_.versions.size(); ++v) {
    if (config_.versions[v].name == name) return static_cast<VersionId>(v);
    known += (v ? ", " : "") + config_.versions[v].name;
  }
  throw std::out_of_range("unknown model version '" + name + "' (known: " + known + ")");
}

void World::set_release(VersionId stable, VersionId candidate) {
  if (stable >= versions_.size() || candidate >= versions_.size())
    throw std::out_of_range("set_release: unknown version");
  stable_ = stable;
  candidate_ = candidate;
}

void World::deploy_ready(VersionId v, int n) {
  VersionState& vs = versions_.at(v);
  for (int i = 0; i < n; ++i) {
    std::uint32_t node_id = UINT32_MAX;
    for (std::uint32_t k = 0; k < nodes_.size(); ++k) {
      const Node& node = nodes_[k];
      if (node.pool == vs.pool && node.state == NodeState::ready &&
          node.used_slots < pools_[node.pool].spec.slots) {
        node_id = k;
        break;
      }
    }
    if (node_id == UINT32_MAX)
      throw std::runtime_error("deploy_ready: " + std::to_string(n) + " replicas of " +
                               config_.versions[v].name + " do not fit in pool " + pools_[vs.pool].spec.name);
    const std::uint32_t id = create_replica(v);
    ++vs.desired;
    Replica& r = replicas_[id];
    r.node = node_id;
    ++nodes_[node_id].used_slots;
    nodes_[node_id].image_cached[v] = 1;
    become_ready(id);
    // A deployment that already runs has been available for long: minReadySeconds does not hold it back.
    r.ready_since = std::numeric_limits<Time>::min() / 2;
  }
}

void World::scale(VersionId v, int n) {
  if (n < 0) throw std::invalid_argument("scale: replica count must be >= 0");
  versions_.at(v).desired = n;
  reconcile(v);
}

void World::set_weights(std::span<const double> percent_by_version) {
  router_.set_weights(percent_by_version);
  notify_routing();
}
void World::use_replica_proportional() {
  router_.use_replica_proportional();
  notify_routing();
}
void World::set_in_service(VersionId v, bool in_service) {
  router_.set_in_service(v, in_service);
  notify_routing();
}
void World::set_sticky(bool sticky) {
  router_.set_sticky(sticky);
  notify_routing();
}
void World::set_match_rules(std::vector<MatchRule> rules) {
  for (const MatchRule& r : rules)
    if (r.version >= versions_.size()) throw std::out_of_range("match rule: unknown version");
  router_.set_match_rules(std::move(rules));
  notify_routing();
}
void World::set_mirror(VersionId v, double percent) {
  router_.set_mirror(v, percent);
  notify_routing();
}
void World::clear_mirror() {
  router_.clear_mirror();
  notify_routing();
}

void World::set_route_hook(RouteHook* hook) {
  router_.set_hook(hook);
  notify_routing();
}

void World::set_retained(VersionId v, bool retained) {
  versions_.at(v).retained = retained;
  notify_routing();
}

void World::notify_routing() {
  for (WorldObserver* o : observers_) o->on_routing_changed(now());
}

void World::mark(MarkKind kind, std::string reason) {
  marks_.push_back(Mark{kind, now(), std::move(reason)});
  for (WorldObserver* o : observers_) o->on_mark(marks_.back());
}

void World::run_until(Time end) {
  sim_.run_until(end);
  flush_rewards();
  account();
}

int World::available(VersionId v, Time min_ready) const {
  int n = 0;
  for (std::uint32_t id : versions_.at(v).ready)
    if (now() - replicas_[id].ready_since >= min_ready) ++n;
  return n;
}

int World::active(VersionId v) const {
  const VersionState& vs = versions_.at(v);
  int n = 0;
  for (int s = 0; s <= static_cast<int>(ReplicaState::ready); ++s) n += vs.by_state[s];
  return n;
}

bool World::live_traffic_servable() const {
  for (std::size_t v = 0; v < versions_.size(); ++v)
    if (traffic_share(static_cast<VersionId>(v)) > 0 && ready_counts_[v] > 0) return true;
  return false;
}

int World::nodes_in_state(NodeState s) const {
  int n = 0;
  for (const Node& node : nodes_) n += node.state == s;
  return n;
}

World::ReplicaView World::replica(std::uint32_t id) const {
  const Replica& r = replicas_.at(id);
  return ReplicaView{r.version,     r.state,    r.node,
                     r.ready_since, r.restarts, static_cast<int>(r.in_service.size() + r.queue_size)};
}

double World::expected_quality(VersionId v, std::uint32_t user) const {
  const QualitySpec& q = config_.versions[v].quality;
  double p = q.conversion;
  if (q.segment_attribute >= 0 && config_.users) {
    const std::uint8_t cat = config_.users->segment_of(user, static_cast<std::size_t>(q.segment_attribute));
    if (cat < q.conversion_by_segment.size()) p = q.conversion_by_segment[cat];
  }
  return p * versions_[v].quality_factor;
}

void World::account() {
  const Time t = now();
  if (t <= accounted_until_) return;
  const double dt_s = to_seconds(t - accounted_until_);
  double price = 0;
  // Billed price changes only on node state changes, which call account() first; recompute cheaply here.
  for (const Node& node : nodes_)
    if (node.state != NodeState::released) price += pools_[node.pool].spec.price_per_hour;
  node_seconds_cost_ += price * dt_s / 3600.0;
  accounted_until_ = t;
}

double World::energy_joules_so_far() {
  // The platform integrates the nodes' idle power; requests add their busy share here.
  return platform_->energy_joules() + busy_joules_;
}

double World::cost_so_far() {
  account();
  return node_seconds_cost_ + energy_joules_so_far() / 3.6e6 * config_.cluster.price_per_kwh;
}

void World::flush_rewards() {
  const Time t = now();
  while (reward_head_ < rewards_.size() && rewards_[reward_head_].due <= t) {
    const PendingReward& r = rewards_[reward_head_++];
    if (r.shadow) {
      for (WorldObserver* o : observers_) o->on_shadow_label(r.version, r.user, r.converted, r.due);
    } else {
      for (WorldObserver* o : observers_) o->on_reward(r.version, r.user, r.converted, r.due);
    }
  }
  // Compact once the delivered prefix dominates, so memory tracks the rewards in flight.
  if (reward_head_ > 4096 && reward_head_ * 2 > rewards_.size()) {
    rewards_.erase(rewards_.begin(), rewards_.begin() + static_cast<std::ptrdiff_t>(reward_head_));
    reward_head_ = 0;
  }
}

// ---- faults: defects ------------------------------------------------------------------------------------

void World::activate_defect(VersionId v, std::size_t index) {
  VersionState& vs = versions_[v];
  if (vs.defect_on[index]) return;
  vs.defect_on[index] = 1;
  recompute_defects(v);
  for (WorldObserver* o : observers_) o->on_defect_onset(v, index, now());
  // A memory leak takes effect on replicas already serving: they crash once their uptime is reached.
  if (config_.versions[v].defects[index].kind == DefectSpec::Kind::memory_leak) {
    for (std::uint32_t id : vs.ready) {
      const Replica& r = replicas_[id];
      schedule_lifecycle(id, std::max(now(), r.serving_since + vs.leak_uptime), kLeakCrash);
    }
  }
}

void World::recompute_defects(VersionId v) {
  VersionState& vs = versions_[v];
  const auto& defects = config_.versions[v].defects;
  vs.any_defect = false;
  vs.latency_multiplier = 1;
  vs.quality_factor = 1;
  vs.crash_loop = false;
  vs.leak_uptime = kTimeNever;
  double ok = 1;
  for (std::size_t d = 0; d < defects.size(); ++d) {
    if (!vs.defect_on[d]) continue;
    vs.any_defect = true;
    const DefectSpec& spec = defects[d];
    switch (spec.kind) {
      case DefectSpec::Kind::error_rate:
        ok *= 1 - spec.value;
        break;
      case DefectSpec::Kind::latency:
        vs.latency_multiplier *= spec.value;
        break;
      case DefectSpec::Kind::quality_drop:
        vs.quality_factor *= 1 - spec.value;
        break;
      case DefectSpec::Kind::crash_loop:
        vs.crash_loop = true;
        break;
      case DefectSpec::Kind::memory_leak:
        vs.leak_uptime = std::min(vs.leak_uptime, spec.uptime);
        break;
    }
  }
  vs.extra_error = 1 - ok;
}

void World::expose(VersionId v) {
  VersionState& vs = versions_[v];
  vs.first_exposure = now();
  const auto& defects = config_.versions[v].defects;
  for (std::size_t d = 0; d < defects.size(); ++d) {
    if (defects[d].onset.kind != DefectOnset::Kind::after_exposure) continue;
    sim_.call_in(defects[d].onset.delay, [this, v, d] { activate_defect(v, d); });
  }
}

void World::count_load(VersionState& vs, VersionId v) {
  const Time second = now() / kSecond;
  if (second != vs.load_second) {
    if (vs.load_second >= 0 && !vs.ready.empty()) {
      const double per_replica = static_cast<double>(vs.load_count) / static_cast<double>(vs.ready.size());
      const auto& defects = config_.versions[v].defects;
      for (std::size_t d = 0; d < defects.size(); ++d) {
        if (!vs.defect_on[d] && defects[d].onset.kind == DefectOnset::Kind::load_above &&
            per_replica > defects[d].onset.per_replica_rps)
          activate_defect(v, d);
      }
    }
    vs.load_second = second;
    vs.load_count = 0;
  }
  ++vs.load_count;
}

}  // namespace sim
