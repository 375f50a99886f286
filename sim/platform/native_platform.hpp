// Native image pulls driven by the event loop: every pull crosses the shared registry link and its node's
// link, and bandwidth is split max-min fairly (see fair_share.hpp).
//
// The platform registers one event kind. It keeps at most one live "next completion" event; whenever rates
// change it schedules a new one under a new generation and the old one is ignored when popped. The same
// kind, targeted at a pull, ends the registry latency of a pull before its bytes start to flow.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/core/simulation.hpp"
#include "sim/core/time.hpp"
#include "sim/platform/fair_share.hpp"
#include "sim/platform/linear_energy.hpp"
#include "sim/platform/platform.hpp"

namespace sim {

class NativePlatform final : public Platform {
 public:
  /// A 25 Gbps node NIC, the default when add_node_link() is given no bandwidth.
  static constexpr double kDefaultNodeBytesPerSecond = gbps(25);

  /// `registry_latency` passes once per pull, before its bytes start to flow (request and manifest round
  /// trips), so a pull waiting on it takes no bandwidth from the others.
  NativePlatform(Simulation& sim, double registry_bytes_per_second, Time registry_latency = 0,
                 double default_node_bytes_per_second = kDefaultNodeBytesPerSecond);
  NativePlatform(const NativePlatform&) = delete;  // the Simulation holds a pointer to this object
  NativePlatform& operator=(const NativePlatform&) = delete;

  /// Adds one node's link to the registry; call once per node.
  NodeLinkId add_node_link(double bytes_per_second);
  NodeLinkId add_node_link() { return add_node_link(default_node_bytes_per_second_); }

  /// Starts pulling `bytes` to `node`. `on_done` runs from the event loop at the exact completion time,
  /// never from inside start_pull (a zero-byte pull completes at the current time, after this returns).
  /// Native pulls always end `done`: a failed node stalls them instead (set_node_up).
  PullId start_pull(NodeLinkId node, double bytes, PullCallback on_done) override;
  /// Abandons a pull whose callback has not run; returns false if it already ran or was cancelled.
  bool cancel_pull(PullId id) override;
  bool pending(PullId id) const;

  /// 0 models a failed node: its pulls stall at rate 0 and resume when the capacity is restored.
  void set_node_link_capacity(NodeLinkId node, double bytes_per_second);
  void set_registry_capacity(double bytes_per_second);
  /// Down: the node's link capacity drops to 0 (its pulls stall); up: back to the capacity it was added with.
  void set_node_up(NodeLinkId node, bool up) override;
  const char* backend() const override { return "native"; }
  NodeLinkId add_node(const NodeSite& site) override;
  void set_node_power(NodeLinkId node, bool on) override;
  void set_node_load(NodeLinkId node, double load) override;
  double energy_joules() override;

  double registry_bytes_per_second() const { return network_.link_capacity(registry_link_); }
  double node_link_bytes_per_second(NodeLinkId node) const;
  Time registry_latency() const { return registry_latency_; }
  std::size_t node_count() const { return node_links_.size(); }
  /// Pulls started and neither completed (callback run) nor cancelled.
  std::size_t active_pulls() const override { return active_pulls_; }
  /// Current transfer rate of a pull in bytes per second; 0 while it waits out the registry latency.
  double pull_rate(PullId id) const;
  /// Bytes still to move as of the last rate change.
  double pull_remaining_bytes(PullId id) const;
  const FairShareNetwork& network() const { return network_; }

 private:
  enum class State : std::uint8_t { free, waiting, transferring };

  struct Pull {
    PullCallback on_done;
    double bytes = 0;
    FlowId flow;
    NodeLinkId node = 0;
    State state = State::free;
    std::uint32_t generation = 0;
  };

  static void on_event(void* self, const Event& e);
  const Pull* find(PullId id) const;
  void begin_transfer(std::uint32_t slot);
  void complete_due();
  void release(std::uint32_t slot);
  // Makes the single live completion event match the network's next completion.
  void reschedule();

  Simulation& sim_;
  FairShareNetwork network_;
  LinkId registry_link_;
  Time registry_latency_;
  double default_node_bytes_per_second_;
  std::uint16_t kind_;
  std::vector<LinkId> node_links_;
  std::vector<double> node_capacity_;  // as added, for set_node_up
  LinearEnergy energy_;
  std::vector<Pull> pulls_;
  std::vector<std::uint32_t> free_pulls_;
  std::vector<std::uint32_t> pull_of_flow_;  // indexed by flow slot
  std::vector<FlowId> completed_;            // scratch for FairShareNetwork::advance
  std::vector<PullId> done_pulls_;           // scratch: the pulls behind completed_
  std::size_t active_pulls_ = 0;
  std::uint32_t completion_generation_ = 0;
  Time completion_at_ = kTimeNever;  // time of the live completion event, kTimeNever if none
};

}  // namespace sim
