// Tests for automated analysis: Argo counting, Flagger's gate, Kayenta's judgement, and gates in a world
// (false aborts of a healthy canary at low traffic, detection of a latency regression).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/random/lognormal_distribution.hpp>

#include "sim/core/random.hpp"
#include "sim/monitor/analysis.hpp"
#include "tests/world_fixture.hpp"

using namespace sim;

namespace {

using P = AnalysisPhase;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A 30 s window of `requests` requests, `errors` of them errors, all with the same latency.
WindowStats window(std::uint64_t requests, std::uint64_t errors, Time latency = 10 * kMillisecond) {
  WindowStats w;
  w.start = 0;
  w.end = 30 * kSecond;
  w.requests = requests;
  w.errors = errors;
  w.latency.add(latency, requests);
  return w;
}

MetricCheck at_most(Metric m, double max) {
  MetricCheck c;
  c.metric = m;
  c.max = max;
  return c;
}

AnalysisTemplate error_rate_template(int failure_limit = 0) {
  AnalysisTemplate t;
  t.interval = 30 * kSecond;
  t.failure_limit = failure_limit;
  t.metrics = {at_most(Metric::error_rate, 0.01)};
  return t;
}

/// Feeds one measurement phase to a one-metric run and returns the run's phase.
P feed(ArgoAnalysisRun& run, P measurement, Time now) {
  const P one[] = {measurement};
  return run.record(one, now).phase;
}

}  // namespace

// ---- Argo ---------------------------------------------------------------------------------------------

TEST_CASE("monitor/analysis: Argo failureLimit counts failed measurements", "[monitor]") {
  SECTION("failureLimit 0 fails on the first failure") {
    ArgoAnalysisRun run(error_rate_template(0), 0);
    CHECK(run.phase() == P::running);
    CHECK(feed(run, P::successful, 30 * kSecond) == P::running);
    CHECK(feed(run, P::failed, 60 * kSecond) == P::failed);
    CHECK(run.done());
    CHECK(run.next_measurement() == kTimeNever);
    CHECK(contains(run.last().reason, "failed (1) > failureLimit (0)"));
    // A completed run ignores further measurements.
    CHECK(feed(run, P::successful, 90 * kSecond) == P::failed);
    CHECK(run.metric(0).measurements() == 2);
  }
  SECTION("failureLimit 2 fails on the third failure, successes in between do not reset") {
    ArgoAnalysisRun run(error_rate_template(2), 0);
    CHECK(feed(run, P::failed, 1) == P::running);
    CHECK(feed(run, P::successful, 2) == P::running);
    CHECK(feed(run, P::failed, 3) == P::running);
    CHECK(feed(run, P::successful, 4) == P::running);
    CHECK(feed(run, P::failed, 5) == P::failed);
    CHECK(run.metric(0).failed() == 3);
    CHECK(run.metric(0).successful() == 2);
    CHECK(run.last().time == 5);
  }
}

