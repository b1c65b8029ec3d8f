"""CSV request traces -> :class:`~kvsched.instance.Instance` (docs/model.md §7.1).

One entry point, :func:`load_trace`, reads a preset (every file of ``../shared/data``, see
:data:`PRESETS`) or any CSV path and returns a :class:`TraceLoad`: the instance plus a report
of what was dropped and in which unit the lengths are counted.

Formats (columns by header name; other columns such as ``num_total_tokens``, ``pd_ratio``
are ignored; CRLF line ends and a missing final newline are fine):

- ``vidur``: ``num_prefill_tokens, num_decode_tokens[, arrived_at]`` (seconds since the first request),
- ``azure``: ``TIMESTAMP, ContextTokens, GeneratedTokens`` (``2023-11-16 18:15:46.6805900``),
- ``lmsys``: ``question_length, answer_length`` (WORD counts, not tokens),
- any other CSV with ``columns={"prompt": ..., "output": ..., "arrival": ...}`` (arrival
  optional; numbers are seconds, anything else is parsed as a timestamp).

Pipeline, in this order:

1. Every row of the file is checked. A row is *invalid* if the prompt or output value is
   missing, not an integer, or <= 0 (or its arrival, when arrivals are used, is missing or
   unparsable); it is *too long* if ``s + o > M`` (no feasible schedule). Either is an error
   naming the row (0-based data row and file line) and column, unless ``drop_invalid=True``,
   which drops such rows and counts the two kinds separately. The counts are over the whole
   file, so they do not depend on ``n``.
2. ``n`` requests are taken from the kept rows: ``sample="random"`` draws ``n`` rows without
   replacement with ``numpy.random.default_rng(seed)`` and keeps them in file order;
   ``sample="head"`` takes the first ``n``. ``n=None`` keeps every row.
3. Arrivals: ``rounds_per_second=None`` puts every request at round 0. A positive value maps a
   timestamp ``t`` (seconds) to round ``floor((t - t0) * rounds_per_second)`` with ``t0`` the
   earliest timestamp among the selected requests, so the instance starts at round 0.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np
import pandas as pd

from .instance import Instance, InstanceError
from .paths import shared_trace


class TraceError(InstanceError):
    """A trace cannot become an instance; the message names the row and column."""


#: column roles of the three known formats (``arrival`` is used only when present)
FORMATS = {
    "vidur": {"prompt": "num_prefill_tokens", "output": "num_decode_tokens", "arrival": "arrived_at"},
    "azure": {"prompt": "ContextTokens", "output": "GeneratedTokens", "arrival": "TIMESTAMP"},
    "lmsys": {"prompt": "question_length", "output": "answer_length"},
}

_LLAMA2 = "tokens (LLaMA-2 tokenizer)"
_AZURE = "tokens (Azure production tokenizer)"
_WORDS = "WORDS (whitespace-separated, all turns of a conversation summed), not tokens"


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


@dataclass(frozen=True)
class TracePreset:
    """One file of the shared data folder: its format, length unit, provenance and the public
    commit (``origin``) it can be downloaded from."""

    name: str
    filename: str
    format: str
    unit: str
    rows: int
    source: str
    licence: str
    origin: Source
    timestamps: bool = False


_VIDUR_OR = ("Luoxiaogan/vidur_or", "853c94344dbea7cc0fb01c679adc833d7a0b08ba")
_VIDUR = ("microsoft/vidur", "7d47513363ec447a741ac5e47241580b47724fbf")
_AZURE_REPO = ("Azure/AzurePublicDataset", "b469a113cedca53ddc3bdea71a143dc4b7d8700c")
_ETALON = ("project-etalon/etalon", "d5f18de15a2227a2d469365afc4fa9e2df0c631d")
_AKAFAKA = ("AKafakA/vidur_opt_scheduler", "20bdc49d6c1d23de84c9d4e7a8626ea33fe498f4")

_LMSYS_SRC = "LMSYS-Chat-1M (Zheng et al. 2023) word counts via Luoxiaogan/vidur_or@853c943"
_LMSYS_LIC = "LMSYS-Chat-1M Dataset License Agreement (gated); fork states no licence"
_AZURE_LIC = "CC-BY 4.0 (cite Patel et al., Splitwise, ISCA 2024)"

PRESETS = {p.name: p for p in [
    TracePreset("lmsys-257", "lmsys_chat_1m_words_in_lt257_out_lt257.csv", "lmsys", _WORDS, 662_534,
                _LMSYS_SRC + ", all conversations with in < 257 and out < 257 words", _LMSYS_LIC,
                Source(*_VIDUR_OR, "lmsys_chat_1m_dataset/output_trace/input<257_output<257.csv",
                       "626612facf53f4d67b5aecb9b27da7cb1245bb0a8df67a2abcd0fc4c658f1444", 4_028_459)),
    TracePreset("lmsys-100k", "lmsys_chat_1m_words_sample100k_in_lt500_out_lt600.csv", "lmsys", _WORDS,
                100_000, _LMSYS_SRC + ", sample of 100k with in < 500 and out < 600 words", _LMSYS_LIC,
                Source(*_VIDUR_OR, "lmsys_chat_1m_dataset/trace_for_booking_limit/sample_1e6_input<500_output<600.csv",
                       "afff0f3f81088cf539161461e45759c7b1ded83886e3467ee09d0364da31ef9b", 635_923)),
    TracePreset("lmsys-20k", "lmsys_chat_1m_words_sample20k_in_lt200_out_lt500.csv", "vidur", _WORDS,
                20_000, _LMSYS_SRC + ", sample of 20k with in < 200 and out < 500 words"
                " (Vidur headers, but word counts)", _LMSYS_LIC,
                Source(*_VIDUR_OR, "data/processed_traces/sample_2e5_input<200_output<500.csv",
                       "2f42541c60b92c7c4567e8906f1f2742af4c1eb3ff1688198397fea2bae6e75a", 124_690)),
    TracePreset("arxiv", "arxiv_summarization_llama2.csv", "vidur", _LLAMA2, 28_257,
                "arXiv summarization (Cohan et al. 2018) via microsoft/vidur@7d47513",
                "code MIT; dataset licence unknown",
                Source(*_VIDUR, "data/processed_traces/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv",
                       "9d3580538d915ca75e4aaaa54590b42dbb17abc6d74c8913310cf07c232adcdc", 884_932)),
    TracePreset("azure-conv", "azure_conv_2023.csv", "azure", _AZURE, 19_366,
                "Azure LLM inference trace 2023, conversation (Azure/AzurePublicDataset@b469a11)",
                _AZURE_LIC, Source(*_AZURE_REPO, "data/AzureLLMInferenceTrace_conv.csv",
                       "2f1e5b666d4e3055fdbba98598ce2ec307767b9064e03e2fa46676dbcc7d0bf8", 719_188), timestamps=True),
    TracePreset("azure-code", "azure_code_2023.csv", "azure", _AZURE, 8_819,
                "Azure LLM inference trace 2023, code (Azure/AzurePublicDataset@b469a11)",
                _AZURE_LIC, Source(*_AZURE_REPO, "data/AzureLLMInferenceTrace_code.csv",
                       "54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6", 320_117), timestamps=True),
    TracePreset("splitwise-conv", "splitwise_conv_2023.csv", "vidur", _AZURE, 19_366,
                "Azure 2023 conversation trace in Vidur format (microsoft/vidur@7d47513)",
                _AZURE_LIC, Source(*_VIDUR, "data/processed_traces/splitwise_conv.csv",
                       "439e4138b7e384f316de614c071f7162be05b8af0cef866f82faacd1b0472249", 382_729), timestamps=True),
    TracePreset("splitwise-code", "splitwise_code_2023.csv", "vidur", _AZURE, 8_819,
                "Azure 2023 code trace in Vidur format (microsoft/vidur@7d47513)",
                _AZURE_LIC, Source(*_VIDUR, "data/processed_traces/splitwise_code.csv",
                       "f266b907d109d471c61283ab69771c17ad79a18b33ff6e96aa546346f52767a6", 166_195), timestamps=True),
    TracePreset("sharegpt-8k", "sharegpt_8k_llama2.csv", "vidur", _LLAMA2, 30_731,
                "ShareGPT (Vicuna unfiltered) via project-etalon/etalon@d5f18de",
                "Apache-2.0 (repository and dataset card)",
                Source(*_ETALON, "data/processed_traces/sharegpt_8k_filtered_stats_llama2_tokenizer.csv",
                       "6d6c296302a853e2669a674a96f269283e60c57e60363bd450588a1066919f9f", 949_600)),
    TracePreset("sharegpt-val-10k", "sharegpt_val_10k_llama2.csv", "vidur", _LLAMA2, 10_000,
                "ShareGPT validation split via AKafakA/vidur_opt_scheduler@20bdc49 (undocumented processing)",
                "MIT (repository); ShareGPT card apache-2.0",
                Source(*_AKAFAKA, "data/trace_data/sharegpt/sharegpt_val_10k_llama2.csv",
                       "e8eb6769b07f47a44fcb8caecf78dfc247103d65f84c4053bd9ae593caa01c63", 278_423)),
    TracePreset("bwb", "bwb_translation_llama2.csv", "vidur", _LLAMA2, 33_768,
                "Bilingual Web Book translation (Jiang et al.) via project-etalon/etalon@d5f18de",
                "Apache-2.0 (repository); dataset licence not verified",
                Source(*_ETALON, "data/processed_traces/bwb_stats_llama2_tokenizer_filtered_v2.csv",
                       "389419d2f2e55149b5d6ccfedb881572798d39650436ab86fd61f3c40337a990", 1_123_791)),
]}


@dataclass(frozen=True)
class TraceLoad:
    """What :func:`load_trace` returns.

    ``rows`` are the 0-based data-row indices of the selected requests (request ``i`` of the
    instance is data row ``rows[i]``); ``rows_in_file`` counts data rows; ``dropped_invalid``
    and ``dropped_too_long`` count rows of the whole file removed by ``drop_invalid``."""

    instance: Instance
    source: str
    unit: str
    rows_in_file: int
    dropped_invalid: int
    dropped_too_long: int
    rows: np.ndarray = field(repr=False)
    preset: Optional[str] = None

    @property
    def dropped(self) -> int:
        return self.dropped_invalid + self.dropped_too_long

    def summary(self) -> str:
        inst = self.instance
        return (f"{self.preset or self.source}: {inst.n} requests of {self.rows_in_file} rows, M = {inst.M}, "
                f"unit {self.unit}; dropped {self.dropped_invalid} invalid (zero/negative/missing) "
                f"and {self.dropped_too_long} with prompt + output > M")


def resolve(path_or_preset: Union[str, Path]) -> tuple[Path, Optional[TracePreset]]:
    """A preset name, a preset's file name (or its stem), or a CSV path -> (path, preset)."""
    key = str(path_or_preset)
    preset = PRESETS.get(key) or next(
        (p for p in PRESETS.values() if key in (p.filename, Path(p.filename).stem)), None)
    if preset is not None:
        path = shared_trace(preset.filename)
        if path is None:
            raise TraceError(f"trace preset '{preset.name}' needs {preset.filename} from the shared data "
                             "folder (../shared/data beside the repository, or $KVSCHED_DATA), which is absent")
        return path, preset
    path = Path(key)
    if not path.is_file():
        raise TraceError(f"no trace preset or file named '{key}'; presets: {', '.join(PRESETS)}")
    return path, None


