// Tests for the closed-form queueing results, checked against textbook values and direct formulas.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/metrics/queueing_theory.hpp"

using namespace sim;

namespace {

// Erlang B and C straight from the textbook sums with long double factorials; fine for small c.
long double direct_erlang_b(int c, long double a) {
  long double term = 1.0L, sum = 1.0L;
  for (int k = 1; k <= c; ++k) {
    term *= a / k;
    sum += term;
  }
  return term / sum;
}

long double direct_erlang_c(int c, long double a) {
  long double term = 1.0L, sum = 0.0L;
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  const long double tail = term * c / (c - a);  // a^c / c! * c / (c - a)
  return tail / (sum + tail);
}

}  // namespace

TEST_CASE("metrics/queueing_theory: Erlang B and C match published values and the direct sums", "[metrics]") {
  CHECK(erlang_b(10, 5.0) == Approx(0.018385).epsilon(1e-4));
  CHECK(erlang_c(10, 8.0) == Approx(0.409).epsilon(1e-3));
  CHECK(erlang_b(1, 1.0) == Approx(0.5));
  CHECK(erlang_b(2, 1.0) == Approx(0.2));  // (1/2) / (1 + 1 + 1/2)
  CHECK(erlang_b(0, 3.0) == 1.0);
  for (const int c : {1, 2, 5, 10, 30, 80}) {
    for (const double rho : {0.1, 0.5, 0.8, 0.95, 0.999}) {
      const double a = rho * c;
      INFO("c=" << c << " a=" << a);
      CHECK(erlang_b(c, a) == Approx(static_cast<double>(direct_erlang_b(c, a))).epsilon(1e-12));
      CHECK(erlang_c(c, a) == Approx(static_cast<double>(direct_erlang_c(c, a))).epsilon(1e-12));
    }
  }
}

TEST_CASE("metrics/queueing_theory: Erlang C with one server is the utilisation", "[metrics]") {
  for (const double rho : {0.0, 0.05, 0.3, 0.7, 0.99}) CHECK(erlang_c(1, rho) == Approx(rho).margin(1e-15));
  // M/M/1: Wq = rho / (mu - lambda), response 1 / (mu - lambda).
  CHECK(mmc_mean_wait(8.0, 10.0, 1) == Approx(0.8 / 2.0));
  CHECK(mmc_mean_response(8.0, 10.0, 1) == Approx(0.5));
  // M/M/2 with a = 1: C = 1/3, Wq = C / (2 mu - lambda).
  CHECK(erlang_c(2, 1.0) == Approx(1.0 / 3.0));
  CHECK(mmc_mean_wait(4.0, 4.0, 2) == Approx((1.0 / 3.0) / 4.0));
}

TEST_CASE("metrics/queueing_theory: large c neither overflows nor loses accuracy", "[metrics]") {
  const double c_500 = erlang_c(500, 475.0);
  CHECK(std::isfinite(c_500));
  CHECK(c_500 > 0.0);
  CHECK(c_500 < 1.0);
  // Economies of scale: at the same utilisation, more servers means less waiting.
  CHECK(c_500 < erlang_c(50, 47.5));
  CHECK(erlang_b(1000, 900.0) > 0.0);
  CHECK(erlang_c(1000, 999.0) < 1.0);
  CHECK(erlang_c(1000, 999.0) > 0.5);
  // M/M/c/K with a very large K is M/M/c, computed a completely different way (log-space sums).
  CHECK(mmck_mean_wait(475.0, 1.0, 500, 500 + 4000) == Approx(mmc_mean_wait(475.0, 1.0, 500)).epsilon(1e-9));
}

TEST_CASE("metrics/queueing_theory: Pollaczek-Khinchine", "[metrics]") {
  const double lambda = 7.0, mean = 0.1;  // rho = 0.7
  const double mm1 = mg1_mean_wait(lambda, mean, 1.0);
  CHECK(mm1 == Approx(mmc_mean_wait(lambda, 1.0 / mean, 1)));
  CHECK(mm1 == Approx(0.7 * 0.1 / 0.3));
  CHECK(mg1_mean_wait(lambda, mean, 0.0) == Approx(mm1 / 2.0));
  // Lognormal service with cv 2: scv 4, 2.5x the M/M/1 wait.
  CHECK(lognormal_scv(2.0) == 4.0);
  CHECK(mg1_mean_wait(lambda, mean, lognormal_scv(2.0)) == Approx(2.5 * mm1));
  CHECK(mg1_mean_wait(0.0, mean, 1.0) == 0.0);
}

