// Tests for LatencySketch: quantiles against exact order statistics, merge/subtract, exact moments, memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>

#include "sim/core/random.hpp"
#include "sim/monitor/latency_sketch.hpp"

using namespace sim;

namespace {

// The value of rank ceil(q n) (at least 1), the definition the sketch promises to approximate.
Time exact_quantile(std::vector<Time> values, double q) {
  const auto n = static_cast<double>(values.size());
  auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * n)));
  rank = std::min(rank, values.size());
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank - 1), values.end());
  return values[rank - 1];
}

// Relative accuracy a, plus the half nanosecond the sketch may lose rounding its estimate to Time.
bool within_accuracy(Time got, Time want, double a) {
  return std::fabs(static_cast<double>(got - want)) <= a * static_cast<double>(want) + 0.5;
}

std::vector<Time> draw(std::size_t n, std::uint64_t seed, const std::function<double(Rng&)>& seconds) {
  Rng rng(seed);
  std::vector<Time> out(n);
  for (auto& v : out) v = from_seconds(seconds(rng));
  return out;
}

}  // namespace

TEST_CASE("monitor/latency_sketch: quantiles within relative accuracy of exact order statistics",
          "[monitor]") {
  boost::random::exponential_distribution<double> exponential(1.0 / 0.05);       // mean 50 ms
  boost::random::lognormal_distribution<double> lognormal(std::log(0.02), 1.0);  // median 20 ms
  boost::random::uniform_real_distribution<double> uniform(0.001, 0.1);
  struct Case {
    std::string name;
    std::vector<Time> values;
  };
  const std::vector<Case> cases{
      {"exponential", draw(300'000, 1, [&](Rng& r) { return exponential(r); })},
      {"lognormal", draw(300'000, 2, [&](Rng& r) { return lognormal(r); })},
      {"uniform", draw(200'000, 3, [&](Rng& r) { return uniform(r); })},
  };
  for (const double a : {0.01, 0.002}) {
    for (const auto& c : cases) {
      LatencySketch sketch(a);
      for (const Time v : c.values) sketch.add(v);
      REQUIRE(sketch.count() == c.values.size());
      for (const double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
        const Time want = exact_quantile(c.values, q);
        const Time got = sketch.quantile(q);
        INFO(c.name << " a=" << a << " q=" << q << " got " << got << " want " << want);
        CHECK(within_accuracy(got, want, a));
      }
    }
  }
}

TEST_CASE("monitor/latency_sketch: clusters 5% apart stay apart", "[monitor]") {
  // Buckets are about 2% wide at a = 1%, so a 5% regression in p90 must show up in the estimate.
  LatencySketch sketch;
  sketch.add(100 * kMillisecond, 900);
  sketch.add(105 * kMillisecond, 100);
  CHECK(within_accuracy(sketch.quantile(0.9), 100 * kMillisecond, 0.01));
  CHECK(within_accuracy(sketch.quantile(0.95), 105 * kMillisecond, 0.01));
  CHECK(sketch.quantile(0.9) < sketch.quantile(0.95));
}

TEST_CASE("monitor/latency_sketch: min, max and mean are exact", "[monitor]") {
  const std::vector<Time> values{3 * kMillisecond + 17, 250 * kMicrosecond + 1, 7 * kSecond + 3,
                                 42 * kMillisecond, 999};
  LatencySketch sketch;
  for (const Time v : values) sketch.add(v);
  CHECK(sketch.min() == 999);
  CHECK(sketch.max() == 7 * kSecond + 3);
  CHECK(sketch.quantile(0.0) == 999);
  CHECK(sketch.quantile(1.0) == 7 * kSecond + 3);
  Time sum = 0;
  for (const Time v : values) sum += v;
  CHECK(sketch.mean_seconds() == Approx(to_seconds(sum) / 5.0).epsilon(1e-15));

  // The running sum is 128-bit: a total far beyond INT64_MAX nanoseconds still gives the exact mean.
  LatencySketch big;
  big.add(kDay * 365, 1'000'000);
  big.add(kDay * 365 + 2, 1'000'000);
  CHECK(big.count() == 2'000'000);
  CHECK(big.mean_seconds() == to_seconds(kDay * 365 + 1));
  CHECK(big.max() == kDay * 365 + 2);
  // Above the top bucket there is no resolution left: every rank there reports the exact maximum.
  CHECK(big.quantile(0.0) == kDay * 365);
  CHECK(big.quantile(0.5) == kDay * 365 + 2);
}

TEST_CASE("monitor/latency_sketch: empty and constant sketches", "[monitor]") {
  LatencySketch empty;
  CHECK(empty.count() == 0);
  CHECK(empty.empty());
  CHECK(empty.quantile(0.0) == 0);
  CHECK(empty.quantile(0.5) == 0);
  CHECK(empty.quantile(1.0) == 0);
  CHECK(empty.mean_seconds() == 0.0);
  CHECK(empty.min() == 0);
  CHECK(empty.max() == 0);
  CHECK(empty.count_above(0) == 0);

  // Every quantile of a constant is the constant exactly (the estimate is clamped to [min, max]).
  LatencySketch constant;
  constant.add(12345 * kMicrosecond, 1000);
  for (const double q : {0.0, 0.1, 0.5, 0.99, 1.0}) CHECK(constant.quantile(q) == 12345 * kMicrosecond);
  CHECK(constant.mean_seconds() == Approx(12.345e-3).epsilon(1e-15));

  // Values below the covered range (here zero and 400 ns) go to the low bucket, reported as the minimum.
  LatencySketch tiny;
  tiny.add(0, 10);
  tiny.add(400, 10);
  tiny.add(5 * kMillisecond);
  CHECK(tiny.quantile(0.5) == 0);
  CHECK(tiny.quantile(1.0) == 5 * kMillisecond);
  CHECK(tiny.count_above(-1) == 21);
  CHECK(tiny.count_above(kMillisecond) == 1);

  CHECK_THROWS_AS(constant.add(-1), std::invalid_argument);
  CHECK_THROWS_AS(constant.quantile(1.5), std::invalid_argument);
  CHECK_THROWS_AS(constant.quantile(-0.1), std::invalid_argument);
  CHECK_THROWS_AS(constant.quantile(std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(LatencySketch(0.0), std::invalid_argument);
  CHECK_THROWS_AS(LatencySketch(1.0), std::invalid_argument);
}

TEST_CASE("monitor/latency_sketch: merge equals adding everything and subtract restores", "[monitor]") {
  boost::random::lognormal_distribution<double> lognormal(std::log(0.03), 0.8);
  const std::vector<Time> first = draw(50'000, 11, [&](Rng& r) { return lognormal(r); });
  const std::vector<Time> second = draw(70'000, 12, [&](Rng& r) { return lognormal(r) * 3.0; });

  LatencySketch a, b, all;
  for (const Time v : first) a.add(v);
  for (const Time v : second) b.add(v);
  for (const Time v : first) all.add(v);
  for (const Time v : second) all.add(v);

  LatencySketch merged = a;
  merged.merge(b);
  CHECK(merged.count() == all.count());
  CHECK(merged.min() == all.min());
  CHECK(merged.max() == all.max());
  CHECK(merged.mean_seconds() == all.mean_seconds());
  for (double q = 0.0; q <= 1.0; q += 0.01) CHECK(merged.quantile(q) == all.quantile(q));
  for (const Time t : {Time{0}, 10 * kMillisecond, 100 * kMillisecond, kSecond})
    CHECK(merged.count_above(t) == all.count_above(t));

  // Merging into an empty sketch copies; merging an empty one changes nothing.
  LatencySketch from_empty;
  from_empty.merge(a);
  from_empty.merge(LatencySketch{});
  CHECK(from_empty.min() == a.min());
  CHECK(from_empty.quantile(0.5) == a.quantile(0.5));

  // Sliding window: remove b again. Counts, sum and interior quantiles come back exactly; min and max
  // are no longer known exactly but stay within the accuracy bound.
  merged.subtract(b);
  CHECK(merged.count() == a.count());
  CHECK(merged.mean_seconds() == Approx(a.mean_seconds()).epsilon(1e-12));
  for (double q = 0.01; q < 0.995; q += 0.01) CHECK(merged.quantile(q) == a.quantile(q));
  CHECK(within_accuracy(merged.min(), a.min(), 0.01));
  CHECK(within_accuracy(merged.max(), a.max(), 0.01));
  CHECK(within_accuracy(merged.quantile(1.0), a.max(), 0.01));
  merged.subtract(a);
  CHECK(merged.empty());
  CHECK(merged.quantile(0.5) == 0);
  CHECK(merged.mean_seconds() == 0.0);

  // Subtracting what was never added is refused and leaves the sketch untouched.
  LatencySketch small;
  small.add(kMillisecond);
  CHECK_THROWS_AS(small.subtract(a), std::invalid_argument);
  CHECK(small.count() == 1);
  CHECK(small.quantile(0.5) == kMillisecond);
  CHECK_THROWS_AS(small.merge(LatencySketch(0.02)), std::invalid_argument);

  merged = a;
  merged.clear();
  CHECK(merged.empty());
  CHECK(merged.max() == 0);
}

TEST_CASE("monitor/latency_sketch: count_above never overcounts and misses only the threshold's bucket",
          "[monitor]") {
  boost::random::exponential_distribution<double> exponential(1.0 / 0.05);
  const std::vector<Time> values = draw(100'000, 21, [&](Rng& r) { return exponential(r); });
  LatencySketch sketch;
  for (const Time v : values) sketch.add(v);
  const double gamma = 1.01 / 0.99;
  for (const Time t : {kMillisecond, 20 * kMillisecond, 50 * kMillisecond, 200 * kMillisecond}) {
    const auto above = static_cast<std::uint64_t>(
        std::count_if(values.begin(), values.end(), [&](Time v) { return v > t; }));
    const auto near = static_cast<std::uint64_t>(std::count_if(values.begin(), values.end(), [&](Time v) {
      return v > t && static_cast<double>(v) < static_cast<double>(t) * gamma;
    }));
    const std::uint64_t got = sketch.count_above(t);
    INFO("threshold " << t << " got " << got << " exact " << above);
    CHECK(got <= above);
    CHECK(got + near >= above);
  }
  CHECK(sketch.count_above(sketch.max()) == 0);
  CHECK(sketch.count_above(sketch.min() - 1) == values.size());
}

TEST_CASE("monitor/latency_sketch: memory does not depend on the number of values", "[monitor]") {
  LatencySketch sketch;
  const std::size_t before = sketch.bytes();
  CHECK(before < 16 * 1024);  // about 1150 buckets at 1%: 1 us .. 1e4 s
  for (Time i = 0; i < 1'000'000; ++i) sketch.add(kMicrosecond + i * 37'003);
  sketch.add(kTimeNever);
  CHECK(sketch.bytes() == before);
  LatencySketch other;
  other.merge(sketch);
  CHECK(other.bytes() == before);
}
