// World behaviour: replica lifecycle, hand-driven rollouts, pools, routing, load balancing, defects,
// failures, rewards, determinism and common random numbers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/metrics/queueing_theory.hpp"
#include "sim/metrics/timeseries.hpp"
#include "tests/world_fixture.hpp"

using namespace sim;

namespace {

constexpr double kGB = 1e9;

/// Two versions in one pool; v2 has a 2 GB image, 20 s start-up and 10 s warm-up, all deterministic.
WorldConfig rollout_config(double lambda, int nodes = 4, int slots = 1) {
  WorldConfig c = testing_support::single_queue_config(lambda, 0.005, 4, 64, nodes, slots);
  c.cluster.registry_bytes_per_second = 1 * kGB;  // 8 Gbps
  ModelVersionSpec v2 = c.versions[0];
  v2.name = "v2";
  v2.image_bytes = 2 * kGB;
  v2.startup = Distribution::deterministic(20 * kSecond);
  v2.warmup = 10 * kSecond;
  c.versions[0].image_bytes = 2 * kGB;
  c.versions.push_back(v2);
  return c;
}

struct StateLog : WorldObserver {
  std::vector<std::tuple<Time, std::uint32_t, ReplicaState>> log;
  std::map<RequestStatus, std::uint64_t> status;
  std::vector<std::pair<Time, std::uint32_t>> arrivals;
  std::vector<Time> node_failures;
  std::vector<Time> crashes;
  void on_replica_crash(std::uint32_t, VersionId, std::uint32_t, Time t) override { crashes.push_back(t); }
  void on_replica_state(std::uint32_t id, VersionId, ReplicaState, ReplicaState to, Time t) override {
    log.emplace_back(t, id, to);
  }
  void on_request(const RequestRecord& r) override {
    ++status[r.status];
    if (!r.shadow) arrivals.emplace_back(r.arrival, r.user);
  }
  void on_node_state(std::uint32_t, NodeState, NodeState to, Time t) override {
    if (to == NodeState::failed) node_failures.push_back(t);
  }
  Time first(ReplicaState s, std::uint32_t id) const {
    for (const auto& [t, rid, st] : log)
      if (rid == id && st == s) return t;
    return kTimeNever;
  }
};

/// Recreate by hand: at `at`, scale v1 to zero; once it is gone, scale v2 up.
void recreate_by_hand(World& world, Time at, int replicas) {
  world.sim().call_at(at, [&world, replicas] {
    world.mark(MarkKind::release_start, "recreate");
    world.scale(0, 0);
    world.use_replica_proportional();
  });
  // Poll for v1 being gone, as a controller's watch would; 1 ms resolution.
  struct Poll {
    static void check(World& w, int n) {
      if (w.active(0) == 0 && w.count(0, ReplicaState::draining) == 0) {
        w.scale(1, n);
        return;
      }
      w.sim().call_in(kMillisecond, [&w, n] { check(w, n); });
    }
  };
  world.sim().call_at(at, [&world, replicas] { Poll::check(world, replicas); });
}

}  // namespace

TEST_CASE("world/lifecycle: a hand-driven recreate has the predicted downtime", "[world]") {
  World world(rollout_config(200));
  world.deploy_ready(0, 4);
  world.set_release(0, 1);
  StateLog log;
  world.add_observer(&log);
  OutcomeObserver outcome(world, SloSpec{}, 4);
  world.add_observer(&outcome);
  recreate_by_hand(world, 60 * kSecond, 4);
  world.run_until(5 * kMinute);
  const OutcomeMetrics m = outcome.finish();

  // 4 pulls of 2 GB share the 1 GB/s registry: all finish together after 8 s; then 20 s start, 10 s warm-up.
  const double predicted = 8 + 20 + 10;
  // Draining the old replicas takes at most the in-flight requests (ms) plus the 1 ms poll.
  CHECK(m.downtime_s >= predicted);
  CHECK(m.downtime_s < predicted + 0.2);
  CHECK(m.outcome == "promoted");
  CHECK(m.deploy_duration_s == Approx(m.downtime_s).margin(0.2));
  // Requests during the gap fail for lack of a replica: about rate x downtime of them.
  CHECK(static_cast<double>(log.status[RequestStatus::no_replica]) == Approx(200 * predicted).epsilon(0.1));
  // The new replicas went through every state at the predicted times.
  const std::uint32_t first_new = 4;
  const Time pull = log.first(ReplicaState::pulling, first_new);
  CHECK(log.first(ReplicaState::starting, first_new) - pull == 8 * kSecond);
  CHECK(log.first(ReplicaState::warming, first_new) - pull == 28 * kSecond);
  CHECK(log.first(ReplicaState::ready, first_new) - pull == 38 * kSecond);
  CHECK(world.ready(1) == 4);
  CHECK(world.ready(0) == 0);
  CHECK(world.replica(first_new).ready_since == log.first(ReplicaState::ready, first_new));
}

