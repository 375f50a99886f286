// Automated canary analysis with the semantics of the tools people run: Argo Rollouts analysis runs,
// Flagger's failed-check gate, and Kayenta's Mann-Whitney judgement of canary against baseline.
//
// These classes only judge windows they are given; strategies own the timers, read windows from a
// MetricCollector and turn every record into a decision (Control::note / abort) with its reason.
// "No data" is always a result of its own, never a silent pass.
//
// Argo Rollouts (analysis controller, assessMetricStatus, and docs/features/analysis.md):
//  - every metric has its own counters: successful, failed, inconclusive, error, consecutiveError, and
//    count (measurements that were not errors);
//  - a metric is Failed when failed > failureLimit, else Inconclusive when inconclusive >
//    inconclusiveLimit, else Error when consecutiveError > consecutiveErrorLimit (default 4), else
//    Successful when count reached `count` (failures up to the limit do not matter then), else Running;
//  - a measurement is Failed if the failure condition holds, Successful if the success condition holds,
//    and Inconclusive if neither does; a metric with no conditions succeeds (as Argo's evaluate code
//    does; its docs call that case Inconclusive);
//  - once a metric is Failed, Error or Inconclusive the run terminates: the other metrics end
//    Successful and the run takes the worst phase (Successful < Inconclusive < Error < Failed);
//  - the first measurement is taken initialDelay after the run starts, later ones `interval` after the
//    previous one; with no interval and no count a metric measures once.
//  A query that returns no samples (a Prometheus `result[0]` on an empty vector) is an Error
//  measurement; `no_data` can make it Inconclusive or Failed instead. A measurement judges the window
//  the caller passes, normally its cursor's "since the previous measurement" (since the run started for
//  the first one), where Argo would query a trailing range such as [5m]. Without initialDelay the first
//  measurement therefore sees an empty window and errors, as a query against a canary that has not
//  served yet would. All metrics share the template's interval and limits (Argo has them per metric).
//
// Flagger (pkg/controller/scheduler.go, scheduler_metrics.go):
//  - every analysis interval the metric checks run in order and stop at the first that fails; a failure,
//    or "no values found" for a metric (no traffic), adds one to a cumulative failed-checks counter and
//    halts advancement; a passing check does not reset the counter (only a new revision does);
//  - at the start of a later interval, failedChecks >= threshold rolls the canary back. The abort is
//    therefore decided one interval after the failed check that reached the threshold, as in Flagger.
//  - thresholdRange min/max are inclusive: a value fails when below min or above max.
//  `min_requests` generalises "no values found" (a query over no traffic) to "fewer than min_requests
//  requests in the window"; such checks keep that reason and are also counted in no_data_checks().
//
// Kayenta (NetflixACAJudge, MannWhitneyClassifier, WeightedSumScorer, ThresholdScoreClassifier):
//  - per metric, canary and baseline series (one point per time bucket) without NaN; an empty side (here:
//    fewer than min_points) is Nodata; identical data, or a single distinct value overall, is Pass;
//  - otherwise the Hodges-Lehmann shift of canary over baseline and its confidence interval at
//    `confidence`: High when the direction allows an increase and the interval's lower end exceeds
//    tolerance * |estimate|, Low symmetrically, else Pass;
//  - group score = 100 * pass / (pass + high + low) (Nodata metrics do not count; a group with only
//    Nodata adds nothing); summary = sum of group score * weight / 100, groups without a weight share
//    what is left of 100 equally; a critical metric that is not Pass makes the score 0;
//  - Pass if score >= pass_threshold, Marginal if >= marginal_threshold, else Fail.
//  Kayenta's outlier removal (IQR, factor 3) is not reproduced.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/time.hpp"
#include "sim/monitor/metric_window.hpp"

