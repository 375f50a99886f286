// The scenario YAML loader: strict validation that reports every problem with file:line:column.
//
// The loader walks the document once, section by section, and records an issue for each problem instead of
// stopping at the first one; a section that cannot be built is left at its default so that later sections
// can still be checked. Issues are sorted into file order and thrown together as one ScenarioError.
#include "sim/scenario/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "sim/core/text.hpp"
#include "sim/scenario/units.hpp"

namespace sim {

std::string ScenarioIssue::format() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

namespace {

std::string join_issues(const std::vector<ScenarioIssue>& issues) {
  std::string out;
  for (const ScenarioIssue& issue : issues) {
    if (!out.empty()) out.push_back('\n');
    out += issue.format();
  }
  return out;
}

}  // namespace

ScenarioError::ScenarioError(std::vector<ScenarioIssue> issues)
    : std::runtime_error(join_issues(issues)), issues_(std::move(issues)) {}

namespace {

using YAML::Node;

// ---- suggestions ------------------------------------------------------------------------------------------

// camelCase and kebab-case fold to snake_case, and case is ignored, so maxSurge finds max_surge.
std::string normalized(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isupper(c)) {
      if (i > 0 && std::islower(static_cast<unsigned char>(s[i - 1]))) out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(c)));
    } else {
      out.push_back(c == '-' ? '_' : static_cast<char>(c));
    }
  }
  return out;
}

// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

/// The closest candidate within 2 edits (1 for words of up to 3 letters), if any.
std::optional<std::string> suggest(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string w = normalized(word);
  const std::size_t limit = w.size() <= 3 ? 1 : 2;
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const std::size_t dist = edit_distance(w, normalized(c));
    if (dist < best_distance) {
      best_distance = dist;
      best = c;
    }
  }
  return best;
}

/// "an exponential", "a lognormal".
std::string with_article(std::string_view word) {
  const bool vowel = !word.empty() && std::strchr("aeiou", word.front()) != nullptr;
  std::string out = vowel ? "an " : "a ";
  out.append(word);
  return out;
}

std::string list_text(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  return out;
}

/// "unknown model 'v3'; did you mean 'v2'?" or "unknown model 'x'; known: v1, v2".
std::string unknown_text(std::string_view what, std::string_view word, const std::vector<std::string>& known,
                         std::string_view known_label = "known") {
  std::string out = "unknown ";
  out.append(what);
  out.push_back(' ');
  out += sim::quoted(word);
  if (auto s = suggest(word, known)) {
    out += "; did you mean " + sim::quoted(*s) + "?";
  } else if (known.empty()) {
    out += "; there are none";
  } else {
    out += "; ";
    out.append(known_label);
    out += ": " + list_text(known);
  }
  return out;
}

// ---- documented keys --------------------------------------------------------------------------------------

/// The keys allowed directly under a documented path ("" for the top level), in documentation order.
const std::vector<std::string>& keys_under(const std::string& doc) {
  static const std::map<std::string, std::vector<std::string>> children = [] {
    std::map<std::string, std::vector<std::string>> out;
    for (const ScenarioKeyDoc& k : scenario_keys()) {
      const std::size_t dot = k.path.rfind('.');
      const std::string parent = dot == std::string::npos ? "" : k.path.substr(0, dot);
      std::string key = dot == std::string::npos ? k.path : k.path.substr(dot + 1);
      if (key.size() > 2 && key.compare(key.size() - 2, 2, "[]") == 0) key.resize(key.size() - 2);
      auto& v = out[parent];
      if (std::find(v.begin(), v.end(), key) == v.end()) v.push_back(key);
    }
    return out;
  }();
  static const std::vector<std::string> none;
  auto it = children.find(doc);
  return it == children.end() ? none : it->second;
}

std::string child_path(const std::string& parent, std::string_view key) {
  std::string out = parent;
  if (!out.empty()) out.push_back('.');
  out.append(key);
  return out;
}

// ---- values -----------------------------------------------------------------------------------------------

/// A value in the document with where it is and how to name it.
/// Never assigned: assigning a YAML::Node that refers to a node rebinds the document, not the handle.
struct Val {
  Node node;
  Node anchor;       // what problems with the value point at: the value, or its key when the value is empty
  std::string path;  // "models.v2.service_time"
  std::string doc;   // "models.NAME.service_time": the documented path, for the allowed keys
  Val(Node n, Node a, std::string p, std::string d)
      : node(std::move(n)), anchor(std::move(a)), path(std::move(p)), doc(std::move(d)) {}
  Val(const Val&) = default;
  Val& operator=(const Val&) = delete;
};

std::string found_text(const Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return sim::quoted(n.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

constexpr std::string_view kDurationAllowed = "a duration such as 250ms, 3m or 1.5h";
constexpr std::string_view kDistributionAllowed =
    "a duration (a fixed time) or a map such as {dist: lognormal, mean: 20ms, cv: 0.6} with dist one of "
    "deterministic, exponential, lognormal, gamma, uniform, empirical";
constexpr std::string_view kRateFormAllowed =
    "a rate such as 800/s, or a map with one of constant, piecewise, diurnal, flash_crowd, trace";

const std::vector<std::string> kDistKinds = {"deterministic", "exponential", "lognormal",
                                             "gamma",         "uniform",     "empirical"};
const std::vector<std::string> kRateForms = {"constant", "piecewise", "diurnal", "flash_crowd", "trace"};
const std::vector<std::string> kTraceOptions = {"scale", "mode", "offset", "loop"};
const std::vector<std::string> kDefectKinds = {"error_rate", "latency", "quality_drop", "crash_loop",
                                               "memory_leak"};

std::string number_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::optional<double> to_double(std::string_view text) {
  const std::string s(text);
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  // strtod also reads hexadecimal numbers, infinities and NaN; YAML numbers are decimal.
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' ||
          c == 'E'))
      return std::nullopt;
  return v;
}

std::optional<std::int64_t> to_integer(std::string_view text) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && ptr == text.data() + text.size()) return v;
  // "1e6" is a whole number too.
  if (auto d = to_double(text); d && *d == std::floor(*d) && std::fabs(*d) < 9e18)
    return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

class Loader;

/// A YAML map checked against its allowed keys: unknown and repeated keys are reported on construction.
class MapView {
 public:
  /// `allowed` null: any key is allowed. A null value reads as an empty map.
  MapView(Loader& loader, const Val& v, const std::vector<std::string>* allowed, std::string_view expected);
  bool ok() const { return ok_; }
  const Val& self() const { return self_; }
  std::optional<Val> get(std::string_view key) const;
  /// Reports a missing key at the map.
  std::optional<Val> need(std::string_view key) const;
  struct Entry {
    std::string key;
    Node key_node;
    Val value;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  bool has(std::string_view key) const { return get(key).has_value(); }

 private:
  Loader& loader_;
  Val self_;
  bool ok_ = true;
  std::vector<Entry> entries_;
};

class Loader {
 public:
  Loader(std::string file, const StrategySchemas& schemas) : file_(std::move(file)), schemas_(schemas) {
    base_dir_ = std::filesystem::path(file_).parent_path();
  }

  void error(const Node& at, const std::string& path, std::string message) {
    const YAML::Mark m = at.Mark();
    if (m.is_null())
      error_at(0, 0, path, std::move(message));
    else
      error_at(m.line + 1, m.column + 1, path, std::move(message));
  }
  void error(const Val& v, std::string message) { error(v.anchor, v.path, std::move(message)); }
  void error_at(int line, int column, const std::string& path, std::string message) {
    issues_.push_back(ScenarioIssue{file_, line, column, path, std::move(message)});
  }

  std::vector<ScenarioIssue> take_issues() {
    std::stable_sort(issues_.begin(), issues_.end(), [](const ScenarioIssue& a, const ScenarioIssue& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    return std::move(issues_);
  }

  Scenario load(const Node& root);

  // ---- scalar readers: each reports a problem and returns nullopt ----------------------------------------

  std::optional<std::string> text(const Val& v, std::string_view expected) {
    if (v.node.IsScalar()) return v.node.Scalar();
    error(v, "found " + found_text(v.node) + ", expected " + std::string(expected));
    return std::nullopt;
  }

  template <typename F>
  auto convert(const Val& v, std::string_view expected, F parse) -> std::optional<decltype(parse(""))> {
    auto t = text(v, expected);
    if (!t) return std::nullopt;
    try {
      return parse(*t);
    } catch (const std::invalid_argument& e) {
      error(v, e.what());
      return std::nullopt;
    }
  }

  std::optional<std::string> string(const Val& v) {
    auto t = text(v, "a string");
    if (t && t->empty()) {
      error(v, "found an empty string, expected a non-empty string");
      return std::nullopt;
    }
    return t;
  }

  std::optional<std::int64_t> integer(const Val& v, std::int64_t min, std::int64_t max = INT32_MAX) {
    std::string expected = "an integer";
    if (max == INT32_MAX || max == INT64_MAX)
      expected += " >= " + std::to_string(min);
    else
      expected += " from " + std::to_string(min) + " to " + std::to_string(max);
    auto t = text(v, expected);
    if (!t) return std::nullopt;
    auto i = to_integer(*t);
    if (!i || *i < min || *i > max) {
      error(v, "found " + sim::quoted(*t) + ", expected " + expected);
      return std::nullopt;
    }
    return i;
  }

  std::optional<std::uint64_t> unsigned_integer(const Val& v) {
    constexpr std::string_view expected = "an integer from 0 to 18446744073709551615";
    auto t = text(v, expected);
    if (!t) return std::nullopt;
    std::uint64_t out = 0;
    const auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), out);
    if (ec != std::errc() || ptr != t->data() + t->size()) {
      error(v, "found " + sim::quoted(*t) + ", expected " + std::string(expected));
      return std::nullopt;
    }
    return out;
  }

