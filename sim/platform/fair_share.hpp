// Max-min fair sharing of link bandwidth among byte flows: the transfer model behind native image pulls.
//
// A pure model with no Simulation: the owner tells it the time at every change and asks when the next
// flow will finish. Rates are recomputed from scratch by progressive filling (water-filling) on every
// start, finish, cancel and capacity change; that happens at control-plane frequency, so the
// O(links x (links + flows)) recomputation is cheaper than maintaining per-link flow lists.
//
// Between changes every rate is constant, so progress is integrated exactly in double bytes. Completion
// times are rounded up to the next nanosecond, so a flow is never reported done before its bytes have
// moved (up to the done tolerance below).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/core/time.hpp"

namespace sim {

/// Converts a line rate in gigabits per second into bytes per second (10 Gbps -> 1.25e9 B/s).
constexpr double gbps(double gigabits_per_second) { return gigabits_per_second * 1e9 / 8.0; }

using LinkId = std::uint32_t;

/// Handle of a flow. Slots are reused; the generation tells a new flow from an old one in the same slot.
struct FlowId {
  std::uint32_t slot = UINT32_MAX;
  std::uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
  friend bool operator==(FlowId, FlowId) = default;
};

class FairShareNetwork {
 public:
  /// Longest path a flow may take; paths live inline in the flow so that starting one does not allocate.
  static constexpr std::size_t kMaxPathLength = 4;
  /// A flow is done once at most max(kDoneBytes, kDoneFraction x size) bytes are left. The relative part,
  /// a few ulps of the size, absorbs double rounding in big flows (3 x 20 GB on 1 GB/s would otherwise
  /// finish 1 ns after 60 s); it can move a finish a nanosecond early only when size / current rate
  /// exceeds 10^6 s.
  static constexpr double kDoneBytes = 1e-6;
  static constexpr double kDoneFraction = 1e-15;

  /// Adds a link; capacity is in bytes per second and may be 0 (a failed link).
  LinkId add_link(double bytes_per_second);
  /// Changes a link's capacity at `now`; 0 stalls every flow through it at rate 0 until it is restored.
  void set_link_capacity(Time now, LinkId link, double bytes_per_second);
  double link_capacity(LinkId link) const { return links_.at(link).capacity; }
  std::size_t link_count() const { return links_.size(); }

  /// Starts a flow of `bytes` over `path` (distinct links, 1 to kMaxPathLength of them) at `now`.
  /// A zero-byte flow is done at `now` and is reported by the next advance(now).
  FlowId start_flow(Time now, double bytes, std::span<const LinkId> path);
  /// Removes a flow that has not been reported done (even one already due); false for reported, cancelled
  /// or stale ids.
  bool cancel_flow(Time now, FlowId id);

  /// Earliest time at which an unreported flow is or will be done; kTimeNever if none can finish.
  Time next_completion() const;
  /// Moves the clock to `now`, finishing flows in time order (rates are recomputed after each finish),
  /// and appends every flow done at or before `now` to `completed`, ordered by finish time then start
  /// order. Reported ids become stale.
  void advance(Time now, std::vector<FlowId>& completed);

  /// Current rate in bytes per second; 0 for stalled, finished and stale flows.
  double rate(FlowId id) const;
  /// Bytes left as of the last change or advance; 0 for finished and stale flows.
  double remaining_bytes(FlowId id) const;
  bool pending(FlowId id) const;
  /// Flows started and neither reported done nor cancelled.
  std::size_t active_flows() const { return active_ + finished_.size(); }
  Time now() const { return now_; }

 private:
  enum class State : std::uint8_t { free, active, finished };

  struct Link {
    double capacity = 0;
    double spare = 0;            // recompute scratch: capacity not yet given to frozen flows
    std::uint32_t unfrozen = 0;  // recompute scratch: flows through this link without a rate yet
  };

  struct Flow {
    double remaining = 0;
    double rate = 0;
    double done_below = 0;
    Time finish = kTimeNever;
    std::uint64_t order = 0;  // start order, to report simultaneous finishes deterministically
    std::array<LinkId, kMaxPathLength> path{};
    std::uint8_t path_length = 0;
    State state = State::free;
    bool frozen = false;  // recompute scratch
    std::uint32_t generation = 0;
  };

  const Flow* find(FlowId id) const;
  void check_time(Time now) const;
  void integrate_to(Time t);
  // Finishes every flow due at or before `now` in time order, leaving them in finished_ to be reported.
  void catch_up(Time now);
  void recompute();
  void release(std::uint32_t slot);

  std::vector<Link> links_;
  std::vector<Flow> flows_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> finished_;  // done but not yet reported, in finish order
  std::size_t active_ = 0;
  std::uint64_t next_order_ = 0;
  Time now_ = 0;
  Time next_active_finish_ = kTimeNever;
};

}  // namespace sim