namespace sim {

// ---- threshold checks -------------------------------------------------------------------------------

/// A value fails when below `min` or above `max` (Argo failureCondition / Flagger thresholdRange). The
/// optional success band (Argo successCondition, ignored by Flagger) makes values that neither fail nor
/// lie within [success_min, success_max] inconclusive.
struct MetricCheck {
  Metric metric = Metric::error_rate;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  double success_min = -std::numeric_limits<double>::infinity();
  double success_max = std::numeric_limits<double>::infinity();
};

enum class CheckOutcome : std::uint8_t { pass, fail, inconclusive, no_data };
const char* to_string(CheckOutcome o);

struct CheckResult {
  Metric metric = Metric::error_rate;
  double value = 0;  // NaN without samples
  std::uint64_t samples = 0;
  CheckOutcome outcome = CheckOutcome::pass;
  std::string reason;  // e.g. "error_rate 3.2% > 1%", "no values found: 12 requests < min_requests 50"
};

/// Evaluates one check on a window. Fewer than max(1, min_samples) samples (requests, or labels for
/// conversion_rate) is no_data.
CheckResult evaluate_check(const MetricCheck& check, const WindowStats& window, std::uint64_t min_samples,
                           bool use_success_band = true);

// ---- Argo Rollouts ----------------------------------------------------------------------------------

/// Argo's AnalysisPhase, used for measurements, metrics and runs.
enum class AnalysisPhase : std::uint8_t { pending, running, successful, failed, error, inconclusive };
const char* to_string(AnalysisPhase p);  // "Pending", "Running", "Successful", ...
/// True for Successful, Failed, Error and Inconclusive.
bool completed(AnalysisPhase p);

enum class NoDataPolicy : std::uint8_t { error, inconclusive, failed };

struct AnalysisTemplate {
  Time interval = 0;  // 0: a single measurement unless `count` says otherwise
  int count = 0;      // 0: unlimited when an interval is set
  int failure_limit = 0;
  int inconclusive_limit = 0;
  int consecutive_error_limit = 4;
  Time initial_delay = 0;
  std::uint64_t min_requests = 1;  // fewer samples in a window: no data
  NoDataPolicy no_data = NoDataPolicy::error;
  std::vector<MetricCheck> metrics;
};

/// The counters Argo keeps for one metric of a run.
class ArgoMetricResult {
 public:
  /// Records a completed measurement (Successful, Failed, Inconclusive or Error).
  void add(AnalysisPhase measurement);
  /// Argo's assessMetricStatus for these counters under the template's limits.
  AnalysisPhase assess(const AnalysisTemplate& t, bool terminating) const;

  int count() const { return count_; }
  int successful() const { return successful_; }
  int failed() const { return failed_; }
  int inconclusive() const { return inconclusive_; }
  int errors() const { return errors_; }
  int consecutive_errors() const { return consecutive_errors_; }
  int measurements() const { return count_ + errors_; }
  /// Why assess() returned a completed phase, e.g. "failed (3) > failureLimit (2)".
  std::string explain(const AnalysisTemplate& t) const;

 private:
  int count_ = 0;
  int successful_ = 0;
  int failed_ = 0;
  int inconclusive_ = 0;
  int errors_ = 0;
  int consecutive_errors_ = 0;
};

struct ArgoRecord {
  Time time = 0;
  AnalysisPhase phase = AnalysisPhase::running;  // of the run after this measurement
  std::string reason;
  std::vector<CheckResult> checks;           // per metric, in template order
  std::vector<AnalysisPhase> measurements;   // per metric: this measurement's phase
  std::vector<AnalysisPhase> metric_phases;  // per metric: phase after it
};

class ArgoAnalysisRun {
 public:
  /// Throws std::invalid_argument for negative times or limits or an empty metric list.
  ArgoAnalysisRun(AnalysisTemplate t, Time started_at);

  /// When the next measurement is due; kTimeNever once the run completed or took its last measurement.
  Time next_measurement() const { return next_; }
  /// Takes a measurement of every metric on `window` and assesses the run. After completion it changes
  /// nothing and returns the final record again.
  const ArgoRecord& measure(const WindowStats& window, Time now);
  /// Feeds measurement phases directly (one per metric), for tests and providers without windows.
  const ArgoRecord& record(std::span<const AnalysisPhase> measurements, Time now);
  /// Ends the run early (Argo's terminate: a Running metric with measurements ends Successful).
  const ArgoRecord& terminate(Time now);

  AnalysisPhase phase() const { return phase_; }
  bool done() const { return completed(phase_); }
  const ArgoMetricResult& metric(std::size_t i) const { return results_.at(i); }
  const AnalysisTemplate& analysis_template() const { return template_; }
  const ArgoRecord& last() const { return last_; }

 private:
  AnalysisPhase measurement_phase(const CheckResult& c) const;
  void assess(Time now, bool terminate);