TEST_CASE("monitor/analysis: Argo inconclusiveLimit, consecutiveErrorLimit and count", "[monitor]") {
  SECTION("inconclusiveLimit 1: the second inconclusive measurement ends the run Inconclusive") {
    AnalysisTemplate t = error_rate_template();
    t.inconclusive_limit = 1;
    ArgoAnalysisRun run(t, 0);
    CHECK(feed(run, P::inconclusive, 1) == P::running);
    CHECK(feed(run, P::successful, 2) == P::running);
    CHECK(feed(run, P::inconclusive, 3) == P::inconclusive);
    CHECK(contains(run.last().reason, "inconclusive (2) > inconclusiveLimit (1)"));
  }
  SECTION("consecutiveErrorLimit 4 (default): the fifth error in a row ends the run in Error") {
    ArgoAnalysisRun run(error_rate_template(), 0);
    for (int i = 0; i < 4; ++i) CHECK(feed(run, P::error, i) == P::running);
    CHECK(feed(run, P::successful, 4) == P::running);  // resets the streak
    for (int i = 0; i < 4; ++i) CHECK(feed(run, P::error, 5 + i) == P::running);
    CHECK(feed(run, P::error, 9) == P::error);
    CHECK(run.metric(0).errors() == 9);
    CHECK(run.metric(0).count() == 1);  // errors are not measurements that count
    CHECK(contains(run.last().reason, "consecutiveErrors (5) > consecutiveErrorLimit (4)"));
  }
  SECTION("count reached: Successful although failures (within the limit) happened; errors do not count") {
    AnalysisTemplate t = error_rate_template(1);
    t.count = 3;
    ArgoAnalysisRun run(t, 0);
    CHECK(feed(run, P::successful, 1) == P::running);
    CHECK(feed(run, P::error, 2) == P::running);
    CHECK(feed(run, P::failed, 3) == P::running);
    CHECK(feed(run, P::successful, 4) == P::successful);
    CHECK(contains(run.last().reason, "count (3) reached"));
  }
  SECTION("failure is assessed before inconclusive, inconclusive before error") {
    AnalysisTemplate t = error_rate_template();
    ArgoMetricResult r;
    r.add(P::inconclusive);
    r.add(P::failed);
    CHECK(r.assess(t, false) == P::failed);
    ArgoMetricResult q;
    for (int i = 0; i < 5; ++i) q.add(P::error);
    q.add(P::inconclusive);  // resets the error streak
    CHECK(q.assess(t, false) == P::inconclusive);
    ArgoMetricResult none;
    CHECK(none.assess(t, false) == P::pending);
    CHECK(none.assess(t, true) == P::successful);
    CHECK_THROWS_AS(none.add(P::running), std::invalid_argument);
  }
  SECTION("no interval and no count: a single measurement") {
    AnalysisTemplate t = error_rate_template();
    t.interval = 0;
    ArgoAnalysisRun run(t, 5 * kSecond);
    CHECK(run.next_measurement() == 5 * kSecond);
    CHECK(feed(run, P::successful, 5 * kSecond) == P::successful);
    CHECK(run.next_measurement() == kTimeNever);
  }
  SECTION("terminate: a running metric with measurements ends Successful") {
    ArgoAnalysisRun run(error_rate_template(3), 0);
    feed(run, P::failed, 1);
    CHECK(run.terminate(2).phase == P::successful);
    CHECK(contains(run.last().reason, "run terminated"));
  }
}

