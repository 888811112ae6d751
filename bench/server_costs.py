#!/usr/bin/env python3
"""What single statements cost the database server, per document: the figures behind the
indexer's write shapes (BENCHMARKS.md, issue 5). Inserts, updates by `_id` (matching or
not), upserts, replacements, `$in` finds and updates at several list lengths; and working
through a set of marked documents 200 at a time, by rounds of `limit(200)` or by one
cursor (how `dependents --rerank` reads the dirty lists).

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
    marked_sets(db)
    client.drop_database("server_costs")


def marked_sets(db):
    """Clearing D marked documents (a partial index on the mark), 200 at a time."""
    col = db.marked
    print()
    print("| marked documents | rounds of `limit(200)` (s) | one cursor, batches of 200 (s) | ratio |")
    print("|---|---|---|---|")
    for d in (2_000, 8_000, 32_000):
        times = []
        for how in ("rounds", "cursor"):
            col.drop()
            col.create_index("dirty", partialFilterExpression={"dirty": True})
            col.insert_many([{"_id": f"t{i:06}", "dirty": True, "prod": {"count": i}} for i in range(d)])
            started = time.perf_counter()
            if how == "rounds":
                while True:
                    ids = [x["_id"] for x in col.find({"dirty": True}, {"prod": 1}).limit(200)]
                    if not ids:
                        break
                    col.update_many({"_id": {"$in": ids}}, {"$set": {"dirty": False}})
            else:
                ids = []
                for x in col.find({"dirty": True}, {"prod": 1}).batch_size(200):
                    ids.append(x["_id"])
                    if len(ids) == 200:
                        col.update_many({"_id": {"$in": ids}}, {"$set": {"dirty": False}})
                        ids = []
                if ids:
                    col.update_many({"_id": {"$in": ids}}, {"$set": {"dirty": False}})
            times.append(time.perf_counter() - started)
            assert col.count_documents({"dirty": True}) == 0
        print(f"| {d:,} | {times[0]:.2f} | {times[1]:.2f} | {times[0] / times[1]:.1f} |")


if __name__ == "__main__":
    main()
