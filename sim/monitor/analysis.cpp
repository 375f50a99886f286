// Threshold checks, Argo analysis runs, Flagger's failed-check gate and Kayenta's judgement.
#include "sim/monitor/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "sim/monitor/mann_whitney.hpp"

namespace sim {

namespace {

std::string samples_noun(Metric m) { return m == Metric::conversion_rate ? "labels" : "requests"; }

// Order of Argo's analysisStatusOrder, best to worst.
int badness(AnalysisPhase p) {
  switch (p) {
    case AnalysisPhase::successful:
      return 0;
    case AnalysisPhase::running:
      return 1;
    case AnalysisPhase::pending:
      return 2;
    case AnalysisPhase::inconclusive:
      return 3;
    case AnalysisPhase::error:
      return 4;
    case AnalysisPhase::failed:
      return 5;
  }
  return 0;
}

bool ends_run(AnalysisPhase p) {
  return p == AnalysisPhase::failed || p == AnalysisPhase::error || p == AnalysisPhase::inconclusive;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

// ---- threshold checks -------------------------------------------------------------------------------

const char* to_string(CheckOutcome o) {
  switch (o) {
    case CheckOutcome::pass:
      return "pass";
    case CheckOutcome::fail:
      return "fail";
    case CheckOutcome::inconclusive:
      return "inconclusive";
    case CheckOutcome::no_data:
      return "no_data";
  }
  return "?";
}

CheckResult evaluate_check(const MetricCheck& check, const WindowStats& window, std::uint64_t min_samples,
                           bool use_success_band) {
  CheckResult r;
  r.metric = check.metric;
  r.samples = window.samples(check.metric);
  r.value = window.value(check.metric);
  const std::string name = to_string(check.metric);
  const std::uint64_t needed = std::max<std::uint64_t>(1, min_samples);
  if (r.samples < needed || std::isnan(r.value)) {
    r.outcome = CheckOutcome::no_data;
    r.reason = "no values found for " + name + ": " + std::to_string(r.samples) + " " +
               samples_noun(check.metric) + " < min_requests " + std::to_string(needed);
    return r;
  }
  const std::string shown = name + " " + format_metric_value(check.metric, r.value);
  if (r.value < check.min) {
    r.outcome = CheckOutcome::fail;
    r.reason = shown + " < " + format_metric_value(check.metric, check.min);
  } else if (r.value > check.max) {
    r.outcome = CheckOutcome::fail;
    r.reason = shown + " > " + format_metric_value(check.metric, check.max);
  } else if (use_success_band && r.value < check.success_min) {
    r.outcome = CheckOutcome::inconclusive;
    r.reason =
        shown + " below success " + format_metric_value(check.metric, check.success_min) + ", not failing";
  } else if (use_success_band && r.value > check.success_max) {
    r.outcome = CheckOutcome::inconclusive;
    r.reason =
        shown + " above success " + format_metric_value(check.metric, check.success_max) + ", not failing";
  } else {
    r.outcome = CheckOutcome::pass;
    r.reason = shown;
  }
  return r;
}

// ---- Argo Rollouts ----------------------------------------------------------------------------------

const char* to_string(AnalysisPhase p) {
  switch (p) {
    case AnalysisPhase::pending:
      return "Pending";
    case AnalysisPhase::running:
      return "Running";
    case AnalysisPhase::successful:
      return "Successful";
    case AnalysisPhase::failed:
      return "Failed";
    case AnalysisPhase::error:
      return "Error";
    case AnalysisPhase::inconclusive:
      return "Inconclusive";
  }
  return "?";
}

bool completed(AnalysisPhase p) { return p != AnalysisPhase::pending && p != AnalysisPhase::running; }

void ArgoMetricResult::add(AnalysisPhase measurement) {
  switch (measurement) {
    case AnalysisPhase::successful:
      ++successful_;
      ++count_;
      consecutive_errors_ = 0;
      break;
    case AnalysisPhase::failed:
      ++failed_;
      ++count_;
      consecutive_errors_ = 0;
      break;
    case AnalysisPhase::inconclusive:
      ++inconclusive_;
      ++count_;
      consecutive_errors_ = 0;
      break;
    case AnalysisPhase::error:
      ++errors_;
      ++consecutive_errors_;  // errors do not count towards `count`
      break;
    default:
      throw std::invalid_argument("ArgoMetricResult: a measurement must be completed");
  }
}

namespace {

// Argo's EffectiveCount: 1 with neither count nor interval, none (0 here) with only an interval.
int effective_count(const AnalysisTemplate& t) { return t.count > 0 ? t.count : (t.interval > 0 ? 0 : 1); }

}  // namespace

AnalysisPhase ArgoMetricResult::assess(const AnalysisTemplate& t, bool terminating) const {
  if (measurements() == 0) return terminating ? AnalysisPhase::successful : AnalysisPhase::pending;
  if (failed_ > t.failure_limit) return AnalysisPhase::failed;
  if (inconclusive_ > t.inconclusive_limit) return AnalysisPhase::inconclusive;
  if (consecutive_errors_ > t.consecutive_error_limit) return AnalysisPhase::error;
  const int count = effective_count(t);
  if (count > 0 && count_ >= count) return AnalysisPhase::successful;
  return terminating ? AnalysisPhase::successful : AnalysisPhase::running;
}

std::string ArgoMetricResult::explain(const AnalysisTemplate& t) const {
  if (failed_ > t.failure_limit)
    return "failed (" + std::to_string(failed_) + ") > failureLimit (" + std::to_string(t.failure_limit) +
           ")";
  if (inconclusive_ > t.inconclusive_limit)
    return "inconclusive (" + std::to_string(inconclusive_) + ") > inconclusiveLimit (" +
           std::to_string(t.inconclusive_limit) + ")";
  if (consecutive_errors_ > t.consecutive_error_limit)
    return "consecutiveErrors (" + std::to_string(consecutive_errors_) + ") > consecutiveErrorLimit (" +
           std::to_string(t.consecutive_error_limit) + ")";
  const int count = effective_count(t);
  if (count > 0 && count_ >= count) return "count (" + std::to_string(count) + ") reached";
  return "measured " + std::to_string(measurements()) + " times";
}

ArgoAnalysisRun::ArgoAnalysisRun(AnalysisTemplate t, Time started_at)
    : template_(std::move(t)), started_at_(started_at) {
  if (template_.metrics.empty()) throw std::invalid_argument("ArgoAnalysisRun: no metrics");
  if (template_.interval < 0 || template_.initial_delay < 0)
    throw std::invalid_argument("ArgoAnalysisRun: interval and initialDelay must not be negative");
  if (template_.count < 0 || template_.failure_limit < 0 || template_.inconclusive_limit < 0 ||
      template_.consecutive_error_limit < 0)
    throw std::invalid_argument("ArgoAnalysisRun: count and limits must not be negative");
  // Argo would retry every 10 s; a repeated measurement without an interval is almost surely a mistake.
  if (template_.count > 1 && template_.interval == 0)
    throw std::invalid_argument("ArgoAnalysisRun: count > 1 needs an interval");
  next_ = started_at_ + template_.initial_delay;
  phase_ = AnalysisPhase::running;
  results_.resize(template_.metrics.size());
  metric_phases_.assign(template_.metrics.size(), AnalysisPhase::pending);
  last_.time = started_at_;
  last_.phase = phase_;
}

AnalysisPhase ArgoAnalysisRun::measurement_phase(const CheckResult& c) const {
  switch (c.outcome) {
    case CheckOutcome::pass:
      return AnalysisPhase::successful;
    case CheckOutcome::fail:
      return AnalysisPhase::failed;
    case CheckOutcome::inconclusive:
      return AnalysisPhase::inconclusive;
    case CheckOutcome::no_data:
      break;
  }
  switch (template_.no_data) {
    case NoDataPolicy::inconclusive:
      return AnalysisPhase::inconclusive;
    case NoDataPolicy::failed:
      return AnalysisPhase::failed;
    case NoDataPolicy::error:
      break;
  }
  return AnalysisPhase::error;
}

const ArgoRecord& ArgoAnalysisRun::measure(const WindowStats& window, Time now) {
  if (done()) return last_;
  std::vector<CheckResult> checks;
  checks.reserve(template_.metrics.size());
  std::vector<AnalysisPhase> phases;
  phases.reserve(template_.metrics.size());
  for (const MetricCheck& c : template_.metrics) {
    checks.push_back(evaluate_check(c, window, template_.min_requests));
    phases.push_back(measurement_phase(checks.back()));
  }
  record(phases, now);
  last_.checks = std::move(checks);
  // Append what each metric measured, so the record explains itself in a report.
  std::string detail;
  for (std::size_t i = 0; i < last_.checks.size(); ++i) {
    if (!detail.empty()) detail += "; ";
    detail += std::string(to_string(last_.measurements[i])) + ": " + last_.checks[i].reason;
  }
  last_.reason += " [" + detail + "]";
  return last_;
}

const ArgoRecord& ArgoAnalysisRun::record(std::span<const AnalysisPhase> measurements, Time now) {
  if (done()) return last_;
  if (measurements.size() != results_.size())
    throw std::invalid_argument("ArgoAnalysisRun: one measurement per metric expected");
  for (std::size_t i = 0; i < results_.size(); ++i)
    if (!completed(metric_phases_[i])) results_[i].add(measurements[i]);
  last_ = ArgoRecord{};
  last_.measurements.assign(measurements.begin(), measurements.end());
  assess(now, false);
  if (!done()) next_ = template_.interval > 0 ? now + template_.interval : kTimeNever;
  return last_;
}

const ArgoRecord& ArgoAnalysisRun::terminate(Time now) {
  if (done()) return last_;
  last_ = ArgoRecord{};
  assess(now, true);
  return last_;
}

void ArgoAnalysisRun::assess(Time now, bool terminate) {
  // Argo decides "terminating" from the phases before this reconciliation, then needs one more pass to
  // end the remaining metrics; both passes happen at the same instant here.
  bool terminating = terminate;
  for (AnalysisPhase p : metric_phases_) terminating = terminating || ends_run(p);
  for (int pass = 0; pass < 2; ++pass) {
    bool ended = false;
    for (std::size_t i = 0; i < results_.size(); ++i) {
      if (!completed(metric_phases_[i])) metric_phases_[i] = results_[i].assess(template_, terminating);
      ended = ended || ends_run(metric_phases_[i]);
    }
    if (terminating || !ended) break;
    terminating = true;
  }
  bool all_completed = true;
  AnalysisPhase worst = AnalysisPhase::successful;
  std::size_t deciding = 0;
  for (std::size_t i = 0; i < metric_phases_.size(); ++i) {
    if (!completed(metric_phases_[i])) {
      all_completed = false;
      continue;
    }
    if (badness(metric_phases_[i]) > badness(worst)) {
      worst = metric_phases_[i];
      deciding = i;
    }
  }
  phase_ = all_completed ? worst : AnalysisPhase::running;
  if (done()) next_ = kTimeNever;

  last_.time = now;
  last_.phase = phase_;
  last_.metric_phases = metric_phases_;
  const int n = results_.empty() ? 0 : results_[0].measurements();
  last_.reason =
      "argo analysis run " + std::string(to_string(phase_)) + " after measurement " + std::to_string(n);
  if (done()) {
    const ArgoMetricResult& r = results_[deciding];
    last_.reason += ": " + std::string(to_string(template_.metrics[deciding].metric)) + " " +
                    (terminating && !ends_run(worst) ? std::string("run terminated") : r.explain(template_));
  }
}

// ---- Flagger ----------------------------------------------------------------------------------------

const char* to_string(FlaggerDecision d) {
  switch (d) {
    case FlaggerDecision::advance:
      return "advance";
    case FlaggerDecision::halt:
      return "halt";
    case FlaggerDecision::abort:
      return "abort";
  }
  return "?";
}

FlaggerGate::FlaggerGate(FlaggerAnalysis analysis) : analysis_(std::move(analysis)) {
  if (analysis_.threshold < 1) throw std::invalid_argument("FlaggerGate: threshold must be at least 1");
  if (analysis_.interval <= 0) throw std::invalid_argument("FlaggerGate: interval must be positive");
}

void FlaggerGate::restart() {
  failed_checks_ = 0;
  no_data_checks_ = 0;
  checks_ = 0;
  aborted_ = false;
}

FlaggerRecord FlaggerGate::check(const WindowStats& window, Time now) {
  FlaggerRecord rec;
  rec.time = now;
  const std::string counter =
      " (failed checks " + std::to_string(failed_checks_) + "/" + std::to_string(analysis_.threshold) + ")";
  // Flagger compares the counter with the threshold before it runs this interval's checks.
  if (aborted_ || failed_checks_ >= analysis_.threshold) {
    aborted_ = true;
    rec.decision = FlaggerDecision::abort;
    rec.failed_checks = failed_checks_;
    rec.reason = "flagger: rolling back, failed checks threshold reached " + std::to_string(failed_checks_);
    return rec;
  }
  ++checks_;
  rec.checks.reserve(analysis_.metrics.size());
  const CheckResult* first_bad = nullptr;
  for (const MetricCheck& c : analysis_.metrics) {
    rec.checks.push_back(evaluate_check(c, window, analysis_.min_requests, false));
  }
  for (const CheckResult& r : rec.checks) {
    if (r.outcome != CheckOutcome::pass) {
      first_bad = &r;
      break;
    }
  }
  if (first_bad == nullptr) {
    rec.decision = FlaggerDecision::advance;
    rec.failed_checks = failed_checks_;
    rec.reason = "flagger: checks passed" + counter;
    return rec;
  }
  ++failed_checks_;
  rec.no_data = first_bad->outcome == CheckOutcome::no_data;
  no_data_checks_ += rec.no_data;
  rec.decision = FlaggerDecision::halt;
  rec.failed_checks = failed_checks_;
  rec.reason = "flagger: halt advancement, " + first_bad->reason + " (failed checks " +
               std::to_string(failed_checks_) + "/" + std::to_string(analysis_.threshold) + ")";
  return rec;
}

// ---- Kayenta ----------------------------------------------------------------------------------------

const char* to_string(MetricClass c) {
  switch (c) {
    case MetricClass::pass:
      return "Pass";
    case MetricClass::high:
      return "High";
    case MetricClass::low:
      return "Low";
    case MetricClass::nodata:
      return "Nodata";
  }
  return "?";
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::pass:
      return "Pass";
    case Verdict::marginal:
      return "Marginal";
    case Verdict::fail:
      return "Fail";
  }
  return "?";
}

KayentaJudge::KayentaJudge(KayentaConfig config) : config_(std::move(config)) {
  if (config_.metrics.empty()) throw std::invalid_argument("KayentaJudge: no metrics");
  if (!(config_.confidence > 0 && config_.confidence < 1))
    throw std::invalid_argument("KayentaJudge: confidence must be in (0, 1)");
  if (config_.marginal_threshold > config_.pass_threshold)
    throw std::invalid_argument("KayentaJudge: the marginal threshold must not exceed the pass threshold");
  if (config_.tolerance < 0) throw std::invalid_argument("KayentaJudge: tolerance must not be negative");
  canary_scratch_.resize(config_.metrics.size());
  baseline_scratch_.resize(config_.metrics.size());
}

KayentaMetricResult KayentaJudge::classify(const KayentaMetric& m, std::span<const double> canary_in,
                                           std::span<const double> baseline_in) const {
  KayentaMetricResult r;
  r.metric = m.metric;
  const std::string name = to_string(m.metric);
  std::vector<double> canary;
  std::vector<double> baseline;
  canary.reserve(canary_in.size());
  baseline.reserve(baseline_in.size());
  for (double v : canary_in)
    if (!std::isnan(v)) canary.push_back(v);
  for (double v : baseline_in)
    if (!std::isnan(v)) baseline.push_back(v);
  r.canary_points = canary.size();
  r.baseline_points = baseline.size();
  const std::size_t needed = std::max<std::size_t>(1, m.min_points);
  if (canary.size() < needed || baseline.size() < needed) {
    r.classification = MetricClass::nodata;
    r.reason = name + " Nodata: canary " + std::to_string(canary.size()) + ", baseline " +
               std::to_string(baseline.size()) + " points (min " + std::to_string(needed) + ")";
    return r;
  }
  const auto mean = [](const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  };
  r.canary_mean = mean(canary);
  r.baseline_mean = mean(baseline);
  const std::string means = "canary mean " + format_metric_value(m.metric, r.canary_mean) + " vs baseline " +
                            format_metric_value(m.metric, r.baseline_mean);

  std::vector<double> sorted_canary = canary;
  std::vector<double> sorted_baseline = baseline;
  std::sort(sorted_canary.begin(), sorted_canary.end());
  std::sort(sorted_baseline.begin(), sorted_baseline.end());
  const bool single_value = sorted_canary.front() == sorted_canary.back() &&
                            sorted_baseline.front() == sorted_baseline.back() &&
                            sorted_canary.front() == sorted_baseline.front();
  if (sorted_canary == sorted_baseline || single_value) {
    r.classification = MetricClass::pass;
    r.reason = name + " Pass: canary and baseline data are identical";
    return r;
  }

  const Alternative alternative = m.direction == Direction::increase   ? Alternative::greater
                                  : m.direction == Direction::decrease ? Alternative::less
                                                                       : Alternative::two_sided;
  r.p_value = mann_whitney(canary, baseline, alternative).p_value;
  const ShiftEstimate shift = hodges_lehmann(canary, baseline, config_.confidence);
  r.shift = shift.estimate;
  r.shift_lower = shift.lower;
  r.shift_upper = shift.upper;
  const double bound = config_.tolerance * std::fabs(shift.estimate);
  const bool up = m.direction != Direction::decrease;
  const bool down = m.direction != Direction::increase;
  if (up && shift.lower > bound) {
    r.classification = MetricClass::high;
  } else if (down && shift.upper < -bound) {
    r.classification = MetricClass::low;
  } else {
    r.classification = MetricClass::pass;
  }
  r.reason = name + " " + to_string(r.classification) + ": " + means + ", p " + format_number(r.p_value);
  return r;
}

KayentaResult KayentaJudge::judge(std::span<const Series> per_metric, Time now) const {
  if (per_metric.size() != config_.metrics.size())
    throw std::invalid_argument("KayentaJudge: one series pair per metric expected");
  KayentaResult out;
  out.time = now;
  out.metrics.reserve(config_.metrics.size());
  for (std::size_t i = 0; i < config_.metrics.size(); ++i)
    out.metrics.push_back(classify(config_.metrics[i], per_metric[i].canary, per_metric[i].baseline));

  // Group scores (Kayenta's WeightedSumScorer).
  struct Group {
    std::string name;
    int pass = 0;
    int scored = 0;
  };
  std::vector<Group> groups;
  for (std::size_t i = 0; i < config_.metrics.size(); ++i) {
    const std::string& g = config_.metrics[i].group;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.name == g; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{g});
    const MetricClass c = out.metrics[i].classification;
    if (c == MetricClass::nodata) continue;
    ++it->scored;
    it->pass += c == MetricClass::pass;
  }
  double weight_sum = 0;
  for (const auto& [name, w] : config_.group_weights) weight_sum += w;
  std::size_t unweighted = 0;
  const auto weight_of = [&](const std::string& g) -> const double* {
    for (const auto& [name, w] : config_.group_weights)
      if (name == g) return &w;
    return nullptr;
  };
  for (const Group& g : groups) unweighted += weight_of(g.name) == nullptr;
  const double shared = unweighted > 0 ? (100.0 - weight_sum) / static_cast<double>(unweighted) : 0.0;
  double score = 0;
  for (const Group& g : groups) {
    if (g.scored == 0) continue;  // a group with only Nodata adds nothing
    const double* w = weight_of(g.name);
    score += 100.0 * g.pass / g.scored * (w != nullptr ? *w : shared) / 100.0;
  }
  bool critical_failure = false;
  for (std::size_t i = 0; i < config_.metrics.size(); ++i)
    critical_failure = critical_failure ||
                       (config_.metrics[i].critical && out.metrics[i].classification != MetricClass::pass);
  out.score = critical_failure ? 0.0 : score;
  out.verdict = out.score >= config_.pass_threshold       ? Verdict::pass
                : out.score >= config_.marginal_threshold ? Verdict::marginal
                                                          : Verdict::fail;

