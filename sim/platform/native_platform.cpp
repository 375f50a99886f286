// Pull bookkeeping around the fair-share model and the one event that drives it.
#include "sim/platform/native_platform.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace sim {
namespace {

// Event payloads of the platform's kind.
constexpr std::uint64_t kCompletionEvent = 0;
constexpr std::uint64_t kLatencyEndEvent = 1;

}  // namespace

NativePlatform::NativePlatform(Simulation& sim, double registry_bytes_per_second, Time registry_latency,
                               double default_node_bytes_per_second)
    : sim_(sim),
      registry_link_(network_.add_link(registry_bytes_per_second)),
      registry_latency_(registry_latency),
      default_node_bytes_per_second_(default_node_bytes_per_second) {
  if (registry_latency < 0) throw std::invalid_argument("registry latency must be >= 0");
  if (!std::isfinite(default_node_bytes_per_second) || default_node_bytes_per_second < 0)
    throw std::invalid_argument(
        "default node link capacity must be a finite number of bytes per second >= 0");
  kind_ = sim_.add_handler(&NativePlatform::on_event, this);
}

NodeLinkId NativePlatform::add_node_link(double bytes_per_second) {
  node_links_.push_back(network_.add_link(bytes_per_second));
  node_capacity_.push_back(bytes_per_second);
  return static_cast<NodeLinkId>(node_links_.size() - 1);
}

PullId NativePlatform::start_pull(NodeLinkId node, double bytes, PullCallback on_done) {
  if (node >= node_links_.size()) throw std::out_of_range("unknown node link " + std::to_string(node));
  if (!std::isfinite(bytes) || bytes < 0)
    throw std::invalid_argument("pull size must be a finite number of bytes >= 0, got " +
                                std::to_string(bytes));
  std::uint32_t slot;
  if (!free_pulls_.empty()) {
    slot = free_pulls_.back();
    free_pulls_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(pulls_.size());
    pulls_.emplace_back();
  }
  Pull& p = pulls_[slot];
  p.on_done = std::move(on_done);
  p.bytes = bytes;
  p.node = node;
  p.state = State::waiting;
  ++active_pulls_;
  const PullId id{slot, p.generation};
  if (registry_latency_ > 0) {
    sim_.schedule(sim_.now() + registry_latency_, kind_, slot, kLatencyEndEvent, p.generation);
  } else {
    begin_transfer(slot);
  }
  return id;
}

bool NativePlatform::cancel_pull(PullId id) {
  const Pull* p = find(id);
  if (p == nullptr) return false;
  if (p->state == State::transferring) {
    network_.cancel_flow(sim_.now(), p->flow);
    reschedule();
  }
  // A waiting pull's latency event goes stale with the generation bump.
  release(id.slot);
  return true;
}

bool NativePlatform::pending(PullId id) const { return find(id) != nullptr; }

void NativePlatform::set_node_link_capacity(NodeLinkId node, double bytes_per_second) {
  if (node >= node_links_.size()) throw std::out_of_range("unknown node link " + std::to_string(node));
  network_.set_link_capacity(sim_.now(), node_links_[node], bytes_per_second);
  reschedule();
}

NodeLinkId NativePlatform::add_node(const NodeSite& site) {
  const NodeLinkId id = add_node_link(site.link_bytes_per_second);
  energy_.add_node(id, site.idle_watts, site.busy_watts);
  return id;
}

void NativePlatform::set_node_power(NodeLinkId node, bool on) { energy_.set_power(node, on, sim_.now()); }

void NativePlatform::set_node_load(NodeLinkId node, double load) { energy_.set_load(node, load, sim_.now()); }

double NativePlatform::energy_joules() { return energy_.joules(sim_.now()); }

void NativePlatform::set_node_up(NodeLinkId node, bool up) {
  set_node_link_capacity(node, up ? node_capacity_.at(node) : 0.0);
}

