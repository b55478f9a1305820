"""HaaS Python's kv (key/value storage in flash) on CPython: one JSON file
in the simulated flash ($HAAS_DEVICE_ROOT/data/kv.json)."""
import json
import os

_PATH = os.path.join(os.environ.get("HAAS_DEVICE_ROOT", "."), "data", "kv.json")


def _load():
    try:
        with open(_PATH) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def get(key):
    return _load().get(key)


def set(key, value):  # noqa: A001 - the HaaS API's name
    data = _load()
    data[key] = value
    tmp = _PATH + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, _PATH)
    return 0


def remove(key):
    data = _load()
    data.pop(key, None)
    with open(_PATH, "w") as f:
        json.dump(data, f)
    return 0
