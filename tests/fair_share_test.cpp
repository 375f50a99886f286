// Tests for the max-min fair-share transfer model and the event-driven native platform, against
// hand-computed rates and completion times.
#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "sim/core/simulation.hpp"
#include "sim/platform/fair_share.hpp"
#include "sim/platform/native_platform.hpp"

using namespace sim;

namespace {

constexpr double kGB = 1e9;

// Advances to `now` and returns what completed, for terse checks.
std::vector<FlowId> advance(FairShareNetwork& net, Time now) {
  std::vector<FlowId> done;
  net.advance(now, done);
  return done;
}

// A registry link plus one node link per flow: the shape of native pulls.
struct PullNetwork {
  FairShareNetwork net;
  LinkId registry;
  std::vector<LinkId> nodes;

  PullNetwork(double registry_bps, std::vector<double> node_bps) : registry(net.add_link(registry_bps)) {
    for (double bps : node_bps) nodes.push_back(net.add_link(bps));
  }
  FlowId pull(Time now, std::size_t node, double bytes) {
    const std::array<LinkId, 2> path{registry, nodes[node]};
    return net.start_flow(now, bytes, path);
  }
};

}  // namespace

TEST_CASE("platform/fair_share: N equal pulls finish at the max-min time", "[platform]") {
  const int n = GENERATE(1, 4, 40);
  PullNetwork p(gbps(10), std::vector<double>(static_cast<std::size_t>(n), gbps(25)));
  std::vector<FlowId> flows;
  for (int i = 0; i < n; ++i) flows.push_back(p.pull(0, static_cast<std::size_t>(i), 5 * kGB));
  // N x 5 GB through 1.25 GB/s: 4 s per pull, all finishing together.
  const Time expected = n * 4 * kSecond;
  for (FlowId f : flows) CHECK(p.net.rate(f) == gbps(10) / n);
  CHECK(p.net.next_completion() == expected);
  CHECK(advance(p.net, expected - 1).empty());
  CHECK(p.net.active_flows() == static_cast<std::size_t>(n));
  CHECK(advance(p.net, expected) == flows);  // all at once, in start order
  CHECK(p.net.active_flows() == 0);
  CHECK(p.net.next_completion() == kTimeNever);
}

TEST_CASE("platform/fair_share: completion rounds up to the nanosecond without float noise", "[platform]") {
  FairShareNetwork net;
  const std::array<LinkId, 1> fast{net.add_link(3 * kGB)};
  const FlowId f = net.start_flow(0, 1 * kGB, fast);
  // 1/3 s = 333333333.33 ns: rounded up, never to the nearest.
  CHECK(net.next_completion() == 333'333'334);
  CHECK(advance(net, 333'333'333).empty());
  CHECK(net.remaining_bytes(f) == Approx(1.0));  // one byte short at 3 bytes per ns
  CHECK(advance(net, 333'333'334) == std::vector<FlowId>{f});

  // Exact finishes stay exact even when the rates are not representable: 3 x 20 GB at 1/3 GB/s each.
  const std::array<LinkId, 1> slow{net.add_link(1 * kGB)};
  for (int i = 0; i < 3; ++i) net.start_flow(333'333'334, 20 * kGB, slow);
  CHECK(net.next_completion() == 333'333'334 + 60 * kSecond);
}

TEST_CASE("platform/fair_share: a small flow finishes first and the rest speed up", "[platform]") {
  FairShareNetwork net;
  const std::array<LinkId, 1> link{net.add_link(1 * kGB)};
  const FlowId f1 = net.start_flow(0, 1 * kGB, link);
  const FlowId f2 = net.start_flow(0, 2 * kGB, link);
  const FlowId f3 = net.start_flow(0, 3 * kGB, link);
  CHECK(net.rate(f1) == Approx(kGB / 3));

  // Three share until 3 s (1 GB each), two share until 5 s (1 GB each), the last runs alone until 6 s.
  CHECK(net.next_completion() == 3 * kSecond);
  CHECK(advance(net, 3 * kSecond) == std::vector<FlowId>{f1});
  CHECK(net.remaining_bytes(f2) == Approx(1 * kGB));
  CHECK(net.remaining_bytes(f3) == Approx(2 * kGB));
  CHECK(net.rate(f2) == 0.5 * kGB);
  CHECK(net.rate(f3) == 0.5 * kGB);
  CHECK(net.next_completion() == 5 * kSecond);
  CHECK(advance(net, 5 * kSecond) == std::vector<FlowId>{f2});
  CHECK(net.rate(f3) == 1 * kGB);
  CHECK(net.next_completion() == 6 * kSecond);
  CHECK(advance(net, 6 * kSecond) == std::vector<FlowId>{f3});
  CHECK(net.next_completion() == kTimeNever);
}

