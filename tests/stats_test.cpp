// Tests for RunningStats, Student-t intervals and batch means.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <vector>

#include <boost/random/normal_distribution.hpp>

#include "sim/core/random.hpp"
#include "sim/monitor/stats.hpp"

using namespace sim;

TEST_CASE("monitor/stats: RunningStats matches two-pass formulas and merges", "[monitor]") {
  const std::vector<double> data{2.5, -1.0, 4.0, 4.0, 10.25, 0.0, 3.5};
  RunningStats all;
  for (const double x : data) all.add(x);
  double sum = 0.0;
  for (const double x : data) sum += x;
  const double mean = sum / 7.0;
  double ss = 0.0;
  for (const double x : data) ss += (x - mean) * (x - mean);
  CHECK(all.count() == 7);
  CHECK(all.mean() == Approx(mean).epsilon(1e-14));
  CHECK(all.variance() == Approx(ss / 6.0).epsilon(1e-14));
  CHECK(all.stddev() == Approx(std::sqrt(ss / 6.0)).epsilon(1e-14));
  CHECK(all.min() == -1.0);
  CHECK(all.max() == 10.25);

  RunningStats left, right;
  for (std::size_t i = 0; i < 3; ++i) left.add(data[i]);
  for (std::size_t i = 3; i < data.size(); ++i) right.add(data[i]);
  left.merge(right);
  CHECK(left.count() == 7);
  CHECK(left.mean() == Approx(all.mean()).epsilon(1e-14));
  CHECK(left.variance() == Approx(all.variance()).epsilon(1e-14));
  CHECK(left.min() == -1.0);
  CHECK(left.max() == 10.25);

  RunningStats empty;
  CHECK(empty.count() == 0);
  CHECK(empty.mean() == 0.0);
  CHECK(empty.variance() == 0.0);
  empty.merge(all);
  CHECK(empty.variance() == Approx(all.variance()).epsilon(1e-14));

  // Welford keeps precision where the naive sum of squares cancels catastrophically.
  RunningStats offset;
  for (const double x : {1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0}) offset.add(x);
  CHECK(offset.variance() == Approx(30.0).epsilon(1e-9));
}

TEST_CASE("monitor/stats: mean_ci equals the hand-computed t interval", "[monitor]") {
  // 1..10: mean 5.5, s^2 = 82.5 / 9, t_{0.975, 9} = 2.262157 (tables).
  std::vector<double> data;
  for (int i = 1; i <= 10; ++i) data.push_back(i);
  const ConfidenceInterval ci = mean_ci(data);
  const double half = 2.262157 * std::sqrt(82.5 / 9.0) / std::sqrt(10.0);
  CHECK(ci.n == 10);
  CHECK(ci.mean == Approx(5.5));
  CHECK(ci.half_width == Approx(half).epsilon(1e-6));
  CHECK(ci.lower == Approx(5.5 - half).epsilon(1e-6));
  CHECK(ci.upper == Approx(5.5 + half).epsilon(1e-6));

  // 99% with t_{0.995, 4} = 4.604095 on {1, 2, 3, 4, 10}: mean 4, s^2 = 12.5.
  const ConfidenceInterval ci99 = mean_ci({1.0, 2.0, 3.0, 4.0, 10.0}, 0.99);
  CHECK(ci99.half_width == Approx(4.604095 * std::sqrt(12.5 / 5.0)).epsilon(1e-6));

  CHECK(mean_ci({3.0, 3.0, 3.0}).half_width == 0.0);
  CHECK_THROWS_AS(mean_ci({1.0}), std::invalid_argument);
  CHECK_THROWS_AS(mean_ci(data, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(mean_ci(data, 0.0), std::invalid_argument);
}

TEST_CASE("monitor/stats: 95% intervals cover the true mean about 95% of the time", "[monitor]") {
  Rng rng(2024);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  const int trials = 2000;
  int covered_small = 0, covered_large = 0;
  for (int t = 0; t < trials; ++t) {
    // n = 5 is where a normal-quantile interval (1.96) would cover only about 88%.
    std::vector<double> small(5), large(40);
    for (auto& x : small) x = normal(rng);
    for (auto& x : large) x = normal(rng);
    const ConfidenceInterval a = mean_ci(small), b = mean_ci(large);
    if (a.lower <= 0.0 && 0.0 <= a.upper) ++covered_small;
    if (b.lower <= 0.0 && 0.0 <= b.upper) ++covered_large;
  }
  // Binomial standard error at 2000 trials is 0.0049; allow four of them.
  CHECK(covered_small / double(trials) == Approx(0.95).margin(0.02));
  CHECK(covered_large / double(trials) == Approx(0.95).margin(0.02));
}

TEST_CASE("monitor/stats: streaming BatchMeans equals batch_means_ci", "[monitor]") {
  // An AR(1) series, where batching matters: the naive interval is far too narrow.
  Rng rng(7);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> series(30'000 + 17);
  double x = 0.0;
  for (auto& v : series) v = x = 0.9 * x + normal(rng);

  const ConfidenceInterval batch = batch_means_ci(series, 30);
  CHECK(batch.n == 30);

  BatchMeans streaming(1000);
  for (std::size_t i = 0; i < 30'000; ++i) streaming.add(series[i]);
  CHECK(streaming.completed_batches() == 30);
  CHECK(streaming.pending() == 0);
  const ConfidenceInterval s = streaming.ci();
  CHECK(s.n == 30);
  CHECK(s.mean == batch.mean);
  CHECK(s.half_width == batch.half_width);

  // Independently: the t interval of the hand-computed batch means (the 17 leftovers are ignored).
  std::vector<double> means;
  for (std::size_t b = 0; b < 30; ++b) {
    double sum = 0.0;
    for (std::size_t i = 0; i < 1000; ++i) sum += series[b * 1000 + i];
    means.push_back(sum / 1000.0);
  }
  const ConfidenceInterval direct = mean_ci(means);
  CHECK(batch.mean == Approx(direct.mean).epsilon(1e-12));
  CHECK(batch.half_width == Approx(direct.half_width).epsilon(1e-12));

  // With lag-1 correlation 0.9 the variance of a mean is ~19x the iid one: batching must widen the CI.
  const ConfidenceInterval naive = mean_ci(std::vector<double>(series.begin(), series.begin() + 30'000));
  CHECK(batch.half_width > 3.0 * naive.half_width);

  // A partial batch is held back and does not enter the interval.
  for (int i = 0; i < 999; ++i) streaming.add(1e6);
  CHECK(streaming.completed_batches() == 30);
  CHECK(streaming.pending() == 999);
  CHECK(streaming.ci().mean == s.mean);
  streaming.add(1e6);
  CHECK(streaming.completed_batches() == 31);
  CHECK(streaming.batch_stats().max() == 1e6);

  streaming.clear();
  CHECK(streaming.completed_batches() == 0);
  CHECK_THROWS_AS(streaming.ci(), std::invalid_argument);
  CHECK_THROWS_AS(BatchMeans(0), std::invalid_argument);
  CHECK_THROWS_AS(batch_means_ci(series, 1), std::invalid_argument);
  CHECK_THROWS_AS(batch_means_ci({1.0, 2.0}, 3), std::invalid_argument);
}