TEST_CASE("monitor/analysis: Argo initialDelay, interval and measurements from windows", "[monitor]") {
  AnalysisTemplate t;
  t.interval = kMinute;
  t.count = 3;
  t.initial_delay = 5 * kMinute;
  t.min_requests = 50;
  t.metrics = {at_most(Metric::error_rate, 0.01), at_most(Metric::latency_p99, 0.25)};
  SECTION("the first measurement waits for initialDelay, later ones follow the interval") {
    ArgoAnalysisRun run(t, 100 * kSecond);
    CHECK(run.next_measurement() == 100 * kSecond + 5 * kMinute);
    const Time first = run.next_measurement();
    CHECK(run.measure(window(200, 1), first).phase == P::running);
    CHECK(run.next_measurement() == first + kMinute);
    run.measure(window(200, 0), first + kMinute);
    CHECK(run.measure(window(200, 2), first + 2 * kMinute).phase == P::successful);
    CHECK(run.last().metric_phases == std::vector<P>{P::successful, P::successful});
    CHECK(run.next_measurement() == kTimeNever);
  }
  SECTION("one failing metric ends the run Failed at once; the other metric is terminated Successful") {
    ArgoAnalysisRun run(t, 0);
    const ArgoRecord& rec = run.measure(window(200, 0, 400 * kMillisecond), 5 * kMinute);
    CHECK(rec.phase == P::failed);
    CHECK(rec.measurements == std::vector<P>{P::successful, P::failed});
    CHECK(rec.metric_phases == std::vector<P>{P::successful, P::failed});
    CHECK(contains(rec.reason, "latency_p99 failed (1) > failureLimit (0)"));
    CHECK(contains(rec.reason, "latency_p99 400ms > 250ms"));
    REQUIRE(rec.checks.size() == 2);
    CHECK(rec.checks[1].value == Approx(0.4).epsilon(0.011));
  }
  SECTION("too few requests is an Error measurement by default, with its own reason") {
    ArgoAnalysisRun run(t, 0);
    const ArgoRecord& rec = run.measure(window(12, 0), 5 * kMinute);
    CHECK(rec.phase == P::running);
    CHECK(rec.measurements == std::vector<P>{P::error, P::error});
    CHECK(contains(rec.reason, "no values found for error_rate: 12 requests < min_requests 50"));
    for (int i = 1; i <= 4; ++i) run.measure(window(3, 0), 5 * kMinute + i * kMinute);
    CHECK(run.phase() == P::error);
  }
  SECTION("no data can count as inconclusive instead") {
    t.no_data = NoDataPolicy::inconclusive;
    ArgoAnalysisRun run(t, 0);
    CHECK(run.measure(window(0, 0), 5 * kMinute).phase == P::inconclusive);
  }
  SECTION("a success band narrower than the failure bound makes values in between inconclusive") {
    t.metrics[0].success_max = 0.005;
    t.inconclusive_limit = 1;
    ArgoAnalysisRun run(t, 0);
    const ArgoRecord& rec = run.measure(window(1000, 8), 5 * kMinute);  // 0.8%: not > 1%, not <= 0.5%
    CHECK(rec.measurements[0] == P::inconclusive);
    CHECK(rec.phase == P::running);
    CHECK(run.measure(window(1000, 7), 6 * kMinute).phase == P::inconclusive);
  }
  SECTION("invalid templates are rejected") {
    AnalysisTemplate bad = t;
    bad.metrics.clear();
    CHECK_THROWS_AS(ArgoAnalysisRun(bad, 0), std::invalid_argument);
    bad = t;
    bad.interval = 0;
    CHECK_THROWS_AS(ArgoAnalysisRun(bad, 0), std::invalid_argument);  // count 3 without an interval
    bad = t;
    bad.failure_limit = -1;
    CHECK_THROWS_AS(ArgoAnalysisRun(bad, 0), std::invalid_argument);
  }
}

// ---- Flagger ------------------------------------------------------------------------------------------

TEST_CASE("monitor/analysis: Flagger counts failed checks cumulatively and aborts at the threshold",
          "[monitor]") {
  FlaggerAnalysis a;
  a.interval = 30 * kSecond;
  a.threshold = 5;
  a.min_requests = 50;
  a.metrics = {at_most(Metric::error_rate, 0.01), at_most(Metric::latency_p99, 0.5)};
  FlaggerGate gate(a);
  const WindowStats healthy = window(200, 0);
  const WindowStats bad = window(200, 10);  // 5% errors
  Time t = 0;
  const auto tick = [&](const WindowStats& w) { return gate.check(w, t += a.interval); };

  // fail, pass, fail, fail, pass, fail: passing checks do not reset the counter.
  CHECK(tick(bad).decision == FlaggerDecision::halt);
  CHECK(tick(healthy).decision == FlaggerDecision::advance);
  CHECK(tick(bad).failed_checks == 2);
  CHECK(tick(bad).failed_checks == 3);
  const FlaggerRecord pass = tick(healthy);
  CHECK(pass.decision == FlaggerDecision::advance);
  CHECK(pass.failed_checks == 3);
  CHECK(tick(bad).failed_checks == 4);
  CHECK_FALSE(gate.aborted());
  // The fifth failed check reaches the threshold ...
  const FlaggerRecord fifth = tick(bad);
  CHECK(fifth.decision == FlaggerDecision::halt);
  CHECK(fifth.failed_checks == 5);
  CHECK(contains(fifth.reason, "error_rate 5% > 1%"));
  CHECK(contains(fifth.reason, "5/5"));
  // ... and Flagger rolls back at the start of the next interval, whatever that window holds.
  const FlaggerRecord abort = tick(healthy);
  CHECK(abort.decision == FlaggerDecision::abort);
  CHECK(abort.time == 8 * a.interval);
  CHECK(contains(abort.reason, "failed checks threshold reached 5"));
  CHECK(gate.aborted());
  CHECK(tick(healthy).decision == FlaggerDecision::abort);
  CHECK(gate.checks() == 7);

  gate.restart();  // a new revision
  CHECK(gate.failed_checks() == 0);
  CHECK(tick(healthy).decision == FlaggerDecision::advance);
}