TEST_CASE("platform/fair_share: one advance across several finishes replays them in order", "[platform]") {
  FairShareNetwork net;
  const std::array<LinkId, 1> link{net.add_link(1 * kGB)};
  const FlowId f3 = net.start_flow(0, 3 * kGB, link);
  const FlowId f1 = net.start_flow(0, 1 * kGB, link);
  const FlowId f2 = net.start_flow(0, 2 * kGB, link);
  // Jumping straight to 10 s must still speed the survivors up after each finish, and report in
  // finish order (3 s, 5 s, 6 s), not start order.
  CHECK(advance(net, 10 * kSecond) == std::vector<FlowId>{f1, f2, f3});
  CHECK(net.now() == 10 * kSecond);
  // Had the speed-ups been missed, f3 would still be running here.
  const FlowId g = net.start_flow(10 * kSecond, 1 * kGB, link);
  CHECK(net.next_completion() == 11 * kSecond);
  CHECK(net.rate(g) == 1 * kGB);
}

TEST_CASE("platform/fair_share: textbook max-min with a flow crossing two links", "[platform]") {
  FairShareNetwork net;
  const LinkId a = net.add_link(10);
  const LinkId b = net.add_link(4);
  const std::array<LinkId, 1> only_a{a};
  const std::array<LinkId, 2> both{a, b};
  const std::array<LinkId, 1> only_b{b};
  const FlowId f1 = net.start_flow(0, 1000, only_a);
  const FlowId f2 = net.start_flow(0, 1000, both);
  const FlowId f3 = net.start_flow(0, 1000, only_b);
  // B (4 / 2 = 2) saturates before A (10 / 2 = 5); f1 then takes what f2 leaves on A. An equal split
  // per link would give f1 5 and waste 3 units of A.
  CHECK(net.rate(f2) == 2);
  CHECK(net.rate(f3) == 2);
  CHECK(net.rate(f1) == 8);

  // A second flow on B only: B's share drops to 4/3 for f2, f3, f4 and f1 takes the rest of A.
  const FlowId f4 = net.start_flow(0, 1000, only_b);
  CHECK(net.rate(f2) == Approx(4.0 / 3));
  CHECK(net.rate(f3) == Approx(4.0 / 3));
  CHECK(net.rate(f4) == Approx(4.0 / 3));
  CHECK(net.rate(f1) == Approx(26.0 / 3));
}

TEST_CASE("platform/fair_share: a slow node link is the bottleneck and the rest goes to the other pull",
          "[platform]") {
  PullNetwork p(gbps(10), {gbps(1), gbps(25)});
  const FlowId slow = p.pull(0, 0, 1 * kGB);
  const FlowId fast = p.pull(0, 1, 1 * kGB);
  CHECK(p.net.rate(slow) == gbps(1));
  CHECK(p.net.rate(fast) == gbps(9));
  // 1 GB at 1.125 GB/s = 0.888888888... s, rounded up to the nanosecond.
  CHECK(p.net.next_completion() == 888'888'889);
  CHECK(advance(p.net, 888'888'889) == std::vector<FlowId>{fast});
  // The slow pull stays capped by its own link: 1 GB at 125 MB/s = 8 s from the start.
  CHECK(p.net.rate(slow) == gbps(1));
  CHECK(p.net.next_completion() == 8 * kSecond);
  CHECK(advance(p.net, 8 * kSecond) == std::vector<FlowId>{slow});
}

