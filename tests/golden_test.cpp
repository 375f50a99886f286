// Golden scenarios: every scenarios/*.yaml runs and its summary must match tests/golden/<name>.json.
//
// Runs are deterministic, so the comparison is tight (relative 1e-9) and catches any change of behaviour;
// regenerate after an intended change with `make golden` and review the diff like code.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/outputs.hpp"
#include "cli/report.hpp"
#include "sim/run/runner.hpp"
#include "strategies/registry.hpp"

namespace fs = std::filesystem;
using namespace sim;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Appends to `diffs` every place where `got` and `want` differ beyond `rel` (numbers) or at all (others).
void compare(const nlohmann::json& got, const nlohmann::json& want, const std::string& path, double rel,
             std::vector<std::string>& diffs) {
  if (got.is_number() && want.is_number()) {
    const double a = got.get<double>(), b = want.get<double>();
    if (std::fabs(a - b) > rel * std::max({std::fabs(a), std::fabs(b), 1e-12}))
      diffs.push_back(path + ": got " + got.dump() + ", golden " + want.dump());
    return;
  }
  if (got.type() != want.type()) {
    diffs.push_back(path + ": got " + got.dump() + ", golden " + want.dump());
    return;
  }
  if (got.is_object()) {
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (!got.contains(it.key()))
        diffs.push_back(path + "/" + it.key() + ": missing");
      else
        compare(got[it.key()], it.value(), path + "/" + it.key(), rel, diffs);
    }
    for (auto it = got.begin(); it != got.end(); ++it)
      if (!want.contains(it.key())) diffs.push_back(path + "/" + it.key() + ": not in golden");
    return;
  }
  if (got.is_array()) {
    if (got.size() != want.size()) {
      diffs.push_back(path + ": " + std::to_string(got.size()) + " items, golden " +
                      std::to_string(want.size()));
      return;
    }
    for (std::size_t i = 0; i < got.size(); ++i)
      compare(got[i], want[i], path + "/" + std::to_string(i), rel, diffs);
    return;
  }
  if (got != want) diffs.push_back(path + ": got " + got.dump() + ", golden " + want.dump());
}

}  // namespace

TEST_CASE("scenarios/golden: every scenario matches its golden summary", "[golden]") {
  const fs::path root = DEPLOYSIM_SOURCE_DIR;
  const bool update = std::getenv("DEPLOYSIM_UPDATE_GOLDEN") != nullptr;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(root / "scenarios"))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());
  const StrategyRegistry& registry = StrategyRegistry::builtin();
  for (const fs::path& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      const Scenario scenario = load_scenario(file.string(), registry.schemas());
      RunOptions options;
      options.jobs = 2;
      const nlohmann::json got =
          nlohmann::json::parse(summary_json(run_scenario(scenario, registry, options)));
      const fs::path golden = root / "tests" / "golden" / (file.stem().string() + ".json");
      if (update) {
        std::ofstream(golden) << got.dump(2) << "\n";
        WARN("updated " << golden.filename());
        continue;
      }
      INFO("golden file " << golden.filename()
                          << " (regenerate with `make golden` after an intended change)");
      REQUIRE(fs::exists(golden));
      std::vector<std::string> diffs;
      compare(got, nlohmann::json::parse(read_file(golden)), "", 1e-9, diffs);
      std::string report;
      for (std::size_t i = 0; i < diffs.size() && i < 20; ++i) report += diffs[i] + "\n";
      INFO(report);
      CHECK(diffs.empty());
    }
  }
}

TEST_CASE("scenarios/golden: the charts in docs/img are what their scenario draws", "[golden]") {
  // docs/img/<scenario>--<chart file>.svg: charts of a scenario's report shown in the documentation.
  const fs::path root = DEPLOYSIM_SOURCE_DIR;
  const bool update = std::getenv("DEPLOYSIM_UPDATE_GOLDEN") != nullptr;
  std::map<std::string, std::vector<fs::path>> by_scenario;
  for (const auto& entry : fs::directory_iterator(root / "docs" / "img")) {
    const std::string name = entry.path().filename().string();
    const std::size_t sep = name.find("--");
    if (entry.path().extension() != ".svg" || sep == std::string::npos) continue;
    by_scenario[name.substr(0, sep)].push_back(entry.path());
  }
  REQUIRE(!by_scenario.empty());
  for (const auto& [scenario_name, images] : by_scenario) {
    DYNAMIC_SECTION(scenario_name) {
      const Scenario scenario = load_scenario((root / "scenarios" / (scenario_name + ".yaml")).string(),
                                              StrategyRegistry::builtin().schemas());
      RunOptions options;
      options.jobs = 2;
      const RunSet set = run_scenario(scenario, StrategyRegistry::builtin(), options);
      std::map<std::string, std::string> drawn;
      for (auto& [file, svg] : render_chart_files(set)) drawn[file] = std::move(svg);
      for (const fs::path& image : images) {
        const std::string file = image.filename().string().substr(scenario_name.size() + 2);
        INFO(image.string());
        REQUIRE(drawn.count(file) == 1);
        if (update) {
          std::ofstream(image, std::ios::binary) << drawn[file];
          continue;
        }
        CHECK(read_file(image) == drawn[file]);
      }
    }
  }
}
