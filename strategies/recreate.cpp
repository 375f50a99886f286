// `recreate`: Kubernetes' Recreate deployment strategy; stop every old replica, then start every new one.
#include <memory>
#include <string>
#include <utility>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"

namespace sim {
namespace {

constexpr std::uint64_t kAvailabilityTimer = 1;

class Recreate final : public Strategy {
 public:
  explicit Recreate(const ParamValues& params) : min_ready_(params.duration("min_ready_seconds")) {}

  void start(Control& control) override {
    control.note("scale stable to 0");
    control.scale(control.stable(), 0);
    step(control);
  }
  void on_change(Control& control) override { step(control); }
  void on_timer(Control& control, std::uint64_t /*token*/) override { step(control); }

 private:
  void step(Control& control);

  Time min_ready_;
  bool candidate_scaled_ = false;
  Time availability_check_at_ = -1;  // the latest availability timer set, so one instant sets one timer
};

void Recreate::step(Control& control) {
  if (!candidate_scaled_) {
    // Like the deployment controller, wait until no old replica exists at all, draining ones included:
    // Recreate promises that two versions never serve side by side.
    if (control.existing(control.stable()) > 0) return;
    candidate_scaled_ = true;
    control.note("stable gone: scale candidate to " + std::to_string(control.replicas()));
    control.scale(control.candidate(), control.replicas());
  }
  const int available = control.available(control.candidate(), min_ready_);
  if (available >= control.replicas()) {
    control.promoted(std::to_string(available) + " candidate replicas available");
    return;
  }
  // Availability changes with time alone (ready for min_ready_seconds), with no world event to wake us:
  // a replica that became ready now is available min_ready_ from now.
  if (min_ready_ > 0 && control.ready(control.candidate()) > available &&
      control.now() + min_ready_ > availability_check_at_) {
    availability_check_at_ = control.now() + min_ready_;
    control.timer(min_ready_, kAvailabilityTimer);
  }
}

}  // namespace

StrategyInfo recreate_strategy_info() {
  StrategyInfo info;
  info.name = "recreate";
  info.description = "Kubernetes Recreate: scale the stable version to 0, then the candidate to full size";
  info.params = {param_spec("min_ready_seconds", ParamType::duration, "0",
                            "a candidate replica counts as available once ready this long; the release is "
                            "promoted when all are (Kubernetes minReadySeconds)")};
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<Recreate>(params);
  };
  return info;
}

}  // namespace sim
