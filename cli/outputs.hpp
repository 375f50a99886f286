// Results of `deploysim run` as text and files: the side-by-side table, summary JSON/CSV, per-run CSVs.
#pragma once

#include <string>
#include <vector>

#include "sim/run/result.hpp"

namespace sim {

/// A metric shown in the side-by-side tables (text and HTML), in display order.
struct TableMetric {
  const char* metric;  // MetricSummary::name
  const char* label;   // row label, with the display unit
  double scale;        // display value = stored value * scale (e.g. seconds -> milliseconds)
};

/// The metrics the tables show for `set`: the key outcome metrics, plus reward and regret when any
/// strategy has a nonzero mean for them.
std::vector<TableMetric> table_metrics(const RunSet& set);

/// "mean ± half_width" with the half-width to two significant digits and the mean to the same decimal
/// place; the mean alone when the half-width is NaN; "-" when the mean is NaN. `sign`: always print
/// the sign of the mean (for differences).
std::string format_estimate(double mean, double half_width, bool sign = false);

/// "promoted 18, rolled_back 2" in a fixed order (promoted, rolled_back, stalled, incomplete, none,
/// then any other outcome alphabetically).
std::string format_outcomes(const StrategySummary& s);

/// The summary entry named `metric` of `s`, or nullptr.
const MetricSummary* find_metric(const StrategySummary& s, const std::string& metric);

/// The side-by-side table as aligned plain text: one column per strategy, one row per metric, each
/// followed by the paired difference against the baseline; strategies beyond 120 columns continue in
/// another block below.
std::string format_table(const RunSet& set);

/// Scenario, baseline, and per strategy its outcome counts and metric summaries; every run's metrics
/// and decisions. NaN is null.
std::string summary_json(const RunSet& set);

// CSV files: a header line, then rows in a deterministic order (strategies in scenario order,
// replications ascending); numbers in their shortest exact form, NaN as an empty field.

/// strategy,metric,n,mean,ci95_half_width,diff_n,diff_mean,diff_ci95_half_width
std::string summary_csv(const RunSet& set);
/// strategy,replication,outcome, every OutcomeMetrics field, extra_cost
std::string results_csv(const RunSet& set);
/// strategy,replication,time_s,version,requests,traffic_share,ready,error_rate,latency_p99_s,cost
std::string timeseries_csv(const RunSet& set);
/// strategy,replication,time_s,kind,reason
std::string marks_csv(const RunSet& set);

/// The files write_outputs() writes, in the order it writes them.
const std::vector<std::string>& output_files();

/// Writes summary.json, summary.csv, results.csv, timeseries.csv, marks.csv and report.html into
/// `dir` (created if missing). All contents are rendered first, written to temporary names in `dir`,
/// then renamed over the final names, so a failure leaves existing files as they were and no
/// temporaries behind. Throws std::runtime_error naming the path and the OS error.
/// With `charts`, also every chart of the report as a standalone SVG file under `charts/`
/// (render_chart_files), written the same way.
void write_outputs(const RunSet& set, const std::string& dir, bool charts = false);

/// The subdirectory of the output directory that holds the chart files.
inline constexpr const char* kChartsDir = "charts";

}  // namespace sim