TEST_CASE("platform/fair_share: cancelling a flow speeds up the others", "[platform]") {
  FairShareNetwork net;
  const std::array<LinkId, 1> link{net.add_link(1 * kGB)};
  const FlowId a = net.start_flow(0, 2 * kGB, link);
  const FlowId b = net.start_flow(0, 2 * kGB, link);
  CHECK(net.next_completion() == 4 * kSecond);
  // At 1 s each has 1.5 GB left; b alone at 1 GB/s finishes at 2.5 s instead of 4 s.
  CHECK(net.cancel_flow(1 * kSecond, a));
  CHECK_FALSE(net.cancel_flow(1 * kSecond, a));
  CHECK_FALSE(net.pending(a));
  CHECK(net.rate(a) == 0);
  CHECK(net.remaining_bytes(b) == 1.5 * kGB);
  CHECK(net.rate(b) == 1 * kGB);
  CHECK(net.next_completion() == 2500 * kMillisecond);
  CHECK(advance(net, 3 * kSecond) == std::vector<FlowId>{b});
}

TEST_CASE("platform/fair_share: a failed link stalls its flows and restoring it resumes them", "[platform]") {
  PullNetwork p(1 * kGB, {1 * kGB, 1 * kGB});
  const FlowId x = p.pull(0, 0, 4 * kGB);
  const FlowId y = p.pull(0, 1, 4 * kGB);
  CHECK(p.net.rate(x) == 0.5 * kGB);

  // Node 0 fails at 1 s: x stalls with 3.5 GB left and y gets the whole registry link.
  p.net.set_link_capacity(1 * kSecond, p.nodes[0], 0);
  CHECK(p.net.rate(x) == 0);
  CHECK(p.net.rate(y) == 1 * kGB);
  CHECK(p.net.next_completion() == 4500 * kMillisecond);  // y: 3.5 GB at 1 GB/s
  CHECK(advance(p.net, 3 * kSecond).empty());
  CHECK(p.net.remaining_bytes(x) == 3.5 * kGB);
  CHECK(p.net.remaining_bytes(y) == 1.5 * kGB);

  // Restored at 3 s: they share again; y's 1.5 GB at 0.5 GB/s ends at 6 s, then x's last 2 GB run alone
  // until 8 s. The registry link was busy throughout, so 8 GB take exactly 8 s.
  p.net.set_link_capacity(3 * kSecond, p.nodes[0], 1 * kGB);
  CHECK(p.net.next_completion() == 6 * kSecond);
  CHECK(advance(p.net, 6 * kSecond) == std::vector<FlowId>{y});
  CHECK(p.net.next_completion() == 8 * kSecond);
  CHECK(advance(p.net, 8 * kSecond) == std::vector<FlowId>{x});
}

TEST_CASE("platform/fair_share: a flow alone on a failed link never completes", "[platform]") {
  FairShareNetwork net;
  const std::array<LinkId, 1> link{net.add_link(1 * kGB)};
  const FlowId f = net.start_flow(0, 4 * kGB, link);
  net.set_link_capacity(1 * kSecond, link[0], 0);
  CHECK(net.next_completion() == kTimeNever);
  CHECK(advance(net, 1000 * kSecond).empty());
  CHECK(net.remaining_bytes(f) == 3 * kGB);
  net.set_link_capacity(1000 * kSecond, link[0], 1 * kGB);
  CHECK(net.next_completion() == 1003 * kSecond);
}

TEST_CASE("platform/fair_share: zero-byte flows complete at once and take no share", "[platform]") {
  FairShareNetwork net;
  const std::array<LinkId, 1> link{net.add_link(1 * kGB)};
  const FlowId big = net.start_flow(0, 1 * kGB, link);
  const FlowId empty = net.start_flow(5 * kMillisecond, 0, link);
  CHECK(net.next_completion() == 5 * kMillisecond);
  CHECK(net.rate(big) == 1 * kGB);
  CHECK(advance(net, 5 * kMillisecond) == std::vector<FlowId>{empty});
  CHECK(net.next_completion() == 1 * kSecond);
}

TEST_CASE("platform/fair_share: flow slots are reused without confusing old ids", "[platform]") {
  FairShareNetwork net;
  const std::array<LinkId, 1> link{net.add_link(1 * kGB)};
  const FlowId old_id = net.start_flow(0, 1 * kGB, link);
  CHECK(advance(net, 1 * kSecond) == std::vector<FlowId>{old_id});
  const FlowId new_id = net.start_flow(1 * kSecond, 1 * kGB, link);
  CHECK(new_id.slot == old_id.slot);
  CHECK(new_id.generation != old_id.generation);
  CHECK_FALSE(net.pending(old_id));
  CHECK(net.rate(old_id) == 0);
  CHECK_FALSE(net.cancel_flow(1 * kSecond, old_id));
  CHECK(net.pending(new_id));
  CHECK(net.rate(new_id) == 1 * kGB);
}

