// Quantities with units as written in scenario files: sizes, bandwidths, request rates, fractions, power.
//
// Every parser accepts blanks around the text and between the number and the unit ("3 GB"), rejects
// negative, infinite and NaN values, and throws UnitError (a std::invalid_argument) whose message quotes the
// text, says what is wrong and lists the accepted forms. Durations are parsed by sim::parse_duration.
#pragma once

#include <string_view>

#include "sim/core/time.hpp"

namespace sim {

/// Bytes. Decimal units B, KB (or kB), MB, GB, TB (powers of 1000) and binary units KiB, MiB, GiB, TiB
/// (powers of 1024): "3GB" -> 3e9, "512MiB" -> 536870912. A bare "0" is allowed; other bare numbers are not.
double parse_size(std::string_view text);

/// Bytes per second. Bits per second: bps, Kbps (or kbps), Mbps, Gbps, Tbps, also written bit/s, Kbit/s
/// (or kbit/s), Mbit/s, Gbit/s, Tbit/s; bytes per second: B/s, KB/s (or kB/s), MB/s, GB/s, TB/s and KiB/s,
/// MiB/s, GiB/s, TiB/s. "10Gbps" -> 1.25e9, "1.25GB/s" -> 1.25e9. A bare "0" is allowed.
double parse_bandwidth(std::string_view text);

/// Requests per second. "800/s", "48000/min" (or "/m"), "2/ms", "1e6/h", "5/d", also "/us" and "/ns"; a
/// bare number is per second ("800" -> 800).
double parse_rate(std::string_view text);

/// A fraction in [0, 1]: a percentage "99.9%" -> 0.999 (from 0% to 100%), or a bare number from 0 to 1
/// ("0.25" -> 0.25). A bare number above 1 is an error (the message suggests writing it with %).
double parse_fraction(std::string_view text);

/// Watts: "120W", "1.2kW" (or "1.2KW"), "2MW". A bare "0" is allowed.
double parse_power(std::string_view text);

}  // namespace sim
