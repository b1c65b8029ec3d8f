"""The exact benchmark's report on a tiny grid: its sections come from the rows it ran."""

from __future__ import annotations

from kvsched.experiments import bench_exact


def test_tiny_benchmark_reports_arrivals_and_the_paper_size_gap(tmp_path):
    out = tmp_path / "bench.md"
    bench_exact.main(["--sizes", "6", "--seeds", "2", "--poisson-sizes", "6", "--jaillet-sizes", "--jaillet-paper-seeds",
                      "1", "--search-time-limit", "30", "--time-limit", "1", "--threads", "1", "--out", str(out)])
    text = out.read_text()
    assert "| random n = 16 | 10/10, median <= 5 s | not run | not run |" in text
    # n = 6 is proven by the search with and without arrivals: the paired line counts both seeds
    assert "Median search expansions without / with arrivals" in text and "n = 6:" in text and "(2 pairs)" in text
    paper = [line for line in text.splitlines() if line.startswith("| 1 | ")]
    assert paper and "0/1" in paper[0]  # Jaillet at n ~ 40-60 is not proven in a second
    rows = (tmp_path / "bench.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 + 2 + 1


def test_resume_runs_only_the_missing_instances(tmp_path, monkeypatch):
    out = tmp_path / "bench.md"
    argv = ["--sizes", "5", "--seeds", "3", "--jaillet-sizes", "--search-time-limit", "30", "--time-limit", "1",
            "--threads", "1", "--out", str(out)]
    bench_exact.main(argv)
    csv_path = tmp_path / "bench.csv"
    first = bench_exact.load_rows(str(out))
    assert [(r["family"], r["n"], r["seed"]) for r in first] == [("random", 5, 0), ("random", 5, 1), ("random", 5, 2)]
    lines = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join(lines[:-1]) + "\n")  # as if the run had been cut short before seed 2
    calls = []
    real = bench_exact.one
    monkeypatch.setattr(bench_exact, "one", lambda *job: calls.append(job[:3]) or real(*job))
    bench_exact.main(argv + ["--resume"])
    assert calls == [("random", 5, 2)]
    again = bench_exact.load_rows(str(out))
    assert again[:2] == first[:2] and again[2]["objective"] == first[2]["objective"]
    assert all(isinstance(r["certified"], bool) and isinstance(r["objective"], int) for r in again)
    text = out.read_text()
    assert "(2 rows kept from an earlier run of this command)" in text and "--resume" not in text


def test_parallel_jobs_give_the_same_rows_in_job_order(tmp_path):
    argv = ["--sizes", "5", "7", "--seeds", "2", "--jaillet-sizes", "--search-time-limit", "30", "--time-limit", "1",
            "--threads", "1"]
    bench_exact.main(argv + ["--out", str(tmp_path / "one.md")])
    bench_exact.main(argv + ["--jobs", "2", "--out", str(tmp_path / "two.md")])
    one, two = (bench_exact.load_rows(str(tmp_path / name)) for name in ("one.md", "two.md"))
    assert [(r["n"], r["seed"]) for r in two] == [(5, 0), (5, 1), (7, 0), (7, 1)]
    assert [(r["objective"], r["certified"]) for r in two] == [(r["objective"], r["certified"]) for r in one]
    assert "2 instance(s) at a time" in (tmp_path / "two.md").read_text()
