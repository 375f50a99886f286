// SimGrid as the platform: image transfers, host and link failures computed by SimGrid's models, driven step
// by step from the native event loop (a CoSimulation of the Simulation).
//
// Stepping: the loop calls advance_to(t) before each native event while transfers run. SimGrid's
// Engine::run_until(t) returns early only when the set of "vetoed" activities it tracks is non-empty after a
// step, so the completion callback puts the finished transfer into that set: run_until then returns at the
// exact completion date, and the platform schedules the native event for it at that instant. Failures are
// reported the same way. No SimGrid actor is involved.
//
// SimGrid keeps one engine per process and cannot reset it: a process may create one SimGridPlatform only.
// The runner therefore runs every SimGrid-backed run in a child process of its own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/platform/platform.hpp"

namespace sim {

class SimGridPlatform final : public Platform, private CoSimulation {
 public:
  /// Builds the platform (from spec.file, or generated: a registry host behind a registry link, and every
  /// pool's hosts each with its own link) and attaches to `sim`. Throws std::runtime_error for a second
  /// SimGrid platform in this process, an unreadable platform file, or hosts the file lacks.
  SimGridPlatform(Simulation& sim, const PlatformSpec& spec, double registry_bytes_per_second,
                  Time registry_latency, const std::vector<PlatformPool>& pools);
  ~SimGridPlatform() override;
  SimGridPlatform(const SimGridPlatform&) = delete;
  SimGridPlatform& operator=(const SimGridPlatform&) = delete;

  NodeLinkId add_node(const NodeSite& site) override;
  void remove_node(NodeLinkId node) override;
  PullId start_pull(NodeLinkId node, double bytes, PullCallback on_done) override;
  bool cancel_pull(PullId id) override;
  void set_node_up(NodeLinkId node, bool up) override;
  void set_node_listener(NodeListener listener) override;
  /// Powering a node turns its host on or off; its load runs as an execution bounded to that share of the
  /// host's speed. With a generated platform SimGrid's host energy plugin measures the joules (the hosts
  /// carry the pools' wattages); with a platform file, the native linear model does.
  void set_node_power(NodeLinkId node, bool on) override;
  void set_node_load(NodeLinkId node, double load) override;
  double energy_joules() override;
  std::size_t active_pulls() const override;
  const char* backend() const override { return "simgrid"; }

  /// SimGrid's clock, in seconds.
  static double clock();
  /// The SimGrid host name behind a node.
  std::string host_name(NodeLinkId node) const;

  struct Impl;  // SimGrid's types stay out of this header

 private:
  void advance_to(Time t) override;
  bool busy() const override;

  std::unique_ptr<Impl> impl_;
};

}  // namespace sim
