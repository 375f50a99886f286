// The simulation loop and the control-plane callback side table.
#include "sim/core/simulation.hpp"

#include <stdexcept>
#include <utility>

namespace sim {

Simulation::Simulation(std::uint64_t root_seed, std::uint64_t replication)
    : streams_(root_seed, replication) {
  callback_kind_ = add_handler(&Simulation::run_callback, this);
}

std::uint16_t Simulation::add_handler(Handler handler, void* context) {
  if (handlers_.size() >= UINT16_MAX) throw std::length_error("too many event kinds");
  handlers_.push_back(HandlerEntry{handler, context});
  return static_cast<std::uint16_t>(handlers_.size() - 1);
}

TimerId Simulation::call_at(Time at, std::function<void()> fn) {
  std::uint32_t slot;
  if (!free_callbacks_.empty()) {
    slot = free_callbacks_.back();
    free_callbacks_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(callbacks_.size());
    callbacks_.emplace_back();
  }
  CallbackSlot& s = callbacks_[slot];
  s.fn = std::move(fn);
  schedule(at, callback_kind_, slot, 0, s.generation);
  return TimerId{slot, s.generation};
}

bool Simulation::pending(TimerId id) const {
  return id.valid() && id.slot < callbacks_.size() && callbacks_[id.slot].generation == id.generation &&
         static_cast<bool>(callbacks_[id.slot].fn);
}

bool Simulation::cancel(TimerId id) {
  if (!pending(id)) return false;
  CallbackSlot& s = callbacks_[id.slot];
  s.fn = nullptr;
  ++s.generation;
  free_callbacks_.push_back(id.slot);
  return true;
}

void Simulation::run_callback(void* self, const Event& e) {
  auto* sim = static_cast<Simulation*>(self);
  CallbackSlot& s = sim->callbacks_[e.target];
  if (s.generation != e.generation) return;  // cancelled: lazy deletion
  std::function<void()> fn = std::move(s.fn);
  s.fn = nullptr;
  ++s.generation;
  sim->free_callbacks_.push_back(e.target);
  fn();
}

bool Simulation::step() {
  catch_up(kTimeNever);
  if (calendar_.empty()) return false;
  const Event e = calendar_.pop();
  now_ = e.time;
  dispatch(e);
  return true;
}

void Simulation::run_until(Time end) {
  stopped_ = false;
  while (!stopped_) {
    if (interrupt_ && (++poll_ & 4095u) == 0 && interrupt_->load(std::memory_order_relaxed)) {
      interrupted_ = stopped_ = true;
      return;
    }
    catch_up(end);
    if (calendar_.empty() || calendar_.peek().time > end) break;
    const Event e = calendar_.pop();
    now_ = e.time;
    dispatch(e);
  }
  if (!stopped_ && end != kTimeNever && now_ < end) {
    now_ = end;
    if (cosim_) cosim_->advance_to(end);
  }
}

}  // namespace sim