TEST_CASE("world/lifecycle: images cached on a node are not pulled again", "[world]") {
  World world(rollout_config(0.0001));
  world.deploy_ready(0, 2);
  world.scale(0, 0);
  world.run_until(kSecond);
  world.scale(0, 2);  // same version, same nodes: straight to Starting
  world.run_until(2 * kSecond);
  CHECK(world.count(0, ReplicaState::pulling) == 0);
  CHECK(world.ready(0) == 2);
}

TEST_CASE("world/pools: pending replicas provision nodes up to max, then wait, and empty nodes are released",
          "[world]") {
  WorldConfig c = rollout_config(0.0001, 2, 2);
  c.cluster.pools[0].max_nodes = 3;
  c.cluster.pools[0].price_per_hour = 1.0;
  c.cluster.pools[0].provision_time = Distribution::deterministic(3 * kMinute);
  c.cluster.pools[0].scale_down_delay = 10 * kMinute;
  c.cluster.autoscaler_delay = 0;  // provision as soon as a replica is pending
  World world(c);
  world.deploy_ready(0, 4);  // fills both nodes
  world.scale(1, 4);         // needs two more nodes, only one may be added
  CHECK(world.count(1, ReplicaState::pending) == 4);
  CHECK(world.nodes_in_state(NodeState::provisioning) == 1);
  world.run_until(3 * kMinute);
  CHECK(world.nodes_in_state(NodeState::ready) == 3);
  CHECK(world.count(1, ReplicaState::pending) == 2);  // two placed on the new node, two wait
  world.run_until(3 * kMinute + 37 * kSecond);
  CHECK(world.ready(1) == 2);
  world.scale(0, 0);  // frees the two original nodes: the pending v2 replicas move in
  world.run_until(4 * kMinute);
  CHECK(world.count(1, ReplicaState::pending) == 0);
  // Scale v2 down to 2: the newest ready replicas go; the emptied node is released 10 minutes later.
  world.run_until(5 * kMinute);
  world.scale(1, 2);
  // Node 1 emptied when v1 went at 3:37 and took no v2 replica (they filled node 0 first): it is released
  // 10 minutes later, which brings the pool back to its floor of two nodes.
  world.run_until(3 * kMinute + 37 * kSecond + 10 * kMinute - 1);
  CHECK(world.billed_nodes() == 3);
  world.run_until(3 * kMinute + 37 * kSecond + 10 * kMinute);
  CHECK(world.billed_nodes() == 2);
  world.run_until(16 * kMinute);
  CHECK(world.nodes_in_state(NodeState::released) == 1);
  // Cost at $1/h: nodes 0 and 2 (billed from the start of provisioning) for 16 minutes, node 1 for 13:37.
  CHECK(world.cost_so_far() == Approx((2 * 16.0 + 13.0 + 37.0 / 60) / 60.0).epsilon(1e-12));
}

