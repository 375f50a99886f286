// Erlang recurrences, Pollaczek-Khinchine and the M/M/c/K stationary distribution.
#include "sim/metrics/queueing_theory.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace sim {
namespace {

void require(bool condition, const char* function, const char* what) {
  if (!condition) throw std::invalid_argument(std::string(function) + ": " + what);
}

void check_rates(const char* function, double lambda, double mu, int c) {
  require(std::isfinite(lambda) && lambda >= 0.0, function, "lambda must be finite and >= 0");
  require(std::isfinite(mu) && mu > 0.0, function, "mu must be finite and > 0");
  require(c >= 1, function, "c must be at least 1");
}

// Stationary distribution p_0..p_K of M/M/c/K. Weights grow by a / min(n, c) per state; summing their
// logs and shifting by the largest keeps every exp() in range even when a^c / c! would overflow.
std::vector<double> mmck_distribution(double lambda, double mu, int c, int k) {
  const double a = lambda / mu;
  std::vector<double> p(static_cast<std::size_t>(k) + 1);
  if (a == 0.0) {
    p[0] = 1.0;
    return p;
  }
  const double log_a = std::log(a);
  double log_weight = 0.0;
  double largest = 0.0;
  p[0] = 0.0;
  for (int n = 1; n <= k; ++n) {
    log_weight += log_a - std::log(static_cast<double>(std::min(n, c)));
    p[static_cast<std::size_t>(n)] = log_weight;
    largest = std::max(largest, log_weight);
  }
  double total = 0.0;
  for (double& x : p) {
    x = std::exp(x - largest);
    total += x;
  }
  for (double& x : p) x /= total;
  return p;
}

void check_mmck(const char* function, double lambda, double mu, int c, int k) {
  check_rates(function, lambda, mu, c);
  require(k >= c, function, "capacity K must be at least c");
}

}  // namespace

double erlang_b(int c, double offered_load) {
  require(c >= 0, "erlang_b", "c must be >= 0");
  require(std::isfinite(offered_load) && offered_load >= 0.0, "erlang_b", "load must be finite and >= 0");
  // B(k) = a B(k-1) / (k + a B(k-1)) stays in [0, 1], so nothing can overflow.
  double b = 1.0;
  for (int k = 1; k <= c; ++k) b = offered_load * b / (static_cast<double>(k) + offered_load * b);
  return b;
}

double erlang_c(int c, double offered_load) {
  require(c >= 1, "erlang_c", "c must be at least 1");
  require(std::isfinite(offered_load) && offered_load >= 0.0, "erlang_c", "load must be finite and >= 0");
  require(offered_load < static_cast<double>(c), "erlang_c", "load must be below c (unstable queue)");
  const double b = erlang_b(c, offered_load);
  const double cc = static_cast<double>(c);
  return cc * b / (cc - offered_load * (1.0 - b));
}

double mmc_mean_wait(double lambda, double mu, int c) {
  check_rates("mmc_mean_wait", lambda, mu, c);
  const double capacity = static_cast<double>(c) * mu;
  require(lambda < capacity, "mmc_mean_wait", "lambda must be below c * mu (unstable queue)");
  return erlang_c(c, lambda / mu) / (capacity - lambda);
}

double mmc_mean_response(double lambda, double mu, int c) { return mmc_mean_wait(lambda, mu, c) + 1.0 / mu; }

double mg1_mean_wait(double lambda, double mean_service, double service_scv) {
  require(std::isfinite(lambda) && lambda >= 0.0, "mg1_mean_wait", "lambda must be finite and >= 0");
  require(std::isfinite(mean_service) && mean_service > 0.0, "mg1_mean_wait",
          "mean service must be finite and > 0");
  require(std::isfinite(service_scv) && service_scv >= 0.0, "mg1_mean_wait",
          "service scv must be finite and >= 0");
  const double rho = lambda * mean_service;
  require(rho < 1.0, "mg1_mean_wait", "utilisation must be below 1 (unstable queue)");
  const double second_moment = mean_service * mean_service * (1.0 + service_scv);
  return lambda * second_moment / (2.0 * (1.0 - rho));
}

double mmck_blocking(double lambda, double mu, int c, int k) {
  check_mmck("mmck_blocking", lambda, mu, c, k);
  return mmck_distribution(lambda, mu, c, k).back();
}

double mmck_mean_wait(double lambda, double mu, int c, int k) {
  check_mmck("mmck_mean_wait", lambda, mu, c, k);
  if (lambda == 0.0) return 0.0;
  const std::vector<double> p = mmck_distribution(lambda, mu, c, k);
  double queue_length = 0.0;
  for (int n = c + 1; n <= k; ++n)
    queue_length += static_cast<double>(n - c) * p[static_cast<std::size_t>(n)];
  return queue_length / (lambda * (1.0 - p.back()));
}

double lognormal_scv(double cv) {
  require(std::isfinite(cv) && cv >= 0.0, "lognormal_scv", "cv must be finite and >= 0");
  return cv * cv;
}

}  // namespace sim