def load_trace(path_or_preset: Union[str, Path], M: int, n: Optional[int] = None, seed: int = 0,
               sample: str = "random", columns: Optional[Mapping[str, str]] = None,
               drop_invalid: bool = False, rounds_per_second: Optional[float] = None,
               name: Optional[str] = None) -> TraceLoad:
    """Read a trace into an instance with KV-cache size ``M`` (see the module docstring for
    the row checks, sampling and the arrival rule). Raises :class:`TraceError`."""
    if sample not in ("random", "head"):
        raise TraceError(f"sample must be 'random' or 'head', got {sample!r}")
    if rounds_per_second is not None and not rounds_per_second > 0:
        raise TraceError(f"rounds_per_second must be > 0, got {rounds_per_second!r}")
    if n is not None and n < 1:
        raise TraceError(f"n must be >= 1, got {n}")
    path, preset = resolve(path_or_preset)
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TraceError(f"cannot read trace {path}: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    roles = _roles(df, columns, path)
    if rounds_per_second is not None and "arrival" not in roles:
        raise TraceError(f"{path.name}: rounds_per_second given but the trace has no arrival column")
    use_arrival = rounds_per_second is not None

    s, bad_s = _lengths(df[roles["prompt"]])
    o, bad_o = _lengths(df[roles["output"]])
    bad_a = np.zeros(len(df), dtype=bool)
    t = None
    if use_arrival:
        t, bad_a = _seconds(df[roles["arrival"]])
    invalid = bad_s | bad_o | bad_a
    too_long = ~invalid & (s + o > M)
    if not drop_invalid:
        _raise_first(path, roles, df, invalid, bad_s, bad_o, s, o, too_long, M)
    keep = np.flatnonzero(~(invalid | too_long))
    if len(keep) == 0:
        raise TraceError(f"{path.name}: no usable rows (M = {M})")
    if n is not None:
        if n > len(keep):
            raise TraceError(f"{path.name}: n = {n} exceeds the {len(keep)} usable rows")
        if sample == "head":
            keep = keep[:n]
        else:
            keep = np.sort(np.random.default_rng(seed).choice(keep, size=n, replace=False))
    arrivals = ()
    if use_arrival:
        tk = t[keep]
        arrivals = tuple(np.floor((tk - tk.min()) * rounds_per_second).astype(np.int64).tolist())
    label = preset.name if preset else path.stem
    if name is None:
        name = label if n is None else f"{label}-n{n}-{sample}" + (f"-seed{seed}" if sample == "random" else "")
        name += f"-rps{rounds_per_second:g}" if use_arrival else ""
    inst = Instance(M, tuple(s[keep].tolist()), tuple(o[keep].tolist()), arrivals, name=name)
    unit = preset.unit if preset else (_WORDS if roles["prompt"] == FORMATS["lmsys"]["prompt"]
                                        else "as in the file (unknown unit)")
    return TraceLoad(inst, str(path), unit, len(df), int(invalid.sum()), int(too_long.sum()),
                     keep, preset.name if preset else None)


def _roles(df: pd.DataFrame, columns: Optional[Mapping[str, str]], path: Path) -> dict:
    """Column name for each role: from ``columns`` if given, else from the known formats."""
    if columns is not None:
        extra = set(columns) - {"prompt", "output", "arrival"}
        if extra or not {"prompt", "output"} <= set(columns):
            raise TraceError("columns must map 'prompt' and 'output' (and optionally 'arrival') to "
                             f"column names, got keys {sorted(columns)}")
        missing = [c for c in columns.values() if c not in df.columns]
        if missing:
            raise TraceError(f"{path.name}: column(s) {missing} not found; header is {list(df.columns)}")
        return dict(columns)
    for fmt in FORMATS.values():
        if fmt["prompt"] in df.columns and fmt["output"] in df.columns:
            return {role: col for role, col in fmt.items() if col in df.columns}
    raise TraceError(f"{path.name}: unknown trace format (header {list(df.columns)}); pass a column "
                     "mapping, e.g. columns={'prompt': ..., 'output': ..., 'arrival': ...}")


def _numbers(col: pd.Series) -> np.ndarray:
    """Column -> float array, NaN where missing or not a number."""
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float)
    return pd.to_numeric(col.astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)


