// Tests for the event calendar and the simulation loop: order, FIFO ties, cancellation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "sim/core/calendar.hpp"
#include "sim/core/simulation.hpp"

using namespace sim;

TEST_CASE("core/calendar: pops in time order, ties FIFO", "[core]") {
  Calendar cal;
  cal.insert(30, 0, 1);
  cal.insert(10, 0, 2);
  cal.insert(20, 0, 3);
  cal.insert(10, 0, 4);
  cal.insert(10, 0, 5);
  std::vector<std::uint32_t> order;
  while (!cal.empty()) order.push_back(cal.pop().target);
  CHECK(order == std::vector<std::uint32_t>{2, 4, 5, 3, 1});
}

TEST_CASE("core/calendar: random interleavings match a stable-sorted reference", "[core]") {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 50; ++round) {
    Calendar cal;
    // Reference: multimap keyed by time keeps insertion order among equal keys.
    std::multimap<Time, std::uint32_t> ref;
    std::uint32_t next_id = 0;
    Time now = 0;
    std::vector<std::uint32_t> got, want;
    const int ops = 2000;
    for (int i = 0; i < ops; ++i) {
      const bool do_insert = ref.empty() || (rng() % 3 != 0);
      if (do_insert) {
        // Few distinct times so that ties are common.
        const Time t = now + static_cast<Time>(rng() % 8);
        cal.insert(t, 0, next_id);
        ref.emplace(t, next_id);
        ++next_id;
      } else {
        const Event e = cal.pop();
        auto it = ref.begin();
        got.push_back(e.target);
        want.push_back(it->second);
        REQUIRE(e.time == it->first);
        now = e.time;
        ref.erase(it);
      }
    }
    while (!cal.empty()) {
      got.push_back(cal.pop().target);
      want.push_back(ref.begin()->second);
      ref.erase(ref.begin());
    }
    REQUIRE(got == want);
  }
}

TEST_CASE("core/simulation: callbacks run in order and can be cancelled", "[core]") {
  Simulation sim(7);
  std::vector<int> log;
  sim.call_at(5 * kSecond, [&] { log.push_back(5); });
  const TimerId t2 = sim.call_at(2 * kSecond, [&] { log.push_back(2); });
  sim.call_at(2 * kSecond, [&] { log.push_back(22); });
  sim.call_at(1 * kSecond, [&] {
    log.push_back(1);
    sim.call_in(500 * kMillisecond, [&] { log.push_back(15); });
  });
  CHECK(sim.pending(t2));
  CHECK(sim.cancel(t2));
  CHECK_FALSE(sim.cancel(t2));
  CHECK_FALSE(sim.pending(t2));
  sim.run_until(3 * kSecond);
  CHECK(sim.now() == 3 * kSecond);
  CHECK(log == std::vector<int>{1, 15, 22});
  sim.run_until(kTimeNever);
  CHECK(log == std::vector<int>{1, 15, 22, 5});
  CHECK(sim.now() == 5 * kSecond);
}

TEST_CASE("core/simulation: a cancelled slot reused by a new timer does not fire the old one", "[core]") {
  Simulation sim;
  int fired_old = 0, fired_new = 0;
  const TimerId old_id = sim.call_at(10, [&] { ++fired_old; });
  sim.cancel(old_id);
  const TimerId new_id = sim.call_at(20, [&] { ++fired_new; });
  CHECK(new_id.slot == old_id.slot);  // the slot is reused; the generation tells them apart
  CHECK(new_id.generation != old_id.generation);
  sim.run_until(kTimeNever);
  CHECK(fired_old == 0);
  CHECK(fired_new == 1);
}

namespace {
struct Counter {
  std::vector<std::uint64_t> seen;
  static void on_event(void* self, const Event& e) { static_cast<Counter*>(self)->seen.push_back(e.payload); }
};
}  // namespace

TEST_CASE("core/simulation: POD handlers and stop()", "[core]") {
  Simulation sim;
  Counter c;
  const auto kind = sim.add_handler(&Counter::on_event, &c);
  for (std::uint64_t i = 0; i < 10; ++i) sim.schedule(static_cast<Time>(i) * kSecond, kind, 0, i);
  sim.call_at(4 * kSecond + 1, [&] { sim.stop(); });
  sim.run_until(kTimeNever);
  CHECK(c.seen == std::vector<std::uint64_t>{0, 1, 2, 3, 4});
  CHECK(sim.now() == 4 * kSecond + 1);
  sim.run_until(kTimeNever);
  CHECK(c.seen.size() == 10);
  CHECK(sim.events_processed() == 11);
}
