// Piecewise-constant power, integrated at every change.
#include "sim/platform/linear_energy.hpp"

#include <algorithm>

namespace sim {

void LinearEnergy::add_node(std::uint32_t id, double idle_watts, double busy_watts) {
  if (nodes_.size() <= id) nodes_.resize(id + 1);
  nodes_[id].idle = idle_watts;
  nodes_[id].busy = busy_watts;
}

void LinearEnergy::change(std::uint32_t id, const Node& next, Time now) {
  joules(now);  // up to now at the old power
  watts_ += next.watts() - nodes_[id].watts();
  nodes_[id] = next;
}

void LinearEnergy::set_power(std::uint32_t id, bool on, Time now) {
  if (nodes_.size() <= id) nodes_.resize(id + 1);
  Node next = nodes_[id];
  next.on = on;
  change(id, next, now);
}

void LinearEnergy::set_load(std::uint32_t id, double load, Time now) {
  if (nodes_.size() <= id) nodes_.resize(id + 1);
  Node next = nodes_[id];
  next.load = std::clamp(load, 0.0, 1.0);
  change(id, next, now);
}

double LinearEnergy::joules(Time now) {
  if (now > at_) {
    joules_ += watts_ * to_seconds(now - at_);
    at_ = now;
  }
  return joules_;
}

}  // namespace sim
