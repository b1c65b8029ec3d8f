"""Instance construction, rejection messages and JSON I/O."""

import json

import numpy as np
import pytest

from kvsched import Instance, InstanceError, read_instance, write_instance
from kvsched.io import instance_from_dict


def make(**kw):
    base = dict(M=10, prompts=(2, 3), outputs=(4, 5))
    base.update(kw)
    return Instance(**base)


@pytest.mark.parametrize("kw, message", [
    (dict(prompts=(2, 0)), "request 1: field 'prompt' must be >= 1, got 0"),
    (dict(outputs=(0, 5)), "request 0: field 'output' must be >= 1, got 0"),
    (dict(arrivals=(0, -1)), "request 1: field 'arrival' must be >= 0, got -1"),
    (dict(lowers=(5, None), uppers=(4, None)), "request 0: field 'lower' = 5 exceeds field 'upper' = 4"),
    (dict(lowers=(0, None)), "request 0: field 'lower' must be >= 1, got 0"),
    (dict(prompts=(2, 6)), "request 1: field 'prompt'+'output' = 6 + 5 = 11 exceeds M = 10"),
    (dict(prompts=(2.5, 3)), "request 0: field 'prompt' must be an integer, got 2.5"),
    (dict(outputs=(4, 5.0)), "request 1: field 'output' must be an integer, got float 5.0"),
    (dict(prompts=(True, 3)), "request 0: field 'prompt' must be an integer, got True"),
    (dict(arrivals=(0, "1")), "request 1: field 'arrival' must be an integer, got '1'"),
    (dict(M=0), "field 'M' must be >= 1, got 0"),
    (dict(M=10.5), "field 'M' must be an integer"),
    (dict(prompts=(), outputs=()), "the instance is empty"),
])
def test_rejections_name_field_and_request(kw, message):
    with pytest.raises(InstanceError) as exc:
        make(**kw)
    assert message in str(exc.value)


def test_json_rejections():
    with pytest.raises(InstanceError, match="field 'M' is missing"):
        instance_from_dict({"requests": [{"prompt": 1, "output": 1}]})
    with pytest.raises(InstanceError, match="request 0: field 'output' is missing"):
        instance_from_dict({"M": 5, "requests": [{"prompt": 1}]})
    with pytest.raises(InstanceError, match=r"request 1: unknown field\(s\) \['outptu'\]"):
        instance_from_dict({"M": 5, "requests": [{"prompt": 1, "output": 1}, {"prompt": 1, "output": 1, "outptu": 1}]})
    with pytest.raises(InstanceError, match="instance is empty"):
        instance_from_dict({"M": 5, "requests": []})


def test_numpy_integers_accepted_and_views_readonly():
    inst = Instance(np.int64(10), tuple(np.array([2, 3])), (4, 5))
    assert inst.M == 10 and inst.prompts == (2, 3)
    assert type(inst.prompts[0]) is int
    assert inst.s.tolist() == [2, 3]
    with pytest.raises(ValueError):
        inst.s[0] = 7


def test_json_round_trip_and_digest(tmp_path):
    inst = Instance(40, (3, 1), (5, 2), arrivals=(0, 4), lowers=(1, None), uppers=(9, None))
    p = tmp_path / "i.json"
    write_instance(inst, p)
    data = json.loads(p.read_text())
    assert data == {"M": 40, "requests": [{"prompt": 3, "output": 5, "lower": 1, "upper": 9},
                                          {"prompt": 1, "output": 2, "arrival": 4}]}
    back = read_instance(p)
    assert back == inst and back.digest == inst.digest
    assert Instance(40, (3, 1), (5, 3)).digest != inst.digest


def test_read_instance_bad_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{nope")
    with pytest.raises(InstanceError, match="not valid JSON"):
        read_instance(p)