TEST_CASE("monitor/analysis: Flagger counts too few requests as a failed check, shown as no values found",
          "[monitor]") {
  FlaggerAnalysis a;
  a.threshold = 2;
  a.min_requests = 50;
  a.metrics = {at_most(Metric::latency_p99, 0.5), at_most(Metric::error_rate, 0.01)};
  FlaggerGate gate(a);
  const FlaggerRecord r = gate.check(window(12, 6), kMinute);  // 50% errors, but too few requests to say
  CHECK(r.decision == FlaggerDecision::halt);
  CHECK(r.no_data);
  CHECK(r.failed_checks == 1);
  CHECK(contains(r.reason, "no values found for latency_p99: 12 requests < min_requests 50"));
  REQUIRE(r.checks.size() == 2);
  CHECK(r.checks[1].outcome == CheckOutcome::no_data);
  CHECK(gate.no_data_checks() == 1);
  // The first failing metric in order is the reason, as Flagger stops there.
  const FlaggerRecord both = gate.check(window(100, 10, kSecond), 2 * kMinute);
  CHECK_FALSE(both.no_data);
  CHECK(contains(both.reason, "latency_p99"));
  CHECK_FALSE(contains(both.reason, "error_rate"));
  CHECK(gate.check(window(100, 0), 3 * kMinute).decision == FlaggerDecision::abort);
  CHECK(gate.no_data_checks() == 1);
  // Flagger has no success band: a value inside its thresholdRange passes.
  MetricCheck banded = at_most(Metric::error_rate, 0.01);
  banded.success_max = 0.001;
  FlaggerGate plain(FlaggerAnalysis{kMinute, 1, 1, {banded}});
  CHECK(plain.check(window(1000, 5), kMinute).decision == FlaggerDecision::advance);
  CHECK_THROWS_AS(FlaggerGate(FlaggerAnalysis{kMinute, 0, 1, {banded}}), std::invalid_argument);
}

// ---- Kayenta ------------------------------------------------------------------------------------------

namespace {

std::vector<double> lognormal_series(Rng& rng, std::size_t n, double median, double scale = 1.0) {
  boost::random::lognormal_distribution<double> d(std::log(median), 0.3);
  std::vector<double> out(n);
  for (double& v : out) v = d(rng) * scale;
  return out;
}

KayentaMetric kmetric(Metric m, Direction d = Direction::increase, std::string group = "default") {
  KayentaMetric k;
  k.metric = m;
  k.direction = d;
  k.group = std::move(group);
  return k;
}

}  // namespace

TEST_CASE("monitor/analysis: Kayenta passes identical distributions and fails a shifted latency",
          "[monitor]") {
  KayentaConfig config;
  config.metrics = {kmetric(Metric::latency_p99), kmetric(Metric::latency_p50)};
  const KayentaJudge judge(config);
  Rng rng(21);
  int pass = 0, fail = 0;
  const int seeds = 100;
  for (int s = 0; s < seeds; ++s) {
    const auto c99 = lognormal_series(rng, 30, 0.2), b99 = lognormal_series(rng, 30, 0.2);
    const auto c50 = lognormal_series(rng, 30, 0.05), b50 = lognormal_series(rng, 30, 0.05);
    const KayentaJudge::Series series[] = {{c99, b99}, {c50, b50}};
    const KayentaResult r = judge.judge(series, kMinute);
    pass += r.verdict == Verdict::pass;
    // p99 1.5x higher on the canary.
    const auto shifted = lognormal_series(rng, 30, 0.2, 1.5);
    const KayentaJudge::Series regressed[] = {{shifted, b99}, {c50, b50}};
    const KayentaResult f = judge.judge(regressed, kMinute);
    fail += f.verdict == Verdict::fail;
    if (s == 0) {
      CHECK(f.metrics[0].classification == MetricClass::high);
      CHECK(f.metrics[0].shift > 0);
      CHECK(f.metrics[0].shift_lower > 0.25 * f.metrics[0].shift);
      CHECK(f.metrics[0].p_value < 0.01);
      CHECK(f.score == Approx(50));
      CHECK(contains(f.reason, "latency_p99 High"));
    }
  }
  // At confidence 0.98 a metric of a healthy canary is High about 1% of the time.
  CHECK(pass >= 94);
  CHECK(fail >= 90);
}

