// `flagger`: Flagger's progressive canary; the weight grows every interval while checks pass, and a
// cumulative count of failed checks rolls it back.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"

namespace sim {
namespace {

enum Timer : std::uint64_t { kTick = 1 };

class Flagger final : public Strategy {
 public:
  explicit Flagger(const ParamValues& p)
      : interval_(p.duration("interval")),
        threshold_(static_cast<int>(p.integer("threshold"))),
        max_weight_(p.percent("max_weight")),
        step_weight_(p.percent("step_weight")),
        step_weight_promotion_(p.percent("step_weight_promotion")),
        template_(p.analysis_template("analysis")) {
    for (const ParamList::Item& item : p.list("step_weights").items)
      step_weights_.push_back(std::get<double>(item.value));
  }

  void start(Control& c) override {
    const AnalysisTemplate& t = c.analysis_template(template_);
    FlaggerAnalysis analysis;
    analysis.interval = interval_;
    analysis.threshold = threshold_;
    analysis.min_requests = t.min_requests;
    analysis.metrics = t.metrics;
    gate_.emplace(analysis);
    // Flagger scales the canary deployment up to the primary's size before routing to it.
    c.set_candidate_weight(0);
    c.scale(c.candidate(), c.replicas());
    c.note("scale canary to " + std::to_string(c.replicas()) + "; analysis every " +
           format_duration(interval_));
  }

  void on_change(Control& c) override {
    if (!ticking_ && c.ready(c.candidate()) >= c.replicas()) {
      // Once the canary is ready Flagger routes the first step to it; checks start an interval later, on
      // traffic the canary has actually served.
      ticking_ = true;
      weight_ = next_weight();
      set_weight(c, "canary ready");
      cursor_.emplace(c.metrics().cursor(c.candidate(), c.now()));
      c.timer(interval_, kTick);
    }
    if (phase_ == Phase::finishing && c.existing(c.stable()) == 0) {
      phase_ = Phase::done;
      c.promoted("primary promoted, old version gone");
    }
    if (phase_ == Phase::rolling_back && c.existing(c.candidate()) == 0) {
      phase_ = Phase::done;
      c.rolled_back("canary scaled to zero, all traffic on the primary");
    }
  }

  void on_timer(Control& c, std::uint64_t) override {
    if (phase_ == Phase::done || phase_ == Phase::finishing || phase_ == Phase::rolling_back) return;
    const WindowStats& window = c.metrics().advance(*cursor_, c.now());
    if (phase_ == Phase::promoting) {
      // stepWeightPromotion: the new version takes over step by step, without further checks.
      weight_ = std::min(100.0, weight_ + step_weight_promotion_);
      set_weight(c, "promotion");
      if (weight_ >= 100) return finish(c);
      c.timer(interval_, kTick);
      return;
    }
    const FlaggerRecord rec = gate_->check(window, c.now());
    if (rec.decision == FlaggerDecision::abort) {
      phase_ = Phase::rolling_back;
      c.abort(rec.reason);
      weight_ = 0;
      c.set_candidate_weight(0);
      c.scale(c.candidate(), 0);
      return;
    }
    c.note(rec.reason);
    if (rec.decision == FlaggerDecision::advance) {
      if (weight_ >= max_weight_) {
        promote(c);
        return;
      }
      weight_ = next_weight();
      set_weight(c, "advance");
    }
    c.timer(interval_, kTick);
  }

 private:
  enum class Phase { analysing, promoting, finishing, rolling_back, done };

  /// stepWeights in order, or weight + stepWeight; like Flagger, a step may overshoot maxWeight (capped at
  /// 100).
  double next_weight() {
    if (!step_weights_.empty()) {
      const double w = step_ < step_weights_.size() ? step_weights_[step_] : step_weights_.back();
      ++step_;
      return std::min(100.0, w);
    }
    return std::min(100.0, weight_ + step_weight_);
  }

  void set_weight(Control& c, const std::string& why) {
    c.set_candidate_weight(weight_);
    c.note(why + ": canary weight " + format_param(weight_) + "%");
  }

  void promote(Control& c) {
    if (step_weight_promotion_ > 0 && weight_ < 100) {
      phase_ = Phase::promoting;
      c.note("checks passed at max weight: gradual promotion");
      c.timer(interval_, kTick);
      return;
    }
    weight_ = 100;
    set_weight(c, "checks passed at max weight: promotion");
    finish(c);
  }

  void finish(Control& c) {
    phase_ = Phase::finishing;
    c.scale(c.stable(), 0);
    on_change(c);
  }

  Time interval_;
  int threshold_;
  double max_weight_;
  double step_weight_;
  double step_weight_promotion_;
  std::string template_;
  std::vector<double> step_weights_;
  std::size_t step_ = 0;
  double weight_ = 0;
  bool ticking_ = false;
  Phase phase_ = Phase::analysing;
  std::optional<FlaggerGate> gate_;
  std::optional<WindowCursor> cursor_;
};

}  // namespace

StrategyInfo flagger_strategy_info() {
  StrategyInfo info;
  info.name = "flagger";
  info.description =
      "Flagger progressive canary: the canary weight grows by a step every interval while the checks pass; "
      "failed checks accumulate and roll back at the threshold";
  ParamSpec threshold = param_spec("threshold", ParamType::integer, "5", "failed checks before rollback");
  threshold.min = 1;
  ParamSpec step_weights =
      param_spec("step_weights", ParamType::list, "[]",
                 "explicit weights per step instead of step_weight (Flagger stepWeights)");
  step_weights.fields = {param_spec("weight", ParamType::percent, "", "a weight")};
  ParamSpec interval =
      param_spec("interval", ParamType::duration, "1m", "time between checks (Flagger interval)");
  interval.min = 1e-3;
  info.params = {
      param_spec("analysis", ParamType::analysis_template, "",
                 "the analysis template whose metrics and min_requests the checks use"),
      interval,
      threshold,
      param_spec("max_weight", ParamType::percent, "50",
                 "promote once checks pass at this weight (Flagger maxWeight)"),
      param_spec("step_weight", ParamType::percent, "10",
                 "weight added per passing interval (Flagger stepWeight)"),
      step_weights,
      param_spec(
          "step_weight_promotion", ParamType::percent, "0",
          "promote gradually by this weight per interval; 0 switches at once (Flagger stepWeightPromotion)"),
  };
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<Flagger>(params);
  };
  return info;
}

}  // namespace sim
