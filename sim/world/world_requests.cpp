// The request path: arrival, routing, load balancing, queueing, service and outcome.
//
// Hot path rules: POD events only, request state in a slot pool, per-replica queues in preallocated ring
// buffers; nothing here allocates once the pools have grown to the peak load.
#include <algorithm>

#include "sim/world/world.hpp"

namespace sim {

void World::on_arrival_event(void* self, const Event&) { static_cast<World*>(self)->handle_arrival(); }
void World::on_completion_event(void* self, const Event& e) {
  static_cast<World*>(self)->handle_completion(e);
}

void World::handle_arrival() {
  ++arrivals_;
  if (reward_head_ < rewards_.size() && rewards_[reward_head_].due <= now()) flush_rewards();

  Rng& users_rng = sim_.rng(Stream::users);
  std::uint32_t user = 0;
  std::uint8_t segment = 0;
  if (config_.users) {
    user = config_.users->draw_user(users_rng);
    for (std::size_t a = 0; a < segment_scratch_.size(); ++a)
      segment_scratch_[a] = config_.users->segment_of(user, a);
    if (!segment_scratch_.empty()) segment = segment_scratch_[0];
  }
  Rng& routing = sim_.rng(Stream::routing);
  const VersionId v = router_.route(user, segment_scratch_, ready_counts_, routing);
  // Mirror draws come before dispatching, whose load balancing may draw from the same stream.
  std::uint64_t mirrored = 0;
  const std::vector<VersionId>& mirrors = router_.mirrors();
  for (std::size_t i = 0; i < mirrors.size() && i < 64; ++i)
    if (router_.mirror_to(mirrors[i], routing)) mirrored |= std::uint64_t{1} << i;
  const Time t = now();
  if (v != kNoVersion) {
    dispatch(v, user, segment, t, false);
  } else {
    // No version is in service: the request fails, accounted to the stable version.
    finish(Request{t, t, user, UINT32_MAX, stable_, segment, false}, 0, RequestStatus::no_replica);
  }
  for (std::size_t i = 0; mirrored != 0; ++i, mirrored >>= 1)
    if ((mirrored & 1) && mirrors[i] != v) dispatch(mirrors[i], user, segment, t, true);

  const Time next = arrivals_process_->next(t, sim_.rng(Stream::arrivals));
  if (next != kTimeNever) sim_.schedule(next, arrival_kind_, 0);
}

std::uint32_t World::new_request_slot() {
  if (!free_requests_.empty()) {
    const std::uint32_t slot = free_requests_.back();
    free_requests_.pop_back();
    return slot;
  }
  requests_.push_back(Request{});
  return static_cast<std::uint32_t>(requests_.size() - 1);
}

std::uint32_t World::pick_replica(VersionState& vs) {
  const std::size_t n = vs.ready.size();
  switch (config_.load_balancing) {
    case LoadBalancing::round_robin:
      if (vs.rr_cursor >= n) vs.rr_cursor = 0;
      return vs.ready[vs.rr_cursor++];
    case LoadBalancing::least_outstanding: {
      // Ties go to the next replica in round-robin order, so equal replicas share the load.
      if (vs.rr_cursor >= n) vs.rr_cursor = 0;
      std::size_t best = vs.rr_cursor;
      std::size_t best_load = SIZE_MAX;
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = (vs.rr_cursor + k) % n;
        const Replica& r = replicas_[vs.ready[i]];
        const std::size_t load = r.in_service.size() + r.queue_size;
        if (load < best_load) {
          best_load = load;
          best = i;
          if (load == 0) break;
        }
      }
      vs.rr_cursor = best + 1;
      return vs.ready[best];
    }
    case LoadBalancing::power_of_two: {
      Rng& rng = sim_.rng(Stream::routing);
      const std::size_t a = static_cast<std::size_t>(uniform01(rng) * static_cast<double>(n));
      if (n == 1) return vs.ready[0];
      std::size_t b = static_cast<std::size_t>(uniform01(rng) * static_cast<double>(n - 1));
      if (b >= a) ++b;
      const Replica& ra = replicas_[vs.ready[a]];
      const Replica& rb = replicas_[vs.ready[b]];
      return ra.in_service.size() + ra.queue_size <= rb.in_service.size() + rb.queue_size ? vs.ready[a]
                                                                                          : vs.ready[b];
    }
    case LoadBalancing::random: {
      const std::size_t a =
          static_cast<std::size_t>(uniform01(sim_.rng(Stream::routing)) * static_cast<double>(n));
      return vs.ready[std::min(a, n - 1)];
    }
  }
  return vs.ready[0];
}

