// `blue_green`: Argo Rollouts' blue-green strategy; a full preview environment, then a traffic switch, with
// optional analysis before (on mirrored traffic) and after the switch.
#include <memory>
#include <string>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"

namespace sim {
namespace {

enum Timer : std::uint64_t {
  kAutoPromote = 1,
  kScaleDown = 2,
  kPostAnalysis = 3,
  kAbortScaleDown = 4,
  kPreAnalysis = 5
};

class BlueGreen final : public Strategy {
 public:
  explicit BlueGreen(const ParamValues& p)
      : preview_replicas_(
            p.has("preview_replica_count") ? static_cast<int>(p.integer("preview_replica_count")) : -1),
        auto_promotion_enabled_(p.boolean("auto_promotion_enabled")),
        auto_promotion_after_(p.duration("auto_promotion_seconds")),
        scale_down_delay_(p.duration("scale_down_delay_seconds")),
        abort_scale_down_delay_(p.duration("abort_scale_down_delay_seconds")),
        post_analysis_(p.has("post_promotion_analysis")
                           ? p.record("post_promotion_analysis").analysis_template("template")
                           : std::string()) {
    if (p.has("pre_promotion_analysis")) {
      const ParamValues& pre = p.record("pre_promotion_analysis");
      pre_analysis_ = pre.analysis_template("template");
      mirror_percent_ = pre.percent("mirror_percent");
    }
  }

  void start(Control& c) override {
    // The active service keeps pointing at stable; the candidate is reachable through the preview only.
    c.set_candidate_weight(0);
    const int preview = preview_replicas_ < 0 ? c.replicas() : std::min(preview_replicas_, c.replicas());
    c.note("scale preview (candidate) to " + std::to_string(preview));
    c.scale(c.candidate(), preview);
    preview_target_ = preview;
    step(c);
  }
  void on_change(Control& c) override { step(c); }
  void on_promote(Control& c) override {
    if (phase_ == Phase::pre_inconclusive) {
      // Resuming a rollout paused on an Inconclusive run makes Argo create a new analysis run.
      start_pre_analysis(c, "manual promotion after an Inconclusive run: pre-promotion analysis again");
      return;
    }
    // While the pre-promotion analysis runs there is no pause to resume: the promotion changes nothing.
    if (phase_ != Phase::awaiting_promotion) return;
    promote(c, "manual promotion");
    step(c);
  }
  void on_timer(Control& c, std::uint64_t token) override {
    if (token == kPostAnalysis) {
      if (auto phase = post_driver_.on_timer(c, token)) post_analysis_done(c, *phase);
      return;
    }
    if (token == kPreAnalysis) {
      if (auto phase = pre_driver_.on_timer(c, token)) pre_analysis_done(c, *phase);
      return;
    }
    if (token == kAbortScaleDown && phase_ == Phase::aborted) {
      c.note("abort scale down delay over: scale candidate to 0");
      c.scale(c.candidate(), 0);
      step(c);
      return;
    }
    if (token == kAutoPromote && phase_ == Phase::awaiting_promotion) promote(c, "auto promotion");
    if (token == kScaleDown && phase_ == Phase::switched) {
      c.note("scale down delay over: scale stable to 0");
      c.scale(c.stable(), 0);
      phase_ = Phase::scaling_down;
    }
    step(c);
  }

 private:
  enum class Phase {
    preview,
    pre_analysis,
    pre_inconclusive,
    awaiting_promotion,
    promoting,
    switched,
    scaling_down,
    aborted
  };

  void start_pre_analysis(Control& c, const std::string& why) {
    // The preview serves no live traffic: a copy of live requests is mirrored to it for the analysis, and
    // the run measures those mirrored requests.
    phase_ = Phase::pre_analysis;
    c.note(why + "; mirror " + format_param(ParamValue(mirror_percent_)) +
           "% of live traffic to the preview");
    c.set_mirror(c.candidate(), mirror_percent_);
    pre_driver_.start(c, c.analysis_template(pre_analysis_), c.candidate(), Traffic::shadow);
  }

  void pre_analysis_done(Control& c, AnalysisPhase result) {
    if (phase_ != Phase::pre_analysis) return;
    c.clear_mirror();
    if (result == AnalysisPhase::successful) {
      // Argo pauses for auto promotion (or a manual one) only once the pre-promotion analysis succeeded.
      c.note("pre-promotion analysis successful; mirroring stops");
      ready_for_promotion(c);
      step(c);
      return;
    }
    if (result == AnalysisPhase::inconclusive) {
      phase_ = Phase::pre_inconclusive;
      c.note("pre-promotion analysis inconclusive: paused with the preview up, until promoted by hand");
      return;
    }
    // Failed or Error: the active service never left the stable version.
    phase_ = Phase::aborted;
    c.abort(std::string("pre-promotion analysis ") + to_string(result) + ": the preview is not promoted");
    c.timer(abort_scale_down_delay_, kAbortScaleDown);
  }

  /// The preview is ready and any pre-promotion analysis passed: promote now, after the auto promotion
  /// delay, or on a manual promotion.
  void ready_for_promotion(Control& c) {
    phase_ = Phase::awaiting_promotion;
    if (!auto_promotion_enabled_) {
      c.note("preview ready; paused: auto promotion is disabled");
      return;
    }
    if (auto_promotion_after_ > 0) {
      c.note("preview ready; promotion in " + format_duration(auto_promotion_after_));
      c.timer(auto_promotion_after_, kAutoPromote);
      return;
    }
    promote(c, "preview ready");
  }