  std::optional<double> number(const Val& v, double min, bool min_inclusive = true) {
    const std::string expected = std::string("a number ") + (min_inclusive ? ">= " : "> ") + number_text(min);
    auto t = text(v, expected);
    if (!t) return std::nullopt;
    auto d = to_double(*t);
    if (!d || *d < min || (!min_inclusive && *d == min)) {
      error(v, "found " + sim::quoted(*t) + ", expected " + expected);
      return std::nullopt;
    }
    return d;
  }

  std::optional<bool> boolean(const Val& v) {
    auto t = text(v, "true or false");
    if (!t) return std::nullopt;
    if (*t == "true" || *t == "True" || *t == "TRUE") return true;
    if (*t == "false" || *t == "False" || *t == "FALSE") return false;
    error(v, "found " + sim::quoted(*t) + ", expected true or false");
    return std::nullopt;
  }

  /// A duration >= 0 (or > 0 when `positive`); `at_least` raises the floor.
  std::optional<Time> duration(const Val& v, bool positive = false, Time at_least = 0) {
    auto d = convert(v, kDurationAllowed, [](std::string_view s) { return parse_duration(s); });
    if (!d) return std::nullopt;
    if (*d < at_least || (positive && *d == 0)) {
      std::string expected = positive ? "a duration > 0" : "a duration >= 0";
      if (at_least > 0) expected = "a duration of at least " + format_duration(at_least);
      error(v, "found " + sim::quoted(v.node.Scalar()) + ", expected " + expected);
      return std::nullopt;
    }
    return d;
  }

  std::optional<double> size(const Val& v) {
    return convert(v, "a size such as 3GB or 512MiB", [](std::string_view s) { return parse_size(s); });
  }

  std::optional<double> bandwidth(const Val& v) {
    auto b = convert(v, "a bandwidth such as 10Gbps or 500MB/s",
                     [](std::string_view s) { return parse_bandwidth(s); });
    if (b && *b <= 0) {
      error(v, "found " + sim::quoted(v.node.Scalar()) + ", expected a bandwidth > 0");
      return std::nullopt;
    }
    return b;
  }

  std::optional<double> rate(const Val& v, bool positive = false) {
    auto r =
        convert(v, "a rate such as 800/s or 48000/min", [](std::string_view s) { return parse_rate(s); });
    if (r && positive && *r <= 0) {
      error(v, "found " + sim::quoted(v.node.Scalar()) + ", expected a rate > 0");
      return std::nullopt;
    }
    return r;
  }

  std::optional<double> fraction(const Val& v) {
    return convert(v, "a percentage such as 99.9% or a number from 0 to 1",
                   [](std::string_view s) { return parse_fraction(s); });
  }

  std::optional<double> power(const Val& v) {
    return convert(v, "a power such as 120W or 1.2kW", [](std::string_view s) { return parse_power(s); });
  }

  std::optional<std::string> choice(const Val& v, const std::vector<std::string>& choices,
                                    std::string_view what) {
    auto t = text(v, "one of " + list_text(choices));
    if (!t) return std::nullopt;
    if (std::find(choices.begin(), choices.end(), *t) != choices.end()) return t;
    error(v, unknown_text(what, *t, choices, "expected one of"));
    return std::nullopt;
  }

  /// Reads `key` of `m` with `reader` into `field` when it is present and valid.
  template <typename T, typename R>
  void read(const MapView& m, std::string_view key, T& field, R reader) {
    if (auto v = m.get(key))
      if (auto x = reader(*v)) field = static_cast<T>(*x);
  }

  std::optional<Distribution> distribution(const Val& v);

 private:
  void cluster(const Val& v, Scenario& s);
  void pool(const Val& v, PoolSpec& p);
  void platform(const Val& v, Scenario& s);
  void traffic(const Val& v, Scenario& s);
  std::unique_ptr<ArrivalProcess> rate_form(const Val& v);
  std::unique_ptr<ArrivalProcess> trace_form(const MapView& m);
  void segments(const Val& v, std::vector<SegmentAttribute>& out);
  void models(const Val& v, Scenario& s);
  void model_fields(const MapView& m, ModelVersionSpec& spec);
  std::optional<QualitySpec> quality(const Val& v);
  std::optional<DefectSpec> defect(const Val& v);
  void faults(const Val& v, Scenario& s);
  void slo(const Val& v, Scenario& s);
  void release(const Val& v, Scenario& s, bool duration_ok);
  void strategies(const Val& v, Scenario& s);
  void analysis_templates(const Val& v, Scenario& s);
  /// For a segment parameter "attribute=category": reports an unknown attribute or category.
  bool segment_known(const Val& v);
  std::optional<MetricCheck> metric_check(const Val& v);
  std::set<std::string> template_names_;
  /// A strategy parameter of any type, recursing into records, lists and one_of alternatives.
  std::optional<ParamValue> param_value(const ParamSpec& spec, const Val& v, const std::string& owner);
  /// One {ALTERNATIVE: value} of a one_of (a step of a list, or a parameter of its own); `what` names
  /// the alternatives in errors ("step").
  std::optional<ParamList::Item> one_of_item(const ParamSpec& spec, const Val& item, const std::string& owner,
                                             std::string_view what);
  /// The fields of a record parameter given as a map; missing fields take defaults or are errors.
  std::optional<ParamValues> param_record(const std::vector<ParamSpec>& fields, const Val& v,
                                          const std::string& owner, std::string_view expected);
  std::optional<std::string> model_name(const Val& v);

  MapView map(const Val& v, std::string_view expected) {
    return MapView(*this, v, &keys_under(v.doc), expected);
  }
  std::vector<Val> list(const Val& v, std::string_view expected);

  std::string file_;
  std::filesystem::path base_dir_;
  const StrategySchemas& schemas_;
  std::vector<ScenarioIssue> issues_;

