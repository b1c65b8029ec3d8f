"""``kvsched demo``: the main job on the built-in default instance set — certify each
instance (heuristics, exact models, bounds) and print one table."""

from __future__ import annotations

import click

from kvsched.instance import Instance

from ._common import SECONDS

#: (label, family, n, seed); plus the worked instance of docs/model.md §1.8
DEFAULT_SET = [
    ("random-n6-s0", "random", 6, 0),
    ("random-n6-s1", "random", 6, 1),
    ("random-n8-s0", "random", 8, 0),
    ("random-n10-s0", "random", 10, 0),
    ("partition-m3", "partition", 9, 0),
]


def default_instances() -> list:
    from kvsched.generators import FAMILIES

    out = [("spec-worked", Instance(6, (2, 2, 2, 2), (1, 1, 2, 3)))]
    out += [(label, FAMILIES[fam](n=n, seed=seed)) for label, fam, n, seed in DEFAULT_SET]
    return out


@click.command("demo")
@click.option("--time-limit", type=SECONDS, default=20.0, show_default=True,
              help="wall-clock budget of certify per instance")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True)
def demo_cmd(time_limit, threads):
    """Certify the built-in default instances and print a table."""
    from kvsched.models.certify import certify

    header = f"{'instance':<16}{'n':>4}{'M':>5}{'FCFS':>7}{'MC-SF':>7}{'best':>7}{'bound':>9}{'gap':>8}  status   by"
    click.echo(header)
    click.echo("-" * len(header))
    for label, inst in default_instances():
        cert = certify(inst, time_limit=time_limit, threads=threads)
        by = {r.solver: r.objective for r in cert.records}
        click.echo(f"{label:<16}{inst.n:>4}{inst.M:>5}{by['fcfs']:>7}{by['mcsf']:>7}{cert.objective:>7}"
                   f"{cert.bound:>9.1f}{cert.gap:>8.4f}  {cert.status:<8} {cert.best_solver}/{cert.bound_solver}")


COMMANDS = [demo_cmd]