  void post_analysis_done(Control& c, AnalysisPhase result) {
    if (result == AnalysisPhase::successful) {
      c.note("post-promotion analysis successful; stable kept for " + format_duration(scale_down_delay_));
      c.timer(scale_down_delay_, kScaleDown);
      return;
    }
    if (result == AnalysisPhase::inconclusive) {
      c.note("post-promotion analysis inconclusive: paused with the candidate active");
      return;
    }
    // Failed or Error: Argo aborts and points the active service back at the stable version.
    phase_ = Phase::aborted;
    c.abort(std::string("post-promotion analysis ") + to_string(result) + ": switch back to stable");
    c.set_candidate_weight(0);
    c.timer(abort_scale_down_delay_, kAbortScaleDown);
  }

  void promote(Control& c, const std::string& why) {
    phase_ = Phase::promoting;
    if (c.desired(c.candidate()) < c.replicas()) {
      // Argo scales the preview to full size before the switch.
      c.note(why + ": scale candidate to " + std::to_string(c.replicas()) + " before the switch");
      c.scale(c.candidate(), c.replicas());
    } else {
      c.note(why);
    }
  }

  void step(Control& c) {
    switch (phase_) {
      case Phase::preview:
        if (c.ready(c.candidate()) < preview_target_) return;
        if (!pre_analysis_.empty()) {
          start_pre_analysis(c, "preview ready: pre-promotion analysis");
          return;
        }
        ready_for_promotion(c);
        [[fallthrough]];
      case Phase::promoting:
        if (phase_ != Phase::promoting || c.ready(c.candidate()) < c.replicas()) return;
        c.set_candidate_weight(100);
        phase_ = Phase::switched;
        if (!post_analysis_.empty()) {
          // The old version stays until the post-promotion analysis has passed.
          c.note("switch the active service to the candidate; post-promotion analysis");
          post_driver_.start(c, c.analysis_template(post_analysis_), c.candidate());
          return;
        }
        c.note("switch the active service to the candidate; stable kept for " +
               format_duration(scale_down_delay_));
        c.timer(scale_down_delay_, kScaleDown);
        return;
      case Phase::scaling_down:
        if (c.existing(c.stable()) == 0) c.promoted("stable scaled down");
        return;
      case Phase::aborted:
        if (c.existing(c.candidate()) == 0) c.rolled_back("candidate scaled down, stable active");
        return;
      case Phase::pre_analysis:
      case Phase::pre_inconclusive:
      case Phase::awaiting_promotion:
      case Phase::switched:
        return;
    }
  }

  int preview_replicas_;
  bool auto_promotion_enabled_;
  Time auto_promotion_after_;
  Time scale_down_delay_;
  Time abort_scale_down_delay_;
  std::string post_analysis_;
  std::string pre_analysis_;
  double mirror_percent_ = 100;
  AnalysisDriver post_driver_{"post-promotion analysis", kPostAnalysis};
  AnalysisDriver pre_driver_{"pre-promotion analysis", kPreAnalysis};
  int preview_target_ = 0;
  Phase phase_ = Phase::preview;
};

}  // namespace

StrategyInfo blue_green_strategy_info() {
  StrategyInfo info;
  info.name = "blue_green";
  info.description =
      "Argo Rollouts blue-green: bring up a full preview of the candidate, switch all traffic at once, keep "
      "the old version for a delay";
  ParamSpec preview = param_spec("preview_replica_count", ParamType::integer, "",
                                 "replicas of the preview before promotion; scaled to full before the switch "
                                 "(Argo previewReplicaCount; default: the release's replicas)");
  preview.optional = true;
  preview.min = 1;
  ParamSpec post_analysis = param_spec("post_promotion_analysis", ParamType::record, "",
                                       "analysis of the candidate after the switch; failure switches back to "
                                       "stable (Argo postPromotionAnalysis)");
  post_analysis.optional = true;
  post_analysis.fields = {
      param_spec("template", ParamType::analysis_template, "", "name of an entry of analysis_templates")};
  ParamSpec pre_analysis = param_spec(
      "pre_promotion_analysis", ParamType::record, "",
      "analysis of the preview before promotion, on a mirrored copy of live traffic; promotion waits "
      "for success, failure aborts (Argo prePromotionAnalysis)");
  pre_analysis.optional = true;
  pre_analysis.fields = {
      param_spec("template", ParamType::analysis_template, "", "name of an entry of analysis_templates"),
      param_spec("mirror_percent", ParamType::percent, "100",
                 "share of live traffic copied to the preview while the analysis runs")};
  info.params = {
      preview,
      param_spec("auto_promotion_enabled", ParamType::boolean, "true",
                 "promote without a manual step once the preview is ready (Argo autoPromotionEnabled)"),
      param_spec("auto_promotion_seconds", ParamType::duration, "0",
                 "wait this long after the preview is ready before promoting (Argo autoPromotionSeconds)"),
      scale_down_delay_param("the old version"),
      abort_scale_down_delay_param(),
      pre_analysis,
      post_analysis,
  };
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<BlueGreen>(params);
  };
  return info;
}

}  // namespace sim
