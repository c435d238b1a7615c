"""Failure throttle and success cache."""

from __future__ import annotations

from sqlgate.auth.guards import FailureThrottle, SuccessCache


def test_throttle_grows_then_decays() -> None:
    throttle = FailureThrottle(free_attempts=2, base_delay=0.1, max_delay=1.0, half_life=10)
    for _ in range(2):
        throttle.failed("1.2.3.4", "alice", now=0)
    assert throttle.delay("1.2.3.4", "alice", now=0) == 0
    throttle.failed("1.2.3.4", "alice", now=0)
    assert throttle.delay("1.2.3.4", "alice", now=0) == 0.1
    for _ in range(10):
        throttle.failed("1.2.3.4", "alice", now=0)
    assert throttle.delay("1.2.3.4", "anyone", now=0) == 1.0  # the address is throttled for every name
    assert throttle.delay("5.6.7.8", "alice", now=0) == 1.0  # the name is throttled from every address
    assert throttle.delay("1.2.3.4", "alice", now=200) == 0  # forgotten after a while
    throttle.succeeded("1.2.3.4", "alice")
    assert throttle.delay("5.6.7.8", "alice", now=0) == 0


def test_throttle_can_be_disabled_and_is_bounded() -> None:
    off = FailureThrottle(max_delay=0)
    for _ in range(100):
        off.failed("a", "b")
    assert off.delay("a", "b") == 0
    small = FailureThrottle(max_entries=10)
    for i in range(100):
        small.failed(f"10.0.0.{i}", f"user{i}")
    assert len(small._counts) <= 10


def test_success_cache_is_keyed_by_everything_and_expires() -> None:
    cache = SuccessCache(ttl=60)
    cache.remember("c1", "$2b$hash", "pw")
    assert cache.hit("c1", "$2b$hash", "pw")
    assert not cache.hit("c1", "$2b$other", "pw")
    assert not cache.hit("c2", "$2b$hash", "pw")
    assert not cache.hit("c1", "$2b$hash", "pw2")
    assert all(b"pw" not in key for key in cache._entries)
    expired = SuccessCache(ttl=-1)
    expired.remember("c1", "h", "pw")
    assert not expired.hit("c1", "h", "pw")
