// Tests for MetricCollector: cursor windows, live and shadow traffic, rewards, bucket series, and a world.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/monitor/metric_window.hpp"
#include "tests/world_fixture.hpp"

using namespace sim;

namespace {

RequestRecord request(VersionId v, Time done, Time latency, bool ok = true, bool shadow = false) {
  RequestRecord r;
  r.version = v;
  r.arrival = done - latency;
  r.done = done;
  r.latency = latency;
  r.status = ok ? RequestStatus::ok : RequestStatus::error;
  r.shadow = shadow;
  return r;
}

}  // namespace

TEST_CASE("monitor/metric_window: metric names round-trip and values format for reasons", "[monitor]") {
  for (std::size_t i = 0; i < kMetricCount; ++i) {
    const auto m = static_cast<Metric>(i);
    CHECK(parse_metric(to_string(m)) == m);
  }
  try {
    parse_metric("p99");
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("'p99'") != std::string::npos);
    CHECK(std::string(e.what()).find("latency_p99") != std::string::npos);
  }
  CHECK(is_latency(Metric::latency_p999));
  CHECK_FALSE(is_latency(Metric::error_rate));
  CHECK(format_metric_value(Metric::error_rate, 0.032) == "3.2%");
  CHECK(format_metric_value(Metric::latency_p99, 0.412) == "412ms");
  CHECK(format_metric_value(Metric::request_rate, 1.8) == "1.8/s");
  CHECK(format_metric_value(Metric::conversion_rate, std::nan("")) == "n/a");
}

TEST_CASE("monitor/metric_window: cursors read the interval since their own last measurement", "[monitor]") {
  MetricCollector c(2);
  WindowCursor fast = c.cursor(1, 0);
  WindowCursor slow = c.cursor(1, 0);
  // 0-10 s: 100 requests of v2 at 10..109 ms, every tenth an error; v1 traffic must not show.
  for (int i = 0; i < 100; ++i)
    c.on_request(request(1, i * 100 * kMillisecond, (10 + i) * kMillisecond, i % 10 != 0));
  for (int i = 0; i < 50; ++i) c.on_request(request(0, i * 200 * kMillisecond, 5 * kMillisecond, false));
  const WindowStats& w1 = c.advance(fast, 10 * kSecond);
  CHECK(w1.start == 0);
  CHECK(w1.end == 10 * kSecond);
  CHECK(w1.requests == 100);
  CHECK(w1.errors == 10);
  CHECK(w1.value(Metric::error_rate) == Approx(0.10));
  CHECK(w1.value(Metric::success_rate) == Approx(0.90));
  CHECK(w1.value(Metric::request_rate) == Approx(10.0));
  // p99 of 10..109 ms is the 99th value, 108 ms, within the sketch's 1%.
  CHECK(w1.value(Metric::latency_p99) == Approx(0.108).epsilon(0.011));
  CHECK(w1.value(Metric::latency_p50) == Approx(0.059).epsilon(0.011));
  CHECK(w1.value(Metric::latency_mean) == Approx(0.0595).epsilon(1e-9));
  CHECK(std::isnan(w1.value(Metric::conversion_rate)));
  CHECK(fast.since() == 10 * kSecond);

  // 10-20 s: 20 slow requests (500 ms), no errors.
  for (int i = 0; i < 20; ++i)
    c.on_request(request(1, 10 * kSecond + i * 500 * kMillisecond, 500 * kMillisecond));
  const WindowStats& w2 = c.advance(fast, 20 * kSecond);
  CHECK(w2.requests == 20);
  CHECK(w2.errors == 0);
  CHECK(w2.value(Metric::latency_p50) == Approx(0.5).epsilon(0.011));
  CHECK(w2.value(Metric::latency_mean) == Approx(0.5).epsilon(1e-9));

  // The slow cursor sees both intervals at once; the totals are unchanged by reading.
  const WindowStats& all = c.advance(slow, 20 * kSecond);
  CHECK(all.requests == 120);
  CHECK(all.errors == 10);
  CHECK(all.value(Metric::latency_p50) == Approx(0.069).epsilon(0.011));  // 60th of 120: 10 + 59 ms
  CHECK(c.requests(1) == 120);
  CHECK(c.errors(0) == 50);

  // An empty window has no values except a zero request rate.
  const WindowStats& empty = c.advance(fast, 30 * kSecond);
  CHECK(empty.requests == 0);
  CHECK(empty.value(Metric::request_rate) == 0.0);
  CHECK(std::isnan(empty.value(Metric::error_rate)));
  CHECK(std::isnan(empty.value(Metric::latency_p99)));
  CHECK_THROWS_AS(c.cursor(2, 0), std::out_of_range);
}