  AnalysisTemplate template_;
  Time started_at_;
  Time next_;
  AnalysisPhase phase_ = AnalysisPhase::pending;
  std::vector<ArgoMetricResult> results_;
  std::vector<AnalysisPhase> metric_phases_;
  ArgoRecord last_;
};

// ---- Flagger ----------------------------------------------------------------------------------------

struct FlaggerAnalysis {
  Time interval = kMinute;
  int threshold = 5;               // failed checks before rollback
  std::uint64_t min_requests = 1;  // fewer requests in a window: "no values found"
  std::vector<MetricCheck> metrics;
};

enum class FlaggerDecision : std::uint8_t {
  advance,  // every check passed
  halt,     // a failed check: advancement halts, the counter grows
  abort,    // the failed-checks threshold was reached: roll back
};
const char* to_string(FlaggerDecision d);

struct FlaggerRecord {
  Time time = 0;
  FlaggerDecision decision = FlaggerDecision::advance;
  int failed_checks = 0;  // after this check
  bool no_data = false;   // this check failed for lack of values
  std::string reason;
  std::vector<CheckResult> checks;  // every metric's value, though Flagger stops at the first failure
};

class FlaggerGate {
 public:
  /// Throws std::invalid_argument for a threshold below 1 or a non-positive interval.
  explicit FlaggerGate(FlaggerAnalysis analysis);

  /// One analysis tick on the window since the previous tick.
  FlaggerRecord check(const WindowStats& window, Time now);
  /// A new revision restarts the analysis (Flagger resets the failed checks).
  void restart();

  int failed_checks() const { return failed_checks_; }
  int no_data_checks() const { return no_data_checks_; }
  int checks() const { return checks_; }
  bool aborted() const { return aborted_; }
  const FlaggerAnalysis& analysis() const { return analysis_; }

 private:
  FlaggerAnalysis analysis_;
  int failed_checks_ = 0;
  int no_data_checks_ = 0;
  int checks_ = 0;
  bool aborted_ = false;
};

// ---- Kayenta ----------------------------------------------------------------------------------------

/// The direction of change that fails a metric (Kayenta's "direction").
enum class Direction : std::uint8_t { increase, decrease, either };

struct KayentaMetric {
  Metric metric = Metric::latency_p99;
  Direction direction = Direction::increase;
  std::size_t min_points = 1;  // per side; fewer points: Nodata (Kayenta itself only checks for none)
  bool critical = false;       // not Pass -> score 0
  std::string group = "default";
};

struct KayentaConfig {
  std::vector<KayentaMetric> metrics;
  double confidence = 0.98;  // NetflixACAJudge's confidence level
  double tolerance = 0.25;   // fraction of |shift estimate| the interval must clear
  double pass_threshold = 90;
  double marginal_threshold = 75;
  std::vector<std::pair<std::string, double>> group_weights;  // percent; unlisted groups share the rest
};

enum class MetricClass : std::uint8_t { pass, high, low, nodata };
const char* to_string(MetricClass c);  // "Pass", "High", "Low", "Nodata"
enum class Verdict : std::uint8_t { pass, marginal, fail };
const char* to_string(Verdict v);  // "Pass", "Marginal", "Fail"

struct KayentaMetricResult {
  Metric metric = Metric::latency_p99;
  MetricClass classification = MetricClass::nodata;
  std::size_t canary_points = 0;
  std::size_t baseline_points = 0;
  double canary_mean = 0;
  double baseline_mean = 0;
  double shift = 0;  // Hodges-Lehmann estimate of canary - baseline, and its interval
  double shift_lower = 0;
  double shift_upper = 0;
  double p_value = 1;  // Mann-Whitney, one-sided in the failing direction (two-sided for `either`)
  std::string reason;
};

struct KayentaResult {
  Time time = 0;
  double score = 0;
  Verdict verdict = Verdict::fail;
  std::string reason;
  std::vector<KayentaMetricResult> metrics;
};

class KayentaJudge {
 public:
  /// Throws std::invalid_argument for a confidence outside (0, 1), marginal above pass, or no metrics.
  explicit KayentaJudge(KayentaConfig config);

  struct Series {
    std::span<const double> canary;
    std::span<const double> baseline;
  };
  /// Judges one series pair per configured metric (same order). NaN points are dropped.
  KayentaResult judge(std::span<const Series> per_metric, Time now) const;
  /// Reads the collector's bucket series of both versions over (from, to] and judges them.
  KayentaResult judge(MetricCollector& collector, VersionId canary, VersionId baseline, Time from, Time to,
                      Traffic canary_traffic = Traffic::live);

  const KayentaConfig& config() const { return config_; }

 private:
  KayentaMetricResult classify(const KayentaMetric& m, std::span<const double> canary,
                               std::span<const double> baseline) const;

  KayentaConfig config_;
  // Scratch series for the collector overload, kept to avoid allocating per judgement.
  std::vector<std::vector<double>> canary_scratch_;
  std::vector<std::vector<double>> baseline_scratch_;
};

}  // namespace sim
