// Tests for the Mann-Whitney U test and the Hodges-Lehmann interval against brute force and known values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <vector>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>

#include "sim/core/random.hpp"
#include "sim/monitor/mann_whitney.hpp"

using namespace sim;

namespace {

// U of x by counting pairs, independent of the ranking code.
double brute_force_u(const std::vector<double>& x, const std::vector<double>& y) {
  double u = 0;
  for (double a : x)
    for (double b : y) u += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
  return u;
}

// Exact tail probabilities by enumerating every way to split ranks 1..m+n into x and y.
struct Enumerated {
  double le = 0;  // P(U <= u)
  double ge = 0;  // P(U >= u)
};
Enumerated enumerate_u(std::size_t m, std::size_t n, double u_obs) {
  const std::size_t total = m + n;
  std::uint64_t all = 0, le = 0, ge = 0;
  for (std::uint32_t mask = 0; mask < (1u << total); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != m) continue;
    // Rank r belongs to x when bit r is set; U = sum over x of the y's below it.
    double u = 0;
    std::size_t ys_below = 0;
    for (std::size_t r = 0; r < total; ++r) {
      if (mask & (1u << r))
        u += static_cast<double>(ys_below);
      else
        ++ys_below;
    }
    ++all;
    le += u <= u_obs;
    ge += u >= u_obs;
  }
  return {static_cast<double>(le) / static_cast<double>(all),
          static_cast<double>(ge) / static_cast<double>(all)};
}

double normal_upper(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("monitor/mann_whitney: U equals the pair count, with ties, and U_x + U_y = m n", "[monitor]") {
  Rng rng(7);
  boost::random::uniform_int_distribution<int> value(0, 9);
  for (int rep = 0; rep < 50; ++rep) {
    std::vector<double> x(3 + static_cast<std::size_t>(rep % 17)), y(2 + static_cast<std::size_t>(rep % 23));
    for (double& v : x) v = value(rng);
    for (double& v : y) v = value(rng);
    const MannWhitneyResult r = mann_whitney(x, y);
    CHECK(r.u == brute_force_u(x, y));
    CHECK(r.u + mann_whitney(y, x).u == Approx(static_cast<double>(x.size() * y.size())));
    CHECK(r.n_x == x.size());
    CHECK(r.n_y == y.size());
  }
}

TEST_CASE("monitor/mann_whitney: known small examples", "[monitor]") {
  // Complete separation of three against three: U = 0; exactly one of the C(6,3) = 20 splits is this
  // extreme, so the two-sided p is 2/20 (R: wilcox.test(c(1,2,3), c(4,5,6)) gives W = 0, p = 0.1).
  const std::vector<double> x = {1, 2, 3};
  const std::vector<double> y = {4, 5, 6};
  MannWhitneyResult r = mann_whitney(x, y);
  CHECK(r.exact);
  CHECK(r.u == 0);
  CHECK(r.p_value == Approx(0.1));
  CHECK(mann_whitney(x, y, Alternative::less).p_value == Approx(0.05));
  CHECK(mann_whitney(x, y, Alternative::greater).p_value == Approx(1.0));
  // Five against five, all x above all y: one split in C(10,5) = 252.
  const std::vector<double> hi = {6, 7, 8, 9, 10};
  const std::vector<double> lo = {1, 2, 3, 4, 5};
  r = mann_whitney(hi, lo, Alternative::greater);
  CHECK(r.u == 25);
  CHECK(r.p_value == Approx(1.0 / 252.0));

  // The null distribution of U for m = n = 2 is the Gaussian binomial [4 choose 2]: 1 1 2 1 1 over 6.
  CHECK(mann_whitney_cdf(0, 2, 2) == Approx(1.0 / 6));
  CHECK(mann_whitney_cdf(1, 2, 2) == Approx(2.0 / 6));
  CHECK(mann_whitney_cdf(2, 2, 2) == Approx(4.0 / 6));
  CHECK(mann_whitney_cdf(3, 2, 2) == Approx(5.0 / 6));
  CHECK(mann_whitney_cdf(4, 2, 2) == Approx(1.0));
  CHECK(mann_whitney_cdf(-1, 2, 2) == 0.0);
}

TEST_CASE("monitor/mann_whitney: exact p-values match enumeration of all rank splits", "[monitor]") {
  Rng rng(11);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t m = 1; m <= 6; ++m) {
    for (std::size_t n = 1; n <= 7; ++n) {
      std::vector<double> x(m), y(n);
      for (double& v : x) v = normal(rng) + 0.7;
      for (double& v : y) v = normal(rng);
      const double u = brute_force_u(x, y);
      const Enumerated e = enumerate_u(m, n, u);
      const MannWhitneyResult greater = mann_whitney(x, y, Alternative::greater);
      const MannWhitneyResult less = mann_whitney(x, y, Alternative::less);
      const MannWhitneyResult two = mann_whitney(x, y, Alternative::two_sided);
      REQUIRE(greater.exact);
      CHECK(greater.p_value == Approx(e.ge));
      CHECK(less.p_value == Approx(e.le));
      // R: double the tail on the side of the observation, at most 1.
      const double tail = u > static_cast<double>(m * n) / 2 ? e.ge : e.le;
      CHECK(two.p_value == Approx(std::min(1.0, 2 * tail)));
    }
  }
  // Symmetry of the null distribution: P(U <= u) = P(U >= mn - u) = 1 - P(U <= mn - u - 1).
  for (std::int64_t u = 0; u <= 35; ++u)
    CHECK(mann_whitney_cdf(u, 5, 7) == Approx(1.0 - mann_whitney_cdf(35 - u - 1, 5, 7)).margin(1e-12));
}

