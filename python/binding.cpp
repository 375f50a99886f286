// deploysim._core: the one binding file. It exposes loading a scenario, running it with the GIL released,
// and the run set's outputs in the CLI's own formats; the pure-Python package `deploysim` builds on it.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/outputs.hpp"
#include "cli/report.hpp"
#include "sim/monitor/stats.hpp"
#include "sim/run/result_codec.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/registry.hpp"

namespace py = pybind11;

namespace {

sim::Scenario load(const std::string& path) {
  return sim::load_scenario(path, sim::StrategyRegistry::builtin().schemas());
}

sim::Scenario parse(const std::string& text, const std::string& source) {
  return sim::parse_scenario(text, source, sim::StrategyRegistry::builtin().schemas());
}

sim::RunSet run(const sim::Scenario& scenario, std::optional<int> replications,
                std::optional<std::uint64_t> seed, std::vector<std::string> strategies, int jobs,
                std::string baseline, std::optional<py::function> progress) {
  std::atomic<bool> cancel{false};
  sim::RunOptions options;
  options.jobs = jobs;
  options.replications = replications;
  options.seed = seed;
  options.only = std::move(strategies);
  options.baseline = std::move(baseline);
  options.cancel = &cancel;
  if (progress) {
    options.progress = [&progress](std::size_t done, std::size_t total) {
      py::gil_scoped_acquire gil;
      (*progress)(done, total);
    };
  }
  // The runs go to a thread of their own; this (Python's) thread waits with the GIL released and looks for
  // Ctrl-C ten times a second, which only the main thread can see. A signal raises the cancel flag, which
  // stops the runs in progress within a few thousand events.
  std::future<sim::RunSet> result = std::async(std::launch::async, [&] {
    return sim::run_scenario(scenario, sim::StrategyRegistry::builtin(), options);
  });
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        interrupted = true;
        cancel = true;
        py::gil_scoped_release wait;
        result.wait();
        break;
      }
    }
  }
  if (interrupted) {
    try {
      result.get();
    } catch (const sim::Interrupted&) {
    }
    throw py::error_already_set();  // the KeyboardInterrupt PyErr_CheckSignals set
  }
  return result.get();
}

/// Every strategy of one replication, with extra cost against the no-release cost of that replication: the
/// unit of work of a sweep. Each result is encode_run_result's exact JSON.
std::vector<std::string> run_replication(const sim::Scenario& scenario, std::uint64_t replication) {
  py::gil_scoped_release release;
  const sim::StrategyRegistry& registry = sim::StrategyRegistry::builtin();
  std::vector<sim::RunResult> runs;
  std::optional<double> baseline;
  for (std::size_t i = 0; i < scenario.strategies.size(); ++i) {
    runs.push_back(sim::run_one(scenario, i, replication, registry));
    const sim::StrategyInfo* info = registry.find(scenario.strategies[i].name);
    if (info && !info->releases && !baseline) baseline = runs.back().metrics.cost;
  }
  if (!baseline) baseline = sim::baseline_cost(scenario, replication);
  std::vector<std::string> out;
  for (sim::RunResult& r : runs) {
    r.extra_cost = r.metrics.cost - *baseline;  // as run_scenario computes it
    r.timeseries.clear();                       // a sweep keeps the metrics; runs keep their series
    out.push_back(sim::encode_run_result(r));
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "deploysim's C++ core; use the `deploysim` package instead.";

  static py::exception<sim::ScenarioError> scenario_error(m, "ScenarioError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const sim::ScenarioError& e) {
      py::list issues;
      for (const sim::ScenarioIssue& i : e.issues()) {
        py::dict d;
        d["file"] = i.file;
        d["line"] = i.line;
        d["column"] = i.column;
        d["key"] = i.path;
        d["message"] = i.message;
        issues.append(d);
      }
      py::object err = py::reinterpret_borrow<py::object>(scenario_error.ptr())(py::str(e.what()));
      err.attr("issues") = issues;
      PyErr_SetObject(scenario_error.ptr(), err.ptr());
    } catch (const sim::Interrupted&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    }
  });

  py::class_<sim::Scenario>(m, "Scenario", "A validated scenario.")
      .def_readonly("name", &sim::Scenario::name)
      .def_readonly("description", &sim::Scenario::description)
      .def_readonly("replications", &sim::Scenario::replications)
      .def_readonly("seed", &sim::Scenario::seed)
      .def_property_readonly(
          "strategies",
          [](const sim::Scenario& s) {
            std::vector<std::string> labels;
            for (const sim::StrategySpec& x : s.strategies) labels.push_back(x.label);
            return labels;
          },
          "The strategy labels, in scenario order.");

  m.def("load", &load, py::arg("path"), "Loads and validates a scenario file.");
  m.def("parse", &parse, py::arg("text"), py::arg("source"),
        "Validates scenario YAML text; `source` names it in errors and anchors relative paths.");

  py::class_<sim::RunSet>(m, "RunSet", "Every run of a scenario and their summary.")
      .def("table", &sim::format_table, "The side-by-side table the CLI prints.")
      .def("summary_json", &sim::summary_json)
      .def("summary_csv", &sim::summary_csv)
      .def("results_csv", &sim::results_csv)
      .def("timeseries_csv", &sim::timeseries_csv)
      .def("marks_csv", &sim::marks_csv)
      .def("report_html", &sim::render_report, "The self-contained HTML report.")
      .def(
          "write",
          [](const sim::RunSet& s, const std::string& dir, bool charts) {
            sim::write_outputs(s, dir, charts);
          },
          py::arg("directory"), py::arg("charts") = false,
          "Writes the CLI's output files (and with charts, the SVG charts) into `directory`.");

  m.def(
      "mean_ci",
      [](const std::vector<double>& values) {
        const sim::ConfidenceInterval ci = sim::mean_ci(values, 0.95);
        return std::make_pair(ci.mean, ci.half_width);
      },
      py::arg("values"), "Mean and 95% Student-t half-width of at least two values.");
  m.def("run_replication", &run_replication, py::arg("scenario"), py::arg("replication"),
        "Runs every strategy for one replication (GIL released); JSON results with extra_cost.");

  m.def("run", &run, py::arg("scenario"), py::arg("replications") = py::none(), py::arg("seed") = py::none(),
        py::arg("strategies") = std::vector<std::string>{}, py::arg("jobs") = 0, py::arg("baseline") = "",
        py::arg("progress") = py::none(),
        "Runs every strategy x replication on `jobs` threads (0: all cores) with the GIL released; Ctrl-C "
        "stops the runs within a few thousand events. `progress(done, total)` is called after each run.");
}
