// The runner's cancel flag: another thread stops the runs in progress and run_scenario throws Interrupted.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "strategies/registry.hpp"

using namespace sim;

TEST_CASE("run/runner: a raised cancel flag stops long runs inside them", "[run]") {
  Scenario s = load_scenario(std::string(DEPLOYSIM_SOURCE_DIR) + "/scenarios/quickstart.yaml",
                             StrategyRegistry::builtin().schemas());
  s.duration = 1000 * kHour;  // minutes of work per run
  s.replications = 1;
  std::atomic<bool> cancel{false};
  RunOptions options;
  options.jobs = 2;
  options.cancel = &cancel;
  std::thread raiser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(run_scenario(s, StrategyRegistry::builtin(), options), Interrupted);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  raiser.join();
  CHECK(seconds < 5);
  // Without the flag raised, the same options run to the end.
  cancel = false;
  s.duration = 10 * kMinute;
  CHECK(run_scenario(s, StrategyRegistry::builtin(), options).runs.size() == 3);
}
