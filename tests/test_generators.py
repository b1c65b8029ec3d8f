"""Instance families: reproducible from the seed, parameter ranges, the partition family's
known optimum (checked by an exact search here), and the ``generate`` CLI."""

import json
from functools import lru_cache

import numpy as np
import pytest
from helpers import run_cli

from kvsched import heuristics
from kvsched.generators import FAMILIES, GeneratorError, generate, known_optimum
from kvsched.instance import Instance
from kvsched.io import read_instance
from kvsched.validator import validate

SIZES = {"random": 12, "tiny": 6, "jaillet": None, "partition": 9, "sf-lower-bound": None}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_same_seed_same_instance_other_seed_other(family):
    a, b, c = (generate(family, SIZES[family], seed) for seed in (7, 7, 8))
    assert a.digest == b.digest and a.name == b.name
    if family == "sf-lower-bound":  # deterministic by definition
        assert c.digest == a.digest
    else:
        assert c.digest != a.digest


def test_random_family_ranges():
    insts = [generate("random", 200, seed) for seed in range(5)]
    s = np.concatenate([i.s for i in insts])
    o = np.concatenate([i.o for i in insts])
    assert all(i.M == 40 and i.n == 200 and i.all_at_zero for i in insts)
    assert s.min() == 1 and s.max() == 11 and o.min() == 1 and o.max() == 11
    assert set(np.unique(s)) == set(range(1, 12))


def test_random_poisson_arrivals():
    inst = generate("random", 2000, 0, rate=0.5)
    a = inst.a
    assert a[0] == 0 and np.all(np.diff(a) >= 0)
    # 1999 exponential gaps of mean 2: the last arrival is 3998 +- 89 (one std)
    assert 3600 <= a[-1] <= 4400


def test_jaillet_model1_ranges_over_many_seeds():
    insts = [generate("jaillet", None, seed) for seed in range(200)]
    Ms, ns = [i.M for i in insts], [i.n for i in insts]
    assert min(Ms) == 30 and max(Ms) == 50 and min(ns) == 40 and max(ns) == 60
    for inst in insts:
        (s,) = set(inst.prompts)  # one prompt size per instance
        assert 1 <= s <= 5 and inst.all_at_zero
        assert min(inst.outputs) >= 1 and max(inst.outputs) <= inst.M - s
    assert {next(iter(set(i.prompts))) for i in insts} == {1, 2, 3, 4, 5}
    assert generate("jaillet", 10, 3).n == 10  # n given for model 1 is used
    assert generate("jaillet", None, 3, M=100).M == 100


def test_jaillet_model2_poisson_arrivals():
    insts = [generate("jaillet", None, seed, model=2) for seed in range(200)]
    for inst in insts:
        a = inst.a
        assert a[0] >= 0 and a[-1] <= 59 and np.all(np.diff(a) >= 0)
        assert 30 <= inst.M <= 50 and len(set(inst.prompts)) == 1
    mean_n = np.mean([i.n for i in insts])
    assert 45 <= mean_n <= 55  # E[rate] * E[horizon] = 1.0 * 50
    assert len({i.n for i in insts}) > 20
    with pytest.raises(GeneratorError, match="n is random"):
        generate("jaillet", 50, 0, model=2)


# ------------------------------------------------------------------ partition family
def exact_tct_unit_outputs(inst: Instance) -> int:
    """Exact optimum for o_i = 1, all at 0, by a DP over subsets independent of the
    generator's argument: each round completes a set S with sum (s_i + 1) <= M, and
    TCT = sum over rounds of the number of requests not yet done, so
    g(R) = |R| + min over feasible nonempty S in R of g(R minus S)."""
    assert set(inst.outputs) == {1} and inst.all_at_zero
    w = [s + 1 for s in inst.prompts]
    n = len(w)
    load = [sum(w[i] for i in range(n) if mask >> i & 1) for mask in range(1 << n)]

    @lru_cache(maxsize=None)
    def g(rest: int) -> int:
        if rest == 0:
            return 0
        best, sub = None, rest
        while sub:
            if load[sub] <= inst.M:
                v = g(rest & ~sub)
                best = v if best is None or v < best else best
            sub = (sub - 1) & rest
        return bin(rest).count("1") + best

    return g((1 << n) - 1)


