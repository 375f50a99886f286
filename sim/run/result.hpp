// Results of runs: one per (strategy, replication), and the per-strategy summary across replications.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/metrics/timeseries.hpp"
#include "sim/world/observer.hpp"

namespace sim {

/// One run: a pure function of (scenario, strategy, replication).
struct RunResult {
  std::string strategy;  // the strategy's label in the scenario
  std::uint64_t replication = 0;
  OutcomeMetrics metrics;
  double extra_cost = 0;  // cost minus the cost of the same replication without any release
  std::vector<TimeSeriesRow> timeseries;
  std::vector<Mark> marks;  // decisions and milestones, in time order
  std::uint64_t events = 0;
};

/// Mean and 95% confidence interval of one metric across replications (NaN values are left out), and the
/// paired difference against the baseline strategy over the replications where both are defined.
struct MetricSummary {
  std::string name;
  std::size_t n = 0;
  double mean = kNotApplicable;
  double half_width = kNotApplicable;  // NaN with fewer than two values
  std::size_t diff_n = 0;
  double diff_mean = kNotApplicable;
  double diff_half_width = kNotApplicable;
};

struct StrategySummary {
  std::string label;
  std::string name;
  std::string params;                   // "name=value, ..." as validated
  std::map<std::string, int> outcomes;  // outcome -> replications
  std::vector<MetricSummary> metrics;   // OutcomeMetrics::fields() order, then extra_cost
  const MetricSummary* find(const std::string& metric) const;
};

struct RunSet {
  std::string scenario_name;
  std::string scenario_description;
  std::uint64_t seed = 0;
  int replications = 0;
  Time duration = 0;
  Time release_at = 0;
  std::string stable, candidate;
  std::vector<std::string> versions;  // names by version id, for time series
  std::string baseline;               // label of the strategy differences are taken against
  std::vector<RunResult> runs;        // strategy-major, replication-minor, in scenario order
  std::vector<StrategySummary> summary;
};

}  // namespace sim
