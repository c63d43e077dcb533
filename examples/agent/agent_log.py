"""The agent's request log: one JSON object per line in $LOG_FILE, rotated by size.

The file lives on a volume shared with the log-sidecar, which tails it. Rotation is Python's own
RotatingFileHandler (rename to .1, .2, ... then reopen), which is what the sidecar must survive in real use,
so tests shrink LOG_MAX_BYTES to force it rather than faking it.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from logging.handlers import RotatingFileHandler

DEFAULT_LOG_FILE = "/var/log/agent/requests.log"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}: {raw!r} is not a whole number; use e.g. {name}={default}") from None
    if value < 0:
        raise SystemExit(f"{name}: {value} is negative; use 0 or more, e.g. {name}={default}")
    return value


class JsonLineFormatter(logging.Formatter):
    """Formats a record's `fields` as one JSON line.

    A traceback, when there is one, follows on its own lines exactly as Python prints it, like any Python
    service's log would: the log-sidecar's `--multiline python` joins those lines into one record.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
        }
        entry.update(getattr(record, "fields", {}))
        if "msg" not in entry and record.getMessage():
            entry["msg"] = record.getMessage()
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def open_request_log(env: dict[str, str] | None = None) -> logging.Logger:
    """Returns the logger writing to $LOG_FILE (default /var/log/agent/requests.log).

    LOG_MAX_BYTES (default 10 MiB) and LOG_BACKUP_COUNT (default 3) set the rotation.
    """
    env = os.environ if env is None else env
    path = env.get("LOG_FILE") or DEFAULT_LOG_FILE
    max_bytes = _env_int("LOG_MAX_BYTES", 10 * 1024 * 1024)
    backup_count = _env_int("LOG_BACKUP_COUNT", 3)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8")
    handler.setFormatter(JsonLineFormatter())
    logger = logging.getLogger("agent.requests")
    # The module may be imported again (uvicorn --reload, tests): never stack a second handler.
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
