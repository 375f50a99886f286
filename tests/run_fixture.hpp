// Helpers for tests that run a scenario written inline and read the decisions of the run.
#pragma once

#include <string>

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

}  // namespace testing_support
