// Strategy parameters: scalar parsing, count-or-percent rounding, and nested records, lists and steps.
#include <catch2/catch.hpp>

#include "sim/scenario/scenario.hpp"

using namespace sim;

namespace {

std::vector<ParamSpec> canary_like_schema() {
  ParamSpec pause = param_spec("pause", ParamType::record, "", "wait");
  pause.fields = {param_spec("duration", ParamType::duration, "", "how long; absent: until promoted")};
  pause.fields[0].optional = true;
  pause.shorthand = "duration";
  ParamSpec scale = param_spec("set_canary_scale", ParamType::record, "", "canary replicas");
  scale.fields = {param_spec("replicas", ParamType::integer, "", "count"),
                  param_spec("match_traffic_weight", ParamType::boolean, "false", "follow the weight")};
  scale.fields[0].optional = true;
  scale.fields[0].min = 0;
  ParamSpec step = param_spec("step", ParamType::one_of, "", "one step");
  step.fields = {param_spec("set_weight", ParamType::percent, "", "canary weight"), pause, scale};
  ParamSpec steps = param_spec("steps", ParamType::list, "[]", "the steps");
  steps.fields = {step};
  return {steps, param_spec("traffic_routing", ParamType::boolean, "true", "weights by router")};
}

const std::vector<ParamSpec>& schema_for(std::string_view name) {
  static const std::vector<ParamSpec> canary = canary_like_schema();
  static const std::vector<ParamSpec> none;
  return name == "canary" ? canary : none;
}

StrategySchemas schemas() {
  StrategySchemas s;
  s.find = [](std::string_view name) -> const std::vector<ParamSpec>* {
    if (name == "canary" || name == "none") return &schema_for(name);
    return nullptr;
  };
  s.names = {"none", "canary"};
  return s;
}

const char* kHead = R"(name: steps
models:
  v1: {service_time: 10ms}
  v2: {based_on: v1}
cluster:
  pools: [{name: cpu, nodes: 4}]
release: {stable: v1, candidate: v2, replicas: 2, at: 1m}
strategies:
)";

std::string scenario_with(const std::string& strategies) { return std::string(kHead) + strategies; }

}  // namespace

TEST_CASE("scenario/params: count-or-percent resolves with the controller's rounding", "[scenario]") {
  const ParamSpec spec = param_spec("max_surge", ParamType::count_or_percent, "25%", "");
  const auto v = std::get<CountOrPercent>(parse_param(spec, "25%"));
  CHECK(v.resolve(10, true) == 3);
  CHECK(v.resolve(10, false) == 2);
  CHECK(v.resolve(40, true) == 10);
  CHECK(std::get<CountOrPercent>(parse_param(spec, "2")).resolve(10, true) == 2);
  CHECK_THROWS_WITH(parse_param(spec, "2.5"), Catch::Contains("a count or a percentage"));
  CHECK_THROWS_WITH(parse_param(spec, "120%"), Catch::Contains("found '120%'"));
}

TEST_CASE("scenario/params: nested steps load into records and lists", "[scenario]") {
  const Scenario s = parse_scenario(scenario_with(R"(  - canary:
      steps:
        - set_weight: 5
        - pause: 10m
        - pause: {}
        - set_canary_scale: {replicas: 2}
        - set_weight: 50%
      traffic_routing: false
)"),
                                    "steps.yaml", schemas());
  REQUIRE(s.strategies.size() == 1);
  const ParamValues& p = s.strategies[0].params;
  CHECK_FALSE(p.boolean("traffic_routing"));
  const ParamList& steps = p.list("steps");
  REQUIRE(steps.items.size() == 5);
  CHECK(steps.items[0].alternative == "set_weight");
  CHECK(std::get<double>(steps.items[0].value) == 5);
  const auto& pause = *std::get<std::shared_ptr<const ParamValues>>(steps.items[1].value);
  CHECK(pause.duration("duration") == 10 * kMinute);
  const auto& forever = *std::get<std::shared_ptr<const ParamValues>>(steps.items[2].value);
  CHECK_FALSE(forever.has("duration"));
  const auto& scale = *std::get<std::shared_ptr<const ParamValues>>(steps.items[3].value);
  CHECK(scale.integer("replicas") == 2);
  CHECK_FALSE(scale.boolean("match_traffic_weight"));
  CHECK(std::get<double>(steps.items[4].value) == 50);
  CHECK(p.describe() ==
        "steps=[{set_weight: 5}, {pause: {duration: 10m}}, {pause: {}}, {set_canary_scale: "
        "{match_traffic_weight: "
        "false, replicas: 2}}, {set_weight: 50}], traffic_routing=false");
}

TEST_CASE("scenario/params: errors inside steps name the line, the step and what is allowed", "[scenario]") {
  try {
    parse_scenario(scenario_with(R"(  - canary:
      steps:
        - set_wieght: 5
        - pause: {duraton: 1m}
        - set_canary_scale: {replicas: -1}
        - set_weight: 150
)"),
                   "bad-steps.yaml", schemas());
    FAIL("expected a ScenarioError");
  } catch (const ScenarioError& e) {
    REQUIRE(e.issues().size() == 4);
    CHECK(e.issues()[0].format().find("bad-steps.yaml:11:11") == 0);
    CHECK_THAT(e.issues()[0].message,
               Catch::Contains("unknown step 'set_wieght'; did you mean 'set_weight'?"));
    CHECK(e.issues()[1].line == 12);
    CHECK_THAT(e.issues()[1].message, Catch::Contains("unknown key 'duraton'; did you mean 'duration'?"));
    CHECK(e.issues()[2].line == 13);
    CHECK_THAT(e.issues()[2].message, Catch::Contains("found '-1', expected an integer >= 0"));
    CHECK(e.issues()[3].line == 14);
    CHECK_THAT(e.issues()[3].message, Catch::Contains("a percentage from 0 to 100"));
  }
}
