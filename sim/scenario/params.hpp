// Typed parameters with a schema: what strategies declare, what scenario validation checks against.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/core/time.hpp"

namespace sim {

enum class ParamType : std::uint8_t {
  integer,            // 3
  number,             // 0.25
  boolean,            // true | false
  string,             // any text
  choice,             // one of ParamSpec::choices
  duration,           // "30s", "10m"; a bare number means seconds (Kubernetes *Seconds knobs)
  count_or_percent,   // 2 or "25%" (Kubernetes maxSurge / maxUnavailable)
  percent,            // "5%" or 5 (a weight in percent, 0..100)
  record,             // a map with the keys in ParamSpec::fields
  list,               // a list of values of ParamSpec::fields[0]
  one_of,             // a single-key map {ALTERNATIVE: value}, one of ParamSpec::fields (Argo-style steps)
  analysis_template,  // the name of an entry of the scenario's analysis_templates
  model,              // the name of an entry of the scenario's models
  segment,            // "attribute=category" of the scenario's traffic.segments, e.g. region=eu
};
const char* to_string(ParamType t);

/// A count, or a percentage of a total resolved with the controller's rounding.
struct CountOrPercent {
  bool is_percent = false;
  double value = 0;  // a count, or percent in [0, 100]
  /// Kubernetes semantics: percentages of `total` round up (surge) or down (unavailable).
  int resolve(int total, bool round_up) const;
  friend bool operator==(const CountOrPercent&, const CountOrPercent&) = default;
};

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  std::string default_value;  // as it would be written in YAML: "25%", "600", "false"; empty: required
  std::string description;
  std::vector<std::string> choices;  // for `choice`
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  /// record: its keys; list: fields[0] describes the items; one_of: the alternatives, by name.
  std::vector<ParamSpec> fields;
  /// record: the field a bare scalar sets (`pause: 10m` for `pause: {duration: 10m}`); empty: none.
  std::string shorthand;
  /// May be left out without a default (the value is then absent: ParamValues::has() is false).
  bool optional = false;
  /// What a user may write, for error messages and docs ("a count or a percentage, e.g. 1 or 25%").
  std::string allowed() const;
};

class ParamValues;
struct ParamList;

/// A duration parameter (a distinct type: Time is a plain integer).
struct DurationValue {
  Time ns = 0;
  friend bool operator==(const DurationValue&, const DurationValue&) = default;
};

/// A ParamSpec with the fields every parameter has; set choices, min or max on the result where needed.
inline ParamSpec param_spec(std::string name, ParamType type, std::string default_value,
                            std::string description) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.default_value = std::move(default_value);
  spec.description = std::move(description);
  return spec;
}

using ParamValue = std::variant<std::int64_t, double, bool, std::string, DurationValue, CountOrPercent,
                                std::shared_ptr<const ParamValues>, std::shared_ptr<const ParamList>>;

/// The items of a list parameter; for lists of one_of, each item names its alternative.
struct ParamList {
  struct Item {
    std::string alternative;  // one_of: the key that was written ("set_weight"); empty otherwise
    ParamValue value;
  };
  std::vector<Item> items;
};

/// Parses `text` as a value of `spec`; throws std::invalid_argument saying what was found and what is
/// allowed.
ParamValue parse_param(const ParamSpec& spec, std::string_view text);

/// Validated values by parameter name. Getters throw std::logic_error on a wrong type or missing name
/// (a programming error: validation has filled every declared parameter).
class ParamValues {
 public:
  void set(std::string name, ParamValue value) { values_[std::move(name)] = std::move(value); }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  const std::string& string(const std::string& name) const;
  const std::string& analysis_template(const std::string& name) const;
  Time duration(const std::string& name) const;
  CountOrPercent count_or_percent(const std::string& name) const;
  double percent(const std::string& name) const;
  const ParamValues& record(const std::string& name) const;
  const ParamList& list(const std::string& name) const;
  /// A one_of parameter: the alternative that was chosen and its value.
  const ParamList::Item& alternative(const std::string& name) const;
  const std::map<std::string, ParamValue>& all() const { return values_; }
  /// "name=value" pairs in name order, for labels and reports.
  std::string describe() const;

 private:
  const ParamValue& get(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

/// Every parameter at its default (required and optional ones without a default are left out).
ParamValues default_params(const std::vector<ParamSpec>& schema);

/// Renders a value back to the text a user would write.
std::string format_param(const ParamValue& value);

}  // namespace sim