  // Cross references, filled by earlier sections.
  bool pools_ok_ = true;
  std::vector<std::string> pool_names_;
  std::vector<std::string> zones_;
  bool segments_ok_ = true;
  std::vector<SegmentAttribute> attributes_;
  bool models_ok_ = true;
  std::vector<std::string> model_names_;
};

MapView::MapView(Loader& loader, const Val& v, const std::vector<std::string>* allowed,
                 std::string_view expected)
    : loader_(loader), self_(v) {
  if (v.node.IsNull()) return;
  if (!v.node.IsMap()) {
    loader.error(v, "found " + found_text(v.node) + ", expected " + std::string(expected));
    ok_ = false;
    return;
  }
  std::map<std::string, int> seen;
  for (auto it = v.node.begin(); it != v.node.end(); ++it) {
    const Node key = it->first;
    const Node value = it->second;
    if (!key.IsScalar()) {
      loader.error(key, v.path, "found " + found_text(key) + " as a key, expected a name");
      continue;
    }
    const std::string name = key.Scalar();
    const std::string path = child_path(v.path, name);
    if (auto first = seen.find(name); first != seen.end()) {
      loader.error(
          key, path,
          "repeated key " + sim::quoted(name) + " (first at line " + std::to_string(first->second) + ")");
      continue;
    }
    seen.emplace(name, key.Mark().line + 1);
    if (allowed && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
      std::string msg = "unknown key " + sim::quoted(name);
      if (auto s = suggest(name, *allowed))
        msg += "; did you mean " + sim::quoted(*s) + "?";
      else
        msg += "; allowed keys: " + list_text(*allowed);
      loader.error(key, path, msg);
      continue;
    }
    Val child{value, value.IsNull() ? key : value, path, allowed ? child_path(v.doc, name) : v.doc};
    entries_.push_back(Entry{name, key, std::move(child)});
  }
}

std::optional<Val> MapView::get(std::string_view key) const {
  for (const Entry& e : entries_)
    if (e.key == key) return e.value;
  return std::nullopt;
}

std::optional<Val> MapView::need(std::string_view key) const {
  auto v = get(key);
  if (!v && ok_)
    loader_.error(self_.anchor, child_path(self_.path, key), "missing required key " + sim::quoted(key));
  return v;
}

std::vector<Val> Loader::list(const Val& v, std::string_view expected) {
  std::vector<Val> out;
  if (!v.node.IsSequence()) {
    error(v, "found " + found_text(v.node) + ", expected " + std::string(expected));
    return out;
  }
  for (std::size_t i = 0; i < v.node.size(); ++i) {
    const Node item = v.node[i];
    out.push_back(
        Val{item, item.IsNull() ? v.anchor : item, v.path + "[" + std::to_string(i) + "]", v.doc + "[]"});
  }
  return out;
}

// ---- distributions ----------------------------------------------------------------------------------------

std::optional<Distribution> Loader::distribution(const Val& v) {
  if (v.node.IsScalar()) {
    auto d = duration(v);
    if (!d) return std::nullopt;
    return Distribution::deterministic(*d);
  }
  if (!v.node.IsMap()) {
    error(v, "found " + found_text(v.node) + ", expected " + std::string(kDistributionAllowed));
    return std::nullopt;
  }
  static const std::vector<std::string> keys = {"dist", "value", "mean", "cv",    "median",
                                                "p95",  "min",   "max",  "values"};
  MapView m(*this, v, &keys, kDistributionAllowed);
  auto kind_val = m.need("dist");
  if (!kind_val) return std::nullopt;
  auto kind = choice(*kind_val, kDistKinds, "distribution");
  if (!kind) return std::nullopt;

  std::vector<std::string> takes;
  if (*kind == "deterministic") takes = {"value"};
  if (*kind == "exponential") takes = {"mean"};
  if (*kind == "lognormal") takes = {"mean", "cv", "median", "p95"};
  if (*kind == "gamma") takes = {"mean", "cv"};
  if (*kind == "uniform") takes = {"min", "max"};
  if (*kind == "empirical") takes = {"values"};
  bool ok = true;
  for (const MapView::Entry& e : m.entries()) {
    if (e.key == "dist" || std::find(takes.begin(), takes.end(), e.key) != takes.end()) continue;
    error(e.key_node, e.value.path,
          sim::quoted(e.key) + " does not apply to " + with_article(*kind) + " distribution; it takes " +
              list_text(takes));
    ok = false;
  }
  auto need_duration = [&](std::string_view key, bool positive) -> std::optional<Time> {
    auto x = m.need(key);
    return x ? duration(*x, positive) : std::nullopt;
  };
  auto need_cv = [&]() -> std::optional<double> {
    auto x = m.need("cv");
    return x ? number(*x, 0, false) : std::nullopt;
  };
  try {
    if (*kind == "deterministic") {
      auto value = need_duration("value", false);
      if (ok && value) return Distribution::deterministic(*value);
    } else if (*kind == "exponential") {
      auto mean = need_duration("mean", true);
      if (ok && mean) return Distribution::exponential(*mean);
    } else if (*kind == "lognormal") {
      if (m.has("mean") && m.has("median")) {
        error(v, "a lognormal distribution takes either mean and cv or median and p95, not both");
        return std::nullopt;
      }
      if (m.has("median") || m.has("p95")) {
        auto median = need_duration("median", true);
        auto p95 = need_duration("p95", true);
        if (median && p95 && *p95 < *median) {
          error(*m.get("p95"), "found " + sim::quoted(m.get("p95")->node.Scalar()) +
                                   ", expected p95 >= median (" + format_duration(*median) + ")");
          return std::nullopt;
        }
        if (ok && median && p95) return Distribution::lognormal_quantiles(*median, *p95);
      } else {
        auto mean = need_duration("mean", true);
        auto cv = need_cv();
        if (ok && mean && cv) return Distribution::lognormal(*mean, *cv);
      }
    } else if (*kind == "gamma") {
      auto mean = need_duration("mean", true);
      auto cv = need_cv();
      if (ok && mean && cv) return Distribution::gamma(*mean, *cv);
    } else if (*kind == "uniform") {
      auto min = need_duration("min", false);
      auto max = need_duration("max", false);
      if (min && max && *max < *min) {
        error(*m.get("max"), "found " + sim::quoted(m.get("max")->node.Scalar()) + ", expected max >= min (" +
                                 format_duration(*min) + ")");
        return std::nullopt;
      }
      if (ok && min && max) return Distribution::uniform(*min, *max);
    } else if (*kind == "empirical") {
      auto values = m.need("values");
      if (!values) return std::nullopt;
      std::vector<Time> times;
      bool all = true;
      for (const Val& item : list(*values, "a list of durations")) {
        auto t = duration(item);
        all = all && t.has_value();
        if (t) times.push_back(*t);
      }
      if (values->node.IsSequence() && values->node.size() == 0) {
        error(*values, "found an empty list, expected at least one duration");
        return std::nullopt;
      }
      if (ok && all && values->node.IsSequence()) return Distribution::empirical(std::move(times));
    }
  } catch (const std::invalid_argument& e) {
    error(v, e.what());
  }
  return std::nullopt;
}

// ---- top level --------------------------------------------------------------------------------------------

Scenario Loader::load(const Node& root) {
  Scenario s;
  s.source = file_;
  if (root.IsNull()) {
    error_at(
        1, 1, "",
        "the scenario is empty; expected a map with at least name, cluster, models, release and strategies");
    return s;
  }
  const Val top_val{root, root, "", ""};
  MapView top = map(top_val, "a map of scenario keys (name, cluster, models, release, strategies, ...)");
  if (!top.ok()) return s;

  if (auto v = top.need("name"))
    if (auto name = string(*v)) s.name = *name;
  read(top, "description", s.description, [&](const Val& v) { return text(v, "a string"); });
  bool duration_ok = true;
  if (auto v = top.get("duration")) {
    auto d = duration(*v, true);
    if (d) s.duration = *d;
    duration_ok = d.has_value();
  }
  read(top, "seed", s.seed, [&](const Val& v) { return unsigned_integer(v); });
  read(top, "replications", s.replications, [&](const Val& v) { return integer(v, 1, 1000000); });
  s.world.seed = s.seed;

  // Sections in dependency order: pools and zones, then segments, then models, then what names models.
  if (auto v = top.need("cluster"))
    cluster(*v, s);
  else
    pools_ok_ = false;
  if (auto v = top.get("platform")) platform(*v, s);
  if (auto v = top.get("traffic")) traffic(*v, s);
  if (auto v = top.need("models"))
    models(*v, s);
  else
    models_ok_ = false;
  if (auto v = top.get("faults")) faults(*v, s);
  if (auto v = top.get("slo")) slo(*v, s);
  if (auto v = top.need("release")) release(*v, s, duration_ok);
  if (auto v = top.get("analysis_templates")) analysis_templates(*v, s);
  if (auto v = top.need("strategies")) strategies(*v, s);
  if (auto v = top.get("outputs")) {
    MapView m = map(*v, "a map");
    read(m, "timeseries_resolution", s.outputs.timeseries_resolution,
         [&](const Val& x) { return duration(x, true); });
  }
  return s;
}

// ---- cluster ----------------------------------------------------------------------------------------------

void Loader::cluster(const Val& v, Scenario& s) {
  MapView m = map(v, "a map with pools, registry, node_link, price_per_kwh, autoscaler_delay");
  ClusterSpec& c = s.world.cluster;
  if (auto r = m.get("registry")) {
    MapView reg = map(*r, "a map with bandwidth and latency");
    read(reg, "bandwidth", c.registry_bytes_per_second, [&](const Val& x) { return bandwidth(x); });
    read(reg, "latency", c.registry_latency, [&](const Val& x) { return duration(x); });
  }
  read(m, "price_per_kwh", c.price_per_kwh, [&](const Val& x) { return number(x, 0); });
  read(m, "autoscaler_delay", c.autoscaler_delay, [&](const Val& x) { return duration(x); });
  double default_link = PoolSpec{}.node_link_bytes_per_second;
  if (auto nl = m.get("node_link")) {
    MapView link = map(*nl, "a map with bandwidth");
    read(link, "bandwidth", default_link, [&](const Val& x) { return bandwidth(x); });
  }
  auto pools = m.need("pools");
  if (!pools) {
    pools_ok_ = false;
    return;
  }
  const std::vector<Val> items = list(*pools, "a list of pools");
  if (pools->node.IsSequence() && items.empty())
    error(*pools, "found an empty list, expected at least one pool");
  if (items.empty()) pools_ok_ = false;
  std::map<std::string, int> names;
  for (const Val& item : items) {
    PoolSpec p;
    p.node_link_bytes_per_second = default_link;
    pool(item, p);
    if (auto first = names.find(p.name); first != names.end()) {
      auto where = [&]() -> Node {
        if (item.node.IsMap()) {
          const Node n = item.node["name"];
          if (n.IsDefined()) return n;
        }
        return item.anchor;
      };
      error(where(), item.path + ".name",
            "pool name " + sim::quoted(p.name) + " is used twice (first at line " +
                std::to_string(first->second) + ")");
    } else {
      names.emplace(p.name, item.anchor.Mark().line + 1);
    }
    pool_names_.push_back(p.name);
    if (std::find(zones_.begin(), zones_.end(), p.zone) == zones_.end()) zones_.push_back(p.zone);
    c.pools.push_back(std::move(p));
  }
}

void Loader::pool(const Val& v, PoolSpec& p) {
  MapView m = map(v, "a map with name, nodes, max_nodes, slots, ...");
  if (!m.ok()) {
    pools_ok_ = false;
    return;
  }
  read(m, "name", p.name, [&](const Val& x) { return string(x); });
  read(m, "nodes", p.nodes, [&](const Val& x) { return integer(x, 0, 1000000); });
  if (auto x = m.get("max_nodes")) {
    if (auto n = integer(*x, 0, 1000000)) {
      if (*n < p.nodes)
        error(*x, "found " + sim::quoted(x->node.Scalar()) + ", expected max_nodes >= nodes (" +
                      std::to_string(p.nodes) + ")");
      else
        p.max_nodes = static_cast<int>(*n);
    }
  }
  read(m, "slots", p.slots, [&](const Val& x) { return integer(x, 1, 100000); });
  read(m, "price_per_hour", p.price_per_hour, [&](const Val& x) { return number(x, 0); });
  if (auto pw = m.get("power")) {
    MapView pm = map(*pw, "a map with idle and busy");
    read(pm, "idle", p.idle_watts, [&](const Val& x) { return power(x); });
    p.busy_watts = p.idle_watts;
    read(pm, "busy", p.busy_watts, [&](const Val& x) { return power(x); });
  }
  read(m, "provision_time", p.provision_time, [&](const Val& x) { return distribution(x); });
  read(m, "scale_down_delay", p.scale_down_delay, [&](const Val& x) { return duration(x); });
  read(m, "zone", p.zone, [&](const Val& x) { return string(x); });
  if (auto nl = m.get("node_link")) {
    MapView link = map(*nl, "a map with bandwidth");
    read(link, "bandwidth", p.node_link_bytes_per_second, [&](const Val& x) { return bandwidth(x); });
  }
}

void Loader::platform(const Val& v, Scenario& s) {
  MapView m = map(v, "a map with backend, file, registry, network_model, crosstraffic, tcp_window, pools");
  if (!m.ok()) return;
  PlatformSpec& p = s.world.platform;
  if (auto b = m.get("backend")) {
    auto name = choice(*b, {"native", "simgrid"}, "backend");
    if (!name) return;
    p.backend = *name == "simgrid" ? PlatformBackend::simgrid : PlatformBackend::native;
  }
  if (p.backend == PlatformBackend::native) {
    for (const char* key : {"file", "registry", "network_model", "crosstraffic", "tcp_window", "pools"})
      if (auto x = m.get(key)) error(*x, "only used by the simgrid backend (platform.backend: simgrid)");
    return;
  }
  if (auto f = m.get("file")) {
    if (auto path = string(*f)) {
      std::filesystem::path resolved(*path);
      if (resolved.is_relative() && !base_dir_.empty()) resolved = base_dir_ / resolved;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(resolved, ec))
        error(*f, "cannot read the platform file " + sim::quoted(resolved.string()));
      else
        p.file = resolved.string();
    }
  }
  read(m, "registry", p.registry, [&](const Val& x) { return string(x); });
  if (auto n = m.get("network_model")) {
    if (auto name = choice(*n, {"LV08", "CM02", "SMPI", "Constant"}, "network model"))
      p.network_model = *name;
  }
  read(m, "crosstraffic", p.crosstraffic, [&](const Val& x) { return boolean(x); });
  read(m, "tcp_window", p.tcp_window, [&](const Val& x) { return size(x); });
  if (auto pools = m.get("pools")) {
    if (p.file.empty() && !m.get("file")) {
      error(*pools, "only used with a platform file (platform.file)");
      return;
    }
    MapView pm(*this, *pools, nullptr, "a map of pool names to host name prefixes");
    for (const MapView::Entry& e : pm.entries()) {
      if (pools_ok_ && std::find(pool_names_.begin(), pool_names_.end(), e.key) == pool_names_.end()) {
        error(e.key_node, e.value.path, unknown_text("pool", e.key, pool_names_, "cluster.pools has"));
        continue;
      }
      if (auto prefix = string(e.value)) p.pool_hosts[e.key] = *prefix;
    }
  }
}

