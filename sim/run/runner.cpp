// Runs: one world per (strategy, replication) on a thread pool, and the summary across replications.
#include "sim/run/runner.hpp"

#include <cstdio>
#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "sim/monitor/stats.hpp"
#include "sim/run/isolate.hpp"
#include "sim/run/result_codec.hpp"
#include "strategies/control.hpp"

namespace sim {
namespace {

WorldConfig world_config(const Scenario& scenario, std::uint64_t replication) {
  WorldConfig config = scenario.world;
  config.seed = scenario.seed;
  config.replication = replication;
  return config;
}

/// A world with the stable version serving, as every run of the scenario starts.
void deploy_stable(World& world, const Scenario& scenario, VersionId stable) {
  try {
    world.deploy_ready(stable, scenario.release.replicas);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(scenario.source + ": release.replicas: " + e.what());
  }
}

}  // namespace

const MetricSummary* StrategySummary::find(const std::string& metric) const {
  for (const MetricSummary& m : metrics)
    if (m.name == metric) return &m;
  return nullptr;
}

namespace {

/// SimGrid keeps one engine per process: its runs go to a child process each.
bool isolated(const Scenario& scenario) {
  return scenario.world.platform.backend == PlatformBackend::simgrid;
}

RunResult run_here(const Scenario& scenario, std::size_t strategy_index, std::uint64_t replication,
                   const StrategyRegistry& registry, const std::atomic<bool>* cancel) {
  const StrategySpec& spec = scenario.strategies.at(strategy_index);
  const StrategyInfo* info = registry.find(spec.name);
  if (!info) throw std::invalid_argument("unknown strategy '" + spec.name + "'");

  World world(world_config(scenario, replication));
  const VersionId stable = world.version_id(scenario.release.stable);
  const VersionId candidate = world.version_id(scenario.release.candidate);
  deploy_stable(world, scenario, stable);
  world.set_release(stable, candidate);
  OutcomeObserver outcome(world, scenario.slo, scenario.release.replicas);
  TimeSeriesObserver series(world, scenario.outputs.timeseries_resolution);
  world.add_observer(&outcome);
  world.add_observer(&series);
  std::unique_ptr<Control> control;
  if (info->releases) {
    control = std::make_unique<Control>(world, info->create(spec.params), stable, candidate,
                                        scenario.release.replicas, scenario.release.at,
                                        &scenario.analysis_templates);
    for (Time t : scenario.release.promotions) control->promote_at(t);
  }
  world.sim().set_interrupt(cancel);
  world.run_until(scenario.duration);
  if (world.sim().interrupted()) throw Interrupted();

  RunResult r;
  r.strategy = spec.label;
  r.replication = replication;
  r.metrics = outcome.finish();
  r.timeseries = series.rows();
  r.marks = world.marks();
  r.events = world.sim().events_processed();
  return r;
}

double baseline_cost_here(const Scenario& scenario, std::uint64_t replication,
                          const std::atomic<bool>* cancel) {
  World world(world_config(scenario, replication));
  deploy_stable(world, scenario, world.version_id(scenario.release.stable));
  world.sim().set_interrupt(cancel);
  world.run_until(scenario.duration);
  if (world.sim().interrupted()) throw Interrupted();
  return world.cost_so_far();
}

/// Runs tasks 0 .. total-1 in child processes, at most `jobs` at a time, from the calling thread: `work`
/// computes a task's answer in the child, `take` stores it in the parent. Progress and cancellation as for
/// threads; a cancel kills the children.
void run_children(std::size_t total, std::size_t jobs, const RunOptions& options,
                  const std::function<std::string(std::size_t)>& work,
                  const std::function<void(std::size_t, const std::string&)>& take) {
  std::vector<ChildRun> children;
  std::vector<std::size_t> tasks;
  auto kill_all = [&] {
    for (const ChildRun& c : children) kill_child(c);
    children.clear();
  };
  std::size_t next = 0, done = 0;
  try {
    while (done < total) {
      while (children.size() < jobs && next < total) {
        const std::size_t task = next++;
        children.push_back(start_child([&work, task] { return work(task); }));
        tasks.push_back(task);
      }
      const std::size_t i = wait_for_children(children, 100);
      if (options.cancel && options.cancel->load()) throw Interrupted();
      if (i == children.size()) continue;
      const ChildRun child = children[i];
      const std::size_t task = tasks[i];
      children.erase(children.begin() + static_cast<std::ptrdiff_t>(i));
      tasks.erase(tasks.begin() + static_cast<std::ptrdiff_t>(i));
      take(task, finish_child(child));
      ++done;
      if (options.progress) options.progress(done, total);
    }
  } catch (...) {
    kill_all();
    throw;
  }
}

}  // namespace

RunResult run_one(const Scenario& scenario, std::size_t strategy_index, std::uint64_t replication,
                  const StrategyRegistry& registry, const std::atomic<bool>* cancel) {
  if (!isolated(scenario)) return run_here(scenario, strategy_index, replication, registry, cancel);
  return decode_run_result(run_in_child(
      [&] { return encode_run_result(run_here(scenario, strategy_index, replication, registry, nullptr)); }));
}

double baseline_cost(const Scenario& scenario, std::uint64_t replication, const std::atomic<bool>* cancel) {
  if (!isolated(scenario)) return baseline_cost_here(scenario, replication, cancel);
  const std::string cost = run_in_child([&] {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", baseline_cost_here(scenario, replication, nullptr));
    return std::string(buf);
  });
  return std::strtod(cost.c_str(), nullptr);
}

RunSet run_scenario(const Scenario& input, const StrategyRegistry& registry, const RunOptions& options) {
  Scenario scenario = input;
  if (options.replications) scenario.replications = *options.replications;
  if (options.seed) scenario.seed = *options.seed;
  if (scenario.replications < 1) throw std::invalid_argument("replications must be >= 1");
  if (!options.only.empty()) {
    std::vector<StrategySpec> kept;
    for (const StrategySpec& s : scenario.strategies)
      if (std::find(options.only.begin(), options.only.end(), s.label) != options.only.end() ||
          std::find(options.only.begin(), options.only.end(), s.name) != options.only.end())
        kept.push_back(s);
    if (kept.empty()) {
      std::string known;
      for (const StrategySpec& s : scenario.strategies) known += (known.empty() ? "" : ", ") + s.label;
      throw std::invalid_argument("--only matches no strategy of the scenario (strategies: " + known + ")");
    }
    scenario.strategies = std::move(kept);
  }

  RunSet set;
  set.scenario_name = scenario.name;
  set.scenario_description = scenario.description;
  set.seed = scenario.seed;
  set.replications = scenario.replications;
  set.duration = scenario.duration;
  set.release_at = scenario.release.at;
  set.stable = scenario.release.stable;
  set.candidate = scenario.release.candidate;
  for (const ModelVersionSpec& v : scenario.world.versions) set.versions.push_back(v.name);

  const std::size_t strategies = scenario.strategies.size();
  const std::size_t reps = static_cast<std::size_t>(scenario.replications);
  // Extra cost needs the cost without a release: a baseline run per replication, unless `none` is listed.
  std::ptrdiff_t none_index = -1;
  for (std::size_t s = 0; s < strategies; ++s) {
    const StrategyInfo* info = registry.find(scenario.strategies[s].name);
    if (info && !info->releases && none_index < 0) none_index = static_cast<std::ptrdiff_t>(s);
  }
  const std::size_t baseline_tasks = none_index < 0 ? reps : 0;
  const std::size_t total = strategies * reps + baseline_tasks;

  set.runs.resize(strategies * reps);
  std::vector<double> baseline(reps, 0.0);
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex mutex;
  std::exception_ptr failure;
  auto worker = [&] {
    for (;;) {
      const std::size_t task = next.fetch_add(1);
      if (task >= total) return;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (failure) return;
        if (options.cancel && options.cancel->load()) {
          failure = std::make_exception_ptr(Interrupted());
          return;
        }
      }
      try {
        if (task < strategies * reps) {
          set.runs[task] = run_one(scenario, task / reps, task % reps, registry, options.cancel);
        } else {
          const std::size_t rep = task - strategies * reps;
          baseline[rep] = baseline_cost(scenario, rep, options.cancel);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        return;
      }
      std::lock_guard<std::mutex> lock(mutex);
      ++done;
      if (!options.progress) continue;
      try {
        // The progress callback may also stop the runs (Python's Ctrl-C): its exception ends them all.
        options.progress(done, total);
      } catch (...) {
        if (!failure) failure = std::current_exception();
        return;
      }
    }
  };
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t jobs =
      std::min<std::size_t>(options.jobs > 0 ? static_cast<std::size_t>(options.jobs) : cores, total);
  if (isolated(scenario)) {
    // SimGrid-backed runs go to child processes, all forked from this one thread (a child forked while
    // another thread holds an allocator lock would inherit the lock held). Up to `jobs` run at once.
    run_children(
        total, jobs, options,
        [&](std::size_t task) {
          if (task < strategies * reps)
            return encode_run_result(run_here(scenario, task / reps, task % reps, registry, nullptr));
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.17g",
                        baseline_cost_here(scenario, task - strategies * reps, nullptr));
          return std::string(buf);
        },
        [&](std::size_t task, const std::string& answer) {
          if (task < strategies * reps)
            set.runs[task] = decode_run_result(answer);
          else
            baseline[task - strategies * reps] = std::strtod(answer.c_str(), nullptr);
        });
  } else {
    std::vector<std::thread> threads;
    for (std::size_t j = 1; j < jobs; ++j) threads.emplace_back(worker);
    worker();
    for (std::thread& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
  }

  for (std::size_t rep = 0; rep < reps; ++rep) {
    const double base = none_index >= 0
                            ? set.runs[static_cast<std::size_t>(none_index) * reps + rep].metrics.cost
                            : baseline[rep];
    for (std::size_t s = 0; s < strategies; ++s) {
      RunResult& r = set.runs[s * reps + rep];
      r.extra_cost = r.metrics.cost - base;
    }
  }

  set.baseline = options.baseline;
  if (set.baseline.empty())
    set.baseline = none_index >= 0 ? scenario.strategies[static_cast<std::size_t>(none_index)].label
                                   : scenario.strategies.front().label;
  if (std::none_of(scenario.strategies.begin(), scenario.strategies.end(),
                   [&](const StrategySpec& s) { return s.label == set.baseline; }))
    throw std::invalid_argument("baseline '" + set.baseline + "' is not a strategy of the scenario");
  for (const StrategySpec& s : scenario.strategies) {
    StrategySummary summary;
    summary.label = s.label;
    summary.name = s.name;
    summary.params = s.params.describe();
    set.summary.push_back(std::move(summary));
  }
  summarise(set);
  return set;
}

void summarise(RunSet& set) {
  // Values of every metric by run, in OutcomeMetrics::fields() order, then extra_cost.
  auto values_of = [](const RunResult& r) {
    std::vector<std::pair<std::string, double>> v = r.metrics.fields();
    v.emplace_back("extra_cost", r.extra_cost);
    return v;
  };
  auto runs_of = [&](const std::string& label) {
    std::vector<const RunResult*> out;
    for (const RunResult& r : set.runs)
      if (r.strategy == label) out.push_back(&r);
    return out;
  };
  const std::vector<const RunResult*> base = runs_of(set.baseline);
  for (StrategySummary& summary : set.summary) {
    const std::vector<const RunResult*> runs = runs_of(summary.label);
    summary.outcomes.clear();
    summary.metrics.clear();
    for (const RunResult* r : runs) ++summary.outcomes[r->metrics.outcome];
    if (runs.empty()) continue;
    const std::size_t fields = values_of(*runs.front()).size();
    for (std::size_t f = 0; f < fields; ++f) {
      MetricSummary m;
      m.name = values_of(*runs.front())[f].first;
      std::vector<double> xs, diffs;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const double x = values_of(*runs[i])[f].second;
        if (std::isnan(x)) continue;
        xs.push_back(x);
        if (i < base.size() && base[i]->replication == runs[i]->replication) {
          const double b = values_of(*base[i])[f].second;
          if (!std::isnan(b)) diffs.push_back(x - b);
        }
      }
      auto fill = [](const std::vector<double>& v, std::size_t& n, double& mean, double& half) {
        n = v.size();
        if (v.empty()) return;
        if (v.size() == 1) {
          mean = v[0];
          return;
        }
        const ConfidenceInterval ci = mean_ci(v, 0.95);
        mean = ci.mean;
        half = ci.half_width;
      };
      fill(xs, m.n, m.mean, m.half_width);
      fill(diffs, m.diff_n, m.diff_mean, m.diff_half_width);
      summary.metrics.push_back(std::move(m));
    }
  }
}

}  // namespace sim