TEST_CASE(
    "world/lb: random split of M/M/1 replicas matches the M/M/1 formula and JSQ-like policies do better",
    "[world]") {
  const double mu = 100, rho = 0.8;
  const int c = 4;
  std::map<LoadBalancing, double> wait;
  for (LoadBalancing lb : {LoadBalancing::random, LoadBalancing::round_robin, LoadBalancing::power_of_two,
                           LoadBalancing::least_outstanding}) {
    WorldConfig cfg = testing_support::single_queue_config(rho * c * mu, 1 / mu, 1, -1, c, 1);
    cfg.load_balancing = lb;
    World world(cfg);
    world.deploy_ready(0, c);
    struct Wait : WorldObserver {
      double sum = 0;
      std::uint64_t n = 0;
      void on_request(const RequestRecord& r) override {
        if (r.arrival < 10 * kSecond) return;
        sum += to_seconds(r.wait);
        ++n;
      }
    } w;
    world.add_observer(&w);
    world.run_until(2000 * kSecond);
    wait[lb] = w.sum / static_cast<double>(w.n);
  }
  // Poisson splitting: each replica is an M/M/1 queue at the same utilisation.
  CHECK(wait[LoadBalancing::random] == Approx(mmc_mean_wait(rho * mu, mu, 1)).epsilon(0.05));
  CHECK(wait[LoadBalancing::round_robin] < 0.75 * wait[LoadBalancing::random]);
  CHECK(wait[LoadBalancing::power_of_two] < 0.5 * wait[LoadBalancing::random]);
  CHECK(wait[LoadBalancing::least_outstanding] < wait[LoadBalancing::power_of_two]);
  // Least outstanding is join-the-shortest-queue: close to the pooled M/M/c wait and above it.
  CHECK(wait[LoadBalancing::least_outstanding] > mmc_mean_wait(rho * c * mu, mu, c));
}

TEST_CASE("world/router: weights, stickiness, match rules and mirroring", "[world]") {
  WorldConfig c = rollout_config(1000, 4, 2);
  UserPopulationConfig users;
  users.size = 10000;
  users.zipf_exponent = 0;
  users.attributes = {{"region", {{"eu", 0.3}, {"us", 0.7}}}};
  c.users = std::make_shared<const UserPopulation>(users);
  World world(c);
  world.deploy_ready(0, 4);
  world.deploy_ready(1, 4);
  world.set_release(0, 1);
  world.mark(MarkKind::release_start);

  struct Split : WorldObserver {
    std::map<std::uint32_t, std::set<VersionId>> versions_of_user;
    std::uint64_t live[2] = {0, 0}, shadow[2] = {0, 0};
    std::uint64_t eu_on_v2 = 0, eu = 0;
    void on_request(const RequestRecord& r) override {
      if (r.shadow) {
        ++shadow[r.version];
        return;
      }
      ++live[r.version];
      versions_of_user[r.user].insert(r.version);
      if (r.segment == 0) {
        ++eu;
        eu_on_v2 += r.version == 1;
      }
    }
  };

  SECTION("replica-proportional by default") {
    Split s;
    world.add_observer(&s);
    world.run_until(100 * kSecond);
    const double share = static_cast<double>(s.live[1]) / static_cast<double>(s.live[0] + s.live[1]);
    CHECK(share == Approx(0.5).margin(0.01));
    CHECK(world.traffic_share(1) == Approx(0.5));
  }
  SECTION("weights with sticky users: a user keeps its version, shadow copies are not exposure") {
    const double w[] = {90, 10};
    world.set_weights(w);
    world.set_sticky(true);
    world.set_mirror(1, 50);
    Split s;
    world.add_observer(&s);
    OutcomeObserver outcome(world, SloSpec{}, 4);
    world.add_observer(&outcome);
    world.run_until(100 * kSecond);
    const double share = static_cast<double>(s.live[1]) / static_cast<double>(s.live[0] + s.live[1]);
    CHECK(share == Approx(0.10).margin(0.01));
    for (const auto& [user, versions] : s.versions_of_user) REQUIRE(versions.size() == 1);
    // Mirror copies go to v2 only for requests that v1 serves: 50% of 90%.
    CHECK(static_cast<double>(s.shadow[1]) / static_cast<double>(s.live[0] + s.live[1]) ==
          Approx(0.45).margin(0.01));
    const OutcomeMetrics m = outcome.finish();
    CHECK(m.exposure_requests == s.live[1]);
    CHECK(m.shadow_requests == s.shadow[1]);
    CHECK(m.exposure_users == Approx(1000).epsilon(0.1));  // 10% of the users, sticky
    // Growing the weight only moves users from v1 to v2, never back.
    const double w2[] = {70, 30};
    Split s2;
    world.add_observer(&s2);
    world.set_weights(w2);
    world.run_until(200 * kSecond);
    for (const auto& [user, versions] : s.versions_of_user) {
      if (versions.count(1) && s2.versions_of_user.count(user))
        CHECK(s2.versions_of_user[user].count(0) == 0);
    }
  }
  SECTION("match rules send a segment to a version") {
    world.set_match_rules({MatchRule{0, 0, 1}});  // region eu -> v2
    const double w[] = {100, 0};
    world.set_weights(w);
    Split s;
    world.add_observer(&s);
    world.run_until(100 * kSecond);
    CHECK(s.eu_on_v2 == s.eu);
    CHECK(static_cast<double>(s.eu) / static_cast<double>(s.live[0] + s.live[1]) == Approx(0.3).margin(0.02));
    CHECK(s.live[1] == s.eu);
  }
}

