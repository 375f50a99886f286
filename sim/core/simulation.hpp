// The simulation loop: a calendar, a clock, random streams and a table of event handlers.
//
// A Simulation is a value with no process-global state, so several can run at once on different threads.
// Request-path events are PODs dispatched through a handler table indexed by kind (no closure per event).
// Rare control-plane callbacks (strategy timers, scheduled faults) live in a side table and can be
// cancelled; cancellation everywhere is lazy, by generation counters.
#pragma once

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
  /// Processes the next event; false when the calendar is empty.
  bool step();
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

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
  std::uint64_t events_processed_ = 0;
  RandomStreams streams_;
  std::vector<HandlerEntry> handlers_;
  std::vector<CallbackSlot> callbacks_;
  std::vector<std::uint32_t> free_callbacks_;
  std::uint16_t callback_kind_;
};

}  // namespace sim