void NativePlatform::set_registry_capacity(double bytes_per_second) {
  network_.set_link_capacity(sim_.now(), registry_link_, bytes_per_second);
  reschedule();
}

double NativePlatform::node_link_bytes_per_second(NodeLinkId node) const {
  return network_.link_capacity(node_links_.at(node));
}

double NativePlatform::pull_rate(PullId id) const {
  const Pull* p = find(id);
  return p != nullptr && p->state == State::transferring ? network_.rate(p->flow) : 0.0;
}

double NativePlatform::pull_remaining_bytes(PullId id) const {
  const Pull* p = find(id);
  if (p == nullptr) return 0.0;
  return p->state == State::transferring ? network_.remaining_bytes(p->flow) : p->bytes;
}

void NativePlatform::on_event(void* self, const Event& e) {
  auto* platform = static_cast<NativePlatform*>(self);
  if (e.payload == kLatencyEndEvent) {
    if (e.target >= platform->pulls_.size()) return;
    const Pull& p = platform->pulls_[e.target];
    if (p.generation != e.generation || p.state != State::waiting) return;  // cancelled meanwhile
    platform->begin_transfer(e.target);
    return;
  }
  if (e.generation != platform->completion_generation_) return;  // rates changed since it was scheduled
  platform->completion_at_ = kTimeNever;
  platform->complete_due();
}

const NativePlatform::Pull* NativePlatform::find(PullId id) const {
  if (!id.valid() || id.slot >= pulls_.size()) return nullptr;
  const Pull& p = pulls_[id.slot];
  if (p.generation != id.generation || p.state == State::free) return nullptr;
  return &p;
}

void NativePlatform::begin_transfer(std::uint32_t slot) {
  Pull& p = pulls_[slot];
  const std::array<LinkId, 2> path{registry_link_, node_links_[p.node]};
  p.flow = network_.start_flow(sim_.now(), p.bytes, path);
  p.state = State::transferring;
  if (pull_of_flow_.size() <= p.flow.slot) pull_of_flow_.resize(p.flow.slot + 1, UINT32_MAX);
  pull_of_flow_[p.flow.slot] = slot;
  reschedule();
}

void NativePlatform::complete_due() {
  completed_.clear();
  network_.advance(sim_.now(), completed_);
  reschedule();
  // Resolve every finished flow to its pull before any callback runs: a callback may start a pull whose
  // flow reuses the slot of a flow further down this list.
  done_pulls_.clear();
  for (const FlowId flow : completed_) {
    const std::uint32_t slot = pull_of_flow_[flow.slot];
    if (slot < pulls_.size() && pulls_[slot].state == State::transferring && pulls_[slot].flow == flow)
      done_pulls_.push_back(PullId{slot, pulls_[slot].generation});
  }
  // Callbacks may start or cancel pulls but never re-enter this handler, so done_pulls_ is stable while we
  // walk it. A pull cancelled by an earlier callback in this batch fails find() and is skipped.
  for (std::size_t i = 0; i < done_pulls_.size(); ++i) {
    const PullId id = done_pulls_[i];
    if (find(id) == nullptr) continue;
    PullCallback fn = std::move(pulls_[id.slot].on_done);
    release(id.slot);
    if (fn) fn(id, PullStatus::done);
  }
}

void NativePlatform::release(std::uint32_t slot) {
  Pull& p = pulls_[slot];
  p.on_done = nullptr;
  p.state = State::free;
  p.flow = FlowId{};
  ++p.generation;
  --active_pulls_;
  free_pulls_.push_back(slot);
}

void NativePlatform::reschedule() {
  const Time next = network_.next_completion();
  if (next == completion_at_) return;  // the live event is still right
  ++completion_generation_;
  completion_at_ = next;
  if (next != kTimeNever) sim_.schedule(next, kind_, 0, kCompletionEvent, completion_generation_);
}

}  // namespace sim
