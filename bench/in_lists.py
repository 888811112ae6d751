#!/usr/bin/env python3
"""How the length of an `$in` list changes a lookup's cost on the server at MONGODB_URI.

    scripts/devdb run -- .venv/bin/python bench/in_lists.py

Two shapes the indexer uses: records fetched by `_id` (20,000 records of ~3 KB, in random
order) and edges fetched by `target` (131,209 edges of 400 targets, power-law sized), each
with lists of 100, 50, 25, 10 and 1 values. The development server checks every document
found against the whole list, so the cost per document grows with the list's length;
`store/src/bulk.rs` picks the list lengths from these figures.
"""
import os
import random
import time

import pymongo


def timed(coll, filters, projection):
    started, found = time.time(), 0
    for f in filters:
        found += len(list(coll.find(f, projection).batch_size(2000)))
    return found, time.time() - started


def main():
    db = pymongo.MongoClient(os.environ["MONGODB_URI"])["in_lists_probe"]
    random.seed(1)
    packages = db["packages"]
    packages.drop()
    versions = [{"v": f"1.{i}.0", "t": "2020-01-01T00:00:00Z", "x": "y" * 40} for i in range(30)]
    n = 20_000
    packages.insert_many(
        [{"_id": f"pkg-{i:06d}", "latest": "1.0.0", "dependents_count": i % 97, "versions": versions, "d": "z" * 300} for i in range(n)]
    )
    names = [f"pkg-{i:06d}" for i in range(n)]
    random.shuffle(names)
    for k in (100, 50, 25, 10, 1):
        filters = ({"_id": {"$in": names[i : i + k]}} for i in range(0, n, k))
        found, s = timed(packages, filters, {"latest": 1, "dependents_count": 1})
        print(f"records by _id, {k:>3} keys per query: {found} in {s:.2f} s, {s / found * 1000:.3f} ms per record", flush=True)

    edges = db["edges"]
    edges.drop()
    edges.create_index([("target", 1), ("kind", 1)])
    docs = []
    for t in range(400):
        for s in range(max(1, 20_000 // (t + 1))):
            docs.append({"_id": f"t{t}\0s{s}", "target": f"t{t}", "source": f"s{s}", "kind": "prod" if s % 5 else "dev"})
    edges.insert_many(docs)
    targets = [f"t{t}" for t in range(400)]
    random.shuffle(targets)
    for k in (100, 50, 25, 10, 1):
        filters = ({"target": {"$in": targets[i : i + k]}} for i in range(0, len(targets), k))
        found, s = timed(edges, filters, {"target": 1, "kind": 1, "source": 1, "_id": 0})
        print(f"edges by target, {k:>3} targets per query: {found} in {s:.2f} s, {s / found * 1e6:.1f} µs per edge", flush=True)
    db.client.drop_database(db.name)


if __name__ == "__main__":
    main()
