// Engine throughput against its physical floor: the deploysim world simulating an M/M/c queue, a minimal
// hand-written M/M/c event loop with the same random engine and sampling, and the two side by side (ratio).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <queue>
#include <vector>

#include "sim/core/random.hpp"
#include "sim/core/time.hpp"
#include "sim/world/world.hpp"

namespace {

constexpr double kServiceRate = 100.0;  // per server and second: 10 ms mean service
constexpr double kRho = 0.9;
// Expected arrivals per iteration of BM_EngineMMc and BM_MinimalMMc, and per run in BM_EngineVsMinimal.
constexpr double kRequests = 200'000;
constexpr double kRatioRequests = 50'000;
constexpr std::uint64_t kSeed = 20'240'601;

double arrival_rate(int c) { return kRho * c * kServiceRate; }

// Simulated time in which `requests` arrivals are expected.
sim::Time horizon(double requests, int c) { return sim::from_seconds(requests / arrival_rate(c)); }

// CPU time of the calling thread in ns: the clock behind Google Benchmark's CPU column, which preemption by
// other processes on a busy machine does not inflate (wall-clock time does).
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct Totals {
  std::uint64_t completed = 0;
  sim::Time wait_sum = 0;  // ns, over completed requests
};

// ---- the engine
// --------------------------------------------------------------------------------------------

// Counts completed requests and sums their waits. Its virtual call per request is part of what is measured,
// as every real run has at least one observer.
struct Tally final : sim::WorldObserver {
  Totals totals;
  void on_request(const sim::RequestRecord& r) override {
    ++totals.completed;
    totals.wait_sum += r.wait;
  }
};

// One pool with one node and one slot, one version with exponential service, concurrency c, unbounded queue,
// Poisson arrivals at rho = 0.9.
sim::WorldConfig mmc_config(int c) {
  sim::WorldConfig config;
  sim::PoolSpec pool;
  pool.name = "cpu";
  config.cluster.pools.push_back(pool);
  sim::ModelVersionSpec v;
  v.name = "v1";
  v.service_time = sim::Distribution::exponential(sim::from_seconds(1.0 / kServiceRate));
  v.concurrency = c;
  v.queue_limit = -1;
  config.versions.push_back(v);
  config.arrivals = std::shared_ptr<const sim::ArrivalProcess>(sim::make_poisson(arrival_rate(c)));
  config.seed = kSeed;
  return config;
}

// A world with one Ready replica and a tally attached, at time 0.
struct EngineRun {
  Tally tally;
  std::unique_ptr<sim::World> world;

  explicit EngineRun(int c) : world(std::make_unique<sim::World>(mmc_config(c))) {
    world->deploy_ready(0, 1);
    world->add_observer(&tally);
  }
};

// ---- the minimal loop
// --------------------------------------------------------------------------------------

// A pending event: an arrival (wait < 0) or a completion carrying the wait of the request it ends.
struct MinimalEvent {
  sim::Time time;
  sim::Time wait;
};

struct Later {
  bool operator()(const MinimalEvent& a, const MinimalEvent& b) const { return a.time > b.time; }
};

// FIFO of arrival times: a ring buffer that doubles when full.
class TimeRing {
 public:
  bool empty() const { return size_ == 0; }
  void push(sim::Time t) {
    if (size_ == buffer_.size()) grow();
    buffer_[(head_ + size_) & (buffer_.size() - 1)] = t;
    ++size_;
  }
  sim::Time pop() {
    const sim::Time t = buffer_[head_];
    head_ = (head_ + 1) & (buffer_.size() - 1);
    --size_;
    return t;
  }

 private:
  void grow() {
    std::vector<sim::Time> grown(std::max<std::size_t>(16, buffer_.size() * 2));
    for (std::size_t i = 0; i < size_; ++i) grown[i] = buffer_[(head_ + i) & (buffer_.size() - 1)];
    buffer_.swap(grown);
    head_ = 0;
  }