TEST_CASE("world/defects: latency, errors, quality, onset after exposure and under load", "[world]") {
  WorldConfig c = rollout_config(400, 4, 2);
  c.versions[1].error_rate = 0;
  c.versions[1].defects = {
      DefectSpec{DefectSpec::Kind::error_rate, 0.2, 0,
                 DefectOnset{DefectOnset::Kind::after_exposure, 60 * kSecond, 0}},
      DefectSpec{DefectSpec::Kind::latency, 3.0, 0, DefectOnset{DefectOnset::Kind::load_above, 0, 150}}};
  World world(c);
  world.deploy_ready(0, 4);
  world.deploy_ready(1, 2);
  world.set_in_service(1, false);
  struct Onsets : WorldObserver {
    std::vector<std::pair<std::size_t, Time>> onsets;
    std::uint64_t v2 = 0, v2_errors = 0;
    void on_defect_onset(VersionId, std::size_t d, Time t) override { onsets.emplace_back(d, t); }
    void on_request(const RequestRecord& r) override {
      if (r.version == 1 && r.arrival > 200 * kSecond) {
        ++v2;
        v2_errors += r.status == RequestStatus::error;
      }
    }
  } o;
  world.add_observer(&o);
  world.run_until(100 * kSecond);
  CHECK(o.onsets.empty());        // v2 has served nothing yet
  world.set_in_service(1, true);  // 2 of 6 replicas: ~133 req/s per v2 replica, below the load threshold
  world.run_until(130 * kSecond);
  CHECK(o.onsets.empty());
  world.run_until(161 * kSecond);
  REQUIRE(o.onsets.size() == 1);
  CHECK(o.onsets[0].first == 0);
  // 60 s after the first request that v2 served, just after t = 100 s.
  CHECK(to_seconds(o.onsets[0].second) == Approx(160).margin(0.01));
  world.scale(0, 2);  // now 4 replicas: 100 req/s each, v2 load above 150/s? no: 400/4 = 100
  world.run_until(300 * kSecond);
  CHECK(o.onsets.size() == 1);
  world.scale(0, 0);  // all on v2: 200 req/s per replica, above 150
  world.run_until(400 * kSecond);
  REQUIRE(o.onsets.size() == 2);
  CHECK(o.onsets[1].first == 1);
  CHECK(world.defect_active(1));
  CHECK(static_cast<double>(o.v2_errors) / static_cast<double>(o.v2) == Approx(0.2).margin(0.02));
}

TEST_CASE("world/defects: crash loops back off exponentially and memory leaks crash after uptime",
          "[world]") {
  WorldConfig c = rollout_config(0.0001);
  c.versions[1].image_bytes = 0;
  c.versions[1].warmup = 0;
  SECTION("crash loop") {
    c.versions[1].defects = {DefectSpec{DefectSpec::Kind::crash_loop, 0, 0, {}}};
    World world(c);
    StateLog log;
    world.add_observer(&log);
    world.scale(1, 1);
    world.run_until(13 * kMinute);
    // Start 20 s, crash, back-off 10 s, start 20 s, crash, back-off 20 s, 40 s, 80 s, 160 s, then the
    // 5-minute cap: crashes at 20, 50, 90, 150, 250, 430 and 750 s.
    const std::vector<Time> expected{20 * kSecond,  50 * kSecond,  90 * kSecond, 150 * kSecond,
                                     250 * kSecond, 430 * kSecond, 750 * kSecond};
    CHECK(log.crashes == expected);
    CHECK(world.ready(1) == 0);
    CHECK(world.replica(0).restarts == 7);
  }
  SECTION("memory leak") {
    c.versions[1].defects = {DefectSpec{DefectSpec::Kind::memory_leak, 0, 5 * kMinute, {}}};
    World world(c);
    StateLog log;
    world.add_observer(&log);
    world.scale(1, 1);
    world.run_until(20 * kSecond + 5 * kMinute - 1);
    CHECK(world.ready(1) == 1);
    world.run_until(20 * kSecond + 5 * kMinute);
    CHECK(world.ready(1) == 0);  // crashed after 5 minutes of serving
    world.run_until(20 * kSecond + 5 * kMinute + 10 * kSecond + 20 * kSecond);
    CHECK(world.ready(1) == 1);  // restarted after a 10 s back-off and a 20 s start
  }
}

