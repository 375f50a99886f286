// Calendar hold benchmark: pop the earliest event and insert one later, at a steady pending-set size.
#include <benchmark/benchmark.h>

#include "sim/core/calendar.hpp"
#include "sim/core/random.hpp"

static void BM_CalendarHold(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  sim::Calendar cal;
  sim::Rng rng(42);
  cal.reserve(n + 1);
  for (std::size_t i = 0; i < n; ++i)
    cal.insert(static_cast<sim::Time>(rng() % 1'000'000'000ULL), 0, static_cast<std::uint32_t>(i));
  for (auto _ : state) {
    const sim::Event e = cal.pop();
    // Exponential-like increments keep the time distribution stationary.
    cal.insert(e.time + static_cast<sim::Time>(rng() % 2'000'000'000ULL), 0, e.target);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["pending"] = static_cast<double>(n);
}
BENCHMARK(BM_CalendarHold)->RangeMultiplier(10)->Range(100, 1'000'000);
