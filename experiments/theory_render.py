"""``results/theory.md`` from committed measurement files: numbers, verdicts, Markdown.

Three steps, each a pure function of the previous one's output:

1. :func:`collect` reads the committed files (``results/theory/``, ``results/theory-checks/``,
   ``results/worst/``, ``results/cr-small/``, ``results/amin-fluid/``, ``results/amax-fluid/``,
   ``results/bench_online.md``) into plain numbers and tables (a missing file leaves its
   claim out);
2. the ``verdict_*`` functions turn numbers into a :class:`Verdict` against a stated
   threshold (module constants below); none of them ever returns a verdict that is not
   computed from its arguments;
3. :func:`render` writes the Markdown: one table claim | regime tested | strongest evidence |
   verdict, a short paragraph per claim, then the measurement tables.

Wording follows what was proven: a finite search cannot show that an upper bound holds, so
an upper bound that no measurement exceeds is "not contradicted" (with the worst ratio
found); a ratio is called certified only when numerator and denominator are validated
schedules or proven optima computed by the toolkit; ratios against H-SF are labelled (H-SF
>= OPT, so they bound ALG / OPT from below).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from kvsched import paths

#: the claimed upper bound on Sorted-F / OPT
#: committed adversarial-search folders under results/, by key
ADV_DIRS = {"worst": "worst/", "seeded": "worst/seeded/", "reach": "worst/reach/"}
SORTED_F_BOUND = 48.0
#: CR(u) counts as logarithmic when a + b ln u fits it within this (absolute) on u >= 20 ...
LOG_RESIDUAL = 0.01
#: ... and the two computations of CR(u) agree within this
CR_AGREE = 1e-9
#: a measured limit "reproduces" a formula when within this relative tolerance
REL_TOL = 0.02
#: a sequence counts as converged when its last step (M doubled, or L from 12 to 48) moves the ratio by less than this
DRIFT = 0.02
#: an A_max ratio "reaches" the stated lower bound when at least (1 - AMAX_TOL) of it
AMAX_TOL = 0.05


@dataclass(frozen=True)
class Verdict:
    word: str     #: the verdict, e.g. "not contradicted"
    detail: str   #: the number(s) it rests on and the threshold


# ---------------------------------------------------------------------- verdicts (numbers -> words)
def verdict_upper_bound(worst: float, bound: float, against: str) -> Verdict:
    """An upper bound ALG <= bound * OPT tested by finite measurement: contradicted only by a
    ratio above it (``against`` says what the ratio was taken against)."""
    if worst > bound:
        return Verdict("contradicted", f"ratio {worst:.4g} > {bound:g} ({against})")
    return Verdict("not contradicted", f"worst ratio found {worst:.4g} <= {bound:g} ({against}); "
                   f"{bound / worst:.3g}x below the bound")


def verdict_log_growth(residual: float, agree: float, tol: float = LOG_RESIDUAL, agree_tol: float = CR_AGREE) -> Verdict:
    if agree > agree_tol:
        return Verdict("undecided", f"the two computations of CR(u) differ by {agree:.1e} > {agree_tol:.0e}")
    if residual <= tol:
        return Verdict("consistent", f"a + b ln u fits CR(u) within {residual:.4f} <= {tol} on u >= 20")
    return Verdict("not logarithmic on the range", f"residual {residual:.4f} > {tol}")


def verdict_limit(ratio: float, ratio_min: float, target: float, drift: float, tol: float = REL_TOL,
                  drift_tol: float = DRIFT) -> Verdict:
    """A measured sequence's last value against a formula's limit ``target``. ``drift``: the
    relative change over the sequence's last step; ``ratio_min``: the smallest tie seed."""
    rel = ratio / target - 1
    if drift > drift_tol:
        return Verdict("not converged", f"{ratio:.4f} vs {target:.4f} ({rel:+.1%}); the last step moved it by "
                       f"{drift:.1%} > {drift_tol:.0%}")
    if abs(rel) <= tol:
        return Verdict("reproduces", f"{ratio:.4f} vs {target:.4f} ({rel:+.1%}, within {tol:.0%})")
    if ratio_min > target * (1 + tol):
        return Verdict("exceeds", f"{ratio:.4f} vs {target:.4f} ({rel:+.1%}; every seed above by > {tol:.0%})")
    if rel < -tol:
        return Verdict("stays under", f"{ratio:.4f} vs {target:.4f} ({rel:+.1%})")
    return Verdict("within the seed spread", f"{ratio:.4f} vs {target:.4f} ({rel:+.1%}; seeds straddle)")


def verdict_amin_cr(per_u: dict) -> Verdict:
    """A_min <= CR(u) OPT for one reading, from :func:`verdict_limit` per u (against H-SF >= OPT:
    exceeding CR(u) against H-SF exceeds it against OPT)."""
    over = [u for u, v in per_u.items() if v.word == "exceeds"]
    if over:
        return Verdict("contradicted", f"A_min / H-SF exceeds CR(u) in the limit at u = {', '.join(map(str, over))}")
    open_ = [u for u, v in per_u.items() if v.word in ("not converged", "within the seed spread")]
    if open_:
        return Verdict("not contradicted; undecided at u = " + ", ".join(map(str, open_)),
                       "no converged limit above CR(u); at those u the sequence has not settled")
    if per_u and all(v.word == "reproduces" for v in per_u.values()):
        return Verdict("not contradicted; CR(u) reproduced against H-SF", "A_min / H-SF within tolerance of CR(u) "
                       "at every u")
    return Verdict("not contradicted", "no converged limit above CR(u)")


def verdict_amax_lower(measured: float, stated: float, tol: float = AMAX_TOL) -> Verdict:
    if measured >= stated * (1 - tol):
        return Verdict("reached", f"{measured:.3f} >= (1 - {tol}) x {stated:g}")
    return Verdict("not reached", f"{measured:.3f} = {measured / stated:.0%} of {stated:g}")


