// The built-in strategies: each strategy file exposes its registry entry; registry.cpp lists them once.
#pragma once

#include <string>

#include "strategies/strategy.hpp"

namespace sim {

/// Argo Rollouts' scaleDownDelaySeconds: how long the old version stays after the switch to the new one.
inline ParamSpec scale_down_delay_param(const std::string& what) {
  return param_spec("scale_down_delay_seconds", ParamType::duration, "30",
                    "keep " + what + " this long after full promotion (Argo scaleDownDelaySeconds)");
}

/// Argo Rollouts' abortScaleDownDelaySeconds: how long an aborted candidate stays before it is scaled down.
inline ParamSpec abort_scale_down_delay_param() {
  return param_spec("abort_scale_down_delay_seconds", ParamType::duration, "30",
                    "after an abort, keep the candidate this long before scaling it down (Argo "
                    "abortScaleDownDelaySeconds)");
}

StrategyInfo none_strategy_info();
StrategyInfo recreate_strategy_info();
StrategyInfo rolling_strategy_info();
StrategyInfo blue_green_strategy_info();
StrategyInfo canary_strategy_info();
StrategyInfo flagger_strategy_info();
StrategyInfo shadow_strategy_info();
StrategyInfo feature_flag_strategy_info();
StrategyInfo multi_service_strategy_info();

}  // namespace sim