TEST_CASE("world/faults: a zone outage removes capacity, requests fail, repair restores it", "[world]") {
  WorldConfig c = rollout_config(100, 2, 2);
  c.cluster.pools[0].zone = "eu-1a";
  c.versions[0].startup = Distribution::deterministic(5 * kSecond);
  c.faults.zone_outages = {ZoneOutageSpec{"eu-1a", 100 * kSecond, 60 * kSecond}};
  World world(c);
  world.deploy_ready(0, 4);
  StateLog log;
  world.add_observer(&log);
  OutcomeObserver outcome(world, SloSpec{}, 4);
  world.add_observer(&outcome);
  world.run_until(130 * kSecond);
  CHECK(world.ready(0) == 0);
  CHECK(world.count(0, ReplicaState::pending) == 4);  // the ReplicaSet replaced them; nowhere to run
  world.run_until(10 * kMinute);
  CHECK(world.ready(0) == 4);
  const OutcomeMetrics m = outcome.finish();
  // 60 s outage + 5 s start on the repaired nodes (images survive on disk).
  CHECK(m.downtime_s == Approx(65).margin(1e-6));
  CHECK(log.status[RequestStatus::no_replica] > 6000);
  CHECK(m.degraded_s >= 65);
  CHECK(m.degraded_s <= 65 + 61);  // the 1-minute window keeps the bad seconds in view for up to 60 s more
}

TEST_CASE("world/faults: node failures follow MTBF/MTTR and are the same in every world of a replication",
          "[world]") {
  WorldConfig c = testing_support::single_queue_config(0.01, 0.01, 1, -1, 8, 1);
  c.faults.node_failures = NodeFailureSpec{true, kHour, Distribution::deterministic(10 * kMinute)};
  struct Downtime : WorldObserver {
    std::vector<Time> failures;
    void on_node_state(std::uint32_t, NodeState, NodeState to, Time t) override {
      if (to == NodeState::failed) failures.push_back(t);
    }
  };
  World a(c), b(c);
  a.deploy_ready(0, 8);
  b.deploy_ready(0, 2);  // a different deployment
  Downtime da, db;
  a.add_observer(&da);
  b.add_observer(&db);
  const Time horizon = 500 * kHour;
  a.run_until(horizon);
  b.run_until(horizon);
  CHECK(da.failures == db.failures);
  // Each node cycles up (mean 1 h) and down (10 min): expected failures = 8 * T / (70 min).
  const double expected = 8 * 500 * 60 / 70.0;
  CHECK(static_cast<double>(da.failures.size()) == Approx(expected).epsilon(0.05));
}