TEST_CASE("monitor/metric_window: shadow traffic and rewards are kept apart", "[monitor]") {
  MetricCollector c(2);
  WindowCursor live = c.cursor(1, 0);
  WindowCursor shadow = c.cursor(1, 0, Traffic::shadow);
  for (int i = 0; i < 30; ++i) c.on_request(request(1, i * kSecond, 20 * kMillisecond, true, false));
  for (int i = 0; i < 70; ++i) c.on_request(request(1, i * kSecond, 40 * kMillisecond, i % 2 == 0, true));
  for (int i = 0; i < 40; ++i) c.on_reward(1, 7, i % 4 == 0, i * kSecond);
  const WindowStats& l = c.advance(live, 100 * kSecond);
  const WindowStats& s = c.advance(shadow, 100 * kSecond);
  CHECK(l.requests == 30);
  CHECK(l.errors == 0);
  CHECK(l.labels == 40);
  CHECK(l.conversions == 10);
  CHECK(l.value(Metric::conversion_rate) == Approx(0.25));
  CHECK(l.samples(Metric::conversion_rate) == 40);
  CHECK(s.requests == 70);
  CHECK(s.errors == 35);
  CHECK(s.labels == 0);
  CHECK(s.traffic == Traffic::shadow);
  CHECK(s.value(Metric::latency_p50) == Approx(0.04).epsilon(0.011));
}

TEST_CASE("monitor/metric_window: bucket series skip empty buckets, close on query and expire", "[monitor]") {
  CollectorOptions options;
  options.bucket = 10 * kSecond;
  options.retention = kMinute;
  MetricCollector c(1, options);
  std::vector<double> out;
  // Buckets [0,10): 10 requests at 10 ms, 2 errors; [10,20): none; [20,30): 5 requests at 100 ms.
  for (int i = 0; i < 10; ++i) c.on_request(request(0, i * kSecond, 10 * kMillisecond, i >= 2));
  for (int i = 0; i < 5; ++i) c.on_request(request(0, 20 * kSecond + i * kSecond, 100 * kMillisecond));
  c.series(0, Metric::error_rate, 0, 25 * kSecond, out);
  REQUIRE(out.size() == 1);  // [20,30) has not ended by 25 s
  CHECK(out[0] == Approx(0.2));
  c.series(0, Metric::latency_p50, 0, 30 * kSecond, out);
  REQUIRE(out.size() == 2);  // ended by 30 s: closed by the query although no request came since
  CHECK(out[0] == Approx(0.010).epsilon(0.011));
  CHECK(out[1] == Approx(0.100).epsilon(0.011));
  c.series(0, Metric::request_rate, 0, 30 * kSecond, out);
  REQUIRE(out.size() == 2);
  CHECK(out[0] == Approx(1.0));
  CHECK(out[1] == Approx(0.5));
  c.series(0, Metric::error_rate, 10 * kSecond, 30 * kSecond, out);  // (10, 30]: only the second bucket
  REQUIRE(out.size() == 1);
  CHECK(out[0] == 0.0);
  c.series(0, Metric::conversion_rate, 0, 30 * kSecond, out);
  CHECK(out.empty());  // no labels, no points

  // One request per 10 s for 5 minutes: only the last minute of buckets is retained.
  for (int i = 3; i < 33; ++i) c.on_request(request(0, i * 10 * kSecond + kSecond, 10 * kMillisecond));
  c.series(0, Metric::request_rate, 0, 330 * kSecond, out);
  CHECK(out.size() == 6);

  options.retention = 5 * kSecond;  // shorter than a bucket
  CHECK_THROWS_AS(MetricCollector(1, options), std::invalid_argument);
  MetricCollector no_series(1, CollectorOptions{0, 0, 0.01});
  no_series.on_request(request(0, kSecond, kMillisecond));
  no_series.series(0, Metric::request_rate, 0, kMinute, out);
  CHECK(out.empty());
}

TEST_CASE("monitor/metric_window: in a world the collector counts what the world serves", "[monitor]") {
  WorldConfig config = testing_support::single_queue_config(200, 0.01, 4, 64, 4, 1);
  config.versions[0].error_rate = 0.05;
  ModelVersionSpec v2 = config.versions[0];
  v2.name = "v2";
  v2.error_rate = 0;
  config.versions.push_back(v2);
  World world(config);
  world.deploy_ready(0, 2);
  world.deploy_ready(1, 2);
  const double w[] = {80, 20};
  world.set_weights(w);
  world.set_mirror(1, 50);
  MetricCollector collector(world.version_count());
  world.add_observer(&collector);
  struct Count : WorldObserver {
    std::uint64_t live[2] = {0, 0}, shadow[2] = {0, 0}, errors[2] = {0, 0};
    void on_request(const RequestRecord& r) override {
      (r.shadow ? shadow : live)[r.version] += 1;
      if (!r.shadow) errors[r.version] += r.status != RequestStatus::ok;
    }
  } count;
  world.add_observer(&count);
  WindowCursor cursor = collector.cursor(0, 0);
  world.run_until(60 * kSecond);
  const WindowStats& v1 = collector.advance(cursor, world.now());
  CHECK(v1.requests == count.live[0]);
  CHECK(v1.errors == count.errors[0]);
  CHECK(v1.value(Metric::error_rate) == Approx(0.05).margin(0.01));
  CHECK(collector.requests(1) == count.live[1]);
  CHECK(collector.requests(1, Traffic::shadow) == count.shadow[1]);
  CHECK(static_cast<double>(count.shadow[1]) ==
        Approx(0.5 * static_cast<double>(count.live[0])).epsilon(0.05));
}

