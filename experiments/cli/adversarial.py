"""``kvsched adversarial ...``: seeded search for instances where a heuristic is far from OPT.

* ``kvsched adversarial search HEURISTIC --seed K --iterations N --out-dir results/worst``:
  local search maximising ALG / OPT (OPT proven by the exact models), saves the worst
  instances as ``LABEL-seedK-rankR.json`` (readable by ``kvsched certify``) with a
  ``.meta.json`` sidecar (ratio, ALG, OPT, seed, settings).
* ``kvsched adversarial verify FILE.json...``: re-certify saved instances and re-run their
  heuristic; exit 1 if any OPT or ALG differs from the sidecar.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import INPUT_ERRORS, InputError, emit_json, json_option, writable_dir

LABELS = ("fcfs", "mcsf", "sorted-f/dp", "sorted-f/scaled-dp", "sorted-f/swap", "sorted-f/quantile",
          "largest-batch", "amax", "amin/W", "amin/V1")


@click.group("adversarial")
def adversarial():
    """Adversarial search: worst ALG / OPT found on small instances, re-verifiable."""


@adversarial.command("search")
@click.argument("heuristic", type=click.Choice(LABELS))
@click.option("--seed", default=0, show_default=True, help="seed of the search (same seed, same result)")
@click.option("--iterations", default=200, show_default=True, type=click.IntRange(min=1))
@click.option("--n-max", default=6, show_default=True, type=click.IntRange(2, 16),
              help="most requests (OPT is proven by certify: the exhaustive oracle up to 7, the state-space "
                   "search beyond; a candidate whose optimum is not proven is rejected)")
@click.option("--M-max", "M_max", default=16, show_default=True, type=click.IntRange(min=4))
@click.option("--arrivals", is_flag=True, help="also move arrival rounds (default: all arrivals 0)")
@click.option("--keep", default=3, show_default=True, type=click.IntRange(min=1), help="worst instances kept")
@click.option("--deterministic", is_flag=True,
              help="certify candidates in deterministic mode (work limits): the same seed gives the same search "
                   "whatever the machine's load")
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="write the worst instances here (e.g. results/worst)")
@json_option
def search_cmd(heuristic, seed, iterations, n_max, M_max, arrivals, keep, deterministic, out_dir, as_json):
    """Search for instances maximising HEURISTIC / OPT (OPT proven only)."""
    from kvsched.experiments.adversarial import SearchSettings, save, search

    if out_dir:
        writable_dir(out_dir, "--out-dir")
    st = SearchSettings(iterations=iterations, n_range=(2, n_max), M_range=(4, M_max), arrivals=arrivals, keep=keep,
                        deterministic=deterministic)
    found = search(heuristic, seed=seed, settings=st)
    paths = save(found, heuristic, seed, st, out_dir) if out_dir else [None] * len(found)
    rows = []
    for rank, (f, path) in enumerate(zip(found, paths), 1):
        click.echo(f"rank {rank}: {heuristic} / OPT = {f.alg} / {f.opt} = {f.ratio:.4f}  n = {f.instance.n}  "
                   f"M = {f.instance.M}  (iteration {f.iteration})" + (f"  -> {path}" if path else ""))
        rows.append({"rank": rank, "ratio": f.ratio, "alg": f.alg, "opt": f.opt, "n": f.instance.n,
                     "M": f.instance.M, "iteration": f.iteration, "instance": f.instance.to_dict(),
                     "path": None if path is None else str(path)})
    if as_json:
        emit_json({"heuristic": heuristic, "seed": seed, "settings": st.to_dict(), "worst": rows})


@adversarial.command("verify")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@json_option
def verify_cmd(paths, as_json):
    """Re-certify saved instances (FILE.json with FILE.meta.json beside it)."""
    from kvsched.experiments.adversarial import verify

    rows, bad = [], 0
    for p in paths:
        if not Path(p).with_suffix(".meta.json").exists():
            raise click.ClickException(f"{p}: no sidecar {Path(p).with_suffix('.meta.json').name}")
        try:
            r = verify(p)
        except INPUT_ERRORS as exc:
            raise InputError(str(exc)) from None
        ok = r["opt_matches"] and r["alg_matches"]
        bad += not ok
        click.echo(f"{'ok ' if ok else 'BAD'} {p}: OPT {r['opt']} ({'proven' if r['opt_proven'] else 'not proven'}), "
                   f"ALG {r['alg']}, ratio {r['ratio']:.4f}")
        rows.append(r)
    if as_json:
        emit_json({"verified": rows, "mismatches": bad})
    if bad:
        sys.exit(1)


COMMANDS = [adversarial]