TEST_CASE("world/rewards: conversions follow quality and arrive after the label delay", "[world]") {
  WorldConfig c = rollout_config(500, 4, 2);
  c.versions[0].quality.conversion = 0.10;
  c.versions[1].quality.conversion = 0.12;
  c.label_delay = 30 * kSecond;
  World world(c);
  world.deploy_ready(0, 4);
  world.deploy_ready(1, 4);
  world.set_release(0, 1);
  struct Rewards : WorldObserver {
    std::uint64_t conv[2] = {0, 0}, served[2] = {0, 0}, ok_all[2] = {0, 0};
    Time last_delivery = 0;
    void on_reward(VersionId v, std::uint32_t, bool converted, Time t) override {
      conv[v] += converted;
      last_delivery = t;
    }
    void on_request(const RequestRecord& r) override {
      ok_all[r.version] += r.status == RequestStatus::ok;
      // Count answers whose label is due by the end of the run.
      if (r.done <= 370 * kSecond) served[r.version] += r.status == RequestStatus::ok;
    }
  } rw;
  world.add_observer(&rw);
  OutcomeObserver outcome(world, SloSpec{}, 4);
  world.add_observer(&outcome);
  world.run_until(20 * kSecond);
  CHECK(rw.conv[0] + rw.conv[1] == 0);  // nothing delivered before the delay
  world.run_until(400 * kSecond);
  CHECK(world.pending_rewards() > 0);
  CHECK(static_cast<double>(rw.conv[0]) == Approx(0.10 * static_cast<double>(rw.served[0])).epsilon(0.05));
  CHECK(static_cast<double>(rw.conv[1]) == Approx(0.12 * static_cast<double>(rw.served[1])).epsilon(0.05));
  const OutcomeMetrics m = outcome.finish();
  // Regret: half the traffic on the worse version, 0.02 expected conversions lost per such request.
  CHECK(m.regret == Approx(0.02 * static_cast<double>(rw.ok_all[0])).epsilon(1e-9));
}

TEST_CASE(
    "world/determinism: same seed gives an identical dump and common random numbers hold across strategies",
    "[world]") {
  auto run = [](std::uint64_t seed, bool release) {
    WorldConfig c = rollout_config(300, 6, 2);
    c.seed = seed;
    UserPopulationConfig users;
    users.size = 100000;
    users.zipf_exponent = 1.1;
    c.users = std::make_shared<const UserPopulation>(users);
    c.faults.node_failures = NodeFailureSpec{true, 2 * kHour, Distribution::exponential(5 * kMinute)};
    c.versions[1].defects = {
        DefectSpec{DefectSpec::Kind::latency, 2.0, 0, {DefectOnset::Kind::after_exposure, 5 * kMinute, 0}}};
    auto world = std::make_unique<World>(c);
    world->deploy_ready(0, 4);
    world->set_release(0, 1);
    StateLog log;
    world->add_observer(&log);
    OutcomeObserver outcome(*world, SloSpec{0.999, 0.99, 50 * kMillisecond, kMinute}, 4);
    world->add_observer(&outcome);
    TimeSeriesObserver series(*world, 10 * kSecond);
    world->add_observer(&series);
    if (release) recreate_by_hand(*world, 10 * kMinute, 4);
    world->run_until(kHour);
    // Requests still in flight at the end have no record yet: compare those that arrived before the last
    // minute.
    std::erase_if(log.arrivals, [](const auto& a) { return a.first >= kHour - kMinute; });
    std::sort(log.arrivals.begin(), log.arrivals.end());
    return std::make_tuple(outcome.finish().dump() + series.csv(), log.arrivals, log.node_failures);
  };
  const auto a = run(42, true);
  const auto b = run(42, true);
  CHECK(std::get<0>(a) == std::get<0>(b));
  CHECK(std::get<0>(a) != std::get<0>(run(43, true)));
  // A world without the release sees the same requests from the same users, and the same failures.
  const auto none = run(42, false);
  CHECK(std::get<0>(none) != std::get<0>(a));
  CHECK(std::get<1>(none) == std::get<1>(a));
  CHECK(std::get<2>(none) == std::get<2>(a));
}

TEST_CASE("world/threads: worlds are values and runs on several threads equal runs alone", "[world]") {
  auto run = [](std::uint64_t seed) {
    WorldConfig c = rollout_config(500, 4, 2);
    c.seed = seed;
    World world(c);
    world.deploy_ready(0, 4);
    world.set_release(0, 1);
    OutcomeObserver outcome(world, SloSpec{}, 4);
    world.add_observer(&outcome);
    recreate_by_hand(world, 60 * kSecond, 4);
    world.run_until(10 * kMinute);
    return outcome.finish().dump();
  };
  std::vector<std::string> alone, threaded(4);
  for (std::uint64_t s = 0; s < 4; ++s) alone.push_back(run(s));
  std::vector<std::thread> threads;
  for (std::uint64_t s = 0; s < 4; ++s) threads.emplace_back([&, s] { threaded[s] = run(s); });
  for (auto& t : threads) t.join();
  CHECK(alone == threaded);
}

