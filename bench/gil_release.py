"""The GIL is released while the C++ core runs: two runs on two Python threads take about as long as one
(on a machine with at least two cores). Run with /usr/bin/python3 after `make`:

    /usr/bin/python3 bench/gil_release.py [repetitions]

Prints the wall time of one run alone, of two runs one after the other, and of two runs on two threads,
and the ratio threads / alone (about 1 when the GIL is released, about 2 if it were held)."""

import os
import sys
import threading
import time

import deploysim

SCENARIO = os.path.join(os.path.dirname(__file__), "..", "scenarios", "quickstart.yaml")


def one(scenario):
    deploysim.run(scenario, replications=1, strategies=["rolling"], jobs=1)


def main():
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    scenario = deploysim.load(SCENARIO)
    one(scenario)  # warm up
    alone, serial, threads = [], [], []
    for _ in range(repetitions):
        t = time.perf_counter()
        one(scenario)
        alone.append(time.perf_counter() - t)
        t = time.perf_counter()
        one(scenario)
        one(scenario)
        serial.append(time.perf_counter() - t)
        t = time.perf_counter()
        workers = [threading.Thread(target=one, args=(scenario,)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        threads.append(time.perf_counter() - t)
    best = lambda xs: min(xs)
    print(f"cores: {os.cpu_count()}")
    print(f"one run alone:        {best(alone):.3f} s")
    print(f"two runs in sequence: {best(serial):.3f} s")
    print(f"two runs on threads:  {best(threads):.3f} s")
    print(f"ratio threads / alone: {best(threads) / best(alone):.2f}  (sequence / alone: {best(serial) / best(alone):.2f})")


if __name__ == "__main__":
    main()
