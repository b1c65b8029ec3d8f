"""The exact benchmark's report on a tiny grid: its sections come from the rows it ran."""

from __future__ import annotations

from kvsched.experiments import bench_exact


def test_tiny_benchmark_reports_arrivals_and_the_paper_size_gap(tmp_path):
    out = tmp_path / "bench.md"
    bench_exact.main(["--sizes", "6", "--seeds", "2", "--poisson-sizes", "6", "--jaillet-sizes", "--jaillet-paper-seeds",
                      "1", "--search-time-limit", "2", "--time-limit", "1", "--threads", "1", "--out", str(out)])
    text = out.read_text()
    assert "| random n = 16 | 10/10, median <= 5 s | not run | not run |" in text
    # n = 6 is proven by the search with and without arrivals: the paired line counts both seeds
    assert "Median search expansions without / with arrivals" in text and "n = 6:" in text and "(2 pairs)" in text
    paper = [line for line in text.splitlines() if line.startswith("| 1 | ")]
    assert paper and "0/1" in paper[0]  # Jaillet at n ~ 40-60 is not proven in a second
    rows = (tmp_path / "bench.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 + 2 + 1