  std::vector<sim::Time> buffer_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

// Inverse-transform exponential in ns, as sim::Distribution::exponential samples.
double exponential_ns(sim::Rng& rng, double mean_ns) { return -mean_ns * std::log1p(-sim::uniform01(rng)); }

// The M/M/c queue up to `end`: arrivals and services on their own streams of the same engine type and seeds
// as the world's, arrival times rounded up (at least 1 ns later), service times rounded to the nearest ns.
Totals run_minimal(int c, sim::Time end) {
  sim::Rng arrivals(sim::derive_seed(kSeed, 0, sim::Stream::arrivals));
  sim::Rng service(sim::derive_seed(kSeed, 0, sim::Stream::service));
  const double gap_mean_ns = 1e9 / arrival_rate(c);
  const double service_mean_ns = 1e9 / kServiceRate;
  const auto next_arrival = [&](sim::Time t) {
    return t +
           std::max<sim::Time>(1, static_cast<sim::Time>(std::ceil(exponential_ns(arrivals, gap_mean_ns))));
  };
  const auto service_end = [&](sim::Time t) {
    return t + static_cast<sim::Time>(std::llround(exponential_ns(service, service_mean_ns)));
  };

  std::priority_queue<MinimalEvent, std::vector<MinimalEvent>, Later> events;
  TimeRing queue;
  int busy = 0;
  Totals totals;
  events.push(MinimalEvent{next_arrival(0), -1});
  while (!events.empty() && events.top().time <= end) {
    const MinimalEvent e = events.top();
    events.pop();
    if (e.wait < 0) {
      events.push(MinimalEvent{next_arrival(e.time), -1});
      if (busy < c) {
        ++busy;
        events.push(MinimalEvent{service_end(e.time), 0});
      } else {
        queue.push(e.time);
      }
    } else {
      ++totals.completed;
      totals.wait_sum += e.wait;
      if (!queue.empty()) {
        const sim::Time arrived = queue.pop();
        events.push(MinimalEvent{service_end(e.time), e.time - arrived});
      } else {
        --busy;
      }
    }
  }
  return totals;
}

// ---- reporting
// ---------------------------------------------------------------------------------------------

// items/s (completed requests, on the benchmark's CPU clock), ns of thread CPU time per completed request,
// and the mean wait, which shows that both loops simulate the same queue.
void report(benchmark::State& state, const Totals& totals, double cpu_ns) {
  const auto completed = static_cast<double>(totals.completed);
  state.SetItemsProcessed(static_cast<std::int64_t>(totals.completed));
  state.counters["ns_per_request"] = completed > 0 ? cpu_ns / completed : 0.0;
  state.counters["mean_wait_ms"] =
      completed > 0 ? static_cast<double>(totals.wait_sum) / completed * 1e-6 : 0.0;
}

void add(Totals& sum, const Totals& run) {
  sum.completed += run.completed;
  sum.wait_sum += run.wait_sum;
}

}  // namespace

// The deploysim world simulating M/M/c for ~200k arrivals per iteration. The world is built (and the previous
// one destroyed) outside the timed region; its internal pools still grow inside it, as in any real run.
static void BM_EngineMMc(benchmark::State& state) {
  const int c = static_cast<int>(state.range(0));
  const sim::Time end = horizon(kRequests, c);
  Totals sum;
  double cpu_ns = 0;
  std::unique_ptr<EngineRun> run;
  for (auto _ : state) {
    state.PauseTiming();
    run.reset();
    run = std::make_unique<EngineRun>(c);
    state.ResumeTiming();
    const double t0 = thread_cpu_ns();
    run->world->run_until(end);
    cpu_ns += thread_cpu_ns() - t0;
    benchmark::DoNotOptimize(run->tally.totals.wait_sum);
    add(sum, run->tally.totals);
  }
  report(state, sum, cpu_ns);
}
BENCHMARK(BM_EngineMMc)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond);

// The physical floor: a hand-written M/M/c loop over the same horizon, built and run inside the timed region.
static void BM_MinimalMMc(benchmark::State& state) {
  const int c = static_cast<int>(state.range(0));
  const sim::Time end = horizon(kRequests, c);
  Totals sum;
  double cpu_ns = 0;
  for (auto _ : state) {
    const double t0 = thread_cpu_ns();
    const Totals run = run_minimal(c, end);
    cpu_ns += thread_cpu_ns() - t0;
    benchmark::DoNotOptimize(run.wait_sum);
    add(sum, run);
  }
  report(state, sum, cpu_ns);
}
BENCHMARK(BM_MinimalMMc)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond);

// Engine then minimal loop in each iteration (~50k arrivals each), so that machine drift hits both alike. The
// engine's world is built before its clocks start. Per completed request: wall-clock ns of each
// (steady_clock) and their ratio, plus the ratio of thread CPU times, which stays meaningful when other
// processes compete for the cores. The benchmark's own Time/CPU columns cover both runs and the world's
// construction.
static void BM_EngineVsMinimal(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const int c = static_cast<int>(state.range(0));
  const sim::Time end = horizon(kRatioRequests, c);
  double engine_ns = 0, minimal_ns = 0, engine_cpu_ns = 0, minimal_cpu_ns = 0;
  Totals engine_sum, minimal_sum;
  for (auto _ : state) {
    {
      EngineRun run(c);
      const double cpu0 = thread_cpu_ns();
      const auto t0 = Clock::now();
      run.world->run_until(end);
      const auto t1 = Clock::now();
      engine_cpu_ns += thread_cpu_ns() - cpu0;
      engine_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
      benchmark::DoNotOptimize(run.tally.totals.wait_sum);
      add(engine_sum, run.tally.totals);
    }
    const double cpu0 = thread_cpu_ns();
    const auto t0 = Clock::now();
    const Totals minimal = run_minimal(c, end);
    const auto t1 = Clock::now();
    minimal_cpu_ns += thread_cpu_ns() - cpu0;
    minimal_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
    benchmark::DoNotOptimize(minimal.wait_sum);
    add(minimal_sum, minimal);
  }
  const auto per = [](double ns, const Totals& t) {
    return t.completed > 0 ? ns / static_cast<double>(t.completed) : 0.0;
  };
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  const double engine_per = per(engine_ns, engine_sum);
  const double minimal_per = per(minimal_ns, minimal_sum);
  state.counters["engine_ns_per_request"] = engine_per;
  state.counters["minimal_ns_per_request"] = minimal_per;
  state.counters["ratio"] = ratio(engine_per, minimal_per);
  state.counters["cpu_ratio"] = ratio(per(engine_cpu_ns, engine_sum), per(minimal_cpu_ns, minimal_sum));
}
BENCHMARK(BM_EngineVsMinimal)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond);