def _lengths(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values with 0 where bad, bad mask): bad = missing, not an integer, or <= 0."""
    x = _numbers(col)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(x) | (x != np.floor(x)) | (x < 1)
    return np.where(bad, 0, x).astype(np.int64), bad


def _seconds(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Arrival column -> (seconds as float, bad mask). Numbers are seconds; else timestamps."""
    secs = _numbers(col)
    if not pd.api.types.is_numeric_dtype(col) and np.isnan(secs).all():
        ts = pd.to_datetime(col.astype(str).str.strip(), format="ISO8601", errors="coerce")
        secs = (ts - ts.min()).dt.total_seconds().to_numpy(dtype=float)
    bad = ~np.isfinite(secs)
    return np.where(bad, 0.0, secs), bad


def _raise_first(path, roles, df, invalid, bad_s, bad_o, s, o, too_long, M) -> None:
    hint = "; pass drop_invalid=True (CLI: --drop-invalid) to drop such rows"
    if invalid.any():
        r = int(np.flatnonzero(invalid)[0])
        role = "prompt" if bad_s[r] else "output" if bad_o[r] else "arrival"
        col = roles[role]
        value = df[col].iat[r]
        why = "is missing" if pd.isna(value) else f"= {_show(value)} is not a positive integer"
        if role == "arrival":
            why = "is missing" if pd.isna(value) else f"= {_show(value)} is not a time"
        raise TraceError(f"{path.name}: row {r} (file line {r + 2}), column '{col}' ({role}) {why}; "
                         f"{int(invalid.sum())} such rows in the file{hint}")
    if too_long.any():
        r = int(np.flatnonzero(too_long)[0])
        raise TraceError(f"{path.name}: row {r} (file line {r + 2}): prompt + output = {s[r]} + {o[r]} = "
                         f"{s[r] + o[r]} exceeds M = {M}; {int(too_long.sum())} such rows in the file{hint}")


def _show(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def presets_table() -> str:
    """One line per preset: name, rows, unit, availability, source and licence."""
    lines = []
    for p in PRESETS.values():
        here = "present" if shared_trace(p.filename) else "ABSENT"
        lines.append(f"{p.name:17s} {p.rows:>7d} rows  {p.format:5s}  {here:7s}  unit: {p.unit}\n"
                     f"{'':17s} file: {p.filename}\n{'':17s} source: {p.source}\n{'':17s} licence: {p.licence}")
    return "\n".join(lines)


__all__ = ["FORMATS", "PRESETS", "Source", "TraceError", "TraceLoad", "TracePreset", "load_trace", "presets_table",
           "resolve"]

