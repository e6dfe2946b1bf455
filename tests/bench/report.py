"""Prints the benchmark's table: medians from hyperfine's JSON, ratios to
the floor against issue 11's targets, and each case's peak RSS: the most
over 20 runs of what GNU time(1) reports as %M. Not Python's own wait4:
CPython starts children with vfork, and a child's ru_maxrss keeps the high
water mark of the memory it ran on before exec (all of Python's); time(1)
forks from a process of about 1 MiB, the same offset for every case."""

import json
import os
import platform
import shutil
import subprocess
import sys

work, floor, lagghook, config = sys.argv[1:5]
times = {r["command"]: r for r in json.load(open(os.path.join(work, "times.json")))["results"]}

sim = lambda machine: ["-c", config, "-k", "sim:" + os.path.join(work, machine)]
argv = {
    "floor": [floor, config],
    "unmanaged": [lagghook, *sim("converged.toml"), "event", "IFNET", "re1", "LINK_UP"],
    "converged": [lagghook, *sim("converged.toml"), "event", "IFNET", "em0", "LINK_UP"],
    "repair": [lagghook, *sim("work.toml"), "event", "IFNET", "wlan0", "ATTACH"],
}
target = {"unmanaged": 1.2, "converged": 1.5, "repair": 2.0}


def peak_rss_kib(case):
    peak = 0
    for _ in range(20):
        if case == "repair":
            shutil.copy(os.path.join(work, "repair.toml"), os.path.join(work, "work.toml"))
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", *argv[case]],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        peak = max(peak, int(done.stderr.strip().splitlines()[-1]))  # KiB
    return peak


floor_median = times["floor"]["median"]
floor_rss = peak_rss_kib("floor")
print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
print(f"{'case':<10} {'median':>9} {'ratio':>6} {'target':>7} {'peak RSS':>10} {'RSS - floor':>12}")
for case in ["floor", "unmanaged", "converged", "repair"]:
    median = times[case]["median"]
    ratio = median / floor_median
    rss = floor_rss if case == "floor" else peak_rss_kib(case)
    goal = target.get(case)
    verdict = "" if goal is None else ("  met" if ratio <= goal else "  MISSED")
    goal_text = "" if goal is None else f"<={goal}x"
    extra = rss - floor_rss
    rss_verdict = "" if case == "floor" else ("" if extra <= 1024 else "  RSS MISSED")
    print(
        f"{case:<10} {median * 1000:>7.3f}ms {ratio:>5.2f}x {goal_text:>7} {rss:>7} KiB {extra:>8} KiB"
        f"{verdict}{rss_verdict}"
    )
