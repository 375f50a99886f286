// The request-level engine against queueing theory: M/M/c (Erlang C), M/G/1 (Pollaczek-Khinchine) and
// M/M/c/K blocking. Each case prints a row of the tables in docs/validation.md.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>

#include "sim/metrics/queueing_theory.hpp"
#include "sim/monitor/stats.hpp"
#include "tests/world_fixture.hpp"

using namespace sim;

namespace {

struct QueueStats : WorldObserver {
  Time warmup;
  BatchMeans wait;
  BatchMeans waited;
  std::uint64_t total = 0, blocked = 0;
  QueueStats(Time warmup_time, std::size_t batch) : warmup(warmup_time), wait(batch), waited(batch) {}
  void on_request(const RequestRecord& r) override {
    if (r.arrival < warmup) return;
    ++total;
    if (r.status == RequestStatus::queue_full) {
      ++blocked;
      return;
    }
    wait.add(to_seconds(r.wait));
    waited.add(r.wait > 0 ? 1.0 : 0.0);
  }
};

struct RunResult {
  ConfidenceInterval wait, p_wait;
  double blocking;
  std::uint64_t requests;
};

RunResult run_queue(WorldConfig config, double expected_requests, double lambda, std::uint64_t seed) {
  config.seed = seed;
  World world(std::move(config));
  world.deploy_ready(0, 1);
  const Time horizon = from_seconds(expected_requests / lambda);
  const Time warmup = horizon / 20;
  QueueStats stats(warmup, static_cast<std::size_t>(expected_requests / 60));
  world.add_observer(&stats);
  world.run_until(horizon);
  return RunResult{stats.wait.ci(0.99), stats.waited.ci(0.99),
                   static_cast<double>(stats.blocked) / static_cast<double>(stats.total), stats.total};
}

}  // namespace

TEST_CASE("validation/queueing: M/M/c mean wait and P(wait) match Erlang C", "[validation]") {
  struct Case {
    int c;
    double rho;
  };
  const Case cases[] = {{1, 0.5}, {1, 0.8}, {2, 0.9}, {4, 0.7}, {8, 0.95}, {16, 0.9}, {32, 0.8}};
  const double mu = 100;  // 10 ms mean service
  std::printf(
      "\n| c | rho | Erlang C P(wait) | sim P(wait) (99%% CI) | theory Wq (ms) | sim Wq (ms) (99%% CI) |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Case& k : cases) {
    const double lambda = k.rho * k.c * mu;
    // Heavier traffic decorrelates more slowly: give it more requests.
    const double n = k.rho >= 0.9 ? 3e6 : 1e6;
    const RunResult r =
        run_queue(testing_support::single_queue_config(lambda, 1 / mu, k.c), n, lambda, 11 + k.c);
    const double pw = erlang_c(k.c, lambda / mu);
    const double wq = mmc_mean_wait(lambda, mu, k.c);
    std::printf("| %d | %.2f | %.4f | %.4f ± %.4f | %.3f | %.3f ± %.3f |\n", k.c, k.rho, pw, r.p_wait.mean,
                r.p_wait.half_width, wq * 1e3, r.wait.mean * 1e3, r.wait.half_width * 1e3);
    INFO("c=" << k.c << " rho=" << k.rho);
    // Theory inside the 99% batch-means interval, widened by 1% of the value for the warm-up bias.
    CHECK(std::fabs(r.p_wait.mean - pw) <= r.p_wait.half_width + 0.01 * pw);
    CHECK(std::fabs(r.wait.mean - wq) <= r.wait.half_width + 0.01 * wq);
    // And the interval is tight enough to mean something.
    CHECK(r.wait.half_width < 0.1 * wq);
  }
}

TEST_CASE("validation/queueing: M/G/1 mean wait matches Pollaczek-Khinchine", "[validation]") {
  const double mean_s = 0.010;
  struct Case {
    const char* name;
    Distribution dist;
    double rho;
  };
  const Case cases[] = {
      {"M/D/1", Distribution::deterministic(from_seconds(mean_s)), 0.8},
      {"M/D/1", Distribution::deterministic(from_seconds(mean_s)), 0.5},
      {"M/G/1 lognormal cv=1.5", Distribution::lognormal(from_seconds(mean_s), 1.5), 0.7},
      {"M/G/1 gamma cv=0.5", Distribution::gamma(from_seconds(mean_s), 0.5), 0.9},
      {"M/M/1", Distribution::exponential(from_seconds(mean_s)), 0.6},
  };
  std::printf("\n| model | rho | P-K Wq (ms) | sim Wq (ms) (99%% CI) |\n|---|---|---|---|\n");
  for (const Case& k : cases) {
    const double lambda = k.rho / mean_s;
    WorldConfig config = testing_support::single_queue_config(lambda, mean_s, 1);
    config.versions[0].service_time = k.dist;
    // Heavy tails and heavy traffic need more requests for the same precision.
    const double n = k.rho >= 0.8 || k.dist.scv() > 1 ? 3e6 : 1e6;
    const RunResult r = run_queue(config, n, lambda, 99);
    const double wq = mg1_mean_wait(lambda, k.dist.mean_seconds(), k.dist.scv());
    std::printf("| %s | %.2f | %.3f | %.3f ± %.3f |\n", k.name, k.rho, wq * 1e3, r.wait.mean * 1e3,
                r.wait.half_width * 1e3);
    INFO(k.name << " rho=" << k.rho);
    CHECK(std::fabs(r.wait.mean - wq) <= r.wait.half_width + 0.01 * wq);
    CHECK(r.wait.half_width < 0.1 * wq);
  }
}

TEST_CASE("validation/queueing: M/M/c/K blocking probability", "[validation]") {
  struct Case {
    int c, k;
    double rho;
  };
  const Case cases[] = {{1, 5, 0.9}, {2, 4, 1.2}, {4, 10, 0.8}, {8, 8, 1.0}};
  const double mu = 100;
  std::printf("\n| c | K | rho | theory P(block) | sim P(block) |\n|---|---|---|---|---|\n");
  for (const Case& k : cases) {
    const double lambda = k.rho * k.c * mu;
    const RunResult r =
        run_queue(testing_support::single_queue_config(lambda, 1 / mu, k.c, k.k - k.c), 1e6, lambda, 5 + k.k);
    const double pb = mmck_blocking(lambda, mu, k.c, k.k);
    std::printf("| %d | %d | %.2f | %.5f | %.5f |\n", k.c, k.k, k.rho, pb, r.blocking);
    // Binomial standard error on ~1e6 arrivals, with a factor for the autocorrelation of blocking.
    const double se = std::sqrt(pb * (1 - pb) / static_cast<double>(r.requests));
    INFO("c=" << k.c << " K=" << k.k);
    CHECK(std::fabs(r.blocking - pb) < 10 * se + 0.002 * pb);
  }
}
