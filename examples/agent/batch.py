"""The example agent as a batch Job: writes BATCH_LINES request-log lines, then exits 0.

Its last lines are written moments before it exits, which is the case the log-sidecar must still deliver
when a Job's Pod ends. Env: BATCH_LINES (default 100), plus the LOG_* settings of agent_log.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

from agent_log import open_request_log


def main() -> int:
    raw = os.environ.get("BATCH_LINES", "100")
    if not raw.isdigit():
        print(f"BATCH_LINES: {raw!r} is not a whole number; use e.g. BATCH_LINES=100", file=sys.stderr)
        return 2
    total = int(raw)
    log = open_request_log()
    run_id = uuid.uuid4().hex[:8]
    for n in range(1, total + 1):
        started = time.perf_counter()
        fields = {
            "request_id": f"{run_id}-{n}",
            "method": "BATCH",
            "path": "/batch",
            "status": 200,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            "seq": n,
            "last": n == total,
        }
        log.info("", extra={"fields": fields})
    print(f"batch {run_id}: wrote {total} lines", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
