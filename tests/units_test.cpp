// Tests for quantities with units: sizes, bandwidths, rates, fractions and power, values and messages.
#include <catch2/catch.hpp>

#include "sim/scenario/units.hpp"

using namespace sim;

TEST_CASE("scenario/units: sizes in decimal and binary units", "[scenario]") {
  CHECK(parse_size("3GB") == 3e9);
  CHECK(parse_size("512MiB") == 536870912.0);
  CHECK(parse_size("1B") == 1.0);
  CHECK(parse_size("2KB") == 2000.0);
  CHECK(parse_size("2kB") == 2000.0);
  CHECK(parse_size("1.5MB") == 1.5e6);
  CHECK(parse_size("4TB") == 4e12);
  CHECK(parse_size("1KiB") == 1024.0);
  CHECK(parse_size("2GiB") == 2147483648.0);
  CHECK(parse_size("1TiB") == 1099511627776.0);
  CHECK(parse_size(" 3 GB ") == 3e9);
  CHECK(parse_size("1e3MB") == 1e9);
  CHECK(parse_size("0") == 0.0);
  CHECK(parse_size("0.1KB") == 100.0);
}

TEST_CASE("scenario/units: bandwidths in bits and bytes per second", "[scenario]") {
  CHECK(parse_bandwidth("10Gbps") == 1.25e9);
  CHECK(parse_bandwidth("25Gbit/s") == 3.125e9);
  CHECK(parse_bandwidth("100Mbps") == 1.25e7);
  CHECK(parse_bandwidth("8bps") == 1.0);
  CHECK(parse_bandwidth("8Kbps") == 1000.0);
  CHECK(parse_bandwidth("8kbit/s") == 1000.0);
  CHECK(parse_bandwidth("1Tbps") == 1.25e11);
  CHECK(parse_bandwidth("1.25GB/s") == 1.25e9);
  CHECK(parse_bandwidth("500MB/s") == 5e8);
  CHECK(parse_bandwidth("1KB/s") == 1000.0);
  CHECK(parse_bandwidth("3B/s") == 3.0);
  CHECK(parse_bandwidth("1MiB/s") == 1048576.0);
  CHECK(parse_bandwidth("0") == 0.0);
}

TEST_CASE("scenario/units: request rates per unit of time", "[scenario]") {
  CHECK(parse_rate("800/s") == 800.0);
  CHECK(parse_rate("48000/min") == 800.0);
  CHECK(parse_rate("48000/m") == 800.0);
  CHECK(parse_rate("2/ms") == 2000.0);
  CHECK(parse_rate("1e6/h") == Approx(1e6 / 3600.0).epsilon(1e-15));
  CHECK(parse_rate("86400/d") == 1.0);
  CHECK(parse_rate("3/us") == 3e6);
  CHECK(parse_rate("1/ns") == 1e9);
  CHECK(parse_rate("800") == 800.0);
  CHECK(parse_rate("2.5") == 2.5);
  CHECK(parse_rate("800 / s") == 800.0);
  CHECK(parse_rate("0/s") == 0.0);
}

TEST_CASE("scenario/units: fractions from percentages and bare numbers", "[scenario]") {
  CHECK(parse_fraction("99.9%") == 0.999);
  CHECK(parse_fraction("25%") == 0.25);
  CHECK(parse_fraction("100%") == 1.0);
  CHECK(parse_fraction("0%") == 0.0);
  CHECK(parse_fraction("0.5%") == 0.005);
  CHECK(parse_fraction("0.999") == 0.999);
  CHECK(parse_fraction("1") == 1.0);
  CHECK(parse_fraction("0") == 0.0);
  CHECK(parse_fraction("1e-3") == 0.001);
}

TEST_CASE("scenario/units: power in watts", "[scenario]") {
  CHECK(parse_power("120W") == 120.0);
  CHECK(parse_power("1.2kW") == 1200.0);
  CHECK(parse_power("1.2KW") == 1200.0);
  CHECK(parse_power("2MW") == 2e6);
  CHECK(parse_power("0") == 0.0);
}

