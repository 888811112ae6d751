#!/usr/bin/env python3
"""What single statements cost the database server, per document: the figures behind the
indexer's write shapes (BENCHMARKS.md, issue 5). Inserts, updates by `_id` (matching or
not), upserts, replacements, `$in` finds and updates at several list lengths.

Usage: scripts/devdb run -- .venv/bin/python bench/server_costs.py
"""
import os
import time

import pymongo

N = 2000


def timed(label, f, n):
    started = time.perf_counter()
    f()
    secs = time.perf_counter() - started
    print(f"| {label} | {secs * 1000 / n:.3f} |")


def main():
    client = pymongo.MongoClient(os.environ["MONGODB_URI"])
    client.drop_database("server_costs")
    db = client["server_costs"]
    col = db.a

    def updates(ops):
        db.command({"update": "a", "updates": ops, "ordered": False})

    print("| statement (bulk command of 2,000 unless said) | ms per document |")
    print("|---|---|")
    timed("insert", lambda: col.insert_many([{"_id": f"p{i}", "x": i} for i in range(N)], ordered=False), N)
    timed("update `$set` by `_id`, matching", lambda: updates([{"q": {"_id": f"p{i}"}, "u": {"$set": {"x": -i}}} for i in range(N)]), N)
    timed("update `$set` by `_id`, no match", lambda: updates([{"q": {"_id": f"q{i}"}, "u": {"$set": {"x": i}}} for i in range(N)]), N)
    timed("upsert `$set`, new", lambda: updates([{"q": {"_id": f"r{i}"}, "u": {"$set": {"x": i}}, "upsert": True} for i in range(N)]), N)
    timed("replacement by `_id`", lambda: updates([{"q": {"_id": f"p{i}"}, "u": {"x": i}} for i in range(N)]), N)
    for k in (10, 100, 1000):
        timed(f"find `_id` `$in` lists of {k}", lambda: [list(col.find({"_id": {"$in": [f"p{i}" for i in range(j, j + k)]}})) for j in range(0, N, k)], N)
    for k in (100, 1000):
        timed(f"update many `_id` `$in` lists of {k}", lambda: [updates([{"q": {"_id": {"$in": [f"p{i}" for i in range(j, j + k)]}}, "u": {"$set": {"y": 1}}, "multi": True}]) for j in range(0, N, k)], N)
    timed("find one by `_id`, one round trip each", lambda: [col.find_one({"_id": f"p{i}"}) for i in range(N)], N)
    client.drop_database("server_costs")


if __name__ == "__main__":
    main()
