// Helpers for tests that run a scenario written inline and read the decisions of the run.
#pragma once

#include <string>

#include "sim/monitor/analysis.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/registry.hpp"

namespace testing_support {

/// Replication 0 of the first strategy of the scenario `yaml` (named `source` in errors).
inline sim::RunResult run_yaml(const std::string& yaml, const std::string& source) {
  const sim::StrategyRegistry& registry = sim::StrategyRegistry::builtin();
  const sim::Scenario s = sim::parse_scenario(yaml, source, registry.schemas());
  return sim::run_one(s, 0, 0, registry);
}

/// Time of the first mark whose reason contains `text`; kTimeNever if none.
inline sim::Time mark_time(const sim::RunResult& r, const std::string& text) {
  for (const sim::Mark& m : r.marks)
    if (m.reason.find(text) != std::string::npos) return m.time;
  return sim::kTimeNever;
}

/// How many marks have a reason containing `text`.
inline int count_marks(const sim::RunResult& r, const std::string& text) {
  int n = 0;
  for (const sim::Mark& m : r.marks) n += m.reason.find(text) != std::string::npos;
  return n;
}

/// An Argo analysis template with one check, error rate at most `max_error`, measured every `interval` from
/// `interval` after the start; `count` measurements (0: unlimited); fewer than `min_requests` is no data.
inline sim::AnalysisTemplate error_rate_guard(sim::Time interval, int count = 0,
                                              std::uint64_t min_requests = 100, double max_error = 0.01) {
  sim::AnalysisTemplate t;
  t.interval = interval;
  t.initial_delay = interval;
  t.count = count;
  t.min_requests = min_requests;
  sim::MetricCheck errors;
  errors.metric = sim::Metric::error_rate;
  errors.max = max_error;
  t.metrics = {errors};
  return t;
}

}  // namespace testing_support