TEST_CASE("monitor/analysis: Kayenta score bands, directions, groups, critical metrics and Nodata",
          "[monitor]") {
  Rng rng(8);
  const auto base = lognormal_series(rng, 40, 1.0);
  const auto same = lognormal_series(rng, 40, 1.0);
  const auto higher = lognormal_series(rng, 40, 1.0, 2.0);
  const auto lower = lognormal_series(rng, 40, 1.0, 0.5);
  const std::vector<double> few = {1.0, 1.1, 0.9};

  SECTION("one of four metrics High: score 75 is Marginal with pass 90 and marginal 75") {
    KayentaConfig config;
    config.metrics = {kmetric(Metric::latency_p50), kmetric(Metric::latency_p99), kmetric(Metric::error_rate),
                      kmetric(Metric::latency_mean)};
    const KayentaJudge::Series s[] = {{same, base}, {same, base}, {higher, base}, {same, base}};
    const KayentaResult r = KayentaJudge(config).judge(s, 0);
    CHECK(r.score == Approx(75));
    CHECK(r.verdict == Verdict::marginal);
    config.pass_threshold = 70;
    config.marginal_threshold = 60;
    CHECK(KayentaJudge(config).judge(s, 0).verdict == Verdict::pass);
    config.pass_threshold = 95;
    config.marginal_threshold = 80;
    CHECK(KayentaJudge(config).judge(s, 0).verdict == Verdict::fail);
  }
  SECTION("direction: only the configured change fails") {
    KayentaConfig config;
    config.metrics = {kmetric(Metric::success_rate, Direction::decrease)};
    const KayentaJudge judge(config);
    const KayentaJudge::Series up[] = {{higher, base}};
    const KayentaJudge::Series down[] = {{lower, base}};
    CHECK(judge.judge(up, 0).metrics[0].classification == MetricClass::pass);
    CHECK(judge.judge(down, 0).metrics[0].classification == MetricClass::low);
    config.metrics[0].direction = Direction::either;
    CHECK(KayentaJudge(config).judge(up, 0).metrics[0].classification == MetricClass::high);
  }
  SECTION("Nodata metrics leave the score; with no data at all the score is 0") {
    KayentaConfig config;
    config.metrics = {kmetric(Metric::latency_p99), kmetric(Metric::error_rate)};
    config.metrics[1].min_points = 5;
    const KayentaJudge judge(config);
    const KayentaJudge::Series s[] = {{same, base}, {few, base}};
    const KayentaResult r = judge.judge(s, 0);
    CHECK(r.metrics[1].classification == MetricClass::nodata);
    CHECK(r.metrics[1].canary_points == 3);
    CHECK(r.score == Approx(100));
    CHECK(r.verdict == Verdict::pass);
    CHECK(contains(r.reason, "1 without data"));
    CHECK(contains(r.reason, "error_rate Nodata: canary 3, baseline 40 points (min 5)"));
    const std::vector<double> nan_only = {std::nan(""), std::nan("")};
    const KayentaJudge::Series none[] = {{nan_only, base}, {few, base}};
    const KayentaResult n = judge.judge(none, 0);
    CHECK(n.score == 0);
    CHECK(n.verdict == Verdict::fail);
    CHECK(contains(n.reason, "2 without data"));
  }
  SECTION("identical data pass without a test; a critical metric that fails zeroes the score") {
    KayentaConfig config;
    config.metrics = {kmetric(Metric::latency_p99), kmetric(Metric::error_rate),
                      kmetric(Metric::latency_p50)};
    config.metrics[1].critical = true;
    const KayentaJudge judge(config);
    const KayentaJudge::Series s[] = {{base, base}, {higher, base}, {same, base}};
    const KayentaResult r = judge.judge(s, 0);
    CHECK(r.metrics[0].classification == MetricClass::pass);
    CHECK(contains(r.metrics[0].reason, "identical"));
    CHECK(r.metrics[1].classification == MetricClass::high);
    CHECK(r.score == 0);
    CHECK(contains(r.reason, "critical"));
  }
  SECTION("group weights: a failing group of weight 30 leaves 70") {
    KayentaConfig config;
    config.metrics = {kmetric(Metric::latency_p99, Direction::increase, "latency"),
                      kmetric(Metric::latency_p50, Direction::increase, "latency"),
                      kmetric(Metric::error_rate, Direction::increase, "errors")};
    config.group_weights = {{"errors", 30}};  // "latency" takes the remaining 70
    const KayentaJudge::Series s[] = {{same, base}, {same, base}, {higher, base}};
    CHECK(KayentaJudge(config).judge(s, 0).score == Approx(70));
    const KayentaJudge::Series half[] = {{higher, base}, {same, base}, {same, base}};
    CHECK(KayentaJudge(config).judge(half, 0).score == Approx(30 + 35));
  }
  SECTION("invalid configurations are rejected") {
    KayentaConfig config;
    CHECK_THROWS_AS(KayentaJudge(config), std::invalid_argument);
    config.metrics = {kmetric(Metric::latency_p99)};
    config.confidence = 1.0;
    CHECK_THROWS_AS(KayentaJudge(config), std::invalid_argument);
    config.confidence = 0.95;
    config.marginal_threshold = 95;
    config.pass_threshold = 90;
    CHECK_THROWS_AS(KayentaJudge(config), std::invalid_argument);
  }
}

