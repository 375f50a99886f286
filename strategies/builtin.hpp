// The built-in strategies: each strategy file exposes its registry entry; registry.cpp lists them once.
#pragma once

#include "strategies/strategy.hpp"

namespace sim {

StrategyInfo none_strategy_info();
StrategyInfo recreate_strategy_info();
StrategyInfo rolling_strategy_info();
StrategyInfo blue_green_strategy_info();
StrategyInfo canary_strategy_info();

}  // namespace sim
