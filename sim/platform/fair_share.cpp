// Progressive filling of link capacity and the integration of flow progress between changes.
#include "sim/platform/fair_share.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace sim {
namespace {

void check_capacity(double bytes_per_second) {
  if (!std::isfinite(bytes_per_second) || bytes_per_second < 0)
    throw std::invalid_argument("link capacity must be a finite number of bytes per second >= 0, got " +
                                std::to_string(bytes_per_second));
}

}  // namespace

LinkId FairShareNetwork::add_link(double bytes_per_second) {
  check_capacity(bytes_per_second);
  if (links_.size() >= UINT32_MAX) throw std::length_error("too many links");
  links_.push_back(Link{bytes_per_second});
  return static_cast<LinkId>(links_.size() - 1);
}

void FairShareNetwork::set_link_capacity(Time now, LinkId link, double bytes_per_second) {
  check_capacity(bytes_per_second);
  if (link >= links_.size()) throw std::out_of_range("unknown link " + std::to_string(link));
  catch_up(now);
  links_[link].capacity = bytes_per_second;
  recompute();
}

FlowId FairShareNetwork::start_flow(Time now, double bytes, std::span<const LinkId> path) {
  if (!std::isfinite(bytes) || bytes < 0)
    throw std::invalid_argument("flow size must be a finite number of bytes >= 0, got " +
                                std::to_string(bytes));
  if (path.empty() || path.size() > kMaxPathLength)
    throw std::invalid_argument("a flow path needs 1 to " + std::to_string(kMaxPathLength) + " links, got " +
                                std::to_string(path.size()));
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] >= links_.size()) throw std::out_of_range("unknown link " + std::to_string(path[i]));
    // A repeated link would need the flow counted twice on it; no pull path crosses a link twice.
    for (std::size_t j = 0; j < i; ++j)
      if (path[j] == path[i])
        throw std::invalid_argument("link " + std::to_string(path[i]) + " repeats in path");
  }
  catch_up(now);

  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (flows_.size() >= UINT32_MAX) throw std::length_error("too many flows");
    slot = static_cast<std::uint32_t>(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[slot];
  f.remaining = bytes;
  f.rate = 0;
  f.done_below = std::max(kDoneBytes, kDoneFraction * bytes);
  f.order = next_order_++;
  std::copy(path.begin(), path.end(), f.path.begin());
  f.path_length = static_cast<std::uint8_t>(path.size());
  const FlowId id{slot, f.generation};
  if (bytes <= f.done_below) {
    // Nothing to move: done now, without taking a share from anyone.
    f.state = State::finished;
    f.remaining = 0;
    f.finish = now;
    finished_.push_back(slot);
    return id;
  }
  f.state = State::active;
  ++active_;
  recompute();
  return id;
}

bool FairShareNetwork::cancel_flow(Time now, FlowId id) {
  if (find(id) == nullptr) return false;
  catch_up(now);
  Flow& f = flows_[id.slot];
  if (f.state == State::finished) {
    // Done but not reported yet: the owner never learns of it, as if cancelled just in time.
    finished_.erase(std::find(finished_.begin(), finished_.end(), id.slot));
    release(id.slot);
    return true;
  }
  --active_;
  release(id.slot);
  recompute();
  return true;
}

Time FairShareNetwork::next_completion() const {
  if (!finished_.empty()) return flows_[finished_.front()].finish;
  return next_active_finish_;
}

void FairShareNetwork::advance(Time now, std::vector<FlowId>& completed) {
  catch_up(now);
  for (const std::uint32_t slot : finished_) {
    completed.push_back(FlowId{slot, flows_[slot].generation});
    release(slot);
  }
  finished_.clear();
}

double FairShareNetwork::rate(FlowId id) const {
  const Flow* f = find(id);
  return f != nullptr && f->state == State::active ? f->rate : 0.0;
}

double FairShareNetwork::remaining_bytes(FlowId id) const {
  const Flow* f = find(id);
  return f != nullptr && f->state == State::active ? f->remaining : 0.0;
}

bool FairShareNetwork::pending(FlowId id) const { return find(id) != nullptr; }

