"""The append-only result store: one JSON object per line, one line per finished task.

Crash safety. Each record is written with one ``os.write`` of the whole line on a file
opened with ``O_APPEND``, then ``fsync``: a finished result survives Ctrl-C, ``kill -9`` and
a power cut once :meth:`ResultStore.append` returns. A crash during the write can leave a
partial last line (no final newline, not valid JSON); loading detects it, warns, and ignores
it, and the next append first truncates the file back to the last complete line so the new
record starts on a line of its own. Complete lines that do not parse are skipped with a
warning too. The first record of a key wins (a key's result is deterministic anyway).

Only the process that runs the sweep writes; workers return their records to it.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path


class CacheWarning(UserWarning):
    """A cache line was ignored (truncated or corrupted)."""


class ResultStore:
    """``records`` maps a cache key to its record (a dict with at least ``"key"``)."""

    def __init__(self, path):
        self.path = Path(path)
        self.records: dict = {}
        self._partial_tail = None  # (file size, size without the tail) if a partial line was found
        self._load()

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key: str):
        return self.records.get(key)

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        pos = 0
        lineno = 0
        while pos < len(data):
            end = data.find(b"\n", pos)
            lineno += 1
            if end < 0:  # unterminated tail: an interrupted write
                warnings.warn(f"{self.path}: ignoring truncated last line {lineno} "
                              f"({len(data) - pos} bytes, no newline)", CacheWarning, stacklevel=3)
                self._partial_tail = (len(data), pos)
                break
            line = data[pos:end]
            pos = end + 1
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key = rec["key"]
            except (ValueError, KeyError, TypeError):
                warnings.warn(f"{self.path}: ignoring corrupted line {lineno}", CacheWarning, stacklevel=3)
                continue
            self.records.setdefault(key, rec)

    def append(self, record: dict) -> None:
        """Write one record durably (one write of the whole line, then fsync)."""
        line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if self._partial_tail is not None:  # drop the partial line found at load time
                size, keep = self._partial_tail
                if os.fstat(fd).st_size == size:  # unless someone appended meanwhile
                    os.ftruncate(fd, keep)
                self._partial_tail = None
            written = os.write(fd, line)
            if written != len(line):  # a short write on a regular file means a full disk
                raise OSError(f"{self.path}: short write ({written} of {len(line)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)
        self.records.setdefault(record["key"], record)
