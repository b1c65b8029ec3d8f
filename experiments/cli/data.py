"""``kvsched data list`` and ``kvsched data download NAME``: the public traces."""

from __future__ import annotations

import click

from ._common import emit_json, json_option


@click.group("data")
def data_group():
    """Public request traces: catalogue and checked download. Downloads are for local use:
    never commit the traces to the repository or redistribute them (licences vary)."""


@data_group.command("list")
@click.option("--long", "-l", "long_", is_flag=True, help="every field: URL, SHA-256, size, unit, licence")
@json_option
def list_cmd(long_, as_json):
    """Known traces with source and licence; LOCAL is where the file was found, if anywhere."""
    from kvsched.datasets import catalogue

    entries = [d.to_dict() for d in catalogue()]
    if long_:
        for e in entries:
            click.echo(f"{e['name']}  ({e['filename']}, {e['rows']:,} rows, {e['size']:,} bytes)")
            for key in ("unit", "licence", "source", "url", "sha256", "local"):
                click.echo(f"    {key:8} {e[key] or '-'}")
    else:
        rows = [("NAME", "ROWS", "SOURCE", "LICENCE", "LOCAL")]
        rows += [(e["name"], f"{e['rows']:,}", f"{e['repo']}@{e['commit'][:7]}", e["licence"],
                  "yes" if e["local"] else "-") for e in entries]
        widths = [max(len(r[k]) for r in rows) for k in range(4)]
        for r in rows:
            click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[4])
    if as_json:
        emit_json({"datasets": entries})


@data_group.command("download")
@click.argument("name")
@click.option("--dest", type=click.Path(file_okay=False), help="folder (default: $KVSCHED_DATA or ~/.cache/kvsched/data)")
@click.option("--url", help="fetch from this URL instead of the recorded public one (the SHA-256 is still checked)")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="network timeout in seconds")
@json_option
def download_cmd(name, dest, url, timeout, as_json):
    """Fetch trace NAME, check its SHA-256 (a mismatch deletes the file) and write it atomically."""
    from kvsched.datasets import DatasetError, download

    try:
        path, fetched = download(name, dest=dest, url=url, timeout=timeout)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'downloaded' if fetched else 'already present'}: {path} (SHA-256 checked)")
    if as_json:
        emit_json({"name": name, "path": str(path), "fetched": fetched})


COMMANDS = [data_group]
