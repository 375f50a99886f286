// Tests for duration distributions: sample moments against the closed forms, quantile parameterisation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/core/distribution.hpp"

using namespace sim;

namespace {

struct Moments {
  double mean, scv;
};

Moments sample_moments(const Distribution& d, int n, std::uint64_t seed) {
  Rng rng(seed);
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = to_seconds(d.sample(rng));
    s += x;
    s2 += x * x;
  }
  const double m = s / n;
  return {m, (s2 / n - m * m) / (m * m)};
}

}  // namespace

TEST_CASE("core/distribution: sample mean and scv match the closed forms", "[core]") {
  const Time ms20 = 20 * kMillisecond;
  const Distribution cases[] = {
      Distribution::deterministic(ms20),
      Distribution::exponential(ms20),
      Distribution::lognormal(ms20, 0.6),
      Distribution::gamma(ms20, 0.5),
      Distribution::uniform(10 * kMillisecond, 30 * kMillisecond),
      Distribution::empirical({10 * kMillisecond, 20 * kMillisecond, 60 * kMillisecond})};
  for (const Distribution& d : cases) {
    INFO(d.describe());
    const Moments m = sample_moments(d, 400000, 7);
    CHECK(m.mean == Approx(d.mean_seconds()).epsilon(0.01));
    CHECK(m.scv == Approx(d.scv()).margin(0.02).epsilon(0.03));
  }
  CHECK(Distribution::exponential(ms20).scv() == 1);
  CHECK(Distribution::lognormal(ms20, 0.6).scv() == Approx(0.36));
  CHECK(Distribution::gamma(ms20, 0.5).scv() == Approx(0.25));
  CHECK(Distribution::lognormal(ms20, 0.6).mean_seconds() == Approx(0.020));
}

TEST_CASE("core/distribution: lognormal by median and p95 has those quantiles", "[core]") {
  const Distribution d = Distribution::lognormal_quantiles(3 * kMinute, 6 * kMinute);
  Rng rng(3);
  std::vector<Time> v(200000);
  for (Time& x : v) x = d.sample(rng);
  std::sort(v.begin(), v.end());
  CHECK(to_seconds(v[v.size() / 2]) == Approx(180).epsilon(0.01));
  CHECK(to_seconds(v[v.size() * 95 / 100]) == Approx(360).epsilon(0.01));
  CHECK(Distribution::lognormal_quantiles(kSecond, kSecond).kind() == Distribution::Kind::deterministic);
}

TEST_CASE("core/distribution: invalid parameters are rejected with the reason", "[core]") {
  CHECK_THROWS_WITH(Distribution::exponential(0), Catch::Contains("mean must be > 0"));
  CHECK_THROWS_WITH(Distribution::lognormal(kSecond, 0), Catch::Contains("cv must be > 0"));
  CHECK_THROWS_WITH(Distribution::lognormal_quantiles(2 * kSecond, kSecond),
                    Catch::Contains("p95 must be >= median"));
  CHECK_THROWS_WITH(Distribution::uniform(2 * kSecond, kSecond), Catch::Contains("min <= max"));
  CHECK_THROWS_WITH(Distribution::empirical({}), Catch::Contains("at least one value"));
  CHECK_THROWS_WITH(Distribution::deterministic(-1), Catch::Contains(">= 0"));
}
