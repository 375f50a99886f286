// The deploysim command: run, validate and list strategies. A thin front end over sim/ and strategies/.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/outputs.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/registry.hpp"

namespace {

using namespace sim;

constexpr int kExitRuntime = 1;
constexpr int kExitInput = 2;

int report_scenario_error(const ScenarioError& e) {
  for (const ScenarioIssue& issue : e.issues()) std::cerr << "error: " << issue.format() << "\n";
  std::cerr << e.issues().size() << (e.issues().size() == 1 ? " error" : " errors") << "\n";
  return kExitInput;
}

/// Progress on stderr: a live counter on a terminal, otherwise a line per 10% once a run takes a while.
class Progress {
 public:
  Progress() : tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}
  void operator()(std::size_t done, std::size_t total) {
    const double elapsed = seconds();
    if (tty_) {
      if (elapsed < 0.5 && done < total) return;
      std::fprintf(stderr, "\r%zu/%zu runs, %.1f s", done, total, elapsed);
      if (done == total) std::fprintf(stderr, "\n");
      printed_ = true;
      return;
    }
    const std::size_t decile = done * 10 / total;
    if (elapsed > 2.0 && decile > last_decile_) {
      std::fprintf(stderr, "%zu/%zu runs, %.1f s\n", done, total, elapsed);
      last_decile_ = decile;
    }
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  bool tty_;
  bool printed_ = false;
  std::size_t last_decile_ = 0;
  std::chrono::steady_clock::time_point start_;
};

/// One parameter and, indented below it, the fields of records, list items and step alternatives.
/// The widest indented parameter name, so that the columns line up however deep the nesting goes.
int name_width(const std::vector<ParamSpec>& params, int depth) {
  int width = 0;
  for (const ParamSpec& p : params) {
    width = std::max(width, 2 * depth + static_cast<int>(p.name.size()));
    width = std::max(width, name_width(p.fields, depth + 1));
  }
  return width;
}

void print_param(const ParamSpec& p, int depth, int width) {
  const std::string name = std::string(static_cast<std::size_t>(depth) * 2, ' ') + p.name;
  const char* fallback = p.optional ? "(optional)" : "(required)";
  std::printf("%-*s %-20s %-10s %s\n", width, name.c_str(), to_string(p.type),
              p.default_value.empty() ? fallback : p.default_value.c_str(), p.description.c_str());
  const bool nested = p.type == ParamType::record || p.type == ParamType::list || p.type == ParamType::one_of;
  if (!nested) std::printf("%-*s %-20s %-10s allowed: %s\n", width, "", "", "", p.allowed().c_str());
  for (const ParamSpec& f : p.fields) print_param(f, depth + 1, width);
}

void list_strategies(const StrategyRegistry& registry, const std::string& name) {
  if (name.empty()) {
    for (const StrategyInfo& info : registry.all())
      std::printf("%-14s %s\n", info.name.c_str(), info.description.c_str());
    std::printf("\n'deploysim strategies NAME' lists a strategy's parameters.\n");
    return;
  }
  const StrategyInfo* info = registry.find(name);
  if (!info) {
    std::string known;
    for (const StrategyInfo& i : registry.all()) known += (known.empty() ? "" : ", ") + i.name;
    throw std::invalid_argument("unknown strategy '" + name + "' (strategies: " + known + ")");
  }
  std::printf("%s: %s\n", info->name.c_str(), info->description.c_str());
  if (info->params.empty()) {
    std::printf("\nno parameters\n");
    return;
  }
  const int width = std::max(28, name_width(info->params, 0));
  std::printf("\n%-*s %-20s %-10s %s\n", width, "parameter", "type", "default", "description");
  for (const ParamSpec& p : info->params) print_param(p, 0, width);
}

}  // namespace

