// `canary`: Argo Rollouts' canary strategy, with traffic routing (weights set by a mesh or ingress) or
// without it (a Service over both ReplicaSets: the weight is a share of replicas); steps, inline and
// background analysis.
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "strategies/builtin.hpp"
#include "strategies/canary_replicas.hpp"
#include "strategies/control.hpp"
#include "strategies/fenceposts.hpp"

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
        traffic_routing_(p.boolean("traffic_routing")),
        max_surge_(p.count_or_percent("max_surge")),
        max_unavailable_(p.count_or_percent("max_unavailable")),
        dynamic_stable_scale_(p.boolean("dynamic_stable_scale")),
        scale_down_delay_(p.duration("scale_down_delay_seconds")),
        abort_scale_down_delay_(p.duration("abort_scale_down_delay_seconds")) {
    if (p.has("analysis")) {
      const ParamValues& a = p.record("analysis");
      background_template_ = a.analysis_template("template");
      background_start_ = static_cast<std::size_t>(a.integer("starting_step"));
    }
    if (traffic_routing_) return;
    // Argo's validation: without a traffic router nothing can send traffic apart from replica counts.
    if (dynamic_stable_scale_)
      throw std::invalid_argument("canary: dynamic_stable_scale can only be used with traffic_routing");
    for (const ParamList::Item& item : steps_.items)
      if (item.alternative == "set_canary_scale")
        throw std::invalid_argument("canary: set_canary_scale requires traffic_routing");
  }

  void start(Control& c) override {
    if (!traffic_routing_) {
      // A Kubernetes Service selects the pods of both ReplicaSets: each Ready replica gets an equal share.
      c.use_replica_proportional();
      c.set_in_service(c.stable(), true);
      c.set_in_service(c.candidate(), true);
      const Fenceposts f = resolve_fenceposts(max_surge_, max_unavailable_, c.replicas());
      surge_ = f.surge;
      unavailable_ = std::min(f.unavailable, c.replicas());  // Argo's MaxUnavailable caps it
      c.note("canary without traffic routing, " + std::to_string(c.replicas()) + " replicas: max surge " +
             std::to_string(surge_) + ", max unavailable " + std::to_string(unavailable_));
      next_step(c);
      return;
    }
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
    if (item.alternative == "set_weight" && !traffic_routing_) {
      target_weight_ = std::get<double>(item.value);
      const CanaryReplicas goal = approximate_canary_replicas(c.replicas(), target_weight_, surge_);
      c.note("step " + std::to_string(step_) + ": set weight " + format_param(item.value) + "%: " +
             std::to_string(goal.canary) + " canary and " + std::to_string(goal.stable) + " stable replicas");
      phase_ = Phase::waiting_for_canary;
      advance(c);
    } else if (item.alternative == "set_weight") {
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
    if (!traffic_routing_) {
      advance_basic(c);
      return;
    }
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
        finish_abort(c);
        return;
      default:
        return;
    }
  }

  /// The basic canary's state as one sync of Argo's controller reads it.
  BasicCanaryState basic_state(const Control& c) const {
    BasicCanaryState s;
    s.replicas = c.replicas();
    // GetCurrentSetWeight: the latest set_weight, 100 once every step is done, 0 after an abort.
    s.weight = phase_ == Phase::aborted ? 0 : phase_ == Phase::promoting ? 100 : target_weight_;
    s.max_surge = surge_;
    s.max_unavailable = unavailable_;
    s.canary = {c.desired(c.candidate()), c.ready(c.candidate())};
    s.stable = {c.desired(c.stable()), c.ready(c.stable())};
    return s;
  }

  /// Argo scales one ReplicaSet per sync, the stable one first, and is woken again by the change; repeating
  /// until nothing moves gives the same sequence at one simulated instant.
  void sync_replicas(Control& c) {
    bool scaled = false;
    for (int i = 0; i < 4 * c.replicas() + 8; ++i) {
      const CanaryReplicas want = basic_canary_replicas(basic_state(c));
      if (want.stable != c.desired(c.stable())) {
        c.scale(c.stable(), want.stable);
      } else if (want.canary != c.desired(c.candidate())) {
        c.scale(c.candidate(), want.canary);
      } else {
        break;
      }
      scaled = true;
    }
    if (scaled)
      c.note("scale canary to " + std::to_string(c.desired(c.candidate())) + ", stable to " +
             std::to_string(c.desired(c.stable())) + " (" + std::to_string(c.ready(c.candidate())) + " and " +
             std::to_string(c.ready(c.stable())) + " Ready)");
  }

  /// AtDesiredReplicaCountsForCanary: the sync would change nothing, every desired canary replica is
  /// available and the stable ReplicaSet has exactly its desired replicas.
  bool at_desired_counts(const Control& c) const {
    const CanaryReplicas want = basic_canary_replicas(basic_state(c));
    return want.canary == c.desired(c.candidate()) && want.canary == c.ready(c.candidate()) &&
           want.stable == c.desired(c.stable()) && want.stable == c.active(c.stable());
  }

  /// An abort is complete once the canary is gone and stable is back at full capacity.
  void finish_abort(Control& c) {
    if (c.existing(c.candidate()) > 0 || c.ready(c.stable()) < c.replicas()) return;
    phase_ = Phase::done;
    c.rolled_back("canary scaled down, stable at full capacity");
  }

  void advance_basic(Control& c) {
    if (phase_ == Phase::done) return;
    sync_replicas(c);
    switch (phase_) {
      case Phase::waiting_for_canary:
        if (!at_desired_counts(c)) return;
        phase_ = Phase::stepping;
        next_step(c);
        return;
      case Phase::promoting:
        // The new ReplicaSet becomes stable once all its replicas are available; by then the old one has
        // been scaled to 0 within max unavailable, so the release is done when its replicas are gone.
        if (c.desired(c.candidate()) != c.replicas() || c.ready(c.candidate()) < c.replicas() ||
            c.existing(c.stable()) > 0)
          return;
        phase_ = Phase::done;
        c.promoted("all steps done: " + std::to_string(c.replicas()) +
                   " canary replicas available, stable gone");
        return;
      case Phase::aborted:
        finish_abort(c);
        return;
      default:
        return;
    }
  }

  void promote(Control& c) {
    if (!traffic_routing_) {
      // After the last step the weight is 100: the canary replaces stable like a rolling update.
      phase_ = Phase::promoting;
      c.note("all steps done: weight 100%, canary to " + std::to_string(c.replicas()) + " replicas");
      advance(c);
      return;
    }
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
    if (!traffic_routing_) {
      // The weight drops to 0: stable grows back and the canary shrinks within max surge and max
      // unavailable; traffic follows the Ready replicas. No abort scale-down delay without traffic routing.
      c.abort(why + ": weight back to 0, canary replaced by stable");
      advance(c);
      return;
    }
    c.abort(why + ": all traffic back to stable");
    c.set_candidate_weight(0);
    if (c.desired(c.stable()) < c.replicas()) c.scale(c.stable(), c.replicas());
    c.timer(abort_scale_down_delay_, kAbortScaleDown);
  }

  const ParamList steps_;  // a copy: the parameters may not outlive the strategy
  bool traffic_routing_;
  CountOrPercent max_surge_;
  CountOrPercent max_unavailable_;
  int surge_ = 0;        // resolved at the start (basic canary)
  int unavailable_ = 0;  // resolved at the start (basic canary)
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
      "Argo Rollouts canary: weight steps, pauses, canary scale, inline and background analysis; with "
      "traffic routing (abort returns all traffic to stable) or without it (weights as replica counts "
      "within max surge / max unavailable)";
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
      param_spec(
          "traffic_routing", ParamType::boolean, "true",
          "a traffic router sets the weights; false: a Service over both versions, so the weight is the "
          "canary's share of Ready replicas (Argo trafficRouting present or not)"),
      param_spec("max_surge", ParamType::count_or_percent, "25%",
                 "without traffic routing: replicas allowed above the target; percentages round up (Argo "
                 "maxSurge)"),
      param_spec(
          "max_unavailable", ParamType::count_or_percent, "25%",
          "without traffic routing: replicas allowed below the target; percentages round down; if both "
          "resolve to 0 this becomes 1 (Argo maxUnavailable)"),
      param_spec("dynamic_stable_scale", ParamType::boolean, "false",
                 "scale stable down as traffic leaves it; needs traffic routing (Argo dynamicStableScale)"),
      scale_down_delay_param("the stable version"),
      abort_scale_down_delay_param(),
  };
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<Canary>(params);
  };
  return info;
}

}  // namespace sim
