// The strategy registry: lookup by name, the schema view for scenario validation, the built-in list.
#include "strategies/registry.hpp"

#include <stdexcept>

#include "strategies/builtin.hpp"

namespace sim {

const StrategyRegistry& StrategyRegistry::builtin() {
  // A function-local static with an explicit list: built on first use, in this order, whatever the order
  // in which translation units are initialised.
  static const StrategyRegistry registry = [] {
    StrategyRegistry r;
    r.add(none_strategy_info());
    r.add(recreate_strategy_info());
    r.add(rolling_strategy_info());
    r.add(blue_green_strategy_info());
    r.add(canary_strategy_info());
    r.add(flagger_strategy_info());
    r.add(shadow_strategy_info());
    r.add(feature_flag_strategy_info());
    r.add(multi_service_strategy_info());
    return r;
  }();
  return registry;
}

void StrategyRegistry::add(StrategyInfo info) {
  if (info.name.empty()) throw std::logic_error("strategy registry: a strategy needs a name");
  if (!info.create) throw std::logic_error("strategy registry: '" + info.name + "' has no factory");
  if (find(info.name)) throw std::logic_error("strategy registry: '" + info.name + "' is registered twice");
  strategies_.push_back(std::move(info));
}

const StrategyInfo* StrategyRegistry::find(std::string_view name) const {
  for (const StrategyInfo& info : strategies_)
    if (info.name == name) return &info;
  return nullptr;
}

StrategySchemas StrategyRegistry::schemas() const {
  StrategySchemas out;
  // The view refers to this registry, which must outlive it (builtin() lives until the program ends).
  out.find = [this](std::string_view name) -> const std::vector<ParamSpec>* {
    const StrategyInfo* info = find(name);
    return info ? &info->params : nullptr;
  };
  for (const StrategyInfo& info : strategies_) out.names.push_back(info.name);
  return out;
}

}  // namespace sim
