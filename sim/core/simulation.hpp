// The simulation loop: a calendar, a clock, random streams and a table of event handlers.
//
// A Simulation is a value with no process-global state, so several can run at once on different threads.
// Request-path events are PODs dispatched through a handler table indexed by kind (no closure per event).
// Rare control-plane callbacks (strategy timers, scheduled faults) live in a side table and can be
// cancelled; cancellation everywhere is lazy, by generation counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/core/calendar.hpp"
#include "sim/core/random.hpp"
#include "sim/core/time.hpp"

namespace sim {

/// Handle of a control-plane callback; default-constructed handles refer to nothing.
struct TimerId {
  std::uint32_t slot = UINT32_MAX;
  std::uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

/// A simulation outside this calendar that must catch up before each event (SimGrid's engine). It reports
/// what happened by scheduling events in the calendar, never by acting directly.
class CoSimulation {
 public:
  virtual ~CoSimulation() = default;
  /// Advances to `t` (>= now), or stops at an earlier instant where something happened; in that case it
  /// schedules the events for it at that instant.
  virtual void advance_to(Time t) = 0;
  /// False while it has nothing in progress, so that the loop need not call it before every event.
  virtual bool busy() const = 0;
};

class Simulation {
 public:
  using Handler = void (*)(void* context, const Event& event);

  explicit Simulation(std::uint64_t root_seed = 1, std::uint64_t replication = 0);

  /// Registers a handler for a new event kind and returns the kind. The context must outlive the run.
  std::uint16_t add_handler(Handler handler, void* context);

  void schedule(Time at, std::uint16_t kind, std::uint32_t target, std::uint64_t payload = 0,
                std::uint32_t generation = 0) {
    calendar_.insert(at < now_ ? now_ : at, kind, target, payload, generation);
  }

  /// Runs `fn` at time `at` (clamped to now) unless cancelled first.
  TimerId call_at(Time at, std::function<void()> fn);
  TimerId call_in(Time delay, std::function<void()> fn) { return call_at(now_ + delay, std::move(fn)); }
  /// Cancels a pending callback; returns false if it already ran or was cancelled.
  bool cancel(TimerId id);
  bool pending(TimerId id) const;

  /// Processes every event with time <= end (or until stop()); the clock then reads `end`.
  void run_until(Time end);
  /// Attaches (or with nullptr detaches) a co-simulation, advanced ahead of every event while it is busy.
  void set_cosimulation(CoSimulation* cosim) { cosim_ = cosim; }
  /// Processes the next event; false when the calendar is empty.
  bool step();
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  /// A flag another thread may raise to stop run_until early (polled every few thousand events); after
  /// that, interrupted() is true and the clock stays where the run stopped.
  void set_interrupt(const std::atomic<bool>* flag) { interrupt_ = flag; }
  bool interrupted() const { return interrupted_; }

  Time now() const { return now_; }
  Rng& rng(Stream s) { return streams_[s]; }
  RandomStreams& streams() { return streams_; }
  std::uint64_t events_processed() const { return events_processed_; }
  std::size_t pending_events() const { return calendar_.size(); }
  Calendar& calendar() { return calendar_; }

 private:
  struct HandlerEntry {
    Handler fn;
    void* context;
  };
  struct CallbackSlot {
    std::function<void()> fn;
    std::uint32_t generation = 0;
  };

  static void run_callback(void* self, const Event& e);
  void dispatch(const Event& e) {
    ++events_processed_;
    const HandlerEntry& h = handlers_[e.kind];
    h.fn(h.context, e);
  }

  Calendar calendar_;
  Time now_ = 0;
  bool stopped_ = false;
  bool interrupted_ = false;
  const std::atomic<bool>* interrupt_ = nullptr;
  std::uint32_t poll_ = 0;
  CoSimulation* cosim_ = nullptr;
  /// Lets a busy co-simulation catch up to the next event (at most `end`); it may schedule earlier ones.
  void catch_up(Time end) {
    if (!cosim_ || !cosim_->busy()) return;
    const Time next = calendar_.empty() ? kTimeNever : calendar_.peek().time;
    const Time target = next < end ? next : end;
    if (target != kTimeNever) cosim_->advance_to(target < now_ ? now_ : target);
  }
  std::uint64_t events_processed_ = 0;
  RandomStreams streams_;
  std::vector<HandlerEntry> handlers_;
  std::vector<CallbackSlot> callbacks_;
  std::vector<std::uint32_t> free_callbacks_;
  std::uint16_t callback_kind_;
};

}  // namespace sim