TEST_CASE("monitor/mann_whitney: normal approximation with ties and continuity correction", "[monitor]") {
  // Pooled: 1 | 2 2 2 | 3 3 3 | 4 5 6 7 -> ranks of x: 1, 3, 3, 6, 8 -> R = 21, U = 21 - 15 = 6.
  // Two tie groups of three: sum(t^3 - t) = 48; N = 11, mn = 30.
  const std::vector<double> x = {1, 2, 2, 3, 4};
  const std::vector<double> y = {2, 3, 3, 5, 6, 7};
  const MannWhitneyResult r = mann_whitney(x, y);
  CHECK_FALSE(r.exact);  // ties: the exact distribution does not apply
  CHECK(r.u == 6);
  const double sigma = std::sqrt(30.0 / 12.0 * (12.0 - 48.0 / (11.0 * 10.0)));
  const double z = (6.0 - 15.0 + 0.5) / sigma;  // below the mean: the correction moves towards it
  CHECK(r.z == Approx(z));
  CHECK(r.z == Approx(-1.58089).epsilon(1e-4));
  CHECK(r.p_value == Approx(2 * normal_upper(-z)));
  CHECK(r.p_value == Approx(0.1139).epsilon(1e-3));
  const MannWhitneyResult less = mann_whitney(x, y, Alternative::less);
  CHECK(less.p_value == Approx(normal_upper(-(6.0 - 15.0 + 0.5) / sigma)));
  const MannWhitneyResult raw = mann_whitney(x, y, Alternative::greater, MannWhitneyMethod::normal, false);
  CHECK(raw.p_value == Approx(normal_upper((6.0 - 15.0) / sigma)));

  // Everything tied: no evidence.
  const std::vector<double> same = {1, 1, 1};
  CHECK(mann_whitney(same, same).p_value == 1.0);
  CHECK(mann_whitney(same, same).z == 0.0);
}

TEST_CASE("monitor/mann_whitney: the normal approximation agrees with the exact test for 40 against 40",
          "[monitor]") {
  Rng rng(3);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> x(40), y(40);
  for (double& v : x) v = normal(rng) + 0.4;
  for (double& v : y) v = normal(rng);
  const MannWhitneyResult exact = mann_whitney(x, y, Alternative::two_sided, MannWhitneyMethod::exact);
  const MannWhitneyResult approx = mann_whitney(x, y, Alternative::two_sided, MannWhitneyMethod::normal);
  CHECK(exact.exact);
  CHECK_FALSE(approx.exact);
  CHECK(exact.p_value == Approx(approx.p_value).margin(0.005));
  // Automatic: exact below 50 per side, normal from 50 on.
  CHECK(mann_whitney(x, y).exact);
  x.push_back(0.123456);
  std::vector<double> y50(50, 0.0);
  for (std::size_t i = 0; i < y50.size(); ++i) y50[i] = static_cast<double>(i) / 7.0 + 0.01;
  CHECK_FALSE(mann_whitney(x, y50).exact);
}

TEST_CASE("monitor/mann_whitney: Hodges-Lehmann shift and interval", "[monitor]") {
  // Estimate: the median of all differences, by brute force.
  const std::vector<double> x = {3.1, 4.7, 5.0, 6.2, 8.9};
  const std::vector<double> y = {1.0, 2.2, 2.9, 4.4, 5.1};
  std::vector<double> d;
  for (double a : x)
    for (double b : y) d.push_back(a - b);
  std::sort(d.begin(), d.end());
  const ShiftEstimate s = hodges_lehmann(x, y, 0.95);
  CHECK(s.estimate == Approx(d[12]));
  // For m = n = 5: P(U <= 2) = 4/252 < 0.025 <= P(U <= 3) = 7/252, so k = 3: [d_(3), d_(23)].
  CHECK(mann_whitney_cdf(2, 5, 5) == Approx(4.0 / 252));
  CHECK(mann_whitney_cdf(3, 5, 5) == Approx(7.0 / 252));
  CHECK(s.lower == d[2]);
  CHECK(s.upper == d[22]);

  // Coverage over repeated samples with a known shift: at least the nominal level (exact ranks are
  // conservative), and not absurdly wide.
  Rng rng(5);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  int covered = 0;
  const int reps = 300;
  for (int rep = 0; rep < reps; ++rep) {
    std::vector<double> a(20), b(20);
    for (double& v : a) v = normal(rng) + 1.0;
    for (double& v : b) v = normal(rng);
    const ShiftEstimate e = hodges_lehmann(a, b, 0.90);
    covered += e.lower <= 1.0 && 1.0 <= e.upper;
  }
  CHECK(covered >= static_cast<int>(0.85 * reps));
  CHECK(covered <= static_cast<int>(0.97 * reps));

  // Large samples take the normal approximation of the rank and still cover.
  std::vector<double> a(200), b(150);
  for (double& v : a) v = normal(rng) + 2.0;
  for (double& v : b) v = normal(rng);
  const ShiftEstimate big = hodges_lehmann(a, b, 0.99);
  CHECK(big.lower < 2.0);
  CHECK(big.upper > 2.0);
  CHECK(big.upper - big.lower < 1.0);
}

TEST_CASE("monitor/mann_whitney: bad input is rejected", "[monitor]") {
  const std::vector<double> empty;
  const std::vector<double> one = {1.0};
  const std::vector<double> nan = {std::nan("")};
  CHECK_THROWS_AS(mann_whitney(empty, one), std::invalid_argument);
  CHECK_THROWS_AS(mann_whitney(one, nan), std::invalid_argument);
  CHECK_THROWS_AS(hodges_lehmann(one, one, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(mann_whitney_cdf(0, 0, 3), std::invalid_argument);
  CHECK_THROWS_AS(mann_whitney_cdf(0, 101, 101), std::invalid_argument);
}
