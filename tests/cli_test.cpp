// The deploysim command end to end: exit codes, messages, outputs, and thread-count independence.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

struct Outcome {
  int code;
  std::string out;  // stdout and stderr together
};

Outcome deploysim(const std::string& args) {
  const std::string command = std::string(DEPLOYSIM_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string data(const std::string& name) {
  return std::string(DEPLOYSIM_SOURCE_DIR) + "/tests/data/cli/" + name;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("deploysim-cli-test-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("cli/deploysim: help, strategies and a parameter listing", "[cli]") {
  Outcome help = deploysim("--help");
  CHECK(help.code == 0);
  CHECK_THAT(help.out,
             Catch::Contains("run") && Catch::Contains("validate") && Catch::Contains("strategies"));
  Outcome list = deploysim("strategies");
  CHECK(list.code == 0);
  CHECK_THAT(list.out, Catch::Contains("none") && Catch::Contains("recreate") && Catch::Contains("rolling"));
  Outcome rolling = deploysim("strategies rolling");
  CHECK(rolling.code == 0);
  CHECK_THAT(rolling.out, Catch::Contains("max_surge") && Catch::Contains("25%") &&
                              Catch::Contains("progress_deadline_seconds"));
  Outcome unknown = deploysim("strategies canary2");
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.out, Catch::Contains("unknown strategy 'canary2'"));
  CHECK(deploysim("frobnicate").code == 2);
}

TEST_CASE("cli/deploysim: input errors exit 2 with the file, line and what is wrong", "[cli]") {
  Outcome missing = deploysim("run " + data("no-such-file.yaml"));
  CHECK(missing.code == 2);
  CHECK_THAT(missing.out, Catch::Contains("no-such-file.yaml"));
  Outcome broken = deploysim("validate " + data("broken.yaml"));
  CHECK(broken.code == 2);
  CHECK_THAT(broken.out, Catch::Contains("broken.yaml:"));
  Outcome unknown = deploysim("validate " + data("unknown-strategy.yaml"));
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.out, Catch::Contains("unknown-strategy.yaml:9:5") && Catch::Contains("rollin") &&
                              Catch::Contains("did you mean 'rolling'"));
  Outcome ok = deploysim("validate " + data("tiny.yaml"));
  CHECK(ok.code == 0);
  CHECK_THAT(ok.out, Catch::Contains("ok (3 strategies, 2 replications"));
}

TEST_CASE("cli/deploysim: run writes every output and the same bytes whatever the thread count", "[cli]") {
  const fs::path one = fresh_dir("jobs1"), two = fresh_dir("jobs2");
  Outcome a = deploysim("run " + data("tiny.yaml") + " --jobs 1 -o " + one.string());
  Outcome b = deploysim("run " + data("tiny.yaml") + " --jobs 2 -o " + two.string());
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK_THAT(a.out,
             Catch::Contains("promoted 2") && Catch::Contains("recreate") && Catch::Contains("rolling"));
  for (const char* f : {"summary.json", "summary.csv", "results.csv", "timeseries.csv", "report.html"}) {
    INFO(f);
    REQUIRE(fs::exists(one / f));
    CHECK(slurp(one / f) == slurp(two / f));
  }
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(one)) {
    ++files;
    CHECK(e.path().filename().string().front() != '.');  // no temporaries left
  }
  CHECK(files == 6);
  fs::remove_all(one);
  fs::remove_all(two);
}

TEST_CASE("cli/deploysim: --only, --replications, --seed and --json", "[cli]") {
  Outcome only = deploysim("run " + data("tiny.yaml") + " --only rolling --replications 1 --json");
  REQUIRE(only.code == 0);
  CHECK_THAT(only.out, Catch::Contains("\"rolling\"") && !Catch::Contains("\"recreate\""));
  Outcome seeded = deploysim("run " + data("tiny.yaml") + " --only rolling --replications 1 --json --seed 6");
  REQUIRE(seeded.code == 0);
  CHECK(seeded.out != only.out);
  Outcome none = deploysim("run " + data("tiny.yaml") + " --only canary");
  CHECK(none.code == 2);
  CHECK_THAT(none.out, Catch::Contains("--only matches no strategy"));
}

TEST_CASE("cli/deploysim: a failed write leaves nothing behind and exits 1", "[cli]") {
  const fs::path base = fresh_dir("blocked");
  fs::create_directories(base);
  std::ofstream(base / "file") << "x";
  Outcome blocked =
      deploysim("run " + data("tiny.yaml") + " --replications 1 -o " + (base / "file" / "out").string());
  CHECK(blocked.code == 1);
  CHECK_THAT(blocked.out, Catch::Contains((base / "file").string()));
  CHECK(fs::is_regular_file(base / "file"));
  fs::remove_all(base);
}