def verdict_sf_lower(points: list, coef: float = 2 / 13) -> Verdict:
    """``points``: (M, certified lower bound on SF / OPT). Supported when every certified ratio
    is at least ``coef sqrt(M)`` and the ratios grow with M."""
    if not points:
        return Verdict("not measured", "")
    above = all(r >= coef * np.sqrt(M) for M, r in points)
    grows = all(b[1] > a[1] for a, b in zip(points, points[1:]))
    M, r = points[-1]
    if above and grows:
        return Verdict("supported (certified, finite M)", f"SF / witness = {r:.3f} >= {coef:.4f} sqrt(M) = "
                       f"{coef * np.sqrt(M):.3f} at M = {M}, growing at every M measured")
    return Verdict("not shown", f"SF / witness = {r:.3f} at M = {M} vs {coef:.4f} sqrt(M) = {coef * np.sqrt(M):.3f}")


# ---------------------------------------------------------------------- formatting
def _fmt(v, digits=3) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        if 0 < abs(v) < 1e-3:
            return f"{v:.1e}"
        return f"{v:.{digits}f}"
    return str(v)


def _table(df: pd.DataFrame, digits=3) -> list:
    cols = list(df.columns)
    out = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        out.append("| " + " | ".join(_fmt(r[c], digits) for c in cols) + " |")
    return out


