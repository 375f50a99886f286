// Tests for the Zipf sampler and the user population: frequencies against the pmf, segments, validation.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/world/users.hpp"
#include "sim/world/zipf.hpp"

using namespace sim;

namespace {

// Generalised harmonic number sum_{k=1..n} k^-s; Euler-Maclaurin beyond the first 10^5 terms.
double harmonic(std::uint64_t n, double s) {
  const std::uint64_t m = std::min<std::uint64_t>(n, 100000);
  double sum = 0.0;
  for (std::uint64_t k = m; k >= 1; --k) sum += std::pow(static_cast<double>(k), -s);
  if (n == m) return sum;
  const double a = static_cast<double>(m), b = static_cast<double>(n);
  const double integral =
      std::fabs(s - 1.0) < 1e-12 ? std::log(b / a) : (std::pow(b, 1 - s) - std::pow(a, 1 - s)) / (1 - s);
  return sum + integral - std::pow(a, -s) / 2 + std::pow(b, -s) / 2 +
         s / 12 * (std::pow(a, -s - 1) - std::pow(b, -s - 1));
}

// Draws `draws` ranks and checks the first ten frequencies and the mass of ranks 11-100 and > 100 against
// the pmf, each within 4.5 binomial standard deviations.
void check_zipf(std::uint64_t n, double s, int draws, std::uint64_t seed) {
  INFO("n = " << n << ", s = " << s);
  ZipfSampler zipf(n, s);
  Rng rng(seed);
  std::vector<double> freq(11, 0.0);
  double mid = 0.0, tail = 0.0;
  bool in_range = true;
  for (int i = 0; i < draws; ++i) {
    const std::uint64_t k = zipf(rng);
    in_range = in_range && k >= 1 && k <= n;
    if (k <= 10)
      freq[k] += 1.0;
    else if (k <= 100)
      mid += 1.0;
    else
      tail += 1.0;
  }
  CHECK(in_range);
  const double norm = harmonic(n, s);
  const double d = draws;
  auto check = [&](double count, double p, const std::string& what) {
    INFO(what << ": frequency " << count / d << ", pmf " << p);
    CHECK(std::fabs(count / d - p) <= 4.5 * std::sqrt(p * (1 - p) / d) + 1e-12);
  };
  double first_ten = 0.0;
  for (std::uint64_t k = 1; k <= std::min<std::uint64_t>(10, n); ++k) {
    const double p = std::pow(static_cast<double>(k), -s) / norm;
    first_ten += p;
    check(freq[k], p, std::string("rank ").append(std::to_string(k)));
  }
  if (n > 10) {
    const double p_mid = (harmonic(std::min<std::uint64_t>(n, 100), s) - harmonic(10, s)) / norm;
    check(mid, p_mid, "ranks 11-100");
    if (n > 100) check(tail, 1.0 - first_ten - p_mid, "ranks above 100");
  }
}

UserPopulationConfig segmented(std::uint32_t size) {
  UserPopulationConfig c;
  c.size = size;
  c.attributes = {{"region", {{"eu", 0.3}, {"us", 0.5}, {"ap", 0.2}}},
                  {"platform", {{"ios", 0.4}, {"android", 0.6}}},
                  {"tier", {{"free", 0.7}, {"internal", 0.0}, {"paid", 0.3}}}};
  c.salt = 42;
  return c;
}

std::string construction_error(const UserPopulationConfig& c) {
  try {
    UserPopulation p(c);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("world/zipf: frequencies of the top ranks match the pmf", "[world]") {
  check_zipf(1000, 1.1, 1000000, 11);
  check_zipf(1000000, 1.0, 1000000, 12);
  check_zipf(50, 0.5, 1000000, 13);
  check_zipf(1000000000, 1.2, 400000, 14);
  check_zipf(100000, 1.0 + 1e-10, 400000, 15);  // next to the s = 1 special case
  check_zipf(100000, 1.0 - 1e-10, 400000, 16);
  check_zipf(1000, 3.0, 400000, 17);
  check_zipf(20, 0.0, 400000, 18);  // uniform
}

TEST_CASE("world/zipf: edge cases and validation", "[world]") {
  Rng rng(3);
  ZipfSampler one(1, 1.5);
  bool all_one = true;
  for (int i = 0; i < 1000; ++i) all_one = all_one && one(rng) == 1;
  CHECK(all_one);
  ZipfSampler two(2, 1.0);  // P(1) = 2/3
  double ones = 0;
  for (int i = 0; i < 90000; ++i) ones += two(rng) == 1;
  CHECK(ones / 90000 == Approx(2.0 / 3.0).margin(4.5 * std::sqrt(2.0 / 9.0 / 90000)));
  // With a huge n and a flat exponent, the largest ranks must still appear and stay in range.
  ZipfSampler flat(1000000000, 0.1);
  std::uint64_t max_seen = 0;
  for (int i = 0; i < 100000; ++i) max_seen = std::max(max_seen, flat(rng));
  CHECK(max_seen <= 1000000000);
  CHECK(max_seen > 990000000);
  CHECK_THROWS_AS(ZipfSampler(0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(ZipfSampler(10, -0.5), std::invalid_argument);
  CHECK_THROWS_AS(ZipfSampler(10, std::nan("")), std::invalid_argument);
}

TEST_CASE("world/users: segment shares follow the configured probabilities", "[world]") {
  const std::uint32_t size = 1000000;
  UserPopulation users(segmented(size));
  std::vector<std::vector<double>> counts = {{0, 0, 0}, {0, 0}, {0, 0, 0}};
  double eu_ios = 0.0;
  for (std::uint32_t u = 0; u < size; ++u) {
    const std::uint8_t region = users.segment_of(u, 0), platform = users.segment_of(u, 1);
    counts[0][region] += 1;
    counts[1][platform] += 1;
    counts[2][users.segment_of(u, 2)] += 1;
    eu_ios += region == 0 && platform == 0;
  }
  const std::vector<std::vector<double>> want = {{0.3, 0.5, 0.2}, {0.4, 0.6}, {0.7, 0.0, 0.3}};
  for (std::size_t a = 0; a < want.size(); ++a)
    for (std::size_t c = 0; c < want[a].size(); ++c) {
      INFO("attribute " << a << " category " << c);
      const double p = want[a][c];
      CHECK(std::fabs(counts[a][c] / size - p) <= 4.0 * std::sqrt(p * (1 - p) / size));
    }
  CHECK(counts[2][1] == 0);  // zero probability never occurs
  // Attributes are independent of each other.
  CHECK(std::fabs(eu_ios / size - 0.12) <= 4.0 * std::sqrt(0.12 * 0.88 / size));
}

TEST_CASE("world/users: segments are stable and depend only on salt, user and attribute", "[world]") {
  UserPopulation a(segmented(1000));
  UserPopulation b(segmented(500000));  // size does not matter
  UserPopulationConfig other = segmented(1000);
  other.salt = 43;
  UserPopulation c(other);
  std::size_t unstable = 0, differs = 0;
  for (std::uint32_t u = 0; u < 1000; ++u) {
    for (std::size_t attr = 0; attr < 3; ++attr) {
      unstable +=
          a.segment_of(u, attr) != a.segment_of(u, attr) || a.segment_of(u, attr) != b.segment_of(u, attr);
    }
    differs += a.segment_of(u, 0) != c.segment_of(u, 0);
  }
  CHECK(unstable == 0);
  // Two independent region draws differ with probability 1 - (0.09 + 0.25 + 0.04) = 0.62.
  CHECK(differs > 560);
  CHECK(differs < 680);
  // Pinned values guard against accidental changes of the hash, which would reshuffle every experiment.
  std::string regions;
  for (std::uint32_t u = 0; u < 16; ++u) regions += a.category_name(0, a.segment_of(u, 0)).substr(0, 1);
  CHECK(regions == "uuuuueuauauaeeua");
  CHECK(a.attribute_index("platform") == 1);
  CHECK(a.category_index(0, "us") == 1);
  CHECK(a.category_name(0, 2) == "ap");
  CHECK_THROWS_WITH(a.attribute_index("country"), Catch::Matchers::Contains("region, platform, tier"));
  CHECK_THROWS_WITH(a.category_index(1, "web"), Catch::Matchers::Contains("ios, android"));
}

TEST_CASE("world/users: draw_user is uniform at exponent 0 and Zipf otherwise", "[world]") {
  Rng rng(77);
  UserPopulation flat(segmented(1000));
  double sum = 0.0;
  bool in_range = true;
  const int draws = 200000;
  for (int i = 0; i < draws; ++i) {
    const std::uint32_t u = flat.draw_user(rng);
    in_range = in_range && u < 1000;
    sum += u;
  }
  CHECK(in_range);
  // Uniform on 0..999: mean 499.5, sd 288.7.
  CHECK(std::fabs(sum / draws - 499.5) <= 4.0 * 288.7 / std::sqrt(draws));

  UserPopulationConfig c = segmented(1000);
  c.zipf_exponent = 1.0;
  UserPopulation skewed(c);
  double h = 0.0;
  for (int k = 1000; k >= 1; --k) h += 1.0 / k;
  std::vector<double> freq(3, 0.0);
  in_range = true;
  for (int i = 0; i < draws; ++i) {
    const std::uint32_t u = skewed.draw_user(rng);
    in_range = in_range && u < 1000;
    if (u < 3) freq[u] += 1;
  }
  CHECK(in_range);
  for (int k = 0; k < 3; ++k) {
    const double p = 1.0 / (k + 1) / h;
    CHECK(std::fabs(freq[k] / draws - p) <= 4.0 * std::sqrt(p * (1 - p) / draws));
  }
}

TEST_CASE("world/users: invalid configurations are rejected with clear messages", "[world]") {
  using Catch::Matchers::Contains;
  UserPopulationConfig c = segmented(100);
  c.size = 0;
  CHECK_THAT(construction_error(c), Contains("population size"));

  c = segmented(100);
  c.attributes[0].categories[0].probability = 0.2;  // sums to 0.9
  CHECK_THAT(construction_error(c), Contains("'region'") && Contains("sum to 0.9"));

  c = segmented(100);
  c.attributes[1].categories = {{"ios", 1.2}, {"android", -0.2}};
  CHECK_THAT(construction_error(c), Contains("'android'") && Contains(">= 0"));

  c = segmented(100);
  c.attributes[0].categories[0].probability += 1e-12;  // within tolerance
  CHECK(construction_error(c) == "no error");

  c = segmented(100);
  c.attributes[0].categories[0].probability += 1e-8;
  CHECK_THAT(construction_error(c), Contains("sum to"));

  c = segmented(100);
  c.attributes[2].categories.clear();
  CHECK_THAT(construction_error(c), Contains("'tier' has no categories"));

  c = segmented(100);
  c.attributes[1].categories[1].name = "ios";
  CHECK_THAT(construction_error(c), Contains("'ios' is listed twice"));

  c = segmented(100);
  c.attributes[1].name = "region";
  CHECK_THAT(construction_error(c), Contains("'region' is listed twice"));

  c = segmented(100);
  c.attributes[0].categories.clear();
  // Names built with append: GCC 12 misdiagnoses literal + std::string at -O3 (-Wrestrict).
  for (int i = 0; i < 257; ++i)
    c.attributes[0].categories.push_back({std::string("c").append(std::to_string(i)), 1.0 / 257});
  CHECK_THAT(construction_error(c), Contains("more than 256"));

  c = segmented(100);
  c.zipf_exponent = -1.0;
  CHECK_THAT(construction_error(c), Contains("zipf exponent"));
}
