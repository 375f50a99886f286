// `canary`: Argo Rollouts' canary strategy with traffic routing; steps, inline and background analysis.
#include <cmath>
#include <memory>
#include <string>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"

namespace sim {
namespace {

enum Timer : std::uint64_t {
  kPause = 1,
  kScaleDown = 2,
  kAbortScaleDown = 3,
  kStepAnalysis = 4,
  kBackground = 5
};

class Canary final : public Strategy {
 public:
  explicit Canary(const ParamValues& p)
      : steps_(p.list("steps")),
        dynamic_stable_scale_(p.boolean("dynamic_stable_scale")),
        scale_down_delay_(p.duration("scale_down_delay_seconds")),
        abort_scale_down_delay_(p.duration("abort_scale_down_delay_seconds")) {
    if (p.has("analysis")) {
      const ParamValues& a = p.record("analysis");
      background_template_ = a.analysis_template("template");
      background_start_ = static_cast<std::size_t>(a.integer("starting_step"));
    }
  }

  void start(Control& c) override {
    c.set_candidate_weight(0);
    next_step(c);
  }
  void on_change(Control& c) override { advance(c); }
  void on_promote(Control& c) override {
    // Like `kubectl argo rollouts promote`: a pause without a duration ends.
    if (phase_ != Phase::paused || pause_timed_) return;
    phase_ = Phase::stepping;
    next_step(c);
  }
  void on_timer(Control& c, std::uint64_t token) override {
    if (phase_ == Phase::done) return;
    if (token == kBackground || token == kStepAnalysis) {
      AnalysisDriver& driver = token == kBackground ? background_ : step_analysis_;
      if (auto result = driver.on_timer(c, token)) analysis_done(c, token == kBackground, *result);
      return;
    }
    if (token == kPause && phase_ == Phase::paused) {
      phase_ = Phase::stepping;
      next_step(c);
      return;
    }
    if (token == kScaleDown && phase_ == Phase::promoting) {
      c.note("scale down delay over: scale stable to 0");
      c.scale(c.stable(), 0);
      phase_ = Phase::scaling_down;
    }
    if (token == kAbortScaleDown && phase_ == Phase::aborted) {
      c.note("abort scale down delay over: scale canary to 0");
      c.scale(c.candidate(), 0);
    }
    advance(c);
  }

 private:
  enum class Phase {
    stepping,
    waiting_for_canary,
    paused,
    analysing,
    promoting,
    scaling_down,
    aborted,
    done
  };

  /// Canary replicas for a weight with traffic routing: ceil(weight x replicas / 100).
  int replicas_for(double weight, int replicas) const {
    return static_cast<int>(std::ceil(weight * replicas / 100.0 - 1e-9));
  }

  void next_step(Control& c) {
    if (background_.run() == nullptr && !background_template_.empty() && step_ >= background_start_) {
      background_.start(c, c.analysis_template(background_template_), c.candidate());
    }
    if (step_ >= steps_.items.size()) {
      promote(c);
      return;
    }
    const ParamList::Item& item = steps_.items[step_++];
    if (item.alternative == "set_weight") {
      target_weight_ = std::get<double>(item.value);
      const int canary = scale_override_ >= 0 ? scale_override_ : replicas_for(target_weight_, c.replicas());
      c.note("step " + std::to_string(step_) + ": set weight " + format_param(item.value) +
             "%, canary replicas " + std::to_string(canary));
      c.scale(c.candidate(), canary);
      phase_ = Phase::waiting_for_canary;
      advance(c);
    } else if (item.alternative == "pause") {
      const auto& pause = *std::get<std::shared_ptr<const ParamValues>>(item.value);
      phase_ = Phase::paused;
      pause_timed_ = pause.has("duration");
      if (pause.has("duration")) {
        c.note("step " + std::to_string(step_) + ": pause " + format_duration(pause.duration("duration")));
        c.timer(pause.duration("duration"), kPause);
      } else {
        c.note("step " + std::to_string(step_) + ": pause until promoted by hand");
      }
    } else if (item.alternative == "set_canary_scale") {
      const auto& s = *std::get<std::shared_ptr<const ParamValues>>(item.value);
      if (s.has("replicas")) scale_override_ = static_cast<int>(s.integer("replicas"));
      if (s.has("weight")) scale_override_ = replicas_for(s.percent("weight"), c.replicas());
      if (s.boolean("match_traffic_weight")) scale_override_ = -1;
      const int canary = scale_override_ >= 0 ? scale_override_ : replicas_for(target_weight_, c.replicas());
      c.note("step " + std::to_string(step_) + ": set canary scale to " + std::to_string(canary));
      c.scale(c.candidate(), canary);
      next_step(c);
    } else if (item.alternative == "analysis") {
      const auto& a = *std::get<std::shared_ptr<const ParamValues>>(item.value);
      phase_ = Phase::analysing;
      c.note("step " + std::to_string(step_) + ": analysis " + a.analysis_template("template"));
      step_analysis_ = AnalysisDriver("step " + std::to_string(step_) + " analysis", kStepAnalysis);
      step_analysis_.start(c, c.analysis_template(a.analysis_template("template")), c.candidate());
    }
  }

