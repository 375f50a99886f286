// Closed-form queueing results that the simulator is validated against (M/M/c, M/G/1, M/M/c/K).
//
// Everything is in double precision and stays finite for c up to the thousands: Erlang B/C use the
// recurrence instead of factorials, and M/M/c/K normalises its state probabilities in log space.
// Time units are whatever lambda and mu use (rates per second give seconds). Out-of-domain arguments
// (negative or non-finite rates, c < 1, unstable loads) throw std::invalid_argument.
#pragma once

namespace sim {

/// Erlang B: blocking probability of M/M/c/c with offered load a = lambda / mu (c >= 0, a >= 0).
double erlang_b(int c, double offered_load);

/// Erlang C: probability that an arrival waits in M/M/c (c >= 1, 0 <= a < c).
double erlang_c(int c, double offered_load);

/// M/M/c mean wait in queue Wq = C(c, a) / (c mu - lambda); needs lambda < c mu.
double mmc_mean_wait(double lambda, double mu, int c);
/// M/M/c mean response time Wq + 1 / mu.
double mmc_mean_response(double lambda, double mu, int c);

/// M/G/1 mean wait (Pollaczek-Khinchine): lambda E[S^2] / (2 (1 - rho)) with E[S^2] = mean^2 (1 + scv).
/// scv is the squared coefficient of variation of service: 0 for M/D/1, 1 for M/M/1. Needs rho < 1.
double mg1_mean_wait(double lambda, double mean_service, double service_scv);

/// M/M/c/K blocking probability p_K, where K >= c counts everyone in the system including those in
/// service. Any load is allowed (the system is finite).
double mmck_blocking(double lambda, double mu, int c, int k);
/// M/M/c/K mean wait in queue of admitted customers: Lq / (lambda (1 - p_K)) by Little's law.
double mmck_mean_wait(double lambda, double mu, int c, int k);

/// Squared coefficient of variation of a lognormal with coefficient of variation cv: cv^2. (For a
/// lognormal with log-space sigma, cv^2 = exp(sigma^2) - 1.)
double lognormal_scv(double cv);

}  // namespace sim