// ---- traffic ----------------------------------------------------------------------------------------------

void Loader::traffic(const Val& v, Scenario& s) {
  MapView m = map(v, "a map with rate, users, segments, label_delay, load_balancing");
  if (!m.ok()) return;
  if (auto r = m.need("rate")) {
    if (auto process = rate_form(*r))
      s.world.arrivals = std::shared_ptr<const ArrivalProcess>(std::move(process));
  }
  UserPopulationConfig users;
  bool have_users = false;
  if (auto u = m.get("users")) {
    have_users = true;
    users.size = 1000000;
    MapView um = map(*u, "a map with population and zipf");
    read(um, "population", users.size, [&](const Val& x) { return integer(x, 1, UINT32_MAX); });
    read(um, "zipf", users.zipf_exponent, [&](const Val& x) { return number(x, 0); });
  }
  if (auto seg = m.get("segments")) {
    if (!have_users) users.size = 1000000;
    have_users = true;
    segments(*seg, attributes_);
    users.attributes = attributes_;
  }
  read(m, "label_delay", s.world.label_delay, [&](const Val& x) { return duration(x); });
  if (auto lb = m.get("load_balancing")) {
    static const std::vector<std::string> policies = {"round_robin", "least_outstanding", "power_of_two",
                                                      "random"};
    if (auto name = choice(*lb, policies, "load balancing policy")) {
      for (LoadBalancing p : {LoadBalancing::round_robin, LoadBalancing::least_outstanding,
                              LoadBalancing::power_of_two, LoadBalancing::random})
        if (*name == to_string(p)) s.world.load_balancing = p;
    }
  }
  if (have_users && segments_ok_) {
    try {
      s.world.users = std::make_shared<const UserPopulation>(users);
    } catch (const std::invalid_argument& e) {
      error(v, e.what());
    }
  }
}

void Loader::segments(const Val& v, std::vector<SegmentAttribute>& out) {
  MapView m(*this, v, nullptr, "a map of attributes, each a map of categories to probabilities");
  if (!m.ok()) {
    segments_ok_ = false;
    return;
  }
  for (const MapView::Entry& e : m.entries()) {
    SegmentAttribute attr;
    attr.name = e.key;
    MapView cats(*this, Val{e.value.node, e.value.anchor, e.value.path, ""}, nullptr,
                 "a map of categories to probabilities, e.g. {eu: 0.3, us: 0.7}");
    if (!cats.ok()) {
      segments_ok_ = false;
      continue;
    }
    bool all = true;
    double sum = 0;
    for (const MapView::Entry& c : cats.entries()) {
      auto p = fraction(c.value);
      all = all && p.has_value();
      if (p) {
        sum += *p;
        attr.categories.push_back(SegmentCategory{c.key, *p});
      }
    }
    if (cats.entries().empty()) {
      error(e.value, "found no categories, expected 1 to 256 categories with probabilities");
      all = false;
    } else if (cats.entries().size() > 256) {
      error(e.value, "found " + std::to_string(cats.entries().size()) + " categories, expected at most 256");
      all = false;
    } else if (all && std::fabs(sum - 1) > 1e-9) {
      error(e.value, "probabilities sum to " + number_text(sum) + ", expected 1");
      all = false;
    }
    segments_ok_ = segments_ok_ && all;
    out.push_back(std::move(attr));
  }
}

