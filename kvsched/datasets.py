"""Catalogue of the public request traces and a checked downloader.

Every trace of :data:`kvsched.traces.PRESETS` (same names) was found committed to a public
GitHub repository; :data:`SOURCES` records the repository, the commit and the path there,
and the SHA-256 and size of the file as copied into the shared data folder (computed once
from those copies; the git blob hashes match the source commits). The public URL is the raw
GitHub URL of that commit and path.

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
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .paths import shared_trace
from .traces import PRESETS, TracePreset


class DatasetError(RuntimeError):
    """Unknown trace, unreachable URL or a file whose SHA-256 does not match."""


@dataclass(frozen=True)
class Source:
    """Where a trace file is committed publicly, and what the file must hash to."""

    repo: str
    commit: str
    path: str
    sha256: str
    size: int

    @property
    def url(self) -> str:
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{urllib.parse.quote(self.path)}"


_VIDUR_OR = ("Luoxiaogan/vidur_or", "853c94344dbea7cc0fb01c679adc833d7a0b08ba")
_VIDUR = ("microsoft/vidur", "7d47513363ec447a741ac5e47241580b47724fbf")
_AZURE = ("Azure/AzurePublicDataset", "b469a113cedca53ddc3bdea71a143dc4b7d8700c")
_ETALON = ("project-etalon/etalon", "d5f18de15a2227a2d469365afc4fa9e2df0c631d")
_AKAFAKA = ("AKafakA/vidur_opt_scheduler", "20bdc49d6c1d23de84c9d4e7a8626ea33fe498f4")

#: name (as in :data:`kvsched.traces.PRESETS`) -> public source and checksum
SOURCES = {
    "lmsys-257": Source(*_VIDUR_OR, "lmsys_chat_1m_dataset/output_trace/input<257_output<257.csv",
                        "626612facf53f4d67b5aecb9b27da7cb1245bb0a8df67a2abcd0fc4c658f1444", 4_028_459),
    "lmsys-100k": Source(*_VIDUR_OR, "lmsys_chat_1m_dataset/trace_for_booking_limit/sample_1e6_input<500_output<600.csv",
                         "afff0f3f81088cf539161461e45759c7b1ded83886e3467ee09d0364da31ef9b", 635_923),
    "lmsys-20k": Source(*_VIDUR_OR, "data/processed_traces/sample_2e5_input<200_output<500.csv",
                        "2f42541c60b92c7c4567e8906f1f2742af4c1eb3ff1688198397fea2bae6e75a", 124_690),
    "arxiv": Source(*_VIDUR, "data/processed_traces/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv",
                    "9d3580538d915ca75e4aaaa54590b42dbb17abc6d74c8913310cf07c232adcdc", 884_932),
    "azure-conv": Source(*_AZURE, "data/AzureLLMInferenceTrace_conv.csv",
                         "2f1e5b666d4e3055fdbba98598ce2ec307767b9064e03e2fa46676dbcc7d0bf8", 719_188),
    "azure-code": Source(*_AZURE, "data/AzureLLMInferenceTrace_code.csv",
                         "54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6", 320_117),
    "splitwise-conv": Source(*_VIDUR, "data/processed_traces/splitwise_conv.csv",
                             "439e4138b7e384f316de614c071f7162be05b8af0cef866f82faacd1b0472249", 382_729),
    "splitwise-code": Source(*_VIDUR, "data/processed_traces/splitwise_code.csv",
                             "f266b907d109d471c61283ab69771c17ad79a18b33ff6e96aa546346f52767a6", 166_195),
    "sharegpt-8k": Source(*_ETALON, "data/processed_traces/sharegpt_8k_filtered_stats_llama2_tokenizer.csv",
                          "6d6c296302a853e2669a674a96f269283e60c57e60363bd450588a1066919f9f", 949_600),
    "sharegpt-val-10k": Source(*_AKAFAKA, "data/trace_data/sharegpt/sharegpt_val_10k_llama2.csv",
                               "e8eb6769b07f47a44fcb8caecf78dfc247103d65f84c4053bd9ae593caa01c63", 278_423),
    "bwb": Source(*_ETALON, "data/processed_traces/bwb_stats_llama2_tokenizer_filtered_v2.csv",
                  "389419d2f2e55149b5d6ccfedb881572798d39650436ab86fd61f3c40337a990", 1_123_791),
}


@dataclass(frozen=True)
class Dataset:
    """A catalogue entry: the trace preset (file name, unit, rows, licence) and its source."""

    preset: TracePreset
    source: Source

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
    return [Dataset(PRESETS[name], SOURCES[name]) for name in PRESETS if name in SOURCES]


def get(name: str) -> Dataset:
    if name not in SOURCES or name not in PRESETS:
        raise DatasetError(f"unknown trace {name!r}; known: {', '.join(d.name for d in catalogue())}")
    return Dataset(PRESETS[name], SOURCES[name])


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
