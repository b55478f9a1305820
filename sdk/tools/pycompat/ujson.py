"""HaaS Python's ujson on CPython."""
from json import dump, dumps, load, loads  # noqa: F401
