// Parsing of sizes, bandwidths, request rates, fractions and power written with units.
#include "sim/scenario/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "sim/core/text.hpp"

namespace sim {
namespace {

// value = number * 10^exp10 * mul / div. Decimal prefixes go through exp10 so that "1.2kW" or "99.9%" is
// the correctly rounded decimal (1200, 0.999) rather than a product that is off by one ulp.
struct Unit {
  std::string_view name;
  int exp10 = 0;
  double mul = 1;
  double div = 1;
};

constexpr std::string_view kSizeAllowed =
    "a number followed by one of B, KB, MB, GB, TB, KiB, MiB, GiB, TiB (e.g. 3GB, 512MiB)";
constexpr std::string_view kBandwidthAllowed =
    "a number followed by one of bps, Kbps, Mbps, Gbps, Tbps (bits per second, also written bit/s ... "
    "Tbit/s) or B/s, KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, TiB/s (bytes per second), e.g. 10Gbps or "
    "500MB/s";
constexpr std::string_view kRateAllowed =
    "a number of requests per /ns, /us, /ms, /s, /m (or /min), /h or /d (e.g. 800/s, 48000/min); a bare "
    "number is per second";
constexpr std::string_view kFractionAllowed =
    "a percentage from 0% to 100% (e.g. 99.9%) or a number from 0 to 1 (e.g. 0.999)";
constexpr std::string_view kPowerAllowed = "a number followed by W, kW or MW (e.g. 120W, 1.2kW)";

constexpr double kKi = 1024.0;

[[noreturn]] void fail(std::string_view what, std::string_view text, std::string_view why,
                       std::string_view allowed) {
  std::string msg = "invalid ";
  msg.append(what);
  msg.push_back(' ');
  msg.append(sim::quoted(text));
  msg.append(": ");
  msg.append(why);
  msg.append("; expected ");
  msg.append(allowed);
  throw UnitError(msg);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A number at the start of a quantity: sign, digits with an optional fraction, optional exponent.
struct Quantity {
  std::string mantissa;  // sign, digits and decimal point
  long exp10 = 0;        // the written exponent
  bool negative = false;
  std::string_view unit;  // what follows the number, trimmed
};

struct Kind {
  std::string_view what;
  std::string_view allowed;
};

Quantity split(std::string_view text, const Kind& kind) {
  const std::string_view s = trim(text);
  if (s.empty()) fail(kind.what, text, "it is empty", kind.allowed);
  Quantity q;
  std::size_t i = 0;
  if (s[i] == '+' || s[i] == '-') {
    q.negative = s[i] == '-';
    q.mantissa.push_back(s[i]);
    ++i;
  }
  std::size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
    q.mantissa.push_back(s[i++]), ++digits;
  if (i < s.size() && s[i] == '.') {
    q.mantissa.push_back(s[i++]);
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      q.mantissa.push_back(s[i++]), ++digits;
  }
  if (digits == 0) fail(kind.what, text, "the number is missing", kind.allowed);
  if (i + 1 < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (s[j] == '+' || s[j] == '-') ++j;
    if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
      std::size_t k = j;
      while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
      const std::string exp_text(s.substr(i + 1, k - i - 1));
      if (k - j > 6) fail(kind.what, text, "it is out of range", kind.allowed);
      q.exp10 = std::strtol(exp_text.c_str(), nullptr, 10);
      i = k;
    }
  }
  q.unit = trim(s.substr(i));
  if (q.negative) fail(kind.what, text, "it is negative", kind.allowed);
  return q;
}

double value_of(const Quantity& q, int unit_exp10, double mul, double div, std::string_view text,
                const Kind& kind) {
  const std::string number = q.mantissa + "e" + std::to_string(q.exp10 + unit_exp10);
  const double v = std::strtod(number.c_str(), nullptr) * mul / div;
  if (!std::isfinite(v)) fail(kind.what, text, "it is out of range", kind.allowed);
  return v;
}

double with_units(std::string_view text, const Kind& kind, std::initializer_list<Unit> units) {
  const Quantity q = split(text, kind);
  if (q.unit.empty()) {
    const double v = value_of(q, 0, 1, 1, text, kind);
    if (v == 0) return 0;
    fail(kind.what, text, "the unit is missing", kind.allowed);
  }
  for (const Unit& u : units)
    if (u.name == q.unit) return value_of(q, u.exp10, u.mul, u.div, text, kind);
  fail(kind.what, text, "unknown unit " + sim::quoted(q.unit), kind.allowed);
}

}  // namespace

double parse_size(std::string_view text) {
  return with_units(text, {"size", kSizeAllowed},
                    {{"B", 0, 1, 1},
                     {"KB", 3, 1, 1},
                     {"kB", 3, 1, 1},
                     {"MB", 6, 1, 1},
                     {"GB", 9, 1, 1},
                     {"TB", 12, 1, 1},
                     {"KiB", 0, kKi, 1},
                     {"MiB", 0, kKi * kKi, 1},
                     {"GiB", 0, kKi * kKi * kKi, 1},
                     {"TiB", 0, kKi * kKi * kKi * kKi, 1}});
}

double parse_bandwidth(std::string_view text) {
  return with_units(text, {"bandwidth", kBandwidthAllowed},
                    {{"bps", 0, 1, 8},
                     {"Kbps", 3, 1, 8},
                     {"kbps", 3, 1, 8},
                     {"Mbps", 6, 1, 8},
                     {"Gbps", 9, 1, 8},
                     {"Tbps", 12, 1, 8},
                     {"bit/s", 0, 1, 8},
                     {"Kbit/s", 3, 1, 8},
                     {"kbit/s", 3, 1, 8},
                     {"Mbit/s", 6, 1, 8},
                     {"Gbit/s", 9, 1, 8},
                     {"Tbit/s", 12, 1, 8},
                     {"B/s", 0, 1, 1},
                     {"KB/s", 3, 1, 1},
                     {"kB/s", 3, 1, 1},
                     {"MB/s", 6, 1, 1},
                     {"GB/s", 9, 1, 1},
                     {"TB/s", 12, 1, 1},
                     {"KiB/s", 0, kKi, 1},
                     {"MiB/s", 0, kKi * kKi, 1},
                     {"GiB/s", 0, kKi * kKi * kKi, 1},
                     {"TiB/s", 0, kKi * kKi * kKi * kKi, 1}});
}

double parse_rate(std::string_view text) {
  const Kind kind{"rate", kRateAllowed};
  const Quantity q = split(text, kind);
  if (q.unit.empty()) return value_of(q, 0, 1, 1, text, kind);
  if (q.unit.front() != '/') fail(kind.what, text, "unknown unit " + sim::quoted(q.unit), kind.allowed);
  const std::string_view per = trim(q.unit.substr(1));
  static constexpr Unit kPer[] = {{"ns", 9, 1, 1}, {"us", 6, 1, 1},   {"ms", 3, 1, 1},   {"s", 0, 1, 1},
                                  {"m", 0, 1, 60}, {"min", 0, 1, 60}, {"h", 0, 1, 3600}, {"d", 0, 1, 86400}};
  for (const Unit& u : kPer)
    if (u.name == per) return value_of(q, u.exp10, u.mul, u.div, text, kind);
  fail(kind.what, text, "unknown unit " + sim::quoted(q.unit), kind.allowed);
}

double parse_fraction(std::string_view text) {
  const Kind kind{"fraction", kFractionAllowed};
  const Quantity q = split(text, kind);
  if (q.unit == "%") {
    const double v = value_of(q, -2, 1, 1, text, kind);
    if (v > 1) fail(kind.what, text, "it is above 100%", kind.allowed);
    return v;
  }
  if (!q.unit.empty()) fail(kind.what, text, "unknown unit " + sim::quoted(q.unit), kind.allowed);
  const double v = value_of(q, 0, 1, 1, text, kind);
  if (v > 1) {
    std::string why = "a bare number is a fraction from 0 to 1; write ";
    why.append(trim(text));
    why.append("% for a percentage");
    fail(kind.what, text, why, kind.allowed);
  }
  return v;
}

double parse_power(std::string_view text) {
  return with_units(text, {"power", kPowerAllowed},
                    {{"W", 0, 1, 1}, {"kW", 3, 1, 1}, {"KW", 3, 1, 1}, {"MW", 6, 1, 1}});
}

}  // namespace sim