TEST_CASE("platform/fair_share: bad inputs are rejected", "[platform]") {
  FairShareNetwork net;
  const LinkId a = net.add_link(1 * kGB);
  const std::array<LinkId, 2> repeated{a, a};
  const std::array<LinkId, 1> unknown{7};
  const std::array<LinkId, 1> ok{a};
  CHECK_THROWS_AS(net.add_link(-1), std::invalid_argument);
  CHECK_THROWS_AS(net.start_flow(0, 1, std::span<const LinkId>{}), std::invalid_argument);
  CHECK_THROWS_AS(net.start_flow(0, 1, repeated), std::invalid_argument);
  CHECK_THROWS_AS(net.start_flow(0, 1, unknown), std::out_of_range);
  CHECK_THROWS_AS(net.start_flow(0, -1, ok), std::invalid_argument);
  net.start_flow(10, 1, ok);
  CHECK_THROWS_AS(net.start_flow(5, 1, ok), std::invalid_argument);  // time went backwards
}

TEST_CASE("platform/native: callbacks fire at the completion time and late pulls join the share",
          "[platform]") {
  Simulation sim;
  NativePlatform platform(sim, 1 * kGB);  // node links default to 25 Gbps, so the registry is the bottleneck
  const NodeLinkId n0 = platform.add_node_link();
  const NodeLinkId n1 = platform.add_node_link();
  const NodeLinkId n2 = platform.add_node_link();
  CHECK(platform.node_link_bytes_per_second(n0) == gbps(25));

  std::vector<std::pair<char, Time>> log;
  const PullId a =
      platform.start_pull(n0, 3 * kGB, [&](PullId, PullStatus) { log.emplace_back('a', sim.now()); });
  sim.call_at(1 * kSecond, [&] {
    // a has 2 GB left; they share 0.5 GB/s each, so b's 1 GB ends at 3 s.
    platform.start_pull(n1, 1 * kGB, [&](PullId, PullStatus) {
      log.emplace_back('b', sim.now());
      // Started from a callback at 3 s: c shares with a (1 GB left), so c's 0.5 GB ends at 4 s and a's
      // last 0.5 GB runs alone until 4.5 s.
      platform.start_pull(n2, 0.5 * kGB, [&](PullId, PullStatus) { log.emplace_back('c', sim.now()); });
    });
  });
  sim.run_until(2 * kSecond);
  CHECK(platform.pull_rate(a) == 0.5 * kGB);
  CHECK(platform.active_pulls() == 2);
  sim.run_until(kTimeNever);
  CHECK(log == std::vector<std::pair<char, Time>>{
                   {'b', 3 * kSecond}, {'c', 4 * kSecond}, {'a', 4500 * kMillisecond}});
  CHECK(platform.active_pulls() == 0);
  CHECK_FALSE(platform.pending(a));
}

TEST_CASE("platform/native: equal pulls through the platform finish together", "[platform]") {
  Simulation sim;
  NativePlatform platform(sim, gbps(10));
  std::vector<Time> done;
  for (int i = 0; i < 4; ++i)
    platform.start_pull(platform.add_node_link(), 5 * kGB,
                        [&](PullId, PullStatus) { done.push_back(sim.now()); });
  sim.run_until(kTimeNever);
  CHECK(done == std::vector<Time>(4, 16 * kSecond));
}

TEST_CASE("platform/native: registry latency shifts completion by exactly the latency", "[platform]") {
  const Time latency = 250 * kMillisecond;
  Simulation sim;
  NativePlatform platform(sim, gbps(10), latency);
  CHECK(platform.registry_latency() == latency);
  std::vector<Time> done;
  for (int i = 0; i < 4; ++i)
    platform.start_pull(platform.add_node_link(), 5 * kGB,
                        [&](PullId, PullStatus) { done.push_back(sim.now()); });
  const PullId late = platform.start_pull(platform.add_node_link(), 0,
                                          [&](PullId, PullStatus) { done.push_back(sim.now()); });
  // While the latency runs the bytes have not started to flow.
  CHECK(platform.pull_rate(late) == 0);
  sim.run_until(latency - 1);
  CHECK(platform.network().active_flows() == 0);
  sim.run_until(kTimeNever);
  // The zero-byte pull still pays the latency; the others take 16 s after it.
  CHECK(done == std::vector<Time>{latency, 16 * kSecond + latency, 16 * kSecond + latency,
                                  16 * kSecond + latency, 16 * kSecond + latency});
}

