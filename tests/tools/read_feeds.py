#!/usr/bin/env python3
"""Reads Atom feeds with feedparser, as feed readers do, and prints what it understood as
one JSON object per feed (its `bozo` flag and exception, the feed's id, title, updated,
author and links, and each entry's id, title, updated, links and summary).

Usage: read_feeds.py FILE... (each file a feed's bytes as the webapp sent them).
"""
import json
import sys

import feedparser


def main():
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            d = feedparser.parse(f.read())
        feed = d.feed
        print(json.dumps({
            "file": path,
            "bozo": bool(d.bozo),
            "bozo_exception": str(d.get("bozo_exception", "")),
            "version": d.version,
            "id": feed.get("id"),
            "title": feed.get("title"),
            "updated": feed.get("updated"),
            "author": feed.get("author"),
            "links": [{"rel": l.get("rel"), "href": l.get("href")} for l in feed.get("links", [])],
            "entries": [
                {
                    "id": e.get("id"),
                    "title": e.get("title"),
                    "updated": e.get("updated"),
                    "links": [{"rel": l.get("rel"), "href": l.get("href")} for l in e.get("links", [])],
                    "summary": e.get("summary"),
                }
                for e in d.entries
            ],
        }))


if __name__ == "__main__":
    main()
