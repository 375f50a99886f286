// `none`: no release at all; the baseline that the extra cost and the paired differences refer to.
#include <memory>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"

namespace sim {
namespace {

class NoRelease final : public Strategy {
 public:
  // Doing nothing is the point: the stable version keeps serving and nothing is marked beyond what
  // Control records itself.
  void start(Control& /*control*/) override {}
};

}  // namespace

StrategyInfo none_strategy_info() {
  StrategyInfo info;
  info.name = "none";
  info.description = "no release: the stable version keeps serving (baseline for extra cost)";
  info.create = [](const ParamValues&) -> std::unique_ptr<Strategy> { return std::make_unique<NoRelease>(); };
  // Runs of the baseline attach no Control, so they record no release start and report outcome "none".
  info.releases = false;
  return info;
}

}  // namespace sim