  void advance(Control& c) {
    switch (phase_) {
      case Phase::waiting_for_canary: {
        // Argo shifts traffic once the canary replicas for the step are available.
        if (c.ready(c.candidate()) < c.desired(c.candidate())) return;
        c.set_candidate_weight(target_weight_);
        if (dynamic_stable_scale_) c.scale(c.stable(), replicas_for(100 - target_weight_, c.replicas()));
        phase_ = Phase::stepping;
        next_step(c);
        return;
      }
      case Phase::promoting:
        if (switched_ || c.ready(c.candidate()) < c.replicas()) return;
        switched_ = true;
        c.set_candidate_weight(100);
        c.note("all steps done: 100% to the canary; stable kept for " + format_duration(scale_down_delay_));
        c.timer(scale_down_delay_, kScaleDown);
        return;
      case Phase::scaling_down:
        if (c.existing(c.stable()) == 0) {
          phase_ = Phase::done;
          c.promoted("stable scaled down");
        }
        return;
      case Phase::aborted:
        if (c.existing(c.candidate()) == 0 && c.ready(c.stable()) >= c.replicas()) {
          phase_ = Phase::done;
          c.rolled_back("canary scaled down, stable at full capacity");
        }
        return;
      default:
        return;
    }
  }

  void promote(Control& c) {
    phase_ = Phase::promoting;
    c.note("promote: scale canary to " + std::to_string(c.replicas()));
    c.scale(c.candidate(), c.replicas());
    advance(c);
  }

  void analysis_done(Control& c, bool background, AnalysisPhase result) {
    if (result == AnalysisPhase::successful) {
      if (!background && phase_ == Phase::analysing) {
        phase_ = Phase::stepping;
        next_step(c);
      }
      return;
    }
    if (result == AnalysisPhase::inconclusive) {
      c.note(std::string(background ? "background" : "step") + " analysis inconclusive: paused");
      return;
    }
    abort(c, std::string(background ? "background" : "step") + " analysis " + to_string(result));
  }

  void abort(Control& c, const std::string& why) {
    if (phase_ == Phase::aborted || phase_ == Phase::done) return;
    phase_ = Phase::aborted;
    c.abort(why + ": all traffic back to stable");
    c.set_candidate_weight(0);
    if (c.desired(c.stable()) < c.replicas()) c.scale(c.stable(), c.replicas());
    c.timer(abort_scale_down_delay_, kAbortScaleDown);
  }

  const ParamList steps_;  // a copy: the parameters may not outlive the strategy
  bool dynamic_stable_scale_;
  Time scale_down_delay_;
  Time abort_scale_down_delay_;
  std::string background_template_;
  std::size_t background_start_ = 0;
  std::size_t step_ = 0;
  double target_weight_ = 0;
  int scale_override_ = -1;
  bool switched_ = false;
  bool pause_timed_ = false;
  Phase phase_ = Phase::stepping;
  AnalysisDriver background_{"background analysis", kBackground};
  AnalysisDriver step_analysis_{"step analysis", kStepAnalysis};
};

}  // namespace

StrategyInfo canary_strategy_info() {
  StrategyInfo info;
  info.name = "canary";
  info.description =
      "Argo Rollouts canary with traffic routing: weight steps, pauses, canary scale, inline and background "
      "analysis; abort returns all traffic to stable";
  ParamSpec pause =
      param_spec("pause", ParamType::record, "", "wait for a duration, or until promoted by hand");
  ParamSpec pause_duration =
      param_spec("duration", ParamType::duration, "", "how long (absent: indefinitely)");
  pause_duration.optional = true;
  pause.fields = {pause_duration};
  pause.shorthand = "duration";
  ParamSpec scale =
      param_spec("set_canary_scale", ParamType::record, "", "canary replicas apart from the weight");
  ParamSpec scale_replicas = param_spec("replicas", ParamType::integer, "", "an explicit replica count");
  scale_replicas.optional = true;
  scale_replicas.min = 0;
  ParamSpec scale_weight = param_spec("weight", ParamType::percent, "", "replicas for this weight");
  scale_weight.optional = true;
  scale.fields = {
      scale_replicas, scale_weight,
      param_spec("match_traffic_weight", ParamType::boolean, "false", "follow the traffic weight again")};
  ParamSpec step_analysis =
      param_spec("analysis", ParamType::record, "", "an inline analysis run; failure aborts");
  step_analysis.fields = {param_spec("template", ParamType::analysis_template, "", "analysis template name")};
  ParamSpec step = param_spec("step", ParamType::one_of, "", "one step");
  step.fields = {param_spec("set_weight", ParamType::percent, "", "percent of live traffic to the canary"),
                 pause, scale, step_analysis};
  ParamSpec steps = param_spec("steps", ParamType::list, "[]", "the rollout steps, in order (Argo steps)");
  steps.fields = {step};
  ParamSpec background = param_spec("analysis", ParamType::record, "",
                                    "background analysis from a step on; failure aborts at any time");
  background.optional = true;
  ParamSpec starting = param_spec("starting_step", ParamType::integer, "0", "index of the step it starts at");
  starting.min = 0;
  background.fields = {param_spec("template", ParamType::analysis_template, "", "analysis template name"),
                       starting};
  info.params = {
      steps,
      background,
      param_spec("dynamic_stable_scale", ParamType::boolean, "false",
                 "scale stable down as traffic leaves it (Argo dynamicStableScale)"),
      scale_down_delay_param("the stable version"),
      abort_scale_down_delay_param(),
  };
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<Canary>(params);
  };
  return info;
}

}  // namespace sim