TEST_CASE("metrics/outcome: a hand-driven canary abort gives detection, rollback and exposure figures",
          "[metrics]") {
  WorldConfig c = rollout_config(200, 8, 1);
  c.versions[1].defects = {DefectSpec{DefectSpec::Kind::error_rate, 0.5, 0,
                                      DefectOnset{DefectOnset::Kind::after_exposure, 2 * kMinute, 0}}};
  World world(c);
  world.deploy_ready(0, 7);
  world.deploy_ready(1, 1);
  world.set_release(0, 1);
  const double stable_only[] = {100, 0};
  world.set_weights(stable_only);
  OutcomeObserver outcome(world, SloSpec{0.99, 0.99, kSecond, kMinute}, 8);
  world.add_observer(&outcome);
  struct Count : WorldObserver {
    std::uint64_t v2 = 0, v2_bad = 0;
    void on_request(const RequestRecord& r) override {
      if (r.version != 1) return;
      ++v2;
      v2_bad += r.defect_active;
    }
  } count;
  world.add_observer(&count);
  world.sim().call_at(60 * kSecond, [&] {
    world.mark(MarkKind::release_start, "canary 10%");
    const double w[] = {90, 10};
    world.set_weights(w);
  });
  world.sim().call_at(210 * kSecond, [&] {
    world.mark(MarkKind::abort, "error rate above 1%");
    world.set_weights(stable_only);
    world.scale(1, 0);
    world.scale(0, 8);
  });
  world.run_until(10 * kMinute);
  const OutcomeMetrics m = outcome.finish();
  CHECK(m.outcome == "rolled_back");
  CHECK(m.time_to_detect_s == Approx(30).margin(0.5));  // onset 2 min after the first canary request
  CHECK(m.rollback_time_s == 0);                        // weights switch at once
  // The eighth stable replica lands on the canary's node, which has no v1 image: a 2 s pull.
  CHECK(m.rollback_capacity_time_s == Approx(2.0).margin(0.05));
  CHECK(m.deploy_duration_s == Approx(150).margin(0.05));
  CHECK(m.exposure_requests == count.v2);
  CHECK(m.bad_exposure_requests == count.v2_bad);
  CHECK(static_cast<double>(m.exposure_requests) == Approx(0.1 * 200 * 150).epsilon(0.1));
  CHECK(static_cast<double>(m.bad_exposure_requests) == Approx(0.1 * 200 * 30).epsilon(0.2));
  CHECK(m.downtime_s == 0);
  CHECK(m.degraded_s > 30);  // the 50% error canary at 10% pushes errors to ~5%, above the 1% budget
  CHECK(m.error_budget_used > 0);
}

TEST_CASE("world/defects: an at_start defect is reported to observers added before the run", "[world]") {
  WorldConfig c = rollout_config(10);
  c.versions[1].defects = {DefectSpec{DefectSpec::Kind::latency, 2.0, 0, {}}};
  World world(c);
  struct Onset : WorldObserver {
    int n = 0;
    void on_defect_onset(VersionId v, std::size_t, Time t) override { n += v == 1 && t == 0; }
  } o;
  world.add_observer(&o);
  world.run_until(kSecond);
  CHECK(o.n == 1);
  CHECK(world.defect_active(1));
}

