"""HaaS Python's uos on CPython (the os functions apps use)."""
from os import listdir, mkdir, remove, rename, rmdir, stat, getcwd, chdir  # noqa: F401
