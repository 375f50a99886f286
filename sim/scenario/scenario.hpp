// A scenario: the world, the SLO, the release and the strategies to compare, as loaded from YAML.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/metrics/outcome.hpp"
#include "sim/monitor/analysis.hpp"
#include "sim/scenario/params.hpp"
#include "sim/world/world.hpp"

namespace sim {

struct ReleaseSpec {
  std::string stable;            // version name serving at the start
  std::string candidate;         // version name being rolled out
  int replicas = 1;              // replicas of the stable version at the start, and the target of the rollout
  Time at = 0;                   // when the strategy starts
  std::vector<Time> promotions;  // manual promotions (`kubectl argo rollouts promote`), in time order
};

struct StrategySpec {
  std::string name;   // registry name ("rolling")
  std::string label;  // unique within the scenario ("rolling", "rolling-2" for a second one)
  ParamValues params;
  int line = 0;  // where it was declared, for messages
};

struct OutputSpec {
  Time timeseries_resolution = 10 * kSecond;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source;  // file it was loaded from (or the name given to parse_scenario)
  Time duration = kHour;
  std::uint64_t seed = 1;
  int replications = 1;
  WorldConfig world;  // seed and replication are set per run
  SloSpec slo;
  ReleaseSpec release;
  std::vector<StrategySpec> strategies;
  std::map<std::string, AnalysisTemplate> analysis_templates;  // by name, referenced by strategies
  OutputSpec outputs;
};

/// One problem in a scenario file.
struct ScenarioIssue {
  std::string file;
  int line = 0;         // 1-based; 0 when unknown
  int column = 0;       // 1-based
  std::string path;     // key path, e.g. "models.v2.service_time.cv" or "strategies[2].rolling.max_surge"
  std::string message;  // what was found and what is allowed
  /// "file:line:column: path: message"
  std::string format() const;
};

/// Thrown when a scenario has problems; carries all of them, in file order.
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(std::vector<ScenarioIssue> issues);
  const std::vector<ScenarioIssue>& issues() const { return issues_; }

 private:
  std::vector<ScenarioIssue> issues_;
};

/// How the loader learns the parameters of strategies without depending on them.
struct StrategySchemas {
  std::function<const std::vector<ParamSpec>*(std::string_view name)> find;  // nullptr: unknown strategy
  std::vector<std::string> names;                                            // for "did you mean"
};

Scenario load_scenario(const std::string& path, const StrategySchemas& schemas);
Scenario parse_scenario(std::string_view yaml, const std::string& source_name,
                        const StrategySchemas& schemas);

/// One documented key of the scenario format (strategy parameters are documented by their schemas).
struct ScenarioKeyDoc {
  std::string path;  // "cluster.pools[].max_nodes"
  std::string type;  // "duration", "size", "integer", ...
  std::string default_value;
  std::string description;
};
const std::vector<ScenarioKeyDoc>& scenario_keys();

}  // namespace sim
