"""Catalogue of the public request traces and a checked downloader.

Every trace of :data:`kvsched.traces.PRESETS` was found committed to a public GitHub
repository; its preset's ``origin`` (:class:`kvsched.traces.Source`, the one table of traces)
records the repository, the commit and the path there, and the SHA-256 and size of the file
as copied into the shared data folder (computed once from those copies; the git blob hashes
match the source commits). The public URL is the raw GitHub URL of that commit and path.
:data:`SOURCES` is a name -> origin view of that table.

:func:`download` fetches a trace from its URL (or an override), writes it atomically (a
temporary file in the destination folder, renamed only after the SHA-256 matched) and
deletes it on a mismatch. Default folder: ``$KVSCHED_DATA`` if set (the folder
:func:`kvsched.paths.shared_data_dir` reads), else ``~/.cache/kvsched/data``.

Licences differ per trace (see ``kvsched data list --long``); some are unknown or gated.
The traces are downloaded for local use only: never commit them to this repository or
redistribute them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .paths import shared_trace
from .traces import PRESETS, Source, TracePreset


class DatasetError(RuntimeError):
    """Unknown trace, unreachable URL or a file whose SHA-256 does not match."""


#: name -> public source and checksum (a view of :data:`kvsched.traces.PRESETS`)
SOURCES = {name: preset.origin for name, preset in PRESETS.items()}


@dataclass(frozen=True)
class Dataset:
    """A catalogue entry: the trace preset (file name, unit, rows, licence, origin)."""

    preset: TracePreset

    @property
    def source(self) -> Source:
        return self.preset.origin

    @property
    def name(self) -> str:
        return self.preset.name

    @property
    def filename(self) -> str:
        return self.preset.filename

    def local_path(self) -> Optional[Path]:
        """The file in the shared data folder or the download folder, if present."""
        found = shared_trace(self.filename)
        if found is not None:
            return found
        cached = default_data_dir() / self.filename
        return cached if cached.is_file() else None

    def to_dict(self) -> dict:
        local = self.local_path()
        return {"name": self.name, "filename": self.filename, "rows": self.preset.rows, "unit": self.preset.unit,
                "licence": self.preset.licence, "source": self.preset.source, "repo": self.source.repo,
                "commit": self.source.commit, "path": self.source.path, "url": self.source.url,
                "sha256": self.source.sha256, "size": self.source.size,
                "local": None if local is None else str(local)}


def catalogue() -> list:
    """Every known trace, in the order of :data:`kvsched.traces.PRESETS`."""
    return [Dataset(preset) for preset in PRESETS.values()]


def get(name: str) -> Dataset:
    if name not in PRESETS:
        raise DatasetError(f"unknown trace {name!r}; known: {', '.join(d.name for d in catalogue())}")
    return Dataset(PRESETS[name])


def default_data_dir() -> Path:
    """``$KVSCHED_DATA`` if set, else ``~/.cache/kvsched/data``."""
    env = os.environ.get("KVSCHED_DATA")
    return Path(env) if env else Path.home() / ".cache" / "kvsched" / "data"


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, target, sha256: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``target`` atomically; raise :class:`DatasetError` (leaving
    nothing behind) if it cannot be fetched or its SHA-256 is not ``sha256``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
            except urllib.error.HTTPError as exc:
                raise DatasetError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise DatasetError(f"cannot fetch {url}: {getattr(exc, 'reason', None) or exc}") from None
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != sha256:
            raise DatasetError(f"SHA-256 mismatch for {url}: expected {sha256}, got {h.hexdigest()}; "
                               "the download was deleted")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def download(name: str, dest=None, url: Optional[str] = None, timeout: float = 60.0) -> tuple:
    """Fetch trace ``name`` into ``dest`` (default :func:`default_data_dir`), from its public
    URL or ``url``. Returns ``(path, fetched)``; a file already there with the right SHA-256
    is kept (``fetched`` False)."""
    ds = get(name)
    target = Path(dest or default_data_dir()) / ds.filename
    if target.is_file() and sha256_file(target) == ds.source.sha256:
        return target, False
    return fetch(url or ds.source.url, target, ds.source.sha256, timeout=timeout), True