  int passed = 0;
  int nodata = 0;
  for (const KayentaMetricResult& m : out.metrics) {
    passed += m.classification == MetricClass::pass;
    nodata += m.classification == MetricClass::nodata;
  }
  out.reason = "kayenta: score " + format_number(out.score) + " -> " + to_string(out.verdict) + " (" +
               std::to_string(passed) + "/" + std::to_string(out.metrics.size()) + " metrics pass";
  if (nodata > 0) out.reason += ", " + std::to_string(nodata) + " without data";
  if (critical_failure) out.reason += ", a critical metric did not pass";
  out.reason += ")";
  for (const KayentaMetricResult& m : out.metrics)
    if (m.classification != MetricClass::pass) out.reason += "; " + m.reason;
  return out;
}

KayentaResult KayentaJudge::judge(MetricCollector& collector, VersionId canary, VersionId baseline, Time from,
                                  Time to, Traffic canary_traffic) {
  std::vector<Series> series(config_.metrics.size());
  for (std::size_t i = 0; i < config_.metrics.size(); ++i) {
    collector.series(canary, config_.metrics[i].metric, from, to, canary_scratch_[i], canary_traffic);
    collector.series(baseline, config_.metrics[i].metric, from, to, baseline_scratch_[i], Traffic::live);
    series[i] = Series{canary_scratch_[i], baseline_scratch_[i]};
  }
  return judge(series, to);
}

}  // namespace sim
