#!/usr/bin/env python3
"""Parses an OpenMetrics exposition (stdin) with the official Python client's parser, as a
Prometheus server would read it, and prints each sample as a JSON line
{"name", "labels", "value"}. A malformed exposition raises: exit status 1.
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    for family in text_string_to_metric_families(sys.stdin.read()):
        for s in family.samples:
            print(json.dumps({"name": s.name, "labels": s.labels, "value": s.value}))


if __name__ == "__main__":
    main()