std::unique_ptr<ArrivalProcess> Loader::rate_form(const Val& v) {
  if (v.node.IsScalar()) {
    auto r = rate(v);
    return r ? make_poisson(*r) : nullptr;
  }
  if (!v.node.IsMap()) {
    error(v, "found " + found_text(v.node) + ", expected " + std::string(kRateFormAllowed));
    return nullptr;
  }
  // Nested rate forms (a flash crowd's base) are documented once, under traffic.rate.
  const Val form{v.node, v.anchor, v.path, "traffic.rate"};
  MapView m = map(form, kRateFormAllowed);
  if (m.has("trace")) return trace_form(m);
  std::vector<const MapView::Entry*> forms;
  for (const MapView::Entry& e : m.entries()) {
    if (std::find(kTraceOptions.begin(), kTraceOptions.end(), e.key) != kTraceOptions.end())
      error(e.key_node, e.value.path, sim::quoted(e.key) + " is an option of the trace form only");
    else
      forms.push_back(&e);
  }
  if (forms.size() != 1) {
    if (forms.size() > 1) {
      std::vector<std::string> names;
      for (const auto* e : forms) names.push_back(e->key);
      error(v, "found " + list_text(names) + " together, expected exactly one of " + list_text(kRateForms));
    } else if (m.entries().empty()) {
      error(v, "found an empty map, expected " + std::string(kRateFormAllowed));
    }
    return nullptr;
  }
  const MapView::Entry& e = *forms.front();
  try {
    if (e.key == "constant") {
      auto r = rate(e.value);
      return r ? make_poisson(*r) : nullptr;
    }
    if (e.key == "piecewise") {
      std::vector<RatePiece> pieces;
      bool ok = true;
      std::optional<Time> previous;
      const std::vector<Val> items = list(e.value, "a list of {at, rate} pieces");
      if (e.value.node.IsSequence() && items.empty()) {
        error(e.value, "found an empty list, expected at least one {at, rate} piece");
        return nullptr;
      }
      for (const Val& item : items) {
        MapView pm = map(item, "a map with at and rate");
        const auto at_val = pm.need("at");
        const auto rate_val = pm.need("rate");
        RatePiece piece;
        bool valid = at_val && rate_val;
        if (at_val) {
          if (auto t = duration(*at_val))
            piece.start = *t;
          else
            valid = false;
        }
        if (rate_val) {
          if (auto r = rate(*rate_val))
            piece.rate_per_second = *r;
          else
            valid = false;
        }
        if (valid && previous && piece.start <= *previous) {
          error(*at_val, "found " + sim::quoted(at_val->node.Scalar()) +
                             ", expected a time after the previous piece's " + format_duration(*previous));
          valid = false;
        }
        if (!valid) {
          ok = false;
          continue;
        }
        previous = piece.start;
        pieces.push_back(piece);
      }
      if (!ok || items.empty()) return nullptr;
      return make_piecewise_poisson(std::move(pieces));
    }
    if (e.key == "diurnal") {
      MapView dm = map(e.value, "a map with mean, amplitude, period, peak_at");
      if (!dm.ok()) return nullptr;
      DiurnalParams p;
      bool ok = true;
      auto mean = dm.need("mean");
      if (auto r = mean ? rate(*mean) : std::nullopt)
        p.mean_rate = *r;
      else
        ok = false;
      auto check = [&](auto x) {
        ok = ok && x.has_value();
        return x;
      };
      read(dm, "amplitude", p.amplitude, [&](const Val& x) { return check(fraction(x)); });
      read(dm, "period", p.period, [&](const Val& x) { return check(duration(x, true)); });
      read(dm, "peak_at", p.peak_at, [&](const Val& x) { return check(duration(x)); });
      return ok ? make_diurnal(p) : nullptr;
    }
    if (e.key == "flash_crowd") {
      MapView fm = map(e.value, "a map with base, at, ramp, multiplier, hold, decay");
      if (!fm.ok()) return nullptr;
      FlashCrowdSpike spike;
      bool ok = true;
      auto check = [&](auto x) {
        ok = ok && x.has_value();
        return x;
      };
      std::unique_ptr<ArrivalProcess> base;
      if (auto b = fm.need("base")) base = rate_form(*b);
      ok = ok && base != nullptr;
      ok = fm.need("at").has_value() && ok;
      ok = fm.need("multiplier").has_value() && ok;
      read(fm, "at", spike.at, [&](const Val& x) { return check(duration(x)); });
      read(fm, "multiplier", spike.multiplier, [&](const Val& x) { return check(number(x, 1)); });
      read(fm, "ramp", spike.ramp, [&](const Val& x) { return check(duration(x)); });
      read(fm, "hold", spike.hold, [&](const Val& x) { return check(duration(x)); });
      read(fm, "decay", spike.decay, [&](const Val& x) { return check(duration(x)); });
      if (auto ref = fm.get("reference_rate")) {
        if (auto r = check(rate(*ref))) spike.reference_rate = *r;
      }
      return ok ? make_flash_crowd(std::move(base), spike) : nullptr;
    }
    // Not a form: say which ones exist.
    error(e.key_node, e.value.path, unknown_text("rate form", e.key, kRateForms, "expected one of"));
  } catch (const std::invalid_argument& ex) {
    error(e.value, ex.what());
  }
  return nullptr;
}

std::unique_ptr<ArrivalProcess> Loader::trace_form(const MapView& m) {
  for (const MapView::Entry& e : m.entries()) {
    if (e.key != "trace" &&
        std::find(kTraceOptions.begin(), kTraceOptions.end(), e.key) == kTraceOptions.end())
      error(e.key_node, e.value.path,
            sim::quoted(e.key) + " cannot be combined with trace; trace takes " + list_text(kTraceOptions));
  }
  TraceReplayOptions options;
  bool ok = true;
  auto check = [&](auto x) {
    ok = ok && x.has_value();
    return x;
  };
  read(m, "scale", options.scale, [&](const Val& x) { return check(number(x, 0)); });
  if (auto mode = m.get("mode")) {
    if (auto name = check(choice(*mode, {"exact", "poisson"}, "trace mode")))
      options.mode = *name == "exact" ? TraceMode::exact : TraceMode::poisson;
  }
  read(m, "offset", options.start_offset, [&](const Val& x) { return check(duration(x)); });
  read(m, "loop", options.loop, [&](const Val& x) { return check(boolean(x)); });
  const Val path_val = *m.get("trace");
  auto path = string(path_val);
  if (!path) return nullptr;
  std::filesystem::path resolved(*path);
  if (resolved.is_relative() && !base_dir_.empty()) resolved = base_dir_ / resolved;
  std::shared_ptr<const Trace> trace;
  try {
    trace = load_trace(resolved.string());
  } catch (const TraceError& e) {
    error(path_val, std::string("cannot load the trace: ") + e.what());
    return nullptr;
  }
  if (!ok) return nullptr;
  try {
    return make_trace_replay(std::move(trace), options);
  } catch (const std::invalid_argument& e) {
    auto offset = m.get("offset");
    error(offset ? *offset : path_val, e.what());
  }
  return nullptr;
}

// ---- models -----------------------------------------------------------------------------------------------

void Loader::models(const Val& v, Scenario& s) {
  MapView m(*this, v, nullptr, "a map of model names to model versions");
  if (!m.ok()) {
    models_ok_ = false;
    return;
  }
  if (m.entries().empty()) {
    error(v, "found no models, expected at least one model version");
    models_ok_ = false;
    return;
  }
  const std::size_t n = m.entries().size();
  for (const MapView::Entry& e : m.entries()) model_names_.push_back(e.key);

  std::vector<MapView> views;
  std::vector<std::optional<Val>> bases(n);
  views.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const MapView::Entry& e = m.entries()[i];
    views.push_back(
        map(Val{e.value.node, e.value.anchor, e.value.path, "models.NAME"}, "a map of model fields"));
    if (auto b = views.back().get("based_on")) bases[i].emplace(*b);
  }

  // Each version starts from its base's resolved spec and applies its own keys (depth first, file order).
  std::vector<ModelVersionSpec> specs(n);
  std::vector<int> state(n, 0);  // 0 not started, 1 in progress, 2 done
  std::vector<std::size_t> stack;
  std::function<void(std::size_t)> resolve = [&](std::size_t i) {
    if (state[i] != 0) return;
    state[i] = 1;
    stack.push_back(i);
    ModelVersionSpec spec;
    if (bases[i]) {
      if (auto base = text(*bases[i], "the name of another model")) {
        auto it = std::find(model_names_.begin(), model_names_.end(), *base);
        if (it == model_names_.end()) {
          std::vector<std::string> others;
          for (const std::string& name : model_names_)
            if (name != model_names_[i]) others.push_back(name);
          error(*bases[i], unknown_text("base model", *base, others));
        } else {
          const std::size_t j = static_cast<std::size_t>(it - model_names_.begin());
          if (state[j] == 1) {
            std::string cycle;
            auto from = std::find(stack.begin(), stack.end(), j);
            for (auto k = from; k != stack.end(); ++k) cycle += model_names_[*k] + " -> ";
            cycle += model_names_[j];
            error(*bases[i], "based_on forms a cycle: " + cycle);
          } else {
            resolve(j);
            spec = specs[j];
          }
        }
      }
    }
    spec.name = model_names_[i];
    if (views[i].ok()) model_fields(views[i], spec);
    specs[i] = std::move(spec);
    stack.pop_back();
    state[i] = 2;
  };
  for (std::size_t i = 0; i < n; ++i) resolve(i);
  s.world.versions = std::move(specs);
}