// ---- in a world -------------------------------------------------------------------------------------------

namespace {

/// Two identical versions (exponential service, mean 20 ms, 4 concurrent per replica); v1 has two replicas,
/// v2 one; 90/10 weights.
WorldConfig canary_config(double lambda, double error_rate, std::uint64_t seed) {
  WorldConfig c = testing_support::single_queue_config(lambda, 0.02, 4, 64, 4, 1);
  c.seed = seed;
  c.versions[0].error_rate = error_rate;
  ModelVersionSpec v2 = c.versions[0];
  v2.name = "v2";
  c.versions.push_back(v2);
  return c;
}

void start_canary(World& world) {
  world.deploy_ready(0, 2);
  world.deploy_ready(1, 1);
  world.set_release(0, 1);
  const double w[] = {90, 10};
  world.set_weights(w);
}

double poisson_pmf(std::uint64_t n, double mu) {
  const double k = static_cast<double>(n);
  return std::exp(-mu + k * std::log(mu) - std::lgamma(k + 1));
}

double binomial_pmf(std::uint64_t k, std::uint64_t n, double p) {
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  return std::exp(std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) + kd * std::log(p) +
                  (nd - kd) * std::log1p(-p));
}

/// Chance that a healthy window fails the gate: N ~ Poisson(mu) requests, each an error with
/// probability e; the check fails with no data when N < min_requests, else when errors / N > max_rate.
struct CheckOdds {
  double no_data = 0;
  double errors = 0;
};
CheckOdds check_odds(double mu, std::uint64_t min_requests, double e, double max_rate) {
  CheckOdds odds;
  const auto top = static_cast<std::uint64_t>(mu + 12 * std::sqrt(mu) + 20);
  for (std::uint64_t n = 0; n <= top; ++n) {
    const double pn = poisson_pmf(n, mu);
    if (n < min_requests) {
      odds.no_data += pn;
      continue;
    }
    double pass = 0;  // errors / n <= max_rate, decided by the same division as the gate
    for (std::uint64_t k = 0; k <= n && static_cast<double>(k) / static_cast<double>(n) <= max_rate; ++k)
      pass += binomial_pmf(k, n, e);
    odds.errors += pn * (1 - pass);
  }
  return odds;
}

/// P(at least t of k independent checks fail).
double at_least(int t, int k, double p) {
  double sum = 0;
  for (int j = t; j <= k; ++j)
    sum += binomial_pmf(static_cast<std::uint64_t>(j), static_cast<std::uint64_t>(k), p);
  return sum;
}

