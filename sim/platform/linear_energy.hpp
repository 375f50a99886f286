// The linear power model of nodes: off draws nothing; on draws idle + (busy - idle) x load watts.
// Integrated exactly over piecewise-constant power; the native platform's energy, and SimGrid's where its
// energy plugin is not in use.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/core/time.hpp"

namespace sim {

class LinearEnergy {
 public:
  /// Adds node `id` (ids are dense; call in order), off.
  void add_node(std::uint32_t id, double idle_watts, double busy_watts);
  void set_power(std::uint32_t id, bool on, Time now);
  void set_load(std::uint32_t id, double load, Time now);  // clamped to [0, 1]
  /// Joules drawn up to `now` (not earlier than any previous call).
  double joules(Time now);

 private:
  struct Node {
    double idle = 0, busy = 0, load = 0;
    bool on = false;
    double watts() const { return on ? idle + (busy - idle) * load : 0.0; }
  };
  void change(std::uint32_t id, const Node& next, Time now);
  std::vector<Node> nodes_;
  double watts_ = 0;
  double joules_ = 0;
  Time at_ = 0;
};

}  // namespace sim