void Loader::model_fields(const MapView& m, ModelVersionSpec& spec) {
  read(m, "service_time", spec.service_time, [&](const Val& x) { return distribution(x); });
  read(m, "concurrency", spec.concurrency, [&](const Val& x) { return integer(x, 1, 1000000); });
  if (auto x = m.get("queue_limit")) {
    if (x->node.IsScalar() && x->node.Scalar() == "unbounded") {
      spec.queue_limit = -1;
    } else if (x->node.IsScalar() && !to_integer(x->node.Scalar())) {
      error(*x, "found " + sim::quoted(x->node.Scalar()) +
                    ", expected an integer >= 0, or -1 or unbounded for no limit");
    } else if (auto q = integer(*x, -1, INT32_MAX)) {
      spec.queue_limit = static_cast<int>(*q);
    }
  }
  if (auto x = m.get("timeout")) {
    if (x->node.IsScalar() && x->node.Scalar() == "never")
      spec.timeout = kTimeNever;
    else if (auto t = duration(*x, true))
      spec.timeout = *t;
  }
  read(m, "error_rate", spec.error_rate, [&](const Val& x) { return fraction(x); });
  read(m, "quality", spec.quality, [&](const Val& x) { return quality(x); });
  read(m, "image_size", spec.image_bytes, [&](const Val& x) { return size(x); });
  read(m, "startup", spec.startup, [&](const Val& x) { return distribution(x); });
  read(m, "warmup", spec.warmup, [&](const Val& x) { return duration(x); });
  if (auto x = m.get("pool")) {
    if (auto name = string(*x)) {
      if (std::find(pool_names_.begin(), pool_names_.end(), *name) != pool_names_.end())
        spec.pool = *name;
      else if (pools_ok_)
        error(*x, unknown_text("pool", *name, pool_names_));
    }
  }
  if (auto x = m.get("defects")) {
    std::vector<DefectSpec> defects;
    for (const Val& item : list(*x, "a list of defects"))
      if (auto d = defect(item)) defects.push_back(*d);
    spec.defects = std::move(defects);
  }
}

std::optional<QualitySpec> Loader::quality(const Val& v) {
  MapView m = map(v, "a map with conversion and by_segment");
  if (!m.ok()) return std::nullopt;
  QualitySpec q;
  bool ok = true;
  if (auto x = m.get("conversion")) {
    auto c = fraction(*x);
    if (c) q.conversion = *c;
    ok = c.has_value();
  }
  auto by = m.get("by_segment");
  if (!by) return ok ? std::optional<QualitySpec>(q) : std::nullopt;
  MapView bm = map(*by, "a map with attribute and values");
  if (!bm.ok()) return std::nullopt;
  auto attr_val = bm.need("attribute");
  auto values_val = bm.need("values");
  if (!attr_val || !values_val) return std::nullopt;
  auto attr = string(*attr_val);
  if (!attr) return std::nullopt;
  std::vector<std::string> names;
  for (const SegmentAttribute& a : attributes_) names.push_back(a.name);
  auto it = std::find(names.begin(), names.end(), *attr);
  if (it == names.end()) {
    if (attributes_.empty())
      error(*attr_val,
            "unknown attribute " + sim::quoted(*attr) + "; traffic.segments defines no attributes");
    else
      error(*attr_val, unknown_text("attribute", *attr, names, "traffic.segments defines"));
    return std::nullopt;
  }
  const SegmentAttribute& attribute = attributes_[static_cast<std::size_t>(it - names.begin())];
  q.segment_attribute = static_cast<int>(it - names.begin());
  q.conversion_by_segment.assign(attribute.categories.size(), q.conversion);
  std::vector<std::string> categories;
  for (const SegmentCategory& c : attribute.categories) categories.push_back(c.name);
  MapView values(*this, *values_val, nullptr, "a map of categories to conversion probabilities");
  if (!values.ok()) return std::nullopt;
  for (const MapView::Entry& e : values.entries()) {
    auto c = std::find(categories.begin(), categories.end(), e.key);
    if (c == categories.end()) {
      error(e.key_node, e.value.path, unknown_text("category", e.key, categories, *attr + " has"));
      ok = false;
      continue;
    }
    auto p = fraction(e.value);
    if (p)
      q.conversion_by_segment[static_cast<std::size_t>(c - categories.begin())] = *p;
    else
      ok = false;
  }
  return ok ? std::optional<QualitySpec>(q) : std::nullopt;
}

std::optional<DefectSpec> Loader::defect(const Val& v) {
  MapView m = map(v, "a map with kind, its value and onset");
  if (!m.ok()) return std::nullopt;
  auto kind_val = m.need("kind");
  if (!kind_val) return std::nullopt;
  auto kind = choice(*kind_val, kDefectKinds, "defect kind");
  if (!kind) return std::nullopt;
  DefectSpec d;
  std::string value_key;
  if (*kind == "error_rate") d.kind = DefectSpec::Kind::error_rate, value_key = "rate";
  if (*kind == "latency") d.kind = DefectSpec::Kind::latency, value_key = "multiplier";
  if (*kind == "quality_drop") d.kind = DefectSpec::Kind::quality_drop, value_key = "drop";
  if (*kind == "crash_loop") d.kind = DefectSpec::Kind::crash_loop;
  if (*kind == "memory_leak") d.kind = DefectSpec::Kind::memory_leak, value_key = "uptime";
  bool ok = true;
  for (const MapView::Entry& e : m.entries()) {
    if (e.key == "kind" || e.key == "onset" || e.key == value_key) continue;
    std::string msg = sim::quoted(e.key) + " does not apply to " + with_article(*kind) + " defect; it takes ";
    msg += value_key.empty() ? "only onset" : value_key + " and onset";
    error(e.key_node, e.value.path, msg);
    ok = false;
  }
  if (!value_key.empty()) {
    auto x = m.need(value_key);
    if (!x) {
      ok = false;
    } else if (value_key == "uptime") {
      auto t = duration(*x, true);
      if (t) d.uptime = *t;
      ok = ok && t.has_value();
    } else {
      auto value = value_key == "multiplier" ? number(*x, 0, false) : fraction(*x);
      if (value) d.value = *value;
      ok = ok && value.has_value();
    }
  }
  if (auto o = m.get("onset")) {
    MapView om = map(*o, "a map with one of at_start, at, after_exposure, load_above");
    if (!om.ok()) return std::nullopt;
    if (om.entries().size() != 1) {
      std::vector<std::string> found;
      for (const MapView::Entry& e : om.entries()) found.push_back(e.key);
      error(*o, (found.empty() ? std::string("found no onset") : "found " + list_text(found) + " together") +
                    ", expected exactly one of at_start, at, after_exposure, load_above");
      return std::nullopt;
    }
    const MapView::Entry& e = om.entries().front();
    if (e.key == "at_start") {
      d.onset.kind = DefectOnset::Kind::at_start;
      auto b = boolean(e.value);
      if (b && !*b)
        error(e.value, "found 'false', expected true (leave out onset for a defect active from the start)");
      ok = ok && b.value_or(false);
    } else if (e.key == "at" || e.key == "after_exposure") {
      d.onset.kind = e.key == "at" ? DefectOnset::Kind::at : DefectOnset::Kind::after_exposure;
      auto t = duration(e.value);
      if (t) d.onset.delay = *t;
      ok = ok && t.has_value();
    } else {
      d.onset.kind = DefectOnset::Kind::load_above;
      auto r = rate(e.value, true);
      if (r) d.onset.per_replica_rps = *r;
      ok = ok && r.has_value();
    }
  }
  return ok ? std::optional<DefectSpec>(d) : std::nullopt;
}

std::optional<std::string> Loader::model_name(const Val& v) {
  auto name = string(v);
  if (!name) return std::nullopt;
  if (std::find(model_names_.begin(), model_names_.end(), *name) != model_names_.end()) return name;
  if (models_ok_) error(v, unknown_text("model", *name, model_names_));
  return std::nullopt;
}

// ---- faults, SLO, release ---------------------------------------------------------------------------------

void Loader::faults(const Val& v, Scenario& s) {
  MapView m = map(v, "a map with node_failures and zone_outages");
  FaultSpec& f = s.world.faults;
  if (auto nf = m.get("node_failures")) {
    MapView nm = map(*nf, "a map with mtbf and mttr");
    if (nm.ok()) {
      auto mtbf_val = nm.need("mtbf");
      auto mttr_val = nm.need("mttr");
      auto mtbf = mtbf_val ? duration(*mtbf_val, true) : std::nullopt;
      auto mttr = mttr_val ? distribution(*mttr_val) : std::nullopt;
      if (mtbf && mttr) {
        f.node_failures.enabled = true;
        f.node_failures.mtbf = *mtbf;
        f.node_failures.repair_time = *mttr;
      }
    }
  }
  if (auto zo = m.get("zone_outages")) {
    for (const Val& item : list(*zo, "a list of {zone, at, duration}")) {
      MapView om = map(item, "a map with zone, at and duration");
      if (!om.ok()) continue;
      ZoneOutageSpec z;
      bool ok = true;
      if (auto x = om.need("zone")) {
        auto zone = string(*x);
        if (zone && std::find(zones_.begin(), zones_.end(), *zone) == zones_.end()) {
          if (pools_ok_) error(*x, unknown_text("zone", *zone, zones_, "pools are in"));
          zone.reset();
        }
        if (zone) z.zone = *zone;
        ok = ok && zone.has_value();
      } else {
        ok = false;
      }
      auto at_val = om.need("at");
      auto at = at_val ? duration(*at_val) : std::nullopt;
      auto len_val = om.need("duration");
      auto len = len_val ? duration(*len_val, true) : std::nullopt;
      if (ok && at && len) {
        z.at = *at;
        z.duration = *len;
        f.zone_outages.push_back(z);
      }
    }
  }
}