TEST_CASE("metrics/queueing_theory: M/M/c/K blocking and waits", "[metrics]") {
  // M/M/1/K: p_K = (1 - rho) rho^K / (1 - rho^(K+1)).
  for (const double rho : {0.3, 0.9, 1.5}) {
    for (const int k : {1, 5, 20}) {
      const double want = (1 - rho) * std::pow(rho, k) / (1 - std::pow(rho, k + 1));
      INFO("rho=" << rho << " K=" << k);
      CHECK(mmck_blocking(rho * 2.0, 2.0, 1, k) == Approx(want).epsilon(1e-12));
    }
  }
  CHECK(mmck_blocking(5.0, 5.0, 1, 4) == Approx(1.0 / 5.0));  // rho = 1: uniform over 0..K

  // M/M/c/c is Erlang B.
  CHECK(mmck_blocking(50.0, 1.0, 60, 60) == Approx(erlang_b(60, 50.0)).epsilon(1e-12));

  // M/M/1/K mean wait by hand: K = 2, rho = 0.5 -> p = (4, 2, 1) / 7; Lq = p_2; admitted 6/7 of lambda.
  CHECK(mmck_mean_wait(1.0, 2.0, 1, 2) == Approx((1.0 / 7.0) / (1.0 * 6.0 / 7.0)));
  CHECK(mmck_mean_wait(3.0, 1.0, 3, 3) == 0.0);  // no waiting room
  CHECK(mmck_mean_wait(0.0, 1.0, 3, 10) == 0.0);
  CHECK(mmck_blocking(0.0, 1.0, 3, 10) == 0.0);

  // K -> infinity tends to M/M/c, monotonically in K.
  const double mmc = mmc_mean_wait(9.0, 1.0, 10);
  double previous = 0.0;
  for (const int k : {10, 20, 50, 100, 400}) {
    const double w = mmck_mean_wait(9.0, 1.0, 10, k);
    CHECK(w >= previous);
    CHECK(w <= mmc);
    previous = w;
  }
  CHECK(previous == Approx(mmc).epsilon(1e-9));
  CHECK(mmck_blocking(9.0, 1.0, 10, 400) < 1e-15);

  // Overloaded finite systems are fine: with a = 3c almost two thirds are blocked at large K.
  CHECK(mmck_blocking(3000.0, 1.0, 1000, 5000) == Approx(2.0 / 3.0).epsilon(1e-9));
}

TEST_CASE("metrics/queueing_theory: invalid arguments throw", "[metrics]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(erlang_b(-1, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(erlang_b(3, -1.0), std::invalid_argument);
  CHECK_THROWS_AS(erlang_b(3, nan), std::invalid_argument);
  CHECK_THROWS_AS(erlang_c(10, 10.0), std::invalid_argument);
  CHECK_THROWS_AS(erlang_c(10, 12.0), std::invalid_argument);
  CHECK_THROWS_AS(erlang_c(0, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(mmc_mean_wait(10.0, 1.0, 10), std::invalid_argument);
  CHECK_THROWS_AS(mmc_mean_wait(1.0, 0.0, 2), std::invalid_argument);
  CHECK_THROWS_AS(mmc_mean_response(-1.0, 1.0, 2), std::invalid_argument);
  CHECK_THROWS_AS(mg1_mean_wait(10.0, 0.1, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(mg1_mean_wait(1.0, 0.1, -0.5), std::invalid_argument);
  CHECK_THROWS_AS(mg1_mean_wait(inf, 0.1, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(mmck_blocking(1.0, 1.0, 4, 3), std::invalid_argument);
  CHECK_THROWS_AS(mmck_blocking(1.0, 1.0, 0, 3), std::invalid_argument);
  CHECK_THROWS_AS(mmck_mean_wait(1.0, -1.0, 1, 3), std::invalid_argument);
  CHECK_THROWS_AS(lognormal_scv(-1.0), std::invalid_argument);
}
