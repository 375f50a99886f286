// `feature_flag`: a percentage rollout by a stable hash of (flag key, user id), as Unleash, flagd and
// LaunchDarkly bucket users, with targeting rules on segments and a kill switch an analysis can flip.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "strategies/builtin.hpp"
#include "strategies/control.hpp"
#include "strategies/flag_bucketing.hpp"

namespace sim {
namespace {

// Stage timers carry the stage index above kStage, so a timer of a stage that was left is recognised.
enum Timer : std::uint64_t { kAnalysis = 1, kAbortScaleDown = 2, kStage = 16 };

struct Stage {
  double percent = 0;
  Time duration = 0;
};

struct TargetingRule {
  std::string text;  // "region=eu", for notes
  bool serve_candidate = false;
  std::size_t attribute = 0;
  std::uint8_t category = 0;
};

/// The default schedule when `stages` is empty: 10% and 50% for 10 minutes each, then 100%.
std::vector<Stage> default_stages() { return {{10, 10 * kMinute}, {50, 10 * kMinute}, {100, 0}}; }

std::string describe(const std::vector<Stage>& stages) {
  std::string out;
  for (const Stage& s : stages) {
    out += (out.empty() ? "" : ", ") + format_param(ParamValue(s.percent)) + "%";
    if (s.duration > 0) out += " for " + format_duration(s.duration);
  }
  return out;
}

class FeatureFlag final : public Strategy, private RouteHook {
 public:
  explicit FeatureFlag(const ParamValues& p)
      : flag_key_(p.has("flag_key") ? p.string("flag_key") : std::string()),
        hash_(parse_flag_hash(p.string("hash"))),
        candidate_replicas_(p.count_or_percent("candidate_replicas")),
        abort_scale_down_delay_(p.duration("abort_scale_down_delay_seconds")),
        analysis_(p.has("analysis") ? p.record("analysis").analysis_template("template") : std::string()) {
    for (const ParamList::Item& item : p.list("stages").items) {
      const auto& s = *std::get<std::shared_ptr<const ParamValues>>(item.value);
      stages_.push_back(Stage{s.percent("percent"), s.duration("duration")});
    }
    if (stages_.empty()) stages_ = default_stages();
    for (const ParamList::Item& item : p.list("targeting").items) {
      const auto& r = *std::get<std::shared_ptr<const ParamValues>>(item.value);
      TargetingRule rule;
      rule.text = r.string("segment");
      rule.serve_candidate = r.string("serve") == "on";
      rules_.push_back(std::move(rule));
    }
  }

  void start(Control& c) override {
    stable_ = c.stable();
    candidate_ = c.candidate();
    if (flag_key_.empty()) flag_key_ = c.version_name(candidate_);
    resolve_targeting(c.users());
    // One cached bucket per user: the SHA-1 of LaunchDarkly's bucketing is too costly per request.
    buckets_.assign(c.users() ? c.users()->size() : 1, -1.0);
    target_ = std::max(1, candidate_replicas_.resolve(c.replicas(), true));
    c.set_candidate_weight(0);
    c.scale(candidate_, target_);
    c.note("feature flag " + flag_key_ + " (" + to_string(hash_) + " bucketing): deploy the candidate with " +
           std::to_string(target_) + " replicas beside stable; stages " + describe(stages_));
    on_change(c);
  }

  void on_change(Control& c) override {
    switch (phase_) {
      case Phase::dark_launch:
        // Both code paths exist once the candidate is Ready; only then does the flag turn anyone on.
        if (c.ready(candidate_) < target_) return;
        phase_ = Phase::staged;
        c.set_route_hook(this);
        if (!rules_.empty()) c.note("candidate ready; targeting " + describe_rules());
        if (!analysis_.empty()) driver_.start(c, c.analysis_template(analysis_), candidate_);
        enter_stage(c, 0);
        return;
      case Phase::scaling_up:
        if (c.ready(candidate_) >= c.replicas()) remove_flag(c);
        return;
      case Phase::cleaning_up:
        if (c.existing(stable_) == 0) {
          phase_ = Phase::done;
          c.promoted("flag " + flag_key_ + " removed, stable gone");
        }
        return;
      case Phase::killed:
        if (c.existing(candidate_) == 0) {
          phase_ = Phase::done;
          c.rolled_back("kill switch on, candidate scaled to 0, every user on stable");
        }
        return;
      case Phase::staged:
      case Phase::halted:
      case Phase::done:
        return;
    }
  }