@pytest.mark.parametrize("m, seed", [(1, 0), (2, 0), (2, 1), (3, 0), (3, 5), (4, 2)])
def test_partition_optimum_by_exact_search(m, seed):
    inst = generate("partition", 3 * m, seed)
    opt = 3 * m * (m + 1) // 2
    assert known_optimum(inst) == opt and inst.name.endswith(f"opt{opt}")
    assert all(inst.M < 4 * (s + 1) < 2 * inst.M for s in inst.prompts)  # strictly in (M/4, M/2)
    assert exact_tct_unit_outputs(inst) == opt
    mcsf = heuristics.run("mcsf", inst)
    assert validate(inst, mcsf.schedule).feasible and mcsf.objective >= opt


def test_partition_no_instance_is_not_claimed():
    # w = 11, 11, 11, 14, 14, 19: in (10, 20), sum 80 = 2 * 40, but no triple with 19 sums to 40
    no = Instance(40, (10, 10, 10, 13, 13, 18), (1,) * 6)
    assert known_optimum(no) is None
    assert exact_tct_unit_outputs(no) > 9  # the bound 3m(m+1)/2 = 9 is not attained
    assert known_optimum(generate("random", 9, 0)) is None
    big = generate("partition", 30, 4, M=100)
    assert big.n == 30 and known_optimum(big) == 165


def test_partition_rejects_bad_n_and_M():
    with pytest.raises(GeneratorError, match="n must be a multiple of 3"):
        generate("partition", 10, 0)
    for M in (3, 5, 8):  # M = 8: only 3 lies in (2, 4) and 3 + 3 + 3 != 8
        with pytest.raises(GeneratorError, match=f"M = {M} admits no triple"):
            generate("partition", 6, 0, M=M)
    assert generate("partition", 6, 0, M=6).prompts == (1,) * 6  # w = 2 + 2 + 2


# ------------------------------------------------------------------ other families
def test_sf_lower_bound_family():
    inst = generate("sf-lower-bound", None, 0, M=16)
    assert inst.n == 16 + 64 and inst.M == 16 and inst.all_at_zero
    assert inst.prompts == (3,) * 16 + (1,) * 64 and inst.outputs == (1,) * 16 + (2,) * 64
    assert generate("sf-lower-bound", 100 + 1000, 0, M=100).n == 1100
    with pytest.raises(GeneratorError, match="perfect square"):
        generate("sf-lower-bound", None, 0, M=15)
    with pytest.raises(GeneratorError, match="n is derived"):
        generate("sf-lower-bound", 50, 0, M=16)


def test_sf_lower_bound_ratio_matches_spec_reference():
    """docs/model.md §7.2: under the model of §1, SF / (type 2 first) is only 1.10 at M = 100."""
    from kvsched.heuristics.engine import admission_schedule

    inst = generate("sf-lower-bound", None, 0, M=100)
    sf = validate(inst, admission_schedule(inst, lambda i: (inst.outputs[i], i)))
    type2_first = validate(inst, admission_schedule(inst, lambda i: (-inst.outputs[i], i)))
    assert sf.feasible and type2_first.feasible
    assert round(sf.tct / type2_first.tct, 2) == 1.10


def test_tiny_family_fits_the_oracle():
    for seed in range(30):
        inst = generate("tiny", None, seed)
        assert inst.n == 5 and inst.M == 10 and max(inst.s + inst.o) <= 9
    assert generate("tiny", 7, 0).n == 7
    with pytest.raises(GeneratorError, match="n must be in 1..7"):
        generate("tiny", 8, 0)


def test_unknown_family_or_option():
    with pytest.raises(GeneratorError, match="unknown family 'nope'"):
        generate("nope", 5, 0)
    with pytest.raises(GeneratorError, match=r"takes no option\(s\) \['model'\]"):
        generate("random", 5, 0, model=2)


# ------------------------------------------------------------------ CLI
def test_generate_cli_writes_a_valid_file(tmp_path):
    out = tmp_path / "p.json"
    r = run_cli("generate", "partition", "--n", 9, "--seed", 4, "--out", out)
    assert r.returncode == 0, r.stderr
    inst = read_instance(out)
    assert inst.digest == generate("partition", 9, 4).digest and known_optimum(inst) == 18
    assert inst.name == "partition-m3-seed4-opt18"
    r = run_cli("generate", "jaillet", "--model", "2", "--seed", 3)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data["requests"]) == generate("jaillet", None, 3, model=2).n