const FairShareNetwork::Flow* FairShareNetwork::find(FlowId id) const {
  if (!id.valid() || id.slot >= flows_.size()) return nullptr;
  const Flow& f = flows_[id.slot];
  if (f.generation != id.generation || f.state == State::free) return nullptr;
  return &f;
}

void FairShareNetwork::check_time(Time now) const {
  if (now < now_)
    throw std::invalid_argument("fair-share network time went backwards: " + std::to_string(now) + " < " +
                                std::to_string(now_));
}

void FairShareNetwork::integrate_to(Time t) {
  if (t == now_) return;
  const double dt = to_seconds(t - now_);
  for (Flow& f : flows_) {
    if (f.state != State::active) continue;
    f.remaining = std::max(0.0, f.remaining - f.rate * dt);
  }
  now_ = t;
}

void FairShareNetwork::catch_up(Time now) {
  check_time(now);
  while (next_active_finish_ <= now) {
    const Time t = next_active_finish_;
    integrate_to(t);
    // The finish time, not the integrated remainder, decides: it was computed from the same rates, and
    // comparing remainders against a tolerance here could disagree with it by a nanosecond.
    const std::size_t first = finished_.size();
    for (std::uint32_t slot = 0; slot < flows_.size(); ++slot) {
      Flow& f = flows_[slot];
      if (f.state != State::active || f.finish > t) continue;
      f.state = State::finished;
      f.remaining = 0;
      f.rate = 0;
      finished_.push_back(slot);
      --active_;
    }
    std::sort(finished_.begin() + static_cast<std::ptrdiff_t>(first), finished_.end(),
              [this](std::uint32_t a, std::uint32_t b) { return flows_[a].order < flows_[b].order; });
    recompute();
  }
  integrate_to(now);
}

void FairShareNetwork::recompute() {
  for (Link& l : links_) {
    l.spare = l.capacity;
    l.unfrozen = 0;
  }
  for (Flow& f : flows_) {
    if (f.state != State::active) continue;
    f.frozen = false;
    f.rate = 0;
    for (std::uint8_t i = 0; i < f.path_length; ++i) ++links_[f.path[i]].unfrozen;
  }

  // Water-filling: the link offering the smallest equal share is saturated first; its flows are frozen
  // at that share and their use is removed from every other link they cross. Each pass freezes at least
  // one link's flows, so there are at most links_.size() passes.
  for (;;) {
    std::size_t bottleneck = links_.size();
    double share = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < links_.size(); ++i) {
      const Link& l = links_[i];
      if (l.unfrozen == 0) continue;
      const double s = std::max(0.0, l.spare) / static_cast<double>(l.unfrozen);
      if (s < share) {
        share = s;
        bottleneck = i;
      }
    }
    if (bottleneck == links_.size()) break;
    for (Flow& f : flows_) {
      if (f.state != State::active || f.frozen) continue;
      const auto end = f.path.begin() + f.path_length;
      if (std::find(f.path.begin(), end, static_cast<LinkId>(bottleneck)) == end) continue;
      f.frozen = true;
      f.rate = share;
      for (auto it = f.path.begin(); it != end; ++it) {
        Link& l = links_[*it];
        l.spare -= share;
        --l.unfrozen;
      }
    }
  }

  next_active_finish_ = kTimeNever;
  for (Flow& f : flows_) {
    if (f.state != State::active) continue;
    if (f.remaining <= f.done_below) {
      f.finish = now_;
    } else if (f.rate <= 0) {
      f.finish = kTimeNever;
    } else {
      const double ns = (f.remaining - f.done_below) / f.rate * static_cast<double>(kSecond);
      // Rounding up: by f.finish at least remaining - done_below bytes have moved. A finish more than
      // half the clock's range away counts as never, which also keeps the conversion from overflowing.
      const bool reachable = ns < static_cast<double>(kTimeNever - now_) * 0.5;
      f.finish = reachable ? now_ + static_cast<Time>(std::ceil(ns)) : kTimeNever;
    }
    next_active_finish_ = std::min(next_active_finish_, f.finish);
  }
}

void FairShareNetwork::release(std::uint32_t slot) {
  Flow& f = flows_[slot];
  f.state = State::free;
  f.rate = 0;
  f.remaining = 0;
  f.finish = kTimeNever;
  ++f.generation;
  free_slots_.push_back(slot);
}

}  // namespace sim
