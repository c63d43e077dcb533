"""client_python's strict OpenMetrics parser as a long-lived process for the differential tests.

Reads one JSON object per line, {"body": "..."}, and answers one JSON line per request:
{"ok": true, "samples": N} or {"ok": false, "error": "..."}. One process serves a whole test run.
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def check(body):
    try:
        samples = sum(len(family.samples) for family in text_string_to_metric_families(body))
        return {"ok": True, "samples": samples}
    except Exception as error:  # any exception is a rejection, as in client_python's own scrape path
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


for line in sys.stdin:
    request = json.loads(line)
    sys.stdout.write(json.dumps(check(request["body"])) + "\n")
    sys.stdout.flush()
