// Parameter parsing, typed access and rendering.
#include "sim/scenario/params.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "sim/core/text.hpp"

namespace sim {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (s.empty()) return false;
  const std::string copy(s);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && std::isfinite(out);
}

[[noreturn]] void bad(const ParamSpec& spec, std::string_view text) {
  throw std::invalid_argument("found " + quoted(text) + ", expected " + spec.allowed());
}

void check_range(const ParamSpec& spec, double v, std::string_view text) {
  if (v < spec.min || v > spec.max) bad(spec, text);
}

std::string number_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string range_text(const ParamSpec& spec) {
  const bool lo = std::isfinite(spec.min), hi = std::isfinite(spec.max);
  if (lo && hi) return " from " + number_text(spec.min) + " to " + number_text(spec.max);
  if (lo) return " >= " + number_text(spec.min);
  if (hi) return " <= " + number_text(spec.max);
  return "";
}

}  // namespace

const char* to_string(ParamType t) {
  switch (t) {
    case ParamType::integer:
      return "integer";
    case ParamType::number:
      return "number";
    case ParamType::boolean:
      return "boolean";
    case ParamType::string:
      return "string";
    case ParamType::choice:
      return "choice";
    case ParamType::duration:
      return "duration";
    case ParamType::count_or_percent:
      return "count or percentage";
    case ParamType::percent:
      return "percentage";
    case ParamType::record:
      return "map";
    case ParamType::list:
      return "list";
    case ParamType::one_of:
      return "one of";
    case ParamType::analysis_template:
      return "analysis template";
    case ParamType::model:
      return "model";
    case ParamType::segment:
      return "segment";
  }
  return "?";
}

int CountOrPercent::resolve(int total, bool round_up) const {
  if (!is_percent) return static_cast<int>(std::llround(value));
  const double exact = value * total / 100.0;
  // Guard against 25% of 40 computing as 9.999999: snap to the nearest integer when within 1e-9.
  const double nearest = std::round(exact);
  if (std::fabs(exact - nearest) < 1e-9) return static_cast<int>(nearest);
  return static_cast<int>(round_up ? std::ceil(exact) : std::floor(exact));
}

std::string ParamSpec::allowed() const {
  switch (type) {
    case ParamType::integer:
      return "an integer" + range_text(*this);
    case ParamType::number:
      return "a number" + range_text(*this);
    case ParamType::boolean:
      return "true or false";
    case ParamType::string:
      return "a string";
    case ParamType::choice: {
      std::string out = "one of ";
      for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : "") + choices[i];
      return out;
    }
    case ParamType::duration:
      return "a duration such as 30s or 10m (a bare number is seconds)";
    case ParamType::count_or_percent:
      return "a count or a percentage, e.g. 1 or 25%";
    case ParamType::percent:
      return "a percentage from 0 to 100, e.g. 5 or 5%";
    case ParamType::record: {
      std::string out = "a map with ";
      for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? ", " : "") + fields[i].name;
      if (!shorthand.empty()) out += " (or a bare " + shorthand + ")";
      return out;
    }
    case ParamType::list:
      return "a list of " + (fields.empty() ? std::string("values") : fields[0].allowed());
    case ParamType::analysis_template:
      return "the name of an analysis template";
    case ParamType::model:
      return "the name of a model";
    case ParamType::segment:
      return "a segment as attribute=category, e.g. region=eu";
    case ParamType::one_of: {
      std::string out = "a map with one key out of ";
      for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? ", " : "") + fields[i].name;
      return out;
    }
  }
  return "?";
}

