"""JSON files for instances and schedules (docs/model.md §2.1, §2.2)."""

from __future__ import annotations

import json
from pathlib import Path

from .instance import Instance, InstanceError
from .schedule import Schedule, ScheduleError

#: instance and schedule files above this size are refused before reading (JSON parsing
#: needs several times the file size in memory; 256 MiB is about 8 million requests)
MAX_FILE_BYTES = 256 * 2**20


def _check_size(path: Path, error) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        return  # reading reports the problem
    if size > MAX_FILE_BYTES:
        raise error(f"{path}: {size / 2**20:.0f} MiB is above the {MAX_FILE_BYTES // 2**20} MiB limit of "
                    "instance and schedule files (about 8 million requests); split the instance")


def instance_from_dict(data) -> Instance:
    if not isinstance(data, dict):
        raise InstanceError("instance file must hold a JSON object with fields 'M' and 'requests'")
    if "M" not in data:
        raise InstanceError("field 'M' is missing")
    if "requests" not in data:
        raise InstanceError("field 'requests' is missing")
    if not isinstance(data["requests"], list):
        raise InstanceError("field 'requests' must be a list")
    return Instance.from_requests(data["M"], data["requests"], name=str(data.get("name", "")))


def read_instance(path) -> Instance:
    path = Path(path)
    _check_size(path, InstanceError)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstanceError(f"cannot read instance file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InstanceError(f"{path}: not a UTF-8 JSON file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstanceError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    inst = instance_from_dict(data)
    if not inst.name:
        object.__setattr__(inst, "name", path.stem)
    return inst


def write_instance(instance: Instance, path) -> None:
    Path(path).write_text(json.dumps(instance.to_dict(), indent=1) + "\n")


def schedule_from_dict(data, instance: Instance) -> Schedule:
    if not isinstance(data, dict) or ("starts" not in data and "runs" not in data):
        raise ScheduleError("schedule file must hold a JSON object with field 'starts' or 'runs'")
    if data.get("runs") is not None and data.get("starts") is not None:
        sched = schedule_from_dict({"runs": data["runs"]}, instance)
        if not isinstance(data["starts"], list):
            raise ScheduleError("field 'starts' must be a list")
        if data["starts"] != sched.starts:
            first = next((i for i, (a, b) in enumerate(zip(data["starts"], sched.starts)) if a != b), None)
            where = f"request {first}: " if first is not None else ""
            raise ScheduleError(f"{where}fields 'runs' and 'starts' disagree (give one, or both alike)")
        return sched
    if data.get("runs") is not None:
        runs = data["runs"]
        if not isinstance(runs, list) or len(runs) != instance.n:
            raise ScheduleError(f"field 'runs': expected a list of {instance.n} run lists")
        for i, rs in enumerate(runs):
            if not isinstance(rs, list):
                raise ScheduleError(f"request {i}: field 'runs' must be a list of [start, last round] runs")
            for k, r in enumerate(rs):
                if not isinstance(r, list) or len(r) != 2:
                    raise ScheduleError(f"request {i}: run {k} must be [start, last round], got {r!r}")
        return Schedule(tuple(tuple(tuple(r) for r in rs) for rs in runs))
    if data.get("starts") is None:
        raise ScheduleError("schedule file must hold a JSON object with field 'starts' or 'runs'")
    starts = data["starts"]
    if not isinstance(starts, list):
        raise ScheduleError("field 'starts' must be a list")
    return Schedule.from_starts(instance, starts)


def read_schedule(path, instance: Instance) -> Schedule:
    _check_size(Path(path), ScheduleError)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"cannot read schedule file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScheduleError(f"{path}: not a UTF-8 JSON file") from None
    except json.JSONDecodeError as exc:
        raise ScheduleError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return schedule_from_dict(data, instance)


def write_schedule(schedule: Schedule, path) -> None:
    Path(path).write_text(json.dumps(schedule.to_dict()) + "\n")