void World::dispatch(VersionId v, std::uint32_t user, std::uint8_t segment, Time arrival, bool shadow) {
  VersionState& vs = versions_[v];
  if (!shadow && vs.first_exposure == kTimeNever) expose(v);
  count_load(vs, v);
  Request r{arrival, arrival, user, UINT32_MAX, v, segment, shadow};
  if (vs.ready.empty()) {
    finish(r, 0, RequestStatus::no_replica);
    return;
  }
  const std::uint32_t replica_id = pick_replica(vs);
  Replica& rep = replicas_[replica_id];
  r.replica = replica_id;
  if (static_cast<int>(rep.in_service.size()) < rep.concurrency) {
    const std::uint32_t slot = new_request_slot();
    requests_[slot] = r;
    start_service(replica_id, slot);
    return;
  }
  const int limit = config_.versions[v].queue_limit;
  if (limit >= 0 && rep.queue_size >= static_cast<std::size_t>(limit)) {
    finish(r, 0, RequestStatus::queue_full);
    return;
  }
  if (rep.queue_size == rep.queue.size()) {
    // Unbounded queues grow by doubling; bounded ones were sized at creation.
    std::vector<std::uint32_t> grown(std::max<std::size_t>(16, rep.queue.size() * 2));
    for (std::size_t i = 0; i < rep.queue_size; ++i)
      grown[i] = rep.queue[(rep.queue_head + i) % rep.queue.size()];
    rep.queue.swap(grown);
    rep.queue_head = 0;
  }
  const std::uint32_t slot = new_request_slot();
  requests_[slot] = r;
  rep.queue[(rep.queue_head + rep.queue_size) % rep.queue.size()] = slot;
  ++rep.queue_size;
}

void World::start_service(std::uint32_t replica_id, std::uint32_t slot) {
  Replica& rep = replicas_[replica_id];
  Request& r = requests_[slot];
  r.service_start = now();
  r.replica = replica_id;
  r.position = static_cast<std::uint32_t>(rep.in_service.size());
  rep.in_service.push_back(slot);
  const VersionState& vs = versions_[rep.version];
  Time service = config_.versions[rep.version].service_time.sample(sim_.rng(Stream::service));
  if (vs.latency_multiplier != 1)
    service = static_cast<Time>(static_cast<double>(service) * vs.latency_multiplier);
  sim_.schedule(now() + service, completion_kind_, replica_id, slot, rep.incarnation);
}

void World::handle_completion(const Event& e) {
  Replica& rep = replicas_[e.target];
  if (e.generation != rep.incarnation) return;  // the replica crashed; the request was already failed
  const std::uint32_t slot = static_cast<std::uint32_t>(e.payload);
  const std::uint32_t moved = rep.in_service.back();
  rep.in_service[requests_[slot].position] = moved;
  requests_[moved].position = requests_[slot].position;
  rep.in_service.pop_back();
  const Request r = requests_[slot];
  free_requests_.push_back(slot);

  // Busy power above idle, spread over the node's slots and the replica's concurrency.
  const PoolSpec& pool = pools_[nodes_[rep.node].pool].spec;
  if (pool.busy_watts > pool.idle_watts) {
    busy_joules_ += (pool.busy_watts - pool.idle_watts) * to_seconds(now() - r.service_start) /
                    (static_cast<double>(pool.slots) * rep.concurrency);
  }

  const ModelVersionSpec& spec = config_.versions[r.version];
  const VersionState& vs = versions_[r.version];
  const Time wait = r.service_start - r.arrival;
  RequestStatus status = RequestStatus::ok;
  if (now() - r.arrival > spec.timeout) {
    status = RequestStatus::timeout;
  } else {
    const double p_error = spec.error_rate + vs.extra_error - spec.error_rate * vs.extra_error;
    if (p_error > 0 && uniform01(sim_.rng(Stream::outcomes)) < p_error) status = RequestStatus::error;
  }
  finish(r, wait, status);
  serve_next(e.target);
}

