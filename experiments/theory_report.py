"""``results/theory.md``: the competitive-ratio claims against what was measured.

The measuring steps (:mod:`experiments.theory_measure`) write committed files; the report
(:mod:`experiments.theory_render`) is rebuilt from those files only:

    python3 -m kvsched.experiments.theory_report measure-amin [--n1 3000 --m-factor 200]
        A_min / H-SF on the L = 1 fluid instances for u = 2..10, every order, convention and tie
        rule -> results/theory-checks/amin_fluid.csv
    python3 -m kvsched.experiments.theory_report measure-amin-load
        the same with random ties for u = 2, 4 at several loads -> results/theory-checks/amin_load.csv
    python3 -m kvsched.experiments.theory_report measure-sf
        SF, FCFS, Sorted-F against the proven optimum on the blocker family, M = 4..36
        -> results/theory-checks/sf_blockers_opt.csv
    python3 -m kvsched.experiments.theory_report adversarial [--iterations 1500]
        the adversarial search for every heuristic -> results/worst/*.json, results/worst/index.csv
    python3 -m kvsched.experiments.theory_report seeded [--iterations 300]
        the search started from structured families and earlier worst instances, with restarts
        from them -> results/worst/seeded/
    python3 -m kvsched.experiments.theory_report reach [--iterations 1500 --seeds 7 8 9]
        the search at n <= 14, M <= 24 (OPT from the exact search), certify in deterministic
        mode, for several seeds -> results/worst/reach/
    kvsched experiment amin-fluid ; kvsched experiment amax-fluid
        the fluid-regime sweeps -> results/amin-fluid/, results/amax-fluid/
    python3 -m kvsched.experiments.theory_report report
        -> results/theory.md
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> None:
    from . import theory_measure as tm
    from .theory_render import write_report

    ap = argparse.ArgumentParser(prog="python3 -m kvsched.experiments.theory_report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="step", required=True)
    m = sub.add_parser("measure-amin")
    m.add_argument("--n1", type=int, default=3000)
    m.add_argument("--m-factor", type=int, default=200)
    sub.add_parser("measure-amin-load")
    sub.add_parser("measure-sf")
    a = sub.add_parser("adversarial")
    a.add_argument("--iterations", type=int, default=1500)
    a.add_argument("--labels", nargs="*")
    sd = sub.add_parser("seeded")
    sd.add_argument("--iterations", type=int, default=300)
    sd.add_argument("--labels", nargs="*")
    rc = sub.add_parser("reach")
    rc.add_argument("--iterations", type=int, default=1500)
    rc.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    rc.add_argument("--labels", nargs="*")
    rc.add_argument("--n-max", type=int, default=14)
    rc.add_argument("--M-max", type=int, default=24)
    sub.add_parser("report")
    args = ap.parse_args(argv)
    if args.step == "measure-amin":
        print(tm.measure_amin(args.n1, args.m_factor))
    elif args.step == "measure-amin-load":
        print(tm.measure_amin_load())
    elif args.step == "measure-sf":
        print(tm.measure_sf_opt())
    elif args.step == "adversarial":
        print(tm.run_adversarial(args.iterations, args.labels))
    elif args.step == "seeded":
        print(tm.run_seeded(args.iterations, args.labels))
    elif args.step == "reach":
        print(tm.run_reach(args.iterations, tuple(args.seeds), args.labels, args.n_max, args.M_max))
    else:
        print(write_report())


if __name__ == "__main__":
    main(sys.argv[1:])
