// Running a scenario: every strategy x replication on a thread pool, then the summary.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "sim/run/result.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/registry.hpp"

namespace sim {

struct RunOptions {
  int jobs = 0;                       // threads; 0: all cores
  std::optional<int> replications;    // overrides the scenario's
  std::optional<std::uint64_t> seed;  // overrides the scenario's
  std::vector<std::string> only;      // strategy labels or names to run; empty: all
  std::string baseline;  // label for paired differences; empty: "none" if present, else the first
  /// Called after each finished run with (done, total); from worker threads, serialised by the runner. An
  /// exception it throws stops the remaining runs and is rethrown by run_scenario.
  std::function<void(std::size_t, std::size_t)> progress;
  /// Raised by another thread to stop: runs in progress stop early and run_scenario throws Interrupted.
  const std::atomic<bool>* cancel = nullptr;
};

/// One run, as a pure function. `strategy_index` indexes scenario.strategies.
/// `cancel`, when given and raised by another thread, stops the run within a few thousand events and makes
/// it throw Interrupted (SimGrid-backed runs, in child processes, finish first).
RunResult run_one(const Scenario& scenario, std::size_t strategy_index, std::uint64_t replication,
                  const StrategyRegistry& registry, const std::atomic<bool>* cancel = nullptr);

/// Thrown by runs stopped through a cancel flag.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

/// Cost of the same replication with no release (the baseline of extra cost).
double baseline_cost(const Scenario& scenario, std::uint64_t replication,
                     const std::atomic<bool>* cancel = nullptr);

/// Runs the scenario and summarises it. Results are identical whatever the number of threads.
RunSet run_scenario(const Scenario& scenario, const StrategyRegistry& registry,
                    const RunOptions& options = {});

/// Recomputes the summary of `set` (means, CIs, outcome counts, paired differences).
void summarise(RunSet& set);

}  // namespace sim