/// `deploysim sweep ...` is the Python package's sweep (one implementation, with its store and executors):
/// the rest of the command line goes to `/usr/bin/python3 -m deploysim sweep`, with the build's package first
/// on the path.
int run_sweep(int argc, char** argv) {
  std::vector<std::string> args = {"python3", "-m", "deploysim", "sweep"};
  for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const char* old = std::getenv("PYTHONPATH");
  const std::string path = std::string(DEPLOYSIM_PYTHON_DIR) + (old && *old ? ":" + std::string(old) : "");
  ::setenv("PYTHONPATH", path.c_str(), 1);
  ::execv("/usr/bin/python3", cargs.data());
  std::fprintf(stderr, "error: cannot run /usr/bin/python3 for deploysim sweep: %s\n", std::strerror(errno));
  return 1;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "sweep") return run_sweep(argc, argv);
  CLI::App app{"deploysim: simulate ML model deployment strategies and compare what they cost."};
  app.set_version_flag("--version", std::string("deploysim 0.1.0"));
  app.require_subcommand(1);

  std::string scenario_path;
  std::string out_dir;
  int replications = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> only;
  int jobs = 0;
  bool json = false;
  bool charts = false;
  std::string baseline;
  app.add_subcommand(
      "sweep", "Sweep parameters over many runs (the Python package's sweep; 'deploysim sweep --help')");
  CLI::App* run = app.add_subcommand("run", "Run every strategy of a scenario and compare them");
  run->add_option("scenario", scenario_path, "Scenario YAML file")->required()->check(CLI::ExistingFile);
  CLI::Option* output_opt =
      run->add_option("-o,--output", out_dir,
                      "Write summary.json, summary.csv, results.csv, timeseries.csv and report.html to DIR");
  run->add_option("--replications", replications, "Replications per strategy (overrides the scenario)")
      ->check(CLI::PositiveNumber);
  run->add_option("--seed", seed, "Root seed (overrides the scenario)");
  run->add_option("--only", only, "Run only these strategies (label or name; repeatable)");
  run->add_option("--jobs,-j", jobs, "Threads (default: all cores)")->check(CLI::NonNegativeNumber);
  run->add_option("--baseline", baseline,
                  "Strategy label for paired differences (default: none, else the first)");
  run->add_flag("--json", json, "Print the summary as JSON instead of the table");
  run->add_flag("--charts", charts, "Also write every chart of the report as an SVG file under DIR/charts")
      ->needs(output_opt);

  std::string validate_path;
  CLI::App* validate = app.add_subcommand("validate", "Check a scenario file and report every problem");
  validate->add_option("scenario", validate_path, "Scenario YAML file")->required();

  std::string strategy_name;
  CLI::App* strategies = app.add_subcommand("strategies", "List strategies, or one strategy's parameters");
  strategies->add_option("name", strategy_name, "Strategy name");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitInput;
  }

  const StrategyRegistry& registry = StrategyRegistry::builtin();
  try {
    if (*strategies) {
      list_strategies(registry, strategy_name);
      return 0;
    }
    if (*validate) {
      const Scenario scenario = load_scenario(validate_path, registry.schemas());
      std::printf("%s: ok (%zu strategies, %d replications, %s simulated)\n", validate_path.c_str(),
                  scenario.strategies.size(), scenario.replications,
                  format_duration(scenario.duration).c_str());
      return 0;
    }
    const Scenario scenario = load_scenario(scenario_path, registry.schemas());
    RunOptions options;
    options.jobs = jobs;
    if (replications > 0) options.replications = replications;
    if (run->count("--seed")) options.seed = seed;
    options.only = only;
    options.baseline = baseline;
    Progress progress;
    options.progress = [&progress](std::size_t done, std::size_t total) { progress(done, total); };
    const RunSet set = run_scenario(scenario, registry, options);
    if (!out_dir.empty()) write_outputs(set, out_dir, charts);
    if (json) {
      std::fputs(summary_json(set).c_str(), stdout);
    } else {
      std::fputs(format_table(set).c_str(), stdout);
      if (!out_dir.empty()) {
        std::string files;
        for (const std::string& f : output_files()) files += (files.empty() ? "" : ",") + f;
        if (charts) files += std::string(",") + kChartsDir + "/*.svg";
        std::printf("\nwrote %s/{%s}\n", out_dir.c_str(), files.c_str());
      } else {
        std::printf(
            "\n(-o DIR writes the summary, per-replication results, time series, decisions and "
            "report.html)\n");
      }
    }
    return 0;
  } catch (const ScenarioError& e) {
    return report_scenario_error(e);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitInput;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitRuntime;
  }
}