TEST_CASE("platform/native: cancelling pulls, in transfer or still in latency", "[platform]") {
  Simulation sim;
  NativePlatform platform(sim, 1 * kGB, 1 * kSecond);
  const NodeLinkId n0 = platform.add_node_link();
  const NodeLinkId n1 = platform.add_node_link();
  int cancelled_ran = 0;
  Time kept_done = -1;
  const PullId waiting = platform.start_pull(n0, 1 * kGB, [&](PullId, PullStatus) { ++cancelled_ran; });
  CHECK(platform.cancel_pull(waiting));  // still waiting out the latency
  CHECK_FALSE(platform.cancel_pull(waiting));
  const PullId doomed = platform.start_pull(n0, 2 * kGB, [&](PullId, PullStatus) { ++cancelled_ran; });
  const PullId kept = platform.start_pull(n1, 2 * kGB, [&](PullId, PullStatus) { kept_done = sim.now(); });
  // Both transfer from 1 s at 0.5 GB/s; doomed is cancelled at 2 s, leaving kept 1.5 GB alone: 3.5 s.
  sim.call_at(2 * kSecond, [&] { CHECK(platform.cancel_pull(doomed)); });
  sim.run_until(kTimeNever);
  CHECK(cancelled_ran == 0);
  CHECK(kept_done == 3500 * kMillisecond);
  CHECK_FALSE(platform.pending(kept));
}

TEST_CASE("platform/native: a node failure stalls its pull until the node link is restored", "[platform]") {
  Simulation sim;
  NativePlatform platform(sim, gbps(10), 0, gbps(8));  // 1 GB/s node links
  const NodeLinkId n0 = platform.add_node_link();
  Time done = -1;
  const PullId p = platform.start_pull(n0, 4 * kGB, [&](PullId, PullStatus) { done = sim.now(); });
  sim.call_at(1 * kSecond, [&] { platform.set_node_link_capacity(n0, 0); });
  sim.call_at(11 * kSecond, [&] {
    CHECK(platform.pull_remaining_bytes(p) == 3 * kGB);
    platform.set_node_link_capacity(n0, gbps(8));
  });
  sim.run_until(kTimeNever);
  // 1 s of transfer, 10 s stalled, 3 s more.
  CHECK(done == 14 * kSecond);
}

TEST_CASE("platform/native: a callback starting a pull does not swallow a simultaneous completion",
          "[platform]") {
  Simulation sim;
  NativePlatform platform(sim, 1 * kGB);
  const NodeLinkId n0 = platform.add_node_link();
  const NodeLinkId n1 = platform.add_node_link();
  std::vector<std::pair<char, Time>> log;
  // Both finish at 2 s. The first callback's new pull reuses the freed flow slot of the second; the second
  // callback must still run, and the new pull then has the link to itself until 3 s.
  platform.start_pull(n0, 1 * kGB, [&](PullId, PullStatus) {
    log.emplace_back('a', sim.now());
    platform.start_pull(n0, 1 * kGB, [&](PullId, PullStatus) { log.emplace_back('c', sim.now()); });
  });
  platform.start_pull(n1, 1 * kGB, [&](PullId, PullStatus) { log.emplace_back('b', sim.now()); });
  sim.run_until(kTimeNever);
  CHECK(log ==
        std::vector<std::pair<char, Time>>{{'a', 2 * kSecond}, {'b', 2 * kSecond}, {'c', 3 * kSecond}});
}

TEST_CASE("platform/native: a callback may cancel a pull finishing at the same instant", "[platform]") {
  Simulation sim;
  NativePlatform platform(sim, 1 * kGB);
  PullId second;
  int second_ran = 0;
  Time first_done = -1;
  platform.start_pull(platform.add_node_link(), 1 * kGB, [&](PullId, PullStatus) {
    first_done = sim.now();
    CHECK(platform.cancel_pull(second));
  });
  second = platform.start_pull(platform.add_node_link(), 1 * kGB, [&](PullId, PullStatus) { ++second_ran; });
  sim.run_until(kTimeNever);
  CHECK(first_done == 2 * kSecond);
  CHECK(second_ran == 0);
  CHECK(platform.active_pulls() == 0);
}
