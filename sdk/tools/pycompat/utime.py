"""HaaS Python's utime on CPython: sleep, sleep_ms, sleep_us, ticks_*."""
import time as _time

sleep = _time.sleep
time = _time.time
localtime = _time.localtime
mktime = _time.mktime


def sleep_ms(ms):
    _time.sleep(ms / 1000.0)


def sleep_us(us):
    _time.sleep(us / 1000000.0)


def ticks_ms():
    return int(_time.monotonic() * 1000) & 0x3FFFFFFF


def ticks_us():
    return int(_time.monotonic() * 1000000) & 0x3FFFFFFF


def ticks_diff(new, old):
    return ((new - old + 0x20000000) & 0x3FFFFFFF) - 0x20000000


def ticks_add(ticks, delta):
    return (ticks + delta) & 0x3FFFFFFF