def md_section_table(path: Path, heading: str) -> pd.DataFrame:
    """The first Markdown table after the heading that starts with ``heading``."""
    lines = path.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(heading))
    rows = []
    for line in lines[i + 1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    return pd.DataFrame(rows[2:], columns=rows[0])


# ---------------------------------------------------------------------- collect (files -> numbers)
def _read_json(p: Path) -> dict:
    return json.loads(p.read_text()) if p.exists() else {}


def collect(results_dir=None) -> dict:
    """Every number the report uses, from the committed files under ``results_dir``."""
    from kvsched.theory.ratios import fit_log

    R = Path(results_dir or paths.results_dir())
    out: dict = {"results_dir": R}
    p = R / "theory" / "rayleigh.csv"
    if p.exists():
        df = pd.read_csv(p)
        big = df[df["u"] >= 20]
        a, b, *_ = fit_log(big["u"], big["cr"])
        both = df.dropna(subset=["abs_diff"])
        out["rayleigh"] = {"table": df, "fit": (float(a), float(b)),
                           "residual": float((big["cr"] - (a + b * big["ln_u"])).abs().max()),
                           "agree": float(both["abs_diff"].max()), "u_max": int(both["u"].max())}
    for mode, sub in (("full", ""), ("quick", "quick")):
        p = R / "cr-small" / sub / "results.csv"
        if p.exists():
            from kvsched.experiments.cr_small import summarize

            df = pd.read_csv(p)
            out["cr_small"] = {"mode": mode, "sub": sub, "df": df, "summary": summarize(df)}
            break
    p = R / "worst" / "index.csv"
    if p.exists():
        df = pd.read_csv(p)
        out["worst"] = {"top": df[df["rank"] == 1].copy(), "meta": _read_json(R / "worst" / "run.json")}
    for key in ("seeded", "reach"):
        p = R / "worst" / key / "index.csv"
        if p.exists():
            df = pd.read_csv(p)
            out[key] = {"top": df[df["rank"] == 1].copy(), "meta": _read_json(R / "worst" / key / "run.json")}
    p = R / "theory" / "families.md"
    if p.exists():
        st = md_section_table(p, "## Sorted-F")
        st["ratio"] = st["Sorted-F / witness"].astype(float)
        st["certified"] = st["witness TCT"] != "-"
        out["stagger"] = st
    p = R / "theory" / "sf_families.csv"
    if p.exists():
        out["sf_families"] = pd.read_csv(p)
    p = R / "theory-checks" / "sf_blockers_opt.csv"
    if p.exists():
        out["sf_opt"] = pd.read_csv(p)
    p = R / "theory-checks" / "amin_fluid.csv"
    if p.exists():
        out["amin_ties"] = {"df": pd.read_csv(p), "meta": _read_json(R / "theory-checks" / "amin_fluid.json")}
    p = R / "amin-fluid" / "results.csv"
    if p.exists():
        from kvsched.experiments.amin_fluid import summarize

        df = pd.read_csv(p)
        out["amin_fluid"] = {"summary": summarize(df), "meta": _read_json(R / "amin-fluid" / "run.json"),
                             "task_time": float(df["wall_time"].sum())}
    p = R / "amin-fluid-load" / "results.csv"
    if p.exists() and "amin_fluid" in out:
        from kvsched.experiments.amin_fluid import summarize
        from kvsched.experiments.amin_fluid_load import M_FACTOR
        from kvsched.experiments.amin_fluid_load import L as load_L

        ld = pd.read_csv(p)
        s = summarize(ld)
        main = out["amin_fluid"]["summary"]
        base = main[(main["L"] == load_L) & (main["M"] == M_FACTOR * (1 + main["u"] * load_L))
                    & main["reading"].isin(s["reading"].unique())]
        out["amin_load"] = {"summary": pd.concat([s, base]).sort_values(["u", "reading", "rho"]),
                            "meta": _read_json(R / "amin-fluid-load" / "run.json"), "task_time": float(ld["wall_time"].sum())}
    p = R / "amax-fluid" / "results.csv"
    if p.exists():
        from kvsched.experiments.amax_fluid import summarize

        df = pd.read_csv(p)
        out["amax_fluid"] = {"summary": summarize(df), "meta": _read_json(R / "amax-fluid" / "run.json"),
                             "task_time": float(df["wall_time"].sum())}
    p = R / "bench_online.md"
    if p.exists():
        out["amax_bench"] = md_section_table(p, "## A_max lower-bound family")
    return out


# ---------------------------------------------------------------------- derived numbers
def amin_limits(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (u, reading): the ratio at the largest L and M (mean, smallest seed), CR(u), the
    quadratic form, the drift over the last M doubling and over the last L step."""
    rows = []
    for (u, reading), g in summary.groupby(["u", "reading"], sort=False):
        Lmax = g["L"].max()
        gl = g[g["L"] == Lmax].sort_values("M")
        last, prev = gl.iloc[-1], gl.iloc[-2] if len(gl) > 1 else gl.iloc[-1]
        Ls = sorted(g["L"].unique())
        lprev = g[(g["L"] == Ls[-2])].sort_values("M").iloc[-1] if len(Ls) > 1 else last
        rows.append({"u": int(u), "reading": reading, "L": int(Lmax), "M": int(last["M"]), "n": int(last["n"]),
                     "ratio": float(last["ratio mean"]), "ratio min": float(last["ratio min"]),
                     "ratio max": float(last["ratio max"]), "CR(u)": float(last["CR(u)"]),
                     "quadratic form": float(last["quadratic form"]),
                     "M drift": abs(last["ratio mean"] / prev["ratio mean"] - 1),
                     "L drift": abs(last["ratio mean"] / lprev["ratio mean"] - 1)})
    return pd.DataFrame(rows)


def amin_verdicts(limits: pd.DataFrame, summary: Optional[pd.DataFrame] = None) -> dict:
    """reading -> (claim verdict, {u: per-u verdict}); the target is the quadratic form at
    the instance's counts (equal to CR(u) up to the rounding of the counts). Convergence is
    judged over M only: the theorem's limit is M -> infinity with the lengths small against M,
    which holds at any fixed L (the drift in L is reported, not required). With ``summary``,
    every L is examined and a converged excess at any L counts (named in the detail);
    otherwise the largest L of ``limits``."""
    out = {}
    for reading, g in limits.groupby("reading", sort=False):
        per_u = {}
        for _, r in g.iterrows():
            v = verdict_limit(r["ratio"], r["ratio min"], r["quadratic form"], r["M drift"])
            if summary is not None and v.word != "exceeds":
                part = summary[(summary["u"] == r["u"]) & (summary["reading"] == reading)]
                for L, gl in part.groupby("L"):
                    gl = gl.sort_values("M")
                    if len(gl) < 2:
                        continue
                    last, prev = gl.iloc[-1], gl.iloc[-2]
                    w = verdict_limit(last["ratio mean"], last["ratio min"], last["quadratic form"],
                                      abs(last["ratio mean"] / prev["ratio mean"] - 1))
                    if w.word == "exceeds":
                        v = Verdict("exceeds", f"at L = {int(L)}: {w.detail}")
                        break
            per_u[int(r["u"])] = v
        out[reading] = (verdict_amin_cr(per_u), per_u)
    return out


def load_limits(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (u, reading): the ratio at every load rho and the extrapolation ``2 r(rho_max) -
    r(rho_max / 2)`` (a correction proportional to 1 / rho, the share of the linear terms)."""
    rows = []
    for (u, reading), g in summary.groupby(["u", "reading"], sort=False):
        g = g.sort_values("rho")
        r = dict(zip(g["rho"], g["ratio mean"]))
        top = max(r)
        half = top // 2
        ext = 2 * r[top] - r[half] if half in r else None
        rows.append({"u": int(u), "reading": reading, **{f"rho {k}": v for k, v in r.items()},
                     "extrapolated": ext, "CR(u)": float(g["CR(u)"].iloc[0]),
                     "extrapolated / CR(u)": None if ext is None else ext / float(g["quadratic form"].iloc[0])})
    return pd.DataFrame(rows)


def amax_limits(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (alpha, variant): the ratio at the largest L and M, with the drift over the last M doubling."""
    rows = []
    for (a, variant), g in summary.groupby(["alpha", "variant"], sort=False):
        gl = g[g["L"] == g["L"].max()].sort_values("M")
        last, prev = gl.iloc[-1], gl.iloc[-2] if len(gl) > 1 else gl.iloc[-1]
        rows.append({"alpha": a, "variant": variant, "L": int(last["L"]), "M": int(last["M"]), "n": int(last["n"]),
                     "ratio": float(last["ratio mean"]), "ratio max": float(last["ratio max"]),
                     "stated lower bound": float(last["stated lower bound"]),
                     "M drift": abs(last["ratio mean"] / prev["ratio mean"] - 1)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- claims (numbers -> table row + paragraph)
@dataclass(frozen=True)
class Claim:
    claim: str
    regime: str
    evidence: str
    verdict: Verdict
    paragraph: str


def _small_worst(num: dict, prefix: str, arrivals: str = "all 0") -> Optional[float]:
    s = num.get("cr_small", {}).get("summary")
    if s is None:
        return None
    part = s[s["algorithm"].str.startswith(prefix) & (s["denominator"] == "proven-optimum") & (s["arrivals"] == arrivals)]
    return None if part.empty else float(part["ratio worst"].max())


def _small_n(num: dict) -> Optional[int]:
    """The largest n of cr-small's rows against a proven optimum."""
    df = num.get("cr_small", {}).get("df")
    if df is None:
        return None
    part = df[df["denominator"] == "proven-optimum"]
    return None if part.empty else int(part["requests"].max())


def _wall(meta: dict) -> str:
    return f" ({meta['wall_time_s']:.0f} s)" if meta.get("wall_time_s") is not None else ""


def _adv_extent(num: dict) -> str:
    """``n <= N and M <= M'`` over every adversarial search read (their recorded settings)."""
    st = [num[k]["meta"].get("settings", {}) for k in ADV_DIRS if k in num]
    n = max((s.get("n_range", [0, 0])[1] for s in st), default="?")
    m = max((s.get("M_range", [0, 0])[1] for s in st), default="?")
    return f"n <= {n} and M <= {m}"


def _adv_worst(num: dict, prefix: str, arrivals: bool = False, key: str = "worst") -> Optional[float]:
    top = num.get(key, {}).get("top")
    if top is None:
        return None
    part = top[top["heuristic"].str.startswith(prefix) & (top["arrivals"] == arrivals)]
    return None if part.empty else float(part["ratio"].max())


def sorted_f_claim(num: dict) -> Optional[Claim]:
    cands = []  # (certified ratio, what)
    if (v := _small_worst(num, "sorted-f")) is not None:
        cands.append((v, "cr-small, proven optima"))
    if (v := _adv_worst(num, "sorted-f")) is not None:
        cands.append((v, "adversarial search, proven optima"))
    if (v := _adv_worst(num, "sorted-f", key="seeded")) is not None:
        cands.append((v, "seeded adversarial search, proven optima"))
    if (v := _adv_worst(num, "sorted-f", key="reach")) is not None:
        cands.append((v, "adversarial search at n <= 14 (search-proven optima)"))
    st = num.get("stagger")
    formula = None
    if st is not None:
        cert = st[st["certified"]]
        if not cert.empty:
            cands.append((float(cert["ratio"].max()), f"stagger family n <= {int(cert['n'].astype(int).max()):,}, "
                          "validated witness"))
        fo = st[~st["certified"]]
        formula = None if fo.empty else (float(fo["ratio"].max()), int(fo["n"].astype(int).max()))
    if not cands:
        return None
    worst, what = max(cands)
    v = verdict_upper_bound(worst, SORTED_F_BOUND, what)
    fo_txt = (f" The stagger family's formula rows (no schedule validated; n up to {formula[1]:,}) reach "
              f"{formula[0]:.4f}, tending to 2." if formula else "")
    para = ("Certified ratios (validated Sorted-F schedule over a proven optimum or a validated witness): "
            + "; ".join(f"{r:.4f} ({w})" for r, w in cands) + f".{fo_txt} With Poisson arrivals (outside the claim: "
            f"the ordering ignores arrivals) cr-small's worst is {_fmt(_small_worst(num, 'sorted-f', 'Poisson'))}. "
            f"The search instances have {_adv_extent(num)}, so s and o are not small against M there. A finite "
            "search cannot prove an upper bound; it did not find a counterexample.")
    return Claim("Sorted-F <= 48 OPT (all arrivals 0)",
                 f"proven optima n <= {_small_n(num)}; stagger family with validated witness",
                 f"{worst:.4f} ({what})", v, para)


def rayleigh_claim(num: dict) -> Optional[Claim]:
    r = num.get("rayleigh")
    if r is None:
        return None
    v = verdict_log_growth(r["residual"], r["agree"])
    a, b = r["fit"]
    para = (f"CR(u) computed two ways (eigenpair, orthant maximisation) differs by at most {r['agree']:.1e} up to "
            f"u = {r['u_max']}; on u >= 20 it is a + b ln u with a = {a:.3f}, b = {b:.3f}, max residual "
            f"{r['residual']:.4f}. This is a computation of the formula, not of A_min.")
    return Claim("CR(u) = O(log 1/alpha)", f"u <= {int(r['table']['u'].max())}",
                 f"residual {r['residual']:.4f} of a + b ln u (b = {b:.3f})", v, para)


def amin_claims(num: dict) -> list:
    af = num.get("amin_fluid")
    if af is None:
        return []
    lim = amin_limits(af["summary"])
    verdicts = amin_verdicts(lim, af["summary"])
    out = []
    regime = (f"amin-fluid: u = {', '.join(map(str, sorted(lim['u'].unique())))}; L <= {int(lim['L'].max())}; "
              f"M up to {int(lim['M'].max()):,}; random ties, {int(af['summary']['seeds'].max())} seeds")
    for reading, (v, per_u) in verdicts.items():
        g = lim[lim["reading"] == reading]
        k = (g["ratio"] / g["CR(u)"]).idxmax()
        worst = g.loc[k]
        para_u = "; ".join(f"u = {u}: {pv.word} ({pv.detail})" for u, pv in per_u.items())
        out.append(Claim(f"A_min <= CR(u) OPT, reading {reading}", regime,
                         f"A_min / H-SF = {worst['ratio']:.3f} vs CR({int(worst['u'])}) = {worst['CR(u)']:.3f} "
                         f"(x {worst['ratio'] / worst['CR(u)']:.3f}; L = {int(worst['L'])}, M = {int(worst['M']):,})",
                         v, f"Reading {reading} at the largest L and M, against the quadratic form at the "
                         f"instance's counts: {para_u}."))
    return out


def verdict_readings(limits: pd.DataFrame, tol: float = REL_TOL, drift_tol: float = DRIFT) -> Verdict:
    """Which reading reproduces CR(u) in the limit: one whose converged ratio (M drift <=
    ``drift_tol``) is within ``tol`` of the quadratic form at every u; otherwise none, with the
    converged limits per u and the readings that did not converge."""
    lim = limits.assign(converged=limits["M drift"] <= drift_tol,
                        rel=limits["ratio"] / limits["quadratic form"] - 1)
    good = [r for r, g in lim.groupby("reading", sort=False) if (g["converged"] & (g["rel"].abs() <= tol)).all()]
    parts = []
    for u, g in lim.groupby("u"):
        c = g[g["converged"]]
        txt = (f"u = {u}: {c['ratio'].min():.3f}-{c['ratio'].max():.3f} vs {g['quadratic form'].iloc[0]:.3f} "
               f"({c['rel'].min():+.0%} to {c['rel'].max():+.0%}; {', '.join(c['reading'])})" if len(c)
               else f"u = {u}: none converged")
        if (~g["converged"]).any():
            txt += f", not converged: {', '.join(g.loc[~g['converged'], 'reading'])}"
        parts.append(txt)
    spread = "; ".join(parts)
    if good:
        return Verdict(f"reading{'s' if len(good) > 1 else ''} {', '.join(good)}", f"within {tol:.0%} at every u; {spread}")
    return Verdict("none", f"converged limits (largest L and M) against CR(u): {spread}")


def readings_claim(num: dict) -> Optional[Claim]:
    af = num.get("amin_fluid")
    if af is None:
        return None
    lim = amin_limits(af["summary"])
    v = verdict_readings(lim)
    conv = lim[lim["M drift"] <= DRIFT]
    spread = conv.groupby("u")["ratio"].agg(lambda x: x.max() / x.min() - 1) if len(conv) else pd.Series(dtype=float)
    ev = (f"largest spread between converged readings {spread.max():.1%} (u = {int(spread.idxmax())})"
          if len(spread) else "no reading converged")
    return Claim("Some reading of A_min reproduces CR(u) in the fluid limit", "amin-fluid (as below)", ev, v,
                 "Readings: refinement W or V1, admission before (W, V1) or after (RF) overflow resolution. Where "
                 "they converge at the largest L they differ by at most the spread above; at L = 1 W is lower "
                 "(section 4), because a length-1 request's prompt doubles its memory there and W's flat charge "
                 "under-counts the next round.")


def load_claim(num: dict) -> Optional[Claim]:
    al = num.get("amin_load")
    if al is None:
        return None
    ll = load_limits(al["summary"]).dropna(subset=["extrapolated"])
    if ll.empty:
        return None
    over = ll[ll["extrapolated / CR(u)"] > 1 + REL_TOL]
    k = ll["extrapolated / CR(u)"].idxmax()
    w = ll.loc[k]
    v = (Verdict("exceeds CR(u)", f"at u = {', '.join(str(u) for u in sorted(over['u'].unique()))} "
                 f"(extrapolated / CR(u) > 1 + {REL_TOL})") if not over.empty else
         Verdict("within CR(u)", f"extrapolated / CR(u) <= 1 + {REL_TOL} at every u"))
    rhos = sorted(int(c.split()[1]) for c in ll.columns if c.startswith("rho "))
    return Claim("A_min's fluid limit at high load (L = 12)", f"amin-fluid-load: n1 / m_factor in {rhos}",
                 f"extrapolated A_min / H-SF = {w['extrapolated']:.3f} vs CR({int(w['u'])}) = {w['CR(u)']:.3f} "
                 f"(x {w['extrapolated / CR(u)']:.3f}, {w['reading']})", v,
                 "At fixed M and L the ratio grows with the load (requests per memory-full) towards the regime the "
                 "quadratic form describes; the extrapolation assumes a correction proportional to 1 / load "
                 "(section 2, load table).")


def amin_ties_claim(num: dict) -> Optional[Claim]:
    at = num.get("amin_ties")
    if at is None:
        return None
    df = at["df"]
    lf = df[df["ties"] == "longs-first"]
    if lf.empty:
        return None
    k = (lf["ratio"] / lf["cr"]).idxmax()
    w = lf.loc[k]
    excess = float(w["ratio"] / w["cr"])
    v = (Verdict("exceeds CR(u) (outside the premise: the theorem's ties are random)",
                 f"A_min / H-SF over CR(u) up to {excess:.3f} > 1") if excess > 1 else
         Verdict("not exceeded", f"A_min / H-SF over CR(u) at most {excess:.3f} <= 1"))
    return Claim("A_min <= CR(u) OPT with adversarial ties", "L = 1, s = 1, longest first among equal estimates",
                 f"A_min / H-SF = {w['ratio']:.3f} vs CR({int(w['u'])}) = {w['cr']:.3f} ({w['convention']})", v,
                 "The bound is stated in expectation over A_min's random tie-break; with the adversary choosing "
                 "the order among equal estimates, A_min / H-SF at L = 1 is compared with CR(u) under every "
                 "reading (section 4).")


def amax_claims(num: dict) -> list:
    from kvsched.theory.ratios import amax_upper

    out = []
    af = num.get("amax_fluid")
    if af is not None:
        lim = amax_limits(af["summary"])
        best = lim.loc[lim.groupby("alpha", sort=False)["ratio"].idxmax()]
        vs = {r["alpha"]: verdict_amax_lower(r["ratio"], r["stated lower bound"]) for _, r in best.iterrows()}
        reached = [a for a, v in vs.items() if v.word == "reached"]
        word = "reached" if len(reached) == len(vs) else ("reached only at alpha = " + ", ".join(reached)
                                                         if reached else "not reached")
        out.append(Claim("A_max lower bound alpha^-1 (1 + alpha^-1/2) / 2", "amax-fluid: alpha = "
                         + ", ".join(vs) + f"; L <= {int(lim['L'].max())}, M up to {int(lim['M'].max()):,}",
                         "; ".join(f"{r['ratio']:.2f} vs {r['stated lower bound']:g} ({r['variant']}, alpha = {r['alpha']})"
                                   for _, r in best.iterrows()),
                         Verdict(word, "; ".join(f"alpha = {a}: {v.detail}" for a, v in vs.items())),
                         "The best variant per alpha at the largest L and M (A_max / H-SF; H-SF >= OPT, so a "
                         "reached bound is reached against OPT too). Per alpha: "
                         + "; ".join(f"{a}: {v.word}" for a, v in vs.items()) + "."))
        over = lim[lim["ratio"] > [float(amax_upper(1 / float(a.split('/')[1]))) for a in lim["alpha"]]]
        worst_small = _small_worst(num, "amax")
        adv = max((v for k in ADV_DIRS if (v := _adv_worst(num, "amax", key=k)) is not None), default=None)
        parts = [f"{r.ratio:.2f} ({r.variant}, alpha = {r.alpha}) above {float(amax_upper(1 / float(r.alpha.split('/')[1]))):g}"
                 for r in over.itertuples()]
        big = lim.loc[(lim["ratio"] / [float(amax_upper(1 / float(a.split('/')[1]))) for a in lim["alpha"]]).idxmax()]
        up = float(amax_upper(1 / float(big["alpha"].split("/")[1])))
        v = (Verdict("contradicted", "; ".join(parts) + " (against H-SF >= OPT)") if parts else
             verdict_upper_bound(float(big["ratio"]), up, f"A_max / H-SF, {big['variant']}, alpha = {big['alpha']}"))
        out.append(Claim("A_max upper bound alpha^-1 (1 + alpha^-1) / 2 + O(1/M)", "amax-fluid; small instances with "
                         "proven optima (no intervals)",
                         f"{big['ratio']:.2f} vs {up:g} ({big['variant']}, alpha = {big['alpha']})", v,
                         f"Small instances (no intervals, alpha = 1 / max(M - s_i)): worst A_max / OPT "
                         f"{_fmt(worst_small)} (cr-small), {_fmt(adv)} (adversarial searches, {_adv_extent(num)})."))
    return out


def sf_claim(num: dict) -> Optional[Claim]:
    fam = num.get("sf_families")
    if fam is None:
        return None
    blk = fam[(fam["family"] == "blockers") & (fam["alg"] == "SF")].sort_values("M")
    pts = [(int(r.M), float(r.ratio_lb)) for r in blk.itertuples() if r.M >= 16]
    v = verdict_sf_lower(pts)
    seed = fam[(fam["family"] == "seed") & (fam["alg"] == "SF")].iloc[-1]
    opt_txt = ""
    if "sf_opt" in num:
        mc = num["sf_opt"]
        mc = mc[(mc["algorithm"] == "mcsf") & (mc["denominator"] == "proven-optimum")]
        opt_txt = (" Against proven optima (small M): SF / OPT = "
                   + ", ".join(f"{r.alg}/{r.opt} = {r.ratio:.3f} (M = {r.M})" for r in mc.itertuples()) + ".")
    para = (f"The seed's family does not show it (SF / witness {seed['ratio_lb']:.3f} at M = {int(seed['M'])}, "
            f"claimed {seed['claimed']:.3f}); the blocker family does: SF / witness (validated witness, so a "
            "certified lower bound on SF / OPT) = " + ", ".join(f"{r:.2f} (M = {M})" for M, r in pts)
            + f"; FCFS = SF there.{opt_txt} Adversarial worst FCFS / OPT {_fmt(_adv_worst(num, 'fcfs'))}, "
            f"MC-SF / OPT {_fmt(_adv_worst(num, 'mcsf'))} (n <= 6, M <= 16, all arrivals 0).")
    M, r = pts[-1] if pts else (None, None)
    return Claim("SF, FCFS are Omega(sqrt M) with heterogeneous prompts", f"blocker family M <= {M}",
                 f"SF / witness = {r:.3f} at M = {M} vs (2/13) sqrt(M) = {2 / 13 * np.sqrt(M):.3f}" if pts else "",
                 v, para)


def claims(num: dict) -> list:
    out = [sorted_f_claim(num), rayleigh_claim(num), readings_claim(num), *amin_claims(num), load_claim(num),
           amin_ties_claim(num),
           *amax_claims(num),
           sf_claim(num)]
    return [c for c in out if c is not None]


# ---------------------------------------------------------------------- best lower bounds
def lower_bounds(num: dict) -> pd.DataFrame:
    """Per algorithm: every certified lower bound on ALG / OPT the measurements give (a validated
    ALG schedule over a proven optimum, a validated witness, or H-SF's validated schedule, which
    is >= OPT), with how it was found; the largest first."""
    rows = []

    def add(alg, value, how, n=None, M=None, arrivals=False):
        if value is not None and not pd.isna(value):
            rows.append({"algorithm": alg, "arrivals": "with arrivals" if arrivals else "all at 0",
                         "lower bound on ALG / OPT": float(value), "how found": how, "n": n, "M": M})

    groups = {"Sorted-F": "sorted-f", "SF (MC-SF)": "mcsf", "FCFS": "fcfs", "A_min/W": "amin/W",
              "A_min/V1": "amin/V1", "A_max": "amax"}
    for alg, prefix in groups.items():
        add(alg, _small_worst(num, prefix), f"cr-small: proven optimum (n <= {_small_n(num)})")
        add(alg, _small_worst(num, prefix, "Poisson"), "cr-small, Poisson arrivals: proven optimum", arrivals=True)
        for key, what in (("worst", "adversarial search"), ("seeded", "seeded adversarial search"),
                          ("reach", "adversarial search at n <= 14")):
            top = num.get(key, {}).get("top")
            if top is None:
                continue
            for arrivals in (False, True):
                part = top[top["heuristic"].str.startswith(prefix) & (top["arrivals"] == arrivals)]
                if not part.empty:
                    r = part.loc[part["ratio"].idxmax()]
                    add(alg, r["ratio"], f"{what}{' with arrival moves' if arrivals else ''}: proven optimum "
                        f"([{r['file']}]({ADV_DIRS[key]}{r['file']}))",
                        int(r["n"]), int(r["M"]), arrivals)
    st = num.get("stagger")
    if st is not None and st["certified"].any():
        r = st[st["certified"]].sort_values("ratio").iloc[-1]
        add("Sorted-F", r["ratio"], "stagger family: validated witness", int(r["n"]), None)
    fam = num.get("sf_families")
    if fam is not None:
        for alg, name in (("SF (MC-SF)", "SF"), ("FCFS", "FCFS")):
            blk = fam[(fam["family"] == "blockers") & (fam["alg"] == name)]
            if not blk.empty:
                r = blk.loc[blk["ratio_lb"].idxmax()]
                add(alg, r["ratio_lb"], "blocker family: validated witness (heterogeneous prompts)", int(r["n"]), int(r["M"]))
    af = num.get("amin_fluid")
    if af is not None:
        s = af["summary"]
        for reading, alg in (("W", "A_min/W"), ("V1", "A_min/V1")):
            part = s[s["reading"] == reading]
            if not part.empty:
                r = part.loc[part["ratio mean"].idxmax()]
                add(alg, r["ratio mean"], f"amin-fluid u = {int(r['u'])}, L = {int(r['L'])}, mean over "
                    f"{int(r['seeds'])} tie seeds (each over H-SF's validated schedule, >= OPT)", int(r["n"]), int(r["M"]))
    al = num.get("amin_load")
    if al is not None:
        s = al["summary"]
        for reading, alg in (("W", "A_min/W"), ("V1", "A_min/V1")):
            part = s[s["reading"] == reading]
            if not part.empty:
                r = part.loc[part["ratio mean"].idxmax()]
                add(alg, r["ratio mean"], f"amin-fluid-load u = {int(r['u'])}, L = 12, load {int(r['rho'])}, mean over "
                    f"{int(r['seeds'])} tie seeds (over H-SF, >= OPT)", int(r["n"]), int(r["M"]))
    xf = num.get("amax_fluid")
    if xf is not None:
        s = xf["summary"]
        s = s[s["variant"].str.startswith("reuse")]  # the default reading (freed memory reused)
        r = s.loc[s["ratio mean"].idxmax()]
        add("A_max", r["ratio mean"], f"amax-fluid alpha = {r['alpha']}, L = {int(r['L'])}, {r['variant']} (mean over "
            f"{int(r['seeds'])} seeds; over H-SF, >= OPT)", int(r["n"]), int(r["M"]))
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["algorithm"] = pd.Categorical(df["algorithm"], list(groups), ordered=True)
    return df.sort_values(["algorithm", "arrivals", "lower bound on ALG / OPT"],
                          ascending=[True, True, False]).reset_index(drop=True)


# ---------------------------------------------------------------------- render
def claims_table(cs: list) -> list:
    return ["| claim | regime tested | strongest evidence (number, against what) | verdict |", "|---|---|---|---|",
            *(f"| {c.claim} | {c.regime} | {c.evidence} | **{c.verdict.word}** ({c.verdict.detail}) |" for c in cs)]


def measurements(num: dict) -> list:
    out = ["# Measurements", ""]
    lb = lower_bounds(num)
    if not lb.empty:
        best = lb.groupby(["algorithm", "arrivals"], observed=True).head(1)
        out += ["## 0. Best known lower bounds on the competitive ratios", "",
                "Every entry is certified: a validated schedule of the algorithm over a proven optimum, over a "
                "validated witness schedule, or over H-SF's validated schedule (H-SF >= OPT); for the randomised "
                "A_min / A_max the mean over tie seeds (each seed's ratio is certified). Lower bounds on one "
                "instance each, so on the ratio sup ALG / OPT; none is asymptotic. Best per algorithm:", "",
                *_table(best, 4), "", "<details><summary>All sources</summary>", "", *_table(lb, 4), "",
                "</details>", ""]
    if "rayleigh" in num:
        df = num["rayleigh"]["table"]
        sel = df[df["u"].isin([1, 2, 3, 5, 10, 100, 1000, 3000])][["u", "ln_u", "cr", "method", "abs_diff"]]
        out += ["## 1. CR(A_min): the Rayleigh quotient", "",
                "`results/theory/rayleigh.csv` (`python3 -m kvsched.experiments.theory_curves`; all rows, the fit and "
                "the maximisers in [theory/rayleigh.md](theory/rayleigh.md)). `abs_diff`: |eigenvalue - orthant maximum|.",
                "", *_table(sel.rename(columns={"ln_u": "ln u", "cr": "CR(u)"}), 6), "",
                "![CR(u) against ln u](theory/rayleigh.png)", ""]
    if "amin_fluid" in num:
        af = num["amin_fluid"]
        lim = amin_limits(af["summary"])
        out += ["## 2. A_min in the fluid regime (`results/amin-fluid/`)", "",
                f"`{af['meta'].get('command', 'kvsched experiment amin-fluid')}` (git {str(af['meta'].get('git_commit'))[:12]}; "
                f"{af.get('task_time', 0):.0f} s of task time in results.csv, on 2 cores shared with other jobs). "
                f"{af['meta'].get('description', '')} Ratio = A_min TEL / H-SF "
                "TEL (H-SF >= OPT). Below: the largest L and M per (u, reading); drifts are the relative change over "
                "the last M doubling and from the second-largest L. All rows: "
                "[amin-fluid/summary.md](amin-fluid/summary.md).", "", *_table(lim, 4), "",
                "![convergence in M per L](amin-fluid/convergence.png)", "",
                "![ratio at the largest M against L](amin-fluid/limit.png)", ""]
    if "amin_load" in num:
        al = num["amin_load"]
        out += ["Load (`results/amin-fluid-load/`, "
                f"`{al['meta'].get('command', 'kvsched experiment amin-fluid-load')}`, {al.get('task_time', 0):.0f} s of task time; "
                "rho = n1 / m_factor, the rho = 60 column from amin-fluid): A_min / H-SF, mean over the tie seeds.", "",
                *_table(load_limits(al["summary"]), 4), ""]
    if "amax_fluid" in num:
        af = num["amax_fluid"]
        out += ["## 3. A_max on its lower-bound family, scaled lengths (`results/amax-fluid/`)", "",
                f"`{af['meta'].get('command', 'kvsched experiment amax-fluid')}` (git {str(af['meta'].get('git_commit'))[:12]}; "
                f"{af.get('task_time', 0):.0f} s of task time in results.csv). {af['meta'].get('description', '')} "
                "All rows: "
                "[amax-fluid/summary.md](amax-fluid/summary.md).", "", *_table(amax_limits(af["summary"]), 4), "",
                "![A_max convergence](amax-fluid/convergence.png)", ""]
    if "amax_bench" in num:
        out += ["Earlier measurement at l = 10 (`python3 -m kvsched.experiments.bench_online`, "
                "[bench_online.md](bench_online.md)): the closed-form limits of the batch model.", "",
                *_table(num["amax_bench"]), ""]
    if "amin_ties" in num:
        at = num["amin_ties"]
        df = at["df"]
        df = df.assign(reading=df["convention"] + df.get("order", pd.Series("admit-first", index=df.index))
                       .map({"admit-first": "", "resolve-first": " RF"}))
        piv = df.pivot_table(index="u", columns=["reading", "ties"], values="ratio").sort_index()
        piv.columns = [f"{c} {t}" for c, t in piv.columns]
        cols = [c for c in piv.columns if c.split()[-1] in ("random", "longs-first")]
        tab = piv[cols].reset_index()
        tab.insert(1, "CR(u)", df.groupby("u")["cr"].first().values)
        out += ["## 4. A_min tie rules at L = 1 (`results/theory-checks/amin_fluid.csv`)", "",
                f"`{at['meta'].get('command')}` ({at['meta'].get('wall_time_s', 0):.0f} s): lengths 1..u, s = 1, "
                f"M = {at['meta'].get('m_factor')} (s + u), {at['meta'].get('n1')} requests of length 1; random ties "
                f"(seeds {at['meta'].get('seeds')}) and the adversary's order (longest true length first among equal "
                "estimates). At L = 1 a length-1 request's prompt doubles its memory, so these are not the fluid "
                "regime of section 2.", "", *_table(tab, 4), ""]
    if "cr_small" in num:
        cs = num["cr_small"]
        s = cs["summary"]
        out += ["## 5. Empirical ratios on small instances (`cr-small`)", "",
                f"[cr-small/{cs['sub'] + '/' if cs['sub'] else ''}results.csv](cr-small/{cs['sub'] + '/' if cs['sub'] else ''}"
                f"results.csv) ({cs['mode']} mode). `proven-optimum`: against an optimum proven in that run (certified "
                "ratio); `H-SF`: against H-SF on the large instances (a lower bound on ALG / OPT). Online policies on "
                "the small families see no intervals ([1, M - s_i]).", "",
                *_table(s.drop(columns=[c for c in s.columns if c.startswith("upper end")])), ""]
    for key, title in (("worst", "6. Adversarial search (`results/worst/`)"),
                       ("seeded", "7. Seeded adversarial search (`results/worst/seeded/`)"),
                       ("reach", "7b. Adversarial search at n <= 14 (`results/worst/reach/`)")):
        if key not in num:
            continue
        w = num[key]
        top = w["top"].copy()
        sub = ADV_DIRS[key]
        top["ALG / OPT"] = top["alg"].astype(str) + " / " + top["opt"].astype(str)
        top["file"] = top["file"].map(lambda f, sub=sub: f"[{f}]({sub}{f})")
        cols = [c for c in ("heuristic", "seed", "arrivals", "start", "ratio", "ALG / OPT", "n", "M", "iteration", "file")
                if c in top.columns]
        meta = w["meta"]
        st = meta.get("settings", {})
        out += [f"## {title}", "",
                f"`{meta.get('command')}`{_wall(meta)}: seeded local search, n <= "
                f"{st.get('n_range', [0, '?'])[1]}, M <= {st.get('M_range', [0, '?'])[1]}, "
                f"{st.get('iterations')} iterations per run, ALG / OPT with OPT proven (exhaustive oracle / certify); "
                "re-verify with `kvsched adversarial verify FILE` or `kvsched certify FILE`.", "",
                *_table(top[cols], 4), ""]
    if "stagger" in num:
        st = num["stagger"]
        out += ["## 8. Sorted-F stagger family ([theory/families.md](theory/families.md))", "",
                "Identical requests (1, L), M = k (L + 1); `certified`: Sorted-F's schedule and the witness were "
                "validated (n <= 4,000); other rows come from the batch formula and `stagger_prediction`.", "",
                *_table(st[["L", "k", "batches", "n", "Sorted-F / witness", "certified"]]), ""]
    return out


def render(num: dict, stamp: Optional[str] = None) -> str:
    cs = claims(num)
    stamp = stamp or f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    head = ["# Competitive-ratio claims: theory and measurement", "",
            f"Generated by `python3 -m kvsched.experiments.theory_report report` from committed measurement files on "
            f"{stamp}; each section below names the command that produced its input. OPT is only ever a proven "
            "optimum (incumbent = rounded-up bound); ratios against H-SF are labelled as such (H-SF >= OPT).", "",
            f"Thresholds: an upper bound is contradicted only by a measured ratio above it; a limit reproduces a "
            f"formula within {REL_TOL:.0%} once the last step of its sequence moves it by less than {DRIFT:.0%}; "
            f"A_max reaches its stated lower bound at >= {1 - AMAX_TOL:.0%} of it; CR(u) is logarithmic when "
            f"a + b ln u fits within {LOG_RESIDUAL} on u >= 20.", "",
            *claims_table(cs), ""]
    for c in cs:
        head += [f"**{c.claim}.** {c.paragraph} Verdict: **{c.verdict.word}** ({c.verdict.detail}).", ""]
    return "\n".join(head + measurements(num)) + "\n"


def write_report(path=None, results_dir=None) -> Path:
    num = collect(results_dir)
    path = Path(path) if path else Path(results_dir or paths.results_dir()) / "theory.md"
    path.write_text(render(num))
    return path