TEST_CASE("monitor/metric_window: several mirrors, a route hook, and labels of mirrored answers",
          "[monitor]") {
  WorldConfig config = testing_support::single_queue_config(400, 0.002, 8, 64, 6, 1);
  config.versions[0].quality.conversion = 0.10;
  ModelVersionSpec v2 = config.versions[0];
  v2.name = "v2";
  v2.quality.conversion = 0.30;
  ModelVersionSpec v3 = config.versions[0];
  v3.name = "v3";
  v3.quality.conversion = 0.05;
  config.versions.push_back(v2);
  config.versions.push_back(v3);
  config.label_delay = 5 * kSecond;
  UserPopulationConfig users;
  users.size = 1000;
  config.users = std::make_shared<const UserPopulation>(users);
  World world(config);
  for (VersionId v = 0; v < 3; ++v) world.deploy_ready(v, 2);
  world.set_release(0, 1);
  const double w[] = {100, 0, 0};
  world.set_weights(w);
  world.set_mirror(1, 100);
  world.set_mirror(2, 25);
  // Users below 100 always go to v3 (a flag's targeting), the rest follow the weights.
  struct EvenToV3 : RouteHook {
    VersionId route(std::uint32_t user, std::span<const std::uint8_t>) override {
      return user < 100 ? VersionId{2} : kNoVersion;
    }
  } hook;
  world.set_route_hook(&hook);
  MetricCollector collector(world.version_count());
  world.add_observer(&collector);
  struct Count : WorldObserver {
    std::uint64_t live[3] = {0, 0, 0}, shadow[3] = {0, 0, 0}, hooked_wrong = 0, rewards[3] = {0, 0, 0};
    void on_request(const RequestRecord& r) override {
      if (r.arrival >= 100 * kSecond) return;  // all of these are done by the end
      (r.shadow ? shadow : live)[r.version] += 1;
      if (!r.shadow && (r.user < 100) != (r.version == 2)) ++hooked_wrong;
    }
    void on_reward(VersionId v, std::uint32_t, bool, Time) override { ++rewards[v]; }
  } count;
  world.add_observer(&count);
  WindowCursor shadow_v2 = collector.cursor(1, 0, Traffic::shadow);
  WindowCursor shadow_v3 = collector.cursor(2, 0, Traffic::shadow);
  WindowCursor live_v1 = collector.cursor(0, 0);
  world.run_until(120 * kSecond);
  world.flush_rewards();

  CHECK(count.hooked_wrong == 0);
  CHECK(count.live[1] == 0);
  const double live = static_cast<double>(count.live[0] + count.live[2]);
  CHECK(static_cast<double>(count.live[2]) / live == Approx(0.1).margin(0.02));
  // Every request has a copy on v2; v3 gets a quarter of the requests it does not serve itself.
  CHECK(count.shadow[1] == count.live[0] + count.live[2]);
  CHECK(static_cast<double>(count.shadow[2]) ==
        Approx(0.25 * static_cast<double>(count.live[0])).epsilon(0.05));
  // Mirrored answers bring labels drawn with the shadow's own quality, never rewards.
  CHECK(count.rewards[1] == 0);
  const double q2 = collector.advance(shadow_v2, world.now()).value(Metric::conversion_rate);
  const double q3 = collector.advance(shadow_v3, world.now()).value(Metric::conversion_rate);
  const double q1 = collector.advance(live_v1, world.now()).value(Metric::conversion_rate);
  CHECK(q2 == Approx(0.30).margin(0.01));
  CHECK(q3 == Approx(0.05).margin(0.01));
  CHECK(q1 == Approx(0.10).margin(0.01));

  SECTION("clearing mirrors and the hook") {
    world.clear_mirror();
    world.set_route_hook(nullptr);
    struct Late : WorldObserver {
      std::uint64_t shadow = 0, v3 = 0;
      void on_request(const RequestRecord& r) override {
        if (r.arrival < 120 * kSecond) return;
        shadow += r.shadow;
        v3 += r.version == 2;
      }
    } late;
    world.add_observer(&late);
    world.run_until(150 * kSecond);
    CHECK(late.shadow == 0);
    CHECK(late.v3 == 0);
    CHECK(world.router().mirrors().empty());
  }
}
