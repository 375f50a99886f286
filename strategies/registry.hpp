// The strategy registry: every strategy, its description and parameter schema, registered in one place.
#pragma once

#include <string_view>
#include <vector>

#include "sim/scenario/scenario.hpp"
#include "strategies/strategy.hpp"

namespace sim {

class StrategyRegistry {
 public:
  /// The registry with every built-in strategy (built on first use; no static-initialisation order).
  static const StrategyRegistry& builtin();

  void add(StrategyInfo info);
  const StrategyInfo* find(std::string_view name) const;
  const std::vector<StrategyInfo>& all() const { return strategies_; }
  /// The view the scenario loader uses to validate strategy parameters.
  StrategySchemas schemas() const;

 private:
  std::vector<StrategyInfo> strategies_;
};

}  // namespace sim
