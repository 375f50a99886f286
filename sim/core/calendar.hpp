// The future event set: a 4-ary min-heap of POD events ordered by (time, seq).
//
// Interface after ns-3's Scheduler: insert, empty, peek, pop. Ties in time are broken by the insertion
// counter, so equal-time events leave in FIFO order and runs are bit-reproducible. Cancellation is lazy:
// an event carries the generation of its target at scheduling time, and the owner drops events whose
// generation is stale when they are popped (see Simulation).
//
// Complexity: insert O(log_4 n), pop O(4 log_4 n), peek O(1). Memory: one vector, no per-event allocation
// once the vector has grown to the peak number of pending events.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/core/time.hpp"

namespace sim {

struct Event {
  Time time;
  std::uint64_t seq;
  std::uint64_t payload;
  std::uint32_t target;
  std::uint32_t generation;
  std::uint16_t kind;
};

class Calendar {
 public:
  /// Schedules an event; returns its sequence number (unique, increasing).
  std::uint64_t insert(Time time, std::uint16_t kind, std::uint32_t target, std::uint64_t payload = 0,
                       std::uint32_t generation = 0) {
    const std::uint64_t seq = next_seq_++;
    heap_.push_back(Event{time, seq, payload, target, generation, kind});
    sift_up(heap_.size() - 1);
    return seq;
  }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  const Event& peek() const { return heap_.front(); }

  Event pop() {
    Event top = heap_.front();
    const Event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
    return top;
  }

  void clear() { heap_.clear(); }
  void reserve(std::size_t n) { heap_.reserve(n); }

 private:
  static constexpr std::size_t kArity = 4;

  static bool before(const Event& a, const Event& b) {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }

  void sift_up(std::size_t i) {
    const Event e = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (!before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }

  // Places `e` (the former last element) starting from the root.
  void sift_down(const Event& e) {
    const std::size_t n = heap_.size();
    std::size_t i = 0;
    for (;;) {
      const std::size_t first = i * kArity + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t end = first + kArity < n ? first + kArity : n;
      for (std::size_t c = first + 1; c < end; ++c)
        if (before(heap_[c], heap_[best])) best = c;
      if (!before(heap_[best], e)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = e;
  }

  std::vector<Event> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace sim