struct GateRuns {
  int checks = 0;
  int failed = 0;
  int no_data = 0;
  int gates = 0;
  int aborted = 0;
};

/// Runs `gates` consecutive Flagger analyses of `k` checks each on the canary of one world, each with a
/// fresh gate, and counts how many would roll back (failed checks reached the threshold).
GateRuns run_gates(double lambda, const FlaggerAnalysis& analysis, int gates, int k, double error_rate) {
  World world(canary_config(lambda, error_rate, 17));
  start_canary(world);
  MetricCollector collector(world.version_count(), CollectorOptions{0, 0, 0.01});
  world.add_observer(&collector);
  WindowCursor cursor = collector.cursor(1, 0);
  GateRuns out;
  Time t = 0;
  for (int g = 0; g < gates; ++g) {
    FlaggerGate gate(analysis);
    for (int i = 0; i < k; ++i) {
      t += analysis.interval;
      world.run_until(t);
      const FlaggerRecord r = gate.check(collector.advance(cursor, t), t);
      ++out.checks;
      out.failed += r.decision == FlaggerDecision::halt;
      out.no_data += r.no_data;
    }
    ++out.gates;
    out.aborted += gate.failed_checks() >= analysis.threshold;  // rolled back at the next tick
  }
  return out;
}

bool within_sigmas(int observed, int trials, double p, double sigmas) {
  const double n = static_cast<double>(trials);
  return std::fabs(static_cast<double>(observed) - n * p) <= sigmas * std::sqrt(n * p * (1 - p)) + 1;
}

}  // namespace

TEST_CASE("monitor/analysis: a threshold gate aborts a healthy canary at low traffic, not at high traffic",
          "[monitor]") {
  // Gate: error_rate <= 1%, p99 <= 500 ms, min_requests 50, 30 s interval, threshold 3 in 10 checks (a
  // five-minute canary step). The canary is as healthy as stable: 0.2% errors, p99 about 100 ms.
  FlaggerAnalysis a;
  a.interval = 30 * kSecond;
  a.threshold = 3;
  a.min_requests = 50;
  a.metrics = {at_most(Metric::error_rate, 0.01), at_most(Metric::latency_p99, 0.5)};
  const double e = 0.002;
  const int k = 10;

  SECTION("2 req/s to the canary: 60 requests per window on average") {
    // A window fails with no values when N < 50 (about 8%) and on a single error in fewer than 100
    // requests (1/N > 1%: about 11%): about 19% per check, so 3 of 10 checks fail about 29% of the time.
    const CheckOdds odds = check_odds(2.0 * 30, a.min_requests, e, 0.01);
    const double p_check = odds.no_data + odds.errors;
    const double p_abort = at_least(a.threshold, k, p_check);
    CHECK(odds.no_data == Approx(0.084).margin(0.002));
    CHECK(p_check == Approx(0.19).margin(0.005));
    CHECK(p_abort == Approx(0.29).margin(0.01));
    const GateRuns runs = run_gates(20, a, 300, k, e);
    CHECK(within_sigmas(runs.no_data, runs.checks, odds.no_data, 4));
    CHECK(within_sigmas(runs.failed, runs.checks, p_check, 4));
    CHECK(within_sigmas(runs.aborted, runs.gates, p_abort, 4));
    CHECK(runs.aborted >= 30);  // clearly non-zero: a healthy canary is rolled back often
  }
  SECTION("20 req/s to the canary: 600 requests per window") {
    const CheckOdds odds = check_odds(20.0 * 30, a.min_requests, e, 0.01);
    CHECK(odds.no_data < 1e-100);
    CHECK(odds.no_data + odds.errors < 0.001);
    const GateRuns runs = run_gates(200, a, 20, k, e);
    CHECK(runs.no_data == 0);
    CHECK(runs.failed <= 2);
    CHECK(runs.aborted == 0);
  }
}