void Loader::slo(const Val& v, Scenario& s) {
  MapView m = map(v, "a map with availability, latency and window");
  read(m, "availability", s.slo.availability, [&](const Val& x) { return fraction(x); });
  read(m, "window", s.slo.window, [&](const Val& x) { return duration(x, true, kSecond); });
  if (auto l = m.get("latency")) {
    MapView lm = map(*l, "a map with one quantile, e.g. {p99: 250ms}");
    static const std::map<std::string, double> quantiles = {
        {"p50", 0.5}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}};
    if (lm.entries().size() > 1) {
      error(*l,
            "found " + std::to_string(lm.entries().size()) + " quantiles, expected one (e.g. {p99: 250ms})");
      return;
    }
    for (const MapView::Entry& e : lm.entries()) {
      if (auto t = duration(e.value, true)) {
        s.slo.latency_quantile = quantiles.at(e.key);
        s.slo.latency_threshold = *t;
      }
    }
  }
}

void Loader::release(const Val& v, Scenario& s, bool duration_ok) {
  MapView m = map(v, "a map with stable, candidate, replicas, at and promote_at");
  if (!m.ok()) return;
  ReleaseSpec& r = s.release;
  auto stable = m.need("stable");
  auto candidate = m.need("candidate");
  if (stable)
    if (auto name = model_name(*stable)) r.stable = *name;
  if (candidate) {
    if (auto name = model_name(*candidate)) {
      if (*name == r.stable)
        error(*candidate, "found " + sim::quoted(*name) + ", the stable model; expected another model");
      else
        r.candidate = *name;
    }
  }
  read(m, "replicas", r.replicas, [&](const Val& x) { return integer(x, 1, 1000000); });
  if (auto x = m.get("at")) {
    if (auto at = duration(*x)) {
      if (duration_ok && *at >= s.duration)
        error(*x, "found " + sim::quoted(x->node.Scalar()) +
                      ", expected a time before the end of the scenario (duration " +
                      format_duration(s.duration) + ")");
      else
        r.at = *at;
    }
  }
  if (auto p = m.get("promote_at")) {
    // One time or a list of times: each resumes a strategy that waits for a manual promotion.
    std::vector<Val> items;
    if (p->node.IsSequence())
      items = list(*p, "a duration or a list of durations");
    else
      items.push_back(*p);
    for (const Val& item : items) {
      if (auto t = duration(item)) {
        if (*t < r.at || (duration_ok && *t >= s.duration))
          error(item, "found " + sim::quoted(item.node.Scalar()) + ", expected a time from release.at (" +
                          format_duration(r.at) + ") to the end of the scenario");
        else
          r.promotions.push_back(*t);
      }
    }
    std::sort(r.promotions.begin(), r.promotions.end());
  }
}

// ---- strategies -------------------------------------------------------------------------------------------

void Loader::strategies(const Val& v, Scenario& s) {
  const std::vector<Val> items = list(v, "a list of strategies, each NAME or {NAME: {parameters}}");
  if (v.node.IsSequence() && items.empty()) error(v, "found an empty list, expected at least one strategy");
  std::map<std::string, int> occurrences;
  std::set<std::string> labels;
  for (const Val& item : items) {
    std::string name;
    Node name_node;
    std::optional<Val> params;
    if (item.node.IsScalar()) {
      name = item.node.Scalar();
      name_node = item.node;
    } else if (item.node.IsMap() && item.node.size() == 1) {
      const auto it = item.node.begin();
      if (!it->first.IsScalar()) {
        error(it->first, item.path, "found " + found_text(it->first) + " as a key, expected a strategy name");
        continue;
      }
      name = it->first.Scalar();
      name_node = it->first;
      params.emplace(it->second, it->second.IsNull() ? it->first : it->second, item.path + "." + name, "");
    } else {
      std::string found = found_text(item.node);
      if (item.node.IsMap()) found = "a map with " + std::to_string(item.node.size()) + " keys";
      error(item,
            "found " + found + ", expected a strategy name or a map with one key, {NAME: {parameters}}");
      continue;
    }
    const std::vector<ParamSpec>* schema = schemas_.find ? schemas_.find(name) : nullptr;
    if (!schema) {
      error(name_node, item.path, unknown_text("strategy", name, schemas_.names));
      continue;
    }
    StrategySpec spec;
    spec.name = name;
    spec.line = item.node.Mark().line + 1;
    spec.params = default_params(*schema);
    std::vector<std::string> param_names;
    for (const ParamSpec& p : *schema) param_names.push_back(p.name);
    std::optional<Val> label_val;
    bool ok = true;
    std::set<std::string> given;
    if (params) {
      MapView pm(*this, *params, nullptr, "a map of parameters, e.g. {max_surge: 25%}");
      ok = pm.ok();
      for (const MapView::Entry& e : pm.entries()) {
        if (e.key == "label") {
          label_val.emplace(e.value);
          continue;
        }
        auto p = std::find_if(schema->begin(), schema->end(),
                              [&](const ParamSpec& ps) { return ps.name == e.key; });
        if (p == schema->end()) {
          std::vector<std::string> known = param_names;
          known.push_back("label");
          error(e.key_node, e.value.path, unknown_text(name + " parameter", e.key, known, "parameters"));
          ok = false;
          continue;
        }
        given.insert(e.key);
        if (auto value = param_value(*p, e.value, name + " parameter " + sim::quoted(p->name)))
          spec.params.set(p->name, std::move(*value));
        else
          ok = false;
      }
    }
    for (const ParamSpec& p : *schema) {
      if (p.default_value.empty() && !p.optional && !given.count(p.name)) {
        error(item.node, item.path + "." + name + "." + p.name,
              "missing required parameter " + sim::quoted(p.name) + " of " + name + " (" + p.allowed() + ")");
        ok = false;
      }
    }
    const int nth = ++occurrences[name];
    if (label_val) {
      auto label = string(*label_val);
      if (!label) continue;
      if (labels.count(*label)) {
        error(*label_val, "label " + sim::quoted(*label) + " is already used by another strategy");
        continue;
      }
      spec.label = *label;
    } else {
      spec.label = nth == 1 ? name : name + "-" + std::to_string(nth);
      for (int k = nth + 1; labels.count(spec.label); ++k) spec.label = name + "-" + std::to_string(k);
    }
    labels.insert(spec.label);
    if (ok) s.strategies.push_back(std::move(spec));
  }
}

void Loader::analysis_templates(const Val& v, Scenario& s) {
  MapView all(*this, v, nullptr, "a map of named analysis templates");
  for (const MapView::Entry& e : all.entries()) {
    template_names_.insert(e.key);
    MapView m = map(Val{e.value.node, e.value.anchor, e.value.path, "analysis_templates.NAME"},
                    "a map with interval, metrics and limits");
    AnalysisTemplate t;
    bool ok = m.ok();
    read(m, "interval", t.interval, [&](const Val& x) { return duration(x, true); });
    read(m, "initial_delay", t.initial_delay, [&](const Val& x) { return duration(x); });
    read(m, "count", t.count, [&](const Val& x) { return integer(x, 0); });
    read(m, "failure_limit", t.failure_limit, [&](const Val& x) { return integer(x, 0); });
    read(m, "inconclusive_limit", t.inconclusive_limit, [&](const Val& x) { return integer(x, 0); });
    read(m, "consecutive_error_limit", t.consecutive_error_limit,
         [&](const Val& x) { return integer(x, 0); });
    read(m, "min_requests", t.min_requests, [&](const Val& x) { return integer(x, 1, INT32_MAX); });
    if (auto nd = m.get("no_data")) {
      if (auto c = choice(*nd, {"error", "inconclusive", "failed"}, "no_data policy")) {
        t.no_data = *c == "error"          ? NoDataPolicy::error
                    : *c == "inconclusive" ? NoDataPolicy::inconclusive
                                           : NoDataPolicy::failed;
      }
    }
    if (auto metrics = m.need("metrics")) {
      for (const Val& item : list(*metrics, "a list of metric checks, e.g. {name: error_rate, max: 1%}")) {
        if (auto check = metric_check(item))
          t.metrics.push_back(*check);
        else
          ok = false;
      }
      if (metrics->node.IsSequence() && metrics->node.size() == 0) {
        error(*metrics, "found an empty list, expected at least one metric check");
        ok = false;
      }
    } else {
      ok = false;
    }
    if (ok) s.analysis_templates[e.key] = std::move(t);
  }
}

