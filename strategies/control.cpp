// Control: timers, decisions and coalesced change notifications for one strategy.
#include "strategies/control.hpp"

#include <vector>

namespace sim {

Control::Control(World& world, std::unique_ptr<Strategy> strategy, VersionId stable, VersionId candidate,
                 int replicas, Time start_at)
    : world_(world),
      strategy_(std::move(strategy)),
      stable_(stable),
      candidate_(candidate),
      replicas_(replicas) {
  world_.add_observer(this);
  world_.sim().call_at(start_at, [this] {
    started_ = true;
    world_.mark(MarkKind::release_start, "release starts");
    strategy_->start(*this);
  });
}

Control::~Control() = default;

void Control::poke() {
  // Signals arrive from inside the world's bookkeeping: react right after the current event instead.
  if (!started_ || finished_ || change_pending_) return;
  change_pending_ = true;
  world_.sim().call_in(0, [this] {
    change_pending_ = false;
    if (!finished_) strategy_->on_change(*this);
  });
}

void Control::timer(Time delay, std::uint64_t token) {
  world_.sim().call_in(delay, [this, token] {
    if (!finished_) strategy_->on_timer(*this, token);
  });
}

void Control::set_candidate_weight(double candidate_percent) {
  std::vector<double> w(world_.version_count(), 0.0);
  w[candidate_] = candidate_percent;
  w[stable_] += 100.0 - candidate_percent;
  world_.set_weights(w);
}

void Control::promoted(std::string reason) {
  world_.mark(MarkKind::promoted, std::move(reason));
  finished_ = true;
}

void Control::abort(std::string reason) { world_.mark(MarkKind::abort, std::move(reason)); }

void Control::stalled(std::string reason) { world_.mark(MarkKind::stalled, std::move(reason)); }

void Control::rolled_back(std::string reason) {
  world_.mark(MarkKind::note, "rolled back: " + reason);
  finished_ = true;
}

}  // namespace sim