void World::serve_next(std::uint32_t replica_id) {
  Replica& rep = replicas_[replica_id];
  while (rep.queue_size > 0 && static_cast<int>(rep.in_service.size()) < rep.concurrency) {
    const std::uint32_t slot = rep.queue[rep.queue_head];
    rep.queue_head = (rep.queue_head + 1) % rep.queue.size();
    --rep.queue_size;
    const Request& r = requests_[slot];
    const Time timeout = config_.versions[r.version].timeout;
    if (now() - r.arrival > timeout) {
      // The client gave up while the request waited; the server notices when it would start it.
      const Request copy = r;
      free_requests_.push_back(slot);
      finish(copy, now() - copy.arrival, RequestStatus::timeout);
      continue;
    }
    start_service(replica_id, slot);
  }
  if (rep.state == ReplicaState::draining && rep.in_service.empty() && rep.queue_size == 0)
    terminate(replica_id);
}

void World::abort_requests(std::uint32_t replica_id) {
  Replica& rep = replicas_[replica_id];
  ++rep.incarnation;
  std::vector<std::uint32_t> slots;
  slots.swap(rep.in_service);
  rep.in_service.reserve(static_cast<std::size_t>(rep.concurrency));
  while (rep.queue_size > 0) {
    slots.push_back(rep.queue[rep.queue_head]);
    rep.queue_head = (rep.queue_head + 1) % rep.queue.size();
    --rep.queue_size;
  }
  for (std::uint32_t slot : slots) {
    const Request r = requests_[slot];
    free_requests_.push_back(slot);
    finish(r, std::max<Time>(0, r.service_start - r.arrival), RequestStatus::aborted);
  }
}

void World::finish(const Request& r, Time wait, RequestStatus status) {
  const ModelVersionSpec& spec = config_.versions[r.version];
  RequestRecord rec;
  rec.arrival = r.arrival;
  rec.done = now();
  rec.wait = wait;
  rec.latency =
      status == RequestStatus::timeout ? std::min(now() - r.arrival, spec.timeout) : now() - r.arrival;
  rec.user = r.user;
  rec.segment = r.segment;
  rec.version = r.version;
  rec.status = status;
  rec.shadow = r.shadow;
  rec.defect_active = versions_[r.version].any_defect;
  if (!r.shadow && has_quality_) {
    rec.expected_quality = expected_quality(r.version, r.user);
    rec.best_quality = std::max(expected_quality(stable_, r.user), expected_quality(candidate_, r.user));
    rec.best_quality = std::max(rec.best_quality, rec.expected_quality);
    if (status == RequestStatus::ok && rec.expected_quality > 0) {
      const bool converted = uniform01(sim_.rng(Stream::rewards)) < rec.expected_quality;
      if (config_.label_delay <= 0) {
        for (WorldObserver* o : observers_) o->on_reward(r.version, r.user, converted, now());
      } else {
        rewards_.push_back(PendingReward{now() + config_.label_delay, r.user, r.version, converted, false});
      }
    }
  } else if (r.shadow && has_quality_ && status == RequestStatus::ok) {
    // The shadow's answer is never shown, but its label still arrives: was its prediction right?
    const double quality = expected_quality(r.version, r.user);
    if (quality > 0) {
      const bool correct = uniform01(sim_.rng(Stream::shadow_labels)) < quality;
      if (config_.label_delay <= 0) {
        for (WorldObserver* o : observers_) o->on_shadow_label(r.version, r.user, correct, now());
      } else {
        rewards_.push_back(PendingReward{now() + config_.label_delay, r.user, r.version, correct, true});
      }
    }
  }
  for (WorldObserver* o : observers_) o->on_request(rec);
}

}  // namespace sim