@pytest.mark.parametrize("args, message", [
    (["partition", "--n", "7"], "n must be a multiple of 3"),
    (["random", "--n", "5", "--model", "2"], "takes no option(s) ['model']"),
    (["sf-lower-bound", "--M", "20"], "perfect square"),
])
def test_generate_cli_rejects_bad_args_with_one_line(args, message):
    r = run_cli("generate", *args)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


# ------------------------------------------------------------------ family parameters as flags
def test_random_defaults_fit_a_small_M():
    """M = 20: the default ranges shrink to s 1..10 (M // 2), o 1..10 (M - s_max); with M = 40
    they are the family's 1..11 and the instance is the one of the old generator."""
    inst = generate("random", 400, 0, M=20)
    assert max(inst.prompts) == 10 and max(inst.outputs) == 10 and min(inst.prompts) == min(inst.outputs) == 1
    assert generate("random", 30, 5, M=40, s_min=1, s_max=11).digest == generate("random", 30, 5).digest


def test_ranges_and_arrival_model_are_parameters():
    inst = generate("random", 300, 1, M=30, s_min=3, s_max=5, o_min=7, o_max=9)
    assert set(inst.prompts) == {3, 4, 5} and set(inst.outputs) == {7, 8, 9}
    assert generate("random", 50, 2, arrivals="poisson", rate=0.5).digest == generate("random", 50, 2, rate=0.5).digest
    t = generate("tiny", 7, 0, M=6)
    assert max(t.prompts) <= 3 and max(t.outputs) <= 3  # min(4, 6 // 2), min(5, 6 - 3)


@pytest.mark.parametrize("kw, message", [
    ({"M": 20, "s_max": 15, "o_max": 10}, "s_max + o_max = 25 exceeds M = 20"),
    ({"s_min": 0}, "s_min must be >= 1"),
    ({"o_min": 9, "o_max": 4}, "o_max = 4 is below o_min = 9"),
    ({"arrivals": "poisson"}, "Poisson arrivals need a rate"),
    ({"arrivals": "zero", "rate": 1.0}, "a rate (1) was given with arrivals 'zero'"),
])
def test_bad_family_parameters_name_the_field(kw, message):
    with pytest.raises(GeneratorError) as exc:
        generate("random", 5, 0, **kw)
    assert message in str(exc.value)


def test_jaillet_rate_horizon_and_prompt_range():
    inst = generate("jaillet", None, 4, model=2, rate=2.0, horizon=10, s_min=2, s_max=2)
    assert set(inst.prompts) == {2} and max(inst.arrivals) <= 9 and inst.n > 5
    same = generate("jaillet", None, 4, model=2)
    drawn_t = int(same.name.split("-T")[1].split("-")[0])  # giving the drawn horizon changes nothing
    assert generate("jaillet", None, 4, model=2, horizon=drawn_t).digest == same.digest
    assert generate("jaillet", None, 4, model=2, horizon=drawn_t + 5).digest != same.digest
    with pytest.raises(GeneratorError, match="need --model 2"):
        generate("jaillet", None, 0, rate=1.0)


def test_generate_cli_random_n6_M20(tmp_path):
    out = tmp_path / "r.json"
    r = run_cli("generate", "random", "--n", 6, "--M", 20, "--out", out)
    assert r.returncode == 0, r.stderr
    assert read_instance(out).digest == generate("random", 6, 0, M=20).digest
    r = run_cli("generate", "random", "--n", 6, "--M", 20, "--s-min", 2, "--s-max", 4, "--o-max", 3,
                "--arrivals", "poisson", "--rate", 0.5)
    assert r.returncode == 0, r.stderr
    reqs = json.loads(r.stdout)["requests"]
    assert all(2 <= q["prompt"] <= 4 and q["output"] <= 3 for q in reqs) and any(q.get("arrival", 0) > 0 for q in reqs)
    r = run_cli("generate", "random", "--n", 6, "--M", 20, "--s-max", 15, "--o-max", 10)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "s_max + o_max = 25 exceeds M = 20" in r.stderr