ParamValue parse_param(const ParamSpec& spec, std::string_view text) {
  const std::string_view t = trim(text);
  switch (spec.type) {
    case ParamType::integer: {
      std::int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || ptr != t.data() + t.size()) bad(spec, text);
      check_range(spec, static_cast<double>(v), text);
      return v;
    }
    case ParamType::number: {
      double v = 0;
      if (!parse_double(t, v)) bad(spec, text);
      check_range(spec, v, text);
      return v;
    }
    case ParamType::boolean:
      if (t == "true") return true;
      if (t == "false") return false;
      bad(spec, text);
    case ParamType::string:
      return std::string(t);
    case ParamType::analysis_template:
    case ParamType::model:
      // The loader checks the name against the scenario's analysis_templates or models.
      if (t.empty()) bad(spec, text);
      return std::string(t);
    case ParamType::segment: {
      // The loader checks the attribute and category against traffic.segments.
      const std::size_t eq = t.find('=');
      if (eq == 0 || eq == std::string_view::npos || eq + 1 == t.size()) bad(spec, text);
      return std::string(t);
    }
    case ParamType::choice:
      for (const std::string& c : spec.choices)
        if (c == t) return c;
      bad(spec, text);
    case ParamType::duration: {
      double seconds = 0;
      Time v = 0;
      if (parse_double(t, seconds)) {
        v = from_seconds(seconds);
      } else {
        try {
          v = parse_duration(t);
        } catch (const UnitError&) {
          bad(spec, text);
        }
      }
      if (v < 0) bad(spec, text);
      check_range(spec, to_seconds(v), text);
      return DurationValue{v};
    }
    case ParamType::count_or_percent: {
      CountOrPercent v;
      std::string_view body = t;
      if (!body.empty() && body.back() == '%') {
        v.is_percent = true;
        body.remove_suffix(1);
      }
      if (!parse_double(body, v.value) || v.value < 0) bad(spec, text);
      if (v.is_percent && v.value > 100) bad(spec, text);
      if (!v.is_percent && v.value != std::floor(v.value)) bad(spec, text);
      return v;
    }
    case ParamType::percent: {
      std::string_view body = t;
      if (!body.empty() && body.back() == '%') body.remove_suffix(1);
      double v = 0;
      if (!parse_double(body, v) || v < 0 || v > 100) bad(spec, text);
      return v;
    }
    case ParamType::record:
      // Only the empty map has a text form (defaults); the scenario loader builds other records.
      if (t == "{}") return std::make_shared<const ParamValues>(default_params(spec.fields));
      if (!spec.shorthand.empty()) {
        for (const ParamSpec& f : spec.fields) {
          if (f.name != spec.shorthand) continue;
          ParamValues record = default_params(spec.fields);
          record.set(f.name, parse_param(f, t));
          return std::make_shared<const ParamValues>(std::move(record));
        }
      }
      bad(spec, text);
    case ParamType::list:
      if (t == "[]") return std::make_shared<const ParamList>();
      bad(spec, text);
    case ParamType::one_of:
      // The text form (defaults) names an alternative whose value is its own default.
      for (const ParamSpec& alt : spec.fields) {
        if (alt.name != t) continue;
        auto list = std::make_shared<ParamList>();
        list->items.push_back(ParamList::Item{
            alt.name, parse_param(alt, alt.type == ParamType::record ? "{}" : alt.default_value)});
        return std::shared_ptr<const ParamList>(std::move(list));
      }
      bad(spec, text);
  }
  bad(spec, text);
}

const ParamValue& ParamValues::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("parameter '" + name + "' has no value");
  return it->second;
}

template <typename T>
static const T& as(const ParamValue& v, const std::string& name) {
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw std::logic_error("parameter '" + name + "' has another type");
}

std::int64_t ParamValues::integer(const std::string& name) const { return as<std::int64_t>(get(name), name); }
double ParamValues::number(const std::string& name) const {
  const ParamValue& v = get(name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return as<double>(v, name);
}
bool ParamValues::boolean(const std::string& name) const { return as<bool>(get(name), name); }
const std::string& ParamValues::string(const std::string& name) const {
  return as<std::string>(get(name), name);
}
const std::string& ParamValues::analysis_template(const std::string& name) const { return string(name); }
Time ParamValues::duration(const std::string& name) const { return as<DurationValue>(get(name), name).ns; }
CountOrPercent ParamValues::count_or_percent(const std::string& name) const {
  return as<CountOrPercent>(get(name), name);
}
double ParamValues::percent(const std::string& name) const { return as<double>(get(name), name); }
const ParamValues& ParamValues::record(const std::string& name) const {
  return *as<std::shared_ptr<const ParamValues>>(get(name), name);
}
const ParamList& ParamValues::list(const std::string& name) const {
  return *as<std::shared_ptr<const ParamList>>(get(name), name);
}

const ParamList::Item& ParamValues::alternative(const std::string& name) const {
  const ParamList& l = list(name);
  if (l.items.size() != 1) throw std::logic_error("parameter '" + name + "' is not a single alternative");
  return l.items.front();
}

std::string format_param(const ParamValue& value) {
  struct Visitor {
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return number_text(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(DurationValue v) const { return format_duration(v.ns); }
    std::string operator()(const CountOrPercent& v) const {
      return number_text(v.value) + (v.is_percent ? "%" : "");
    }
    std::string operator()(const std::shared_ptr<const ParamValues>& v) const {
      std::string out = "{";
      for (const auto& [name, value] : v->all()) {
        if (out.size() > 1) out += ", ";
        out += name + ": " + format_param(value);
      }
      return out + "}";
    }
    std::string operator()(const std::shared_ptr<const ParamList>& v) const {
      std::string out = "[";
      for (const ParamList::Item& item : v->items) {
        if (out.size() > 1) out += ", ";
        out += item.alternative.empty() ? format_param(item.value)
                                        : "{" + item.alternative + ": " + format_param(item.value) + "}";
      }
      return out + "]";
    }
  };
  return std::visit(Visitor{}, value);
}

std::string ParamValues::describe() const {
  std::string out;
  for (const auto& [name, value] : values_) {
    if (!out.empty()) out += ", ";
    out += name + "=" + format_param(value);
  }
  return out;
}

ParamValues default_params(const std::vector<ParamSpec>& schema) {
  ParamValues out;
  for (const ParamSpec& spec : schema)
    if (!spec.default_value.empty()) out.set(spec.name, parse_param(spec, spec.default_value));
  return out;
}

}  // namespace sim