TEST_CASE("monitor/analysis: a latency regression after exposure is detected within a few intervals",
          "[monitor]") {
  // 100 req/s, 10 req/s to the canary, whose service time triples 10 minutes after it first serves.
  // Healthy p99 is about 92 ms (exponential, mean 20 ms); after the onset about 276 ms. Gates check
  // p99 <= 150 ms every 30 s. No errors: false alarms from sparse errors are the previous test's subject,
  // and one here would bring Flagger's abort forward.
  const Time interval = 30 * kSecond;
  const std::vector<MetricCheck> checks = {at_most(Metric::latency_p99, 0.15),
                                           at_most(Metric::error_rate, 0.01)};
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    WorldConfig c = canary_config(100, 0.0, seed);
    c.versions[1].defects = {DefectSpec{DefectSpec::Kind::latency, 3.0, 0,
                                        DefectOnset{DefectOnset::Kind::after_exposure, 10 * kMinute, 0}}};
    World world(c);
    start_canary(world);
    MetricCollector collector(world.version_count());
    world.add_observer(&collector);
    struct Onset : WorldObserver {
      Time at = kTimeNever;
      void on_defect_onset(VersionId, std::size_t, Time t) override { at = t; }
    } onset;
    world.add_observer(&onset);

    FlaggerGate gate(FlaggerAnalysis{interval, 3, 50, checks});
    AnalysisTemplate t;
    t.interval = interval;
    t.failure_limit = 2;
    t.min_requests = 50;
    t.metrics = checks;
    ArgoAnalysisRun run(t, 0);
    CHECK(run.next_measurement() == 0);  // no initialDelay: the first measurement sees an empty window
    WindowCursor flagger_cursor = collector.cursor(1, 0);
    WindowCursor argo_cursor = collector.cursor(1, 0);
    run.measure(collector.advance(argo_cursor, 0), 0);
    CHECK(run.last().measurements[0] == AnalysisPhase::error);

    Time flagger_abort = kTimeNever, argo_failed = kTimeNever;
    int halts_before_onset = 0;
    for (Time now = interval; now <= 25 * kMinute; now += interval) {
      world.run_until(now);
      const FlaggerRecord r = gate.check(collector.advance(flagger_cursor, now), now);
      if (r.decision == FlaggerDecision::halt && now <= onset.at) ++halts_before_onset;
      if (r.decision == FlaggerDecision::abort && flagger_abort == kTimeNever) flagger_abort = now;
      if (!run.done()) {
        CHECK(run.next_measurement() == now);
        run.measure(collector.advance(argo_cursor, now), now);
        if (run.phase() == AnalysisPhase::failed) argo_failed = now;
      }
    }
    INFO("seed " << seed << ", onset " << to_seconds(onset.at) << " s");
    REQUIRE(onset.at == Approx(10 * kMinute).margin(static_cast<double>(kSecond)));
    CHECK(halts_before_onset == 0);
    // Three failing windows, then Flagger's next tick; the window holding the onset may still pass.
    CHECK(flagger_abort > onset.at);
    CHECK(flagger_abort - onset.at <= 5 * interval);
    CHECK(argo_failed > onset.at);
    CHECK(argo_failed - onset.at <= 4 * interval);
    CHECK(flagger_abort - argo_failed == interval);  // Argo fails on the third failure, Flagger a tick later
    CHECK(contains(run.last().reason, "latency_p99 failed (3) > failureLimit (2)"));

    // Kayenta on 10 s buckets: healthy before the onset, failing after it.
    KayentaConfig kc;
    kc.metrics = {kmetric(Metric::latency_p50), kmetric(Metric::latency_p99), kmetric(Metric::error_rate)};
    for (KayentaMetric& m : kc.metrics) m.min_points = 10;
    KayentaJudge judge(kc);
    const KayentaResult healthy = judge.judge(collector, 1, 0, 0, onset.at - onset.at % (10 * kSecond));
    CHECK(healthy.metrics[0].canary_points >= 55);
    CHECK(healthy.verdict == Verdict::pass);
    const KayentaResult regressed = judge.judge(collector, 1, 0, onset.at + 10 * kSecond, 25 * kMinute);
    CHECK(regressed.metrics[0].classification == MetricClass::high);
    CHECK(regressed.metrics[1].classification == MetricClass::high);
    CHECK(regressed.verdict == Verdict::fail);
  }
}
