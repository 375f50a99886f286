// The Strategy interface: a deployment strategy is one class with a few hooks, acting only through Control.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/scenario/params.hpp"

namespace sim {

class Control;

class Strategy {
 public:
  virtual ~Strategy() = default;
  /// The release begins (at ReleaseSpec::at).
  virtual void start(Control& control) = 0;
  /// Something the strategy may care about changed: a replica or node changed state, a replica crashed.
  /// Called after the change, outside the world's bookkeeping, at most once per simulated instant.
  virtual void on_change(Control& /*control*/) {}
  /// A timer set with Control::timer fired.
  virtual void on_timer(Control& /*control*/, std::uint64_t /*token*/) {}
  /// A manual promotion (release.promote_at): resume a rollout that waits for one; otherwise nothing.
  virtual void on_promote(Control& /*control*/) {}
};

/// A registry entry: what `deploysim strategies` lists and what scenario validation checks against.
struct StrategyInfo {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Strategy>(const ParamValues&)> create;
  /// False for the baseline that releases nothing: its runs have no release start and outcome "none".
  bool releases = true;
};

}  // namespace sim
