#!/usr/bin/python3
"""The noderange benchmark workloads run through ClusterShell's NodeSet (in process).

Prints `workload<TAB>milliseconds` of thread CPU time, best of N runs (argv[1], default 5).
Groups come from a static GroupSource, the cheapest way ClusterShell resolves them.
"""
import random
import sys
import time

from ClusterShell.NodeSet import NodeSet
from ClusterShell.NodeUtils import GroupResolver, GroupSource

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
N = 100_000

res = GroupResolver(GroupSource("bench", {
    "compute": "node[000001-100000]",
    "rackA": "node[000001-050000]",
    "rackB": "node[025001-075000]",
}))

names = ["node%d" % i for i in range(1, N + 1)]
random.Random(1).shuffle(names)


def best(f):
    b = float("inf")
    for _ in range(RUNS):
        t = time.thread_time()
        r = f()
        b = min(b, (time.thread_time() - t) * 1000)
    return b, r


def row(name, f, check):
    ms, r = best(f)
    assert check(r), name
    print("%s\t%.1f" % (name, ms))


row("expand node[000001-100000]", lambda: list(NodeSet("node[000001-100000]")), lambda r: len(r) == N)
row("group of 100k", lambda: list(NodeSet("@compute", resolver=res)), lambda r: len(r) == N)
row("group minus 100k range", lambda: list(NodeSet("@compute!node[000001-100000]", resolver=res)), lambda r: len(r) == 0)
row("@ of two 50k sets", lambda: list(NodeSet("@rackA&@rackB", resolver=res)), lambda r: len(r) == 25000)
row("fold 100k shuffled names", lambda: str(NodeSet.fromlist(names)), lambda r: r == "node[1-100000]")
