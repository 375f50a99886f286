// Control: timers, decisions and coalesced change notifications for one strategy.
#include "strategies/control.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace sim {

Control::Control(World& world, std::unique_ptr<Strategy> strategy, VersionId stable, VersionId candidate,
                 int replicas, Time start_at,
                 const std::map<std::string, AnalysisTemplate>* analysis_templates)
    : world_(world),
      strategy_(std::move(strategy)),
      stable_(stable),
      candidate_(candidate),
      replicas_(replicas),
      templates_(analysis_templates) {
  world_.add_observer(this);
  world_.sim().call_at(start_at, [this] {
    started_ = true;
    world_.mark(MarkKind::release_start, "release starts");
    strategy_->start(*this);
  });
}

Control::~Control() = default;

const MetricCollector& Control::metrics() {
  if (!collector_) {
    // Added from a strategy hook, never from inside an observer callback, so the world's observer list
    // is not being walked.
    collector_ = std::make_unique<MetricCollector>(world_.version_count());
    world_.add_observer(collector_.get());
  }
  return *collector_;
}

const AnalysisTemplate& Control::analysis_template(const std::string& name) const {
  if (!templates_ || !templates_->count(name))
    throw std::out_of_range("no analysis template named '" + name + "'");
  return templates_->at(name);
}

void AnalysisDriver::start(Control& control, const AnalysisTemplate& t, VersionId version, Traffic traffic) {
  run_ = std::make_unique<ArgoAnalysisRun>(t, control.now());
  cursor_.emplace(control.metrics().cursor(version, control.now(), traffic));
  control.note(label_ + ": analysis started");
  schedule(control);
}

void AnalysisDriver::schedule(Control& control) {
  const Time next = run_->next_measurement();
  if (next != kTimeNever) control.timer(std::max<Time>(0, next - control.now()), token_);
}

std::optional<AnalysisPhase> AnalysisDriver::on_timer(Control& control, std::uint64_t token) {
  if (token != token_ || !running()) return std::nullopt;
  const ArgoRecord& record = run_->measure(control.metrics().advance(*cursor_, control.now()), control.now());
  control.note(label_ + ": " + to_string(record.phase) + (record.reason.empty() ? "" : ": " + record.reason));
  if (run_->done()) return run_->phase();
  schedule(control);
  return std::nullopt;
}

void Control::poke() {
  // Signals arrive from inside the world's bookkeeping: react right after the current event instead.
  if (!started_ || finished_ || change_pending_) return;
  change_pending_ = true;
  world_.sim().call_in(0, [this] {
    change_pending_ = false;
    if (!finished_) strategy_->on_change(*this);
  });
}

void Control::promote_at(Time at) {
  world_.sim().call_at(at, [this] {
    if (!started_ || finished_) return;
    world_.mark(MarkKind::note, "manual promotion");
    strategy_->on_promote(*this);
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

void Control::set_candidate(VersionId v) {
  candidate_ = v;
  world_.set_release(stable_, v);
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