TEST_CASE("world/quality: per-segment conversion and a quality-drop defect", "[world]") {
  WorldConfig c = rollout_config(1000, 4, 2);
  UserPopulationConfig users;
  users.size = 50000;
  users.attributes = {{"platform", {{"ios", 0.4}, {"android", 0.6}}}};
  c.users = std::make_shared<const UserPopulation>(users);
  c.versions[0].quality = QualitySpec{0, 0, {0.20, 0.05}};  // by platform
  c.versions[1].quality.conversion = 0.10;
  c.versions[1].defects = {
      DefectSpec{DefectSpec::Kind::quality_drop, 0.5, 0, {DefectOnset::Kind::at, 100 * kSecond, 0}}};
  World world(c);
  world.deploy_ready(0, 4);
  world.deploy_ready(1, 4);
  struct Conv : WorldObserver {
    double conv[2][2] = {{0, 0}, {0, 0}}, served[2][2] = {{0, 0}, {0, 0}};
    double v2_before = 0, v2_before_n = 0, v2_after = 0, v2_after_n = 0;
    void on_request(const RequestRecord& r) override {
      if (r.status != RequestStatus::ok) return;
      served[r.version][r.segment] += 1;
      if (r.version == 1) (r.done < 100 * kSecond ? v2_before_n : v2_after_n) += 1;
    }
    void on_reward(VersionId v, std::uint32_t, bool converted, Time t) override {
      if (v == 0) return;
      (t < 100 * kSecond ? v2_before : v2_after) += converted;
    }
  } o;
  struct Seg : WorldObserver {
    double conv[2] = {0, 0};
    const World* w;
    void on_reward(VersionId v, std::uint32_t user, bool converted, Time) override {
      if (v == 0) conv[w->config().users->segment_of(user, 0)] += converted;
    }
  } seg;
  seg.w = &world;
  world.add_observer(&o);
  world.add_observer(&seg);
  world.run_until(200 * kSecond);
  CHECK(seg.conv[0] / o.served[0][0] == Approx(0.20).epsilon(0.05));
  CHECK(seg.conv[1] / o.served[0][1] == Approx(0.05).epsilon(0.08));
  CHECK(o.v2_before / o.v2_before_n == Approx(0.10).epsilon(0.06));
  CHECK(o.v2_after / o.v2_after_n == Approx(0.05).epsilon(0.08));  // halved by the defect
}

TEST_CASE("world/timeseries: rows per version follow the traffic split and readiness", "[world]") {
  WorldConfig c = rollout_config(800, 4, 2);
  c.cluster.pools[0].price_per_hour = 3.6;  // $0.001 per node-second
  World world(c);
  world.deploy_ready(0, 4);
  world.deploy_ready(1, 2);
  const double w[] = {75, 25};
  world.set_weights(w);
  TimeSeriesObserver series(world, 10 * kSecond);
  world.add_observer(&series);
  world.run_until(60 * kSecond);
  REQUIRE(series.rows().size() == 12);  // 6 ticks x 2 versions
  for (const TimeSeriesRow& r : series.rows()) {
    CHECK(r.traffic_share == Approx(r.version == 0 ? 0.75 : 0.25).margin(0.03));
    CHECK(r.ready == (r.version == 0 ? 4 : 2));
    CHECK(r.requests > 1500);
    CHECK(r.latency_p99_s > 0.005);
    CHECK(r.latency_p99_s < 0.1);
    CHECK(r.cost == Approx(4 * 0.001 * to_seconds(r.time)).epsilon(1e-9));
  }
  CHECK(series.csv().rfind(
            "time_s,version,requests,traffic_share,ready,error_rate,latency_p99_s,cost\n10,v1,", 0) == 0);
}

TEST_CASE("world/pools: the autoscaler provisions only for replicas still pending after its scan delay",
          "[world]") {
  WorldConfig c = rollout_config(0.0001, 2, 2);
  c.cluster.pools[0].max_nodes = 4;
  c.cluster.pools[0].provision_time = Distribution::deterministic(kMinute);
  c.cluster.autoscaler_delay = 10 * kSecond;
  World world(c);
  world.deploy_ready(0, 4);
  // A replacement that finds a slot at once (the old replica drains in no time) causes no growth.
  world.scale(0, 3);
  world.scale(1, 1);
  world.run_until(30 * kSecond);
  CHECK(world.billed_nodes() == 2);
  CHECK(world.count(1, ReplicaState::pending) == 0);
  // Replicas that stay pending get nodes after the scan delay.
  world.scale(1, 3);
  world.run_until(30 * kSecond + 10 * kSecond - 1);
  CHECK(world.nodes_in_state(NodeState::provisioning) == 0);
  world.run_until(30 * kSecond + 10 * kSecond);
  CHECK(world.nodes_in_state(NodeState::provisioning) == 1);
  world.run_until(30 * kSecond + 10 * kSecond + kMinute);
  CHECK(world.count(1, ReplicaState::pending) == 0);
  CHECK(world.billed_nodes() == 3);
}