TEST_CASE("scenario/units: errors quote the text and list what is allowed", "[scenario]") {
  CHECK_THROWS_AS(parse_size("3 parsecs"), UnitError);
  CHECK_THROWS_AS(parse_rate("fast"), std::invalid_argument);
  CHECK_THROWS_WITH(
      parse_size("3 parsecs"),
      "invalid size '3 parsecs': unknown unit 'parsecs'; expected a number followed by one of B, KB, "
      "MB, GB, TB, KiB, MiB, GiB, TiB (e.g. 3GB, 512MiB)");
  CHECK_THROWS_WITH(parse_size("12"), Catch::StartsWith("invalid size '12': the unit is missing; expected"));
  CHECK_THROWS_WITH(parse_size("GB"),
                    Catch::StartsWith("invalid size 'GB': the number is missing; expected"));
  CHECK_THROWS_WITH(parse_size(""), Catch::StartsWith("invalid size '': it is empty; expected"));
  CHECK_THROWS_WITH(parse_size("-3GB"), Catch::StartsWith("invalid size '-3GB': it is negative; expected"));
  CHECK_THROWS_WITH(parse_size("3gb"), Catch::StartsWith("invalid size '3gb': unknown unit 'gb'"));
  CHECK_THROWS_WITH(parse_size("1e999GB"), Catch::StartsWith("invalid size '1e999GB': it is out of range"));

  CHECK_THROWS_WITH(parse_bandwidth("10GBps"),
                    Catch::StartsWith("invalid bandwidth '10GBps': unknown unit 'GBps'; expected a number "
                                      "followed by one of bps, Kbps, Mbps, Gbps, Tbps"));
  CHECK_THROWS_WITH(parse_bandwidth("10"), Catch::StartsWith("invalid bandwidth '10': the unit is missing"));

  CHECK_THROWS_WITH(
      parse_rate("800/week"),
      "invalid rate '800/week': unknown unit '/week'; expected a number of requests per /ns, /us, "
      "/ms, /s, /m (or /min), /h or /d (e.g. 800/s, 48000/min); a bare number is per second");
  CHECK_THROWS_WITH(parse_rate("800rps"), Catch::StartsWith("invalid rate '800rps': unknown unit 'rps'"));
  CHECK_THROWS_WITH(parse_rate("-1/s"), Catch::StartsWith("invalid rate '-1/s': it is negative"));
  CHECK_THROWS_WITH(parse_rate("/s"), Catch::StartsWith("invalid rate '/s': the number is missing"));

  CHECK_THROWS_WITH(
      parse_fraction("5"),
      "invalid fraction '5': a bare number is a fraction from 0 to 1; write 5% for a percentage; "
      "expected a percentage from 0% to 100% (e.g. 99.9%) or a number from 0 to 1 (e.g. 0.999)");
  CHECK_THROWS_WITH(parse_fraction("101%"), Catch::StartsWith("invalid fraction '101%': it is above 100%"));
  CHECK_THROWS_WITH(parse_fraction("-1%"), Catch::StartsWith("invalid fraction '-1%': it is negative"));
  CHECK_THROWS_WITH(parse_fraction("half"),
                    Catch::StartsWith("invalid fraction 'half': the number is missing"));
  CHECK_THROWS_WITH(parse_fraction("5 percent"),
                    Catch::StartsWith("invalid fraction '5 percent': unknown unit 'percent'"));

  CHECK_THROWS_WITH(
      parse_power("120"),
      "invalid power '120': the unit is missing; expected a number followed by W, kW or MW (e.g. "
      "120W, 1.2kW)");
  CHECK_THROWS_WITH(parse_power("120J"), Catch::StartsWith("invalid power '120J': unknown unit 'J'"));
}