  void on_timer(Control& c, std::uint64_t token) override {
    if (token == kAnalysis) {
      if (phase_ != Phase::staged && phase_ != Phase::halted && phase_ != Phase::scaling_up) return;
      if (auto result = driver_.on_timer(c, token)) analysis_done(c, *result);
      return;
    }
    if (token == kAbortScaleDown) {
      if (phase_ != Phase::killed) return;
      c.note("abort scale down delay over: scale candidate to 0");
      c.scale(candidate_, 0);
      on_change(c);
      return;
    }
    if (token < kStage || phase_ != Phase::staged || token - kStage != stage_) return;
    if (stage_ + 1 < stages_.size())
      enter_stage(c, stage_ + 1);
    else
      clean_up(c);
  }

  void on_promote(Control& c) override {
    // A rollout halted on an Inconclusive run resumes with the next stage and, as Argo does for a rollout
    // resumed from an Inconclusive pause, a new analysis run.
    if (phase_ != Phase::halted) return;
    phase_ = Phase::staged;
    c.note("manual promotion: resume after the Inconclusive analysis");
    driver_.start(c, c.analysis_template(analysis_), candidate_);
    if (stage_ + 1 < stages_.size())
      enter_stage(c, stage_ + 1);
    else
      clean_up(c);
  }

 private:
  enum class Phase { dark_launch, staged, halted, scaling_up, cleaning_up, killed, done };

  /// The flag's evaluation for one live request: kill switch, then targeting in order, then the rollout
  /// percentage by the user's bucket.
  VersionId route(std::uint32_t user, std::span<const std::uint8_t> segments) override {
    if (killed_) return stable_;
    for (const TargetingRule& r : rules_)
      if (r.attribute < segments.size() && segments[r.attribute] == r.category)
        return r.serve_candidate ? candidate_ : stable_;
    return bucket(user) < percent_ / 100 ? candidate_ : stable_;
  }

  /// The user's position in [0, 1) for this flag; the user id is the decimal user number.
  double bucket(std::uint32_t user) {
    if (user >= buckets_.size()) return flag_bucket(hash_, flag_key_, std::to_string(user));
    double& b = buckets_[user];
    if (b < 0) b = flag_bucket(hash_, flag_key_, std::to_string(user));
    return b;
  }

  void resolve_targeting(const UserPopulation* users) {
    for (TargetingRule& r : rules_) {
      const std::size_t eq = r.text.find('=');
      if (!users || users->attribute_count() == 0)
        throw std::invalid_argument("feature_flag: targeting " + r.text + ", but the users have no segments");
      r.attribute = users->attribute_index(r.text.substr(0, eq));
      r.category = users->category_index(r.attribute, r.text.substr(eq + 1));
    }
  }

  std::string describe_rules() const {
    std::string out;
    for (const TargetingRule& r : rules_)
      out += (out.empty() ? "" : ", ") + r.text + (r.serve_candidate ? " on" : " off");
    return out;
  }

  void enter_stage(Control& c, std::size_t index) {
    stage_ = index;
    const Stage& s = stages_[index];
    percent_ = s.percent;
    // The nominal split, for traffic_share and the report's series; targeting is not reflected in it.
    c.set_candidate_weight(percent_);
    c.note("stage " + std::to_string(index + 1) + "/" + std::to_string(stages_.size()) + ": flag " +
           flag_key_ + " on for " + format_param(ParamValue(percent_)) + "% of users" +
           (s.duration > 0 ? " for " + format_duration(s.duration) : ""));
    c.timer(s.duration, kStage + index);
  }

  /// After the last stage the flag is removed from the code: the candidate serves everyone by weight.
  void clean_up(Control& c) {
    phase_ = Phase::scaling_up;
    if (c.desired(candidate_) < c.replicas()) {
      c.note("all stages done: scale candidate to " + std::to_string(c.replicas()) +
             " before removing flag " + flag_key_);
      c.scale(candidate_, c.replicas());
    }
    on_change(c);
  }

  void remove_flag(Control& c) {
    phase_ = Phase::cleaning_up;
    c.set_route_hook(nullptr);
    c.set_candidate_weight(100);
    c.scale(stable_, 0);
    c.note("flag " + flag_key_ + " cleaned up: 100% of traffic to the candidate, stable scaled to 0" +
           std::string(driver_.running() ? "; the analysis ends with the flag" : ""));
    on_change(c);
  }

