#!/usr/bin/env python3
"""Validates a sitemap folder as written by `nodules-webapp sitemaps`: every shard
(`sitemaps/*.xml.gz`, gunzipped) against the sitemaps.org protocol's own XML Schema
(`sitemap.xsd` from the npm package `sitemap`, path given), with the `xmlschema` package;
the index (`sitemap.xml`, whose schema `siteindex.xsd` that package does not ship) by the
protocol's rules: its namespace, `<sitemap>` entries of one `<loc>` and an optional
`<lastmod>` (a W3C datetime, checked with the same schema's type), at most 50,000.

Usage: check_sitemaps.py SITEMAP_XSD DIR. Prints one line per file; exits 1 on any error.
"""
import gzip
import os
import sys
import xml.etree.ElementTree as ET

import xmlschema

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def main():
    xsd, folder = sys.argv[1], sys.argv[2]
    schema = xmlschema.XMLSchema(xsd)
    lastmod_type = schema.types["tLastmod"]
    errors = []
    shards = sorted(os.listdir(os.path.join(folder, "sitemaps")))
    for name in shards:
        path = os.path.join(folder, "sitemaps", name)
        with gzip.open(path) as f:
            data = f.read()
        if len(data) > 50 * 1000 * 1000:
            errors.append(f"{name}: {len(data)} bytes uncompressed, over 50 MB")
        try:
            schema.validate(data.decode("utf-8"))
            n = len(ET.fromstring(data).findall(f"{{{NS}}}url"))
            if n > 50000:
                errors.append(f"{name}: {n} URLs, over 50,000")
            print(f"{name}: valid, {n} URLs")
        except Exception as e:  # noqa: BLE001 -- every failure is reported by name
            errors.append(f"{name}: {e}")
    index = ET.parse(os.path.join(folder, "sitemap.xml")).getroot()
    if index.tag != f"{{{NS}}}sitemapindex":
        errors.append(f"sitemap.xml: root is {index.tag}")
    entries = list(index)
    if not 1 <= len(entries) <= 50000:
        errors.append(f"sitemap.xml: {len(entries)} entries")
    for e in entries:
        children = [c.tag for c in e]
        if e.tag != f"{{{NS}}}sitemap" or children not in ([f"{{{NS}}}loc"], [f"{{{NS}}}loc", f"{{{NS}}}lastmod"]):
            errors.append(f"sitemap.xml: entry {e.tag} with {children}")
            continue
        loc = e.find(f"{{{NS}}}loc").text or ""
        if not loc.startswith(("http://", "https://")) or len(loc) > 2048:
            errors.append(f"sitemap.xml: loc {loc!r}")
        lastmod = e.find(f"{{{NS}}}lastmod")
        if lastmod is not None and not lastmod_type.is_valid(lastmod.text):
            errors.append(f"sitemap.xml: lastmod {lastmod.text!r}")
    print(f"sitemap.xml: {len(entries)} shards")
    for e in errors:
        print("ERROR", e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
