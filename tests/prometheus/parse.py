"""Reads a /metrics scrape as Prometheus does: the parser is chosen by the
response's Content-Type (argv[1]), the body comes on stdin. Prints the metric
families as JSON for tests/metrics.rs; a body the parser refuses exits 1
with the parser's error.
"""

import json
import sys

from prometheus_client.openmetrics import parser as openmetrics
from prometheus_client import parser as text


def main() -> int:
    content_type = sys.argv[1]
    body = sys.stdin.read()
    if content_type.startswith("application/openmetrics-text"):
        families = openmetrics.text_string_to_metric_families(body)
    elif content_type.startswith("text/plain"):
        families = text.text_string_to_metric_families(body)
    else:
        print(f"no Prometheus parser for {content_type!r}", file=sys.stderr)
        return 1
    out = []
    try:
        for family in families:
            out.append(
                {
                    "name": family.name,
                    "type": family.type,
                    "unit": family.unit,
                    "samples": [
                        {"name": s.name, "labels": s.labels, "value": s.value}
                        for s in family.samples
                    ],
                }
            )
    except ValueError as e:
        print(f"the parser refused the scrape: {e}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