  void analysis_done(Control& c, AnalysisPhase result) {
    if (result == AnalysisPhase::successful) {
      c.note("analysis successful; the stages go on");
      return;
    }
    if (result == AnalysisPhase::inconclusive) {
      if (phase_ != Phase::staged) {
        c.note("analysis inconclusive; the flag is being removed");
        return;
      }
      phase_ = Phase::halted;
      c.note("analysis inconclusive: rollout halted at " + format_param(ParamValue(percent_)) +
             "% until promoted by hand");
      return;
    }
    // Failed or Error flips the kill switch: the flag answers stable for everyone from this request on, with
    // no redeploy; the candidate stays deployed for the abort delay.
    phase_ = Phase::killed;
    killed_ = true;
    c.abort(std::string("analysis ") + to_string(result) + ": kill switch on, flag " + flag_key_ +
            " off for every user");
    c.set_candidate_weight(0);
    c.timer(abort_scale_down_delay_, kAbortScaleDown);
  }

  std::string flag_key_;
  FlagHash hash_;
  CountOrPercent candidate_replicas_;
  Time abort_scale_down_delay_;
  std::string analysis_;
  std::vector<Stage> stages_;
  std::vector<TargetingRule> rules_;
  std::vector<double> buckets_;  // -1: not computed yet
  VersionId stable_ = 0;
  VersionId candidate_ = 0;
  int target_ = 0;
  std::size_t stage_ = 0;
  double percent_ = 0;
  bool killed_ = false;
  Phase phase_ = Phase::dark_launch;
  AnalysisDriver driver_{"flag analysis", kAnalysis};
};

}  // namespace

StrategyInfo feature_flag_strategy_info() {
  StrategyInfo info;
  info.name = "feature_flag";
  info.description =
      "feature flag: percentage rollout by a stable hash of (flag key, user id) as Unleash, flagd or "
      "LaunchDarkly bucket users, targeting rules on segments, and a kill switch an analysis flips";
  ParamSpec flag_key = param_spec("flag_key", ParamType::string, "",
                                  "the flag's key, hashed with each user id (default: the candidate's name)");
  flag_key.optional = true;
  ParamSpec hash = param_spec("hash", ParamType::choice, "unleash",
                              "whose bucketing of (flag key, user id) the rollout reproduces");
  hash.choices = {"unleash", "flagd", "launchdarkly", "deploysim"};
  ParamSpec stage = param_spec("stage", ParamType::record, "", "a rollout percentage held for a duration");
  stage.fields = {param_spec("percent", ParamType::percent, "", "share of users the flag is on for"),
                  param_spec("duration", ParamType::duration, "0", "how long the stage lasts")};
  ParamSpec stages = param_spec("stages", ParamType::list, "[]",
                                "rollout percentages in order; empty: 10% for 10m, 50% for 10m, 100%");
  stages.fields = {stage};
  ParamSpec serve = param_spec("serve", ParamType::choice, "", "on: the candidate; off: stable");
  serve.choices = {"on", "off"};
  ParamSpec rule = param_spec("rule", ParamType::record, "", "users of a segment get a fixed answer");
  rule.fields = {param_spec("segment", ParamType::segment, "", "attribute=category, e.g. region=eu"), serve};
  ParamSpec targeting = param_spec("targeting", ParamType::list, "[]",
                                   "rules evaluated in order before the percentage; the first match decides");
  targeting.fields = {rule};
  ParamSpec analysis = param_spec("analysis", ParamType::record, "",
                                  "analysis of the candidate's live traffic from the first stage until the "
                                  "flag is removed; Failed or Error flips the kill switch");
  analysis.optional = true;
  analysis.fields = {param_spec("template", ParamType::analysis_template, "", "analysis template name")};
  info.params = {
      flag_key,
      hash,
      param_spec("candidate_replicas", ParamType::count_or_percent, "100%",
                 "candidate replicas deployed beside stable before the first stage, a count or a percentage "
                 "of the release's replicas"),
      stages,
      targeting,
      analysis,
      abort_scale_down_delay_param(),
  };
  info.create = [](const ParamValues& params) -> std::unique_ptr<Strategy> {
    return std::make_unique<FeatureFlag>(params);
  };
  return info;
}

}  // namespace sim
