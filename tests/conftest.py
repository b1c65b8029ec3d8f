import json

import pytest
from helpers import EXACT_SOLVERS, WORKED


def pytest_addoption(parser):
    parser.addoption("--solvers", default=",".join(EXACT_SOLVERS),
                     help=f"comma-separated exact solvers the per-solver tests run with (default: all of "
                          f"{','.join(EXACT_SOLVERS)})")


def selected_solvers(config) -> list:
    names = [name for name in config.getoption("solvers").split(",") if name]
    unknown = sorted(set(names) - set(EXACT_SOLVERS))
    if unknown or not names:
        raise pytest.UsageError(f"--solvers: unknown {unknown or 'empty list'}; known: {', '.join(EXACT_SOLVERS)}")
    return names


def pytest_generate_tests(metafunc):
    """A test that takes ``solver`` runs once per solver of ``--solvers`` (as PyJobShop does)."""
    if "solver" in metafunc.fixturenames:
        metafunc.parametrize("solver", selected_solvers(metafunc.config))


@pytest.fixture
def worked():
    return WORKED


@pytest.fixture
def write_json(tmp_path):
    def _write(obj, name="f.json"):
        p = tmp_path / name
        p.write_text(json.dumps(obj))
        return str(p)
    return _write


@pytest.fixture(scope="session")
def optima():
    """The brute-force optimum of every ``agreement_instance(seed)``, seed 0..49."""
    from helpers import agreement_instance

    from kvsched import models

    return {seed: models.solve("brute", agreement_instance(seed)) for seed in range(50)}