std::optional<MetricCheck> Loader::metric_check(const Val& v) {
  MapView m = map(v, "a map with name and min and/or max");
  if (!m.ok()) return std::nullopt;
  auto name_val = m.need("name");
  if (!name_val) return std::nullopt;
  auto name = string(*name_val);
  if (!name) return std::nullopt;
  MetricCheck check;
  try {
    check.metric = parse_metric(*name);
  } catch (const std::invalid_argument& e) {
    error(*name_val, e.what());
    return std::nullopt;
  }
  // Thresholds carry the metric's unit: latencies are durations, request rates per time, others fractions.
  auto threshold = [&](const Val& x) -> std::optional<double> {
    if (is_latency(check.metric)) {
      if (auto d = duration(x)) return to_seconds(*d);
      return std::nullopt;
    }
    if (check.metric == Metric::request_rate) return rate(x);
    return fraction(x);
  };
  bool ok = true;
  const std::pair<const char*, double*> fields[] = {{"min", &check.min},
                                                    {"max", &check.max},
                                                    {"success_min", &check.success_min},
                                                    {"success_max", &check.success_max}};
  for (const auto& [key, field] : fields) {
    if (auto x = m.get(key)) {
      if (auto value = threshold(*x))
        *field = *value;
      else
        ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return check;
}

std::optional<ParamValues> Loader::param_record(const std::vector<ParamSpec>& fields, const Val& v,
                                                const std::string& owner, std::string_view expected) {
  std::vector<std::string> names;
  for (const ParamSpec& f : fields) names.push_back(f.name);
  MapView m(*this, v, &names, expected);
  if (!m.ok()) return std::nullopt;
  ParamValues record = default_params(fields);
  bool ok = true;
  for (const MapView::Entry& e : m.entries()) {
    const ParamSpec& f =
        *std::find_if(fields.begin(), fields.end(), [&](const ParamSpec& p) { return p.name == e.key; });
    if (auto value = param_value(f, e.value, owner))
      record.set(f.name, std::move(*value));
    else
      ok = false;
  }
  for (const ParamSpec& f : fields) {
    if (f.default_value.empty() && !f.optional && !m.has(f.name)) {
      error(v, "missing " + sim::quoted(f.name) + " (" + f.allowed() + ")");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return record;
}

std::optional<ParamList::Item> Loader::one_of_item(const ParamSpec& spec, const Val& item,
                                                   const std::string& owner, std::string_view what) {
  // {ALTERNATIVE: value}, or a bare ALTERNATIVE whose value may be left out.
  std::string alt;
  std::optional<Val> value;
  if (item.node.IsScalar()) {
    alt = item.node.Scalar();
  } else if (item.node.IsMap() && item.node.size() == 1 && item.node.begin()->first.IsScalar()) {
    alt = item.node.begin()->first.Scalar();
    const Node key = item.node.begin()->first;
    const Node val = item.node.begin()->second;
    value.emplace(val, val.IsNull() ? key : val, item.path + "." + alt, "");
  } else {
    error(item, "found " + found_text(item.node) + ", expected " + spec.allowed());
    return std::nullopt;
  }
  auto a =
      std::find_if(spec.fields.begin(), spec.fields.end(), [&](const ParamSpec& p) { return p.name == alt; });
  if (a == spec.fields.end()) {
    std::vector<std::string> known;
    for (const ParamSpec& p : spec.fields) known.push_back(p.name);
    error(item, unknown_text(what, alt, known, std::string(what) + "s"));
    return std::nullopt;
  }
  if (!value) value.emplace(Node(YAML::NodeType::Null), item.node, item.path + "." + alt, "");
  auto parsed = param_value(*a, *value, owner);
  if (!parsed) return std::nullopt;
  return ParamList::Item{alt, std::move(*parsed)};
}

std::optional<ParamValue> Loader::param_value(const ParamSpec& spec, const Val& v, const std::string& owner) {
  switch (spec.type) {
    case ParamType::record: {
      if (v.node.IsScalar() && !spec.shorthand.empty()) break;  // `pause: 10m`: parse_param handles it
      auto record = param_record(spec.fields, v, owner, spec.allowed());
      if (!record) return std::nullopt;
      return std::make_shared<const ParamValues>(std::move(*record));
    }
    case ParamType::list: {
      if (v.node.IsNull()) return std::make_shared<const ParamList>();
      const std::vector<Val> items = list(v, spec.allowed());
      if (!v.node.IsSequence()) return std::nullopt;
      auto out = std::make_shared<ParamList>();
      bool ok = true;
      for (const Val& item : items) {
        if (spec.fields.empty()) break;
        const ParamSpec& item_spec = spec.fields.front();
        if (item_spec.type == ParamType::one_of) {
          auto parsed = one_of_item(item_spec, item, owner, "step");
          if (!parsed) {
            ok = false;
            continue;
          }
          out->items.push_back(std::move(*parsed));
        } else {
          auto parsed = param_value(item_spec, item, owner);
          if (!parsed) {
            ok = false;
            continue;
          }
          out->items.push_back(ParamList::Item{"", std::move(*parsed)});
        }
      }
      if (!ok) return std::nullopt;
      return std::shared_ptr<const ParamList>(std::move(out));
    }
    case ParamType::one_of: {
      auto parsed = one_of_item(spec, v, owner, "alternative");
      if (!parsed) return std::nullopt;
      auto out = std::make_shared<ParamList>();
      out->items.push_back(std::move(*parsed));
      return std::shared_ptr<const ParamList>(std::move(out));
    }
    default:
      break;
  }
  if (v.node.IsNull() && spec.type == ParamType::record) {
    return std::make_shared<const ParamValues>(default_params(spec.fields));
  }
  if (!v.node.IsScalar()) {
    error(v, "found " + found_text(v.node) + ", expected " + spec.allowed());
    return std::nullopt;
  }
  if (spec.type == ParamType::analysis_template && !template_names_.count(v.node.Scalar())) {
    const std::vector<std::string> known(template_names_.begin(), template_names_.end());
    error(v, unknown_text("analysis template", v.node.Scalar(), known, "analysis_templates"));
    return std::nullopt;
  }
  if (spec.type == ParamType::model && models_ok_ &&
      std::find(model_names_.begin(), model_names_.end(), v.node.Scalar()) == model_names_.end()) {
    error(v, unknown_text("model", v.node.Scalar(), model_names_, "models"));
    return std::nullopt;
  }
  if (spec.type == ParamType::segment && segments_ok_ && !segment_known(v)) return std::nullopt;
  try {
    return parse_param(spec, v.node.Scalar());
  } catch (const std::invalid_argument& ex) {
    error(v, ex.what());
    return std::nullopt;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    ScenarioIssue issue;
    issue.file = path;
    issue.message =
        std::string("cannot read the scenario file: ") + (err ? std::strerror(err) : "unknown error");
    throw ScenarioError({issue});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool Loader::segment_known(const Val& v) {
  const std::string text = v.node.Scalar();
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) return true;  // parse_param explains the form
  const std::string attr = text.substr(0, eq);
  const std::string category = text.substr(eq + 1);
  std::vector<std::string> names;
  for (const SegmentAttribute& a : attributes_) names.push_back(a.name);
  auto it = std::find(names.begin(), names.end(), attr);
  if (it == names.end()) {
    if (attributes_.empty())
      error(v, "unknown attribute " + sim::quoted(attr) + "; traffic.segments defines no attributes");
    else
      error(v, unknown_text("attribute", attr, names, "traffic.segments defines"));
    return false;
  }
  std::vector<std::string> categories;
  for (const SegmentCategory& c : attributes_[static_cast<std::size_t>(it - names.begin())].categories)
    categories.push_back(c.name);
  if (std::find(categories.begin(), categories.end(), category) == categories.end()) {
    error(v, unknown_text("category", category, categories, attr + " has"));
    return false;
  }
  return true;
}

Scenario parse_scenario(std::string_view yaml, const std::string& source_name,
                        const StrategySchemas& schemas) {
  Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    ScenarioIssue issue;
    issue.file = source_name;
    issue.line = e.mark.is_null() ? 0 : e.mark.line + 1;
    issue.column = e.mark.is_null() ? 0 : e.mark.column + 1;
    issue.message = "YAML syntax error: " + e.msg;
    throw ScenarioError({issue});
  }
  Loader loader(source_name, schemas);
  Scenario s = loader.load(root);
  std::vector<ScenarioIssue> issues = loader.take_issues();
  if (!issues.empty()) throw ScenarioError(std::move(issues));
  return s;
}

Scenario load_scenario(const std::string& path, const StrategySchemas& schemas) {
  return parse_scenario(read_file(path), path, schemas);
}

}  // namespace sim
