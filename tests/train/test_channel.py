"""The direct learner-to-worker channel: pipelined calls answered in order, errors carried back, a dead
worker seen as ChannelClosed, strangers turned away."""
from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.connection import AuthenticationError

import numpy as np
import pytest

from embodied.rollout.channel import Channel, ChannelClosed, serve


class Arithmetic:
    """A stand-in worker with state, so that the order of calls matters."""

    def __init__(self):
        self.total = 0

    def add(self, x: np.ndarray) -> np.ndarray:
        self.total += int(x.sum())
        return x * 2 + self.total

    def fail(self, message: str) -> None:
        raise KeyError(message)

    def unpicklable(self):
        return threading.Lock()

    def pid(self) -> int:
        return os.getpid()

    def norm(self, tensor):
        return float(tensor.norm())

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _connect(target=None) -> Channel:
    key = os.urandom(32)
    return Channel(serve(target or Arithmetic(), key, "127.0.0.1"), key)


def test_pipelined_calls_match_direct_calls_in_any_get_order():
    rng = np.random.default_rng(0)
    channel, reference = _connect(), Arithmetic()
    for _ in range(20):
        xs = [rng.integers(-50, 50, size=rng.integers(1, 30)) for _ in range(rng.integers(1, 8))]
        tickets = [channel.submit("add", x) for x in xs]
        expected = [reference.add(x) for x in xs]  # the worker runs them in submission order
        for k in rng.permutation(len(xs)):  # ...whatever order the replies are asked for in
            np.testing.assert_array_equal(channel.result(tickets[k]), expected[k])
    channel.close()


def test_worker_errors_come_back_with_their_type_and_the_channel_stays_usable():
    channel = _connect()
    failing, after = channel.submit("fail", "no such env"), channel.submit("add", np.array([3]))
    with pytest.raises(KeyError, match="no such env") as info:
        channel.result(failing)
    assert any("raised in the env worker" in note and "raise KeyError(message)" in note
               for note in info.value.__notes__)  # the worker's traceback comes along
    np.testing.assert_array_equal(channel.result(after), [9])
    with pytest.raises(RuntimeError, match="cannot send the reply"):
        channel.result(channel.submit("unpicklable"))
    with pytest.raises(AttributeError):
        channel.result(channel.submit("no_such_method"))
    np.testing.assert_array_equal(channel.result(channel.submit("add", np.array([1]))), [6])




def test_forgotten_replies_are_dropped_and_tickets_are_single_use():
    channel = _connect()
    first, second, third = (channel.submit("add", np.array([v])) for v in (1, 2, 3))
    channel.forget(first)
    channel.forget(second)
    np.testing.assert_array_equal(channel.result(third), [12])  # 1 + 2 + 3 ran, their replies discarded
    assert not channel._replies and not channel._forgotten
    for used in (first, third):
        with pytest.raises(ValueError, match="no reply waiting"):
            channel.result(used)


def test_a_wrong_key_is_turned_away_and_the_right_one_still_gets_in():
    key = os.urandom(32)
    address = serve(Arithmetic(), key, "127.0.0.1")
    with pytest.raises(AuthenticationError):
        Channel(address, os.urandom(32))
    channel = Channel(address, key)
    np.testing.assert_array_equal(channel.result(channel.submit("add", np.array([2]))), [6])


def test_an_unreachable_worker_is_an_os_error_not_a_hang():
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        address = s.getsockname()
    with pytest.raises(OSError):
        Channel(address, os.urandom(32), timeout=5)


def _serve_in_child(key: bytes, addresses) -> None:
    addresses.put(serve(Arithmetic(), key, "127.0.0.1"))
    threading.Event().wait()  # until killed


@pytest.fixture
def child():
    """A worker in a process of its own, and a channel to it."""
    ctx = multiprocessing.get_context("spawn")
    key, addresses = os.urandom(32), ctx.Queue()
    process = ctx.Process(target=_serve_in_child, args=(key, addresses), daemon=True)
    process.start()
    try:
        yield process, Channel(addresses.get(timeout=60), key)
    finally:
        if process.is_alive():
            process.kill()


def test_tensors_travel_by_value_to_another_process(child):
    import torch  # multiprocessing's own pickler would send a shared-memory handle the worker cannot open

    _, channel = child
    tensor = torch.randn(64, generator=torch.Generator().manual_seed(0))
    assert channel.result(channel.submit("norm", tensor)) == pytest.approx(float(tensor.norm()))


def test_a_killed_worker_process_is_seen_as_channel_closed(child):
    process, channel = child
    assert channel.result(channel.submit("pid")) == process.pid
    pending = channel.submit("sleep", 60.0)
    os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=30)
    with pytest.raises(ChannelClosed, match="is gone"):
        channel.result(pending)
    with pytest.raises(ChannelClosed, match="is closed"):
        channel.submit("pid")


class Sleeper:
    def nap(self, seconds: float) -> float:
        time.sleep(seconds)
        return seconds


def test_a_reply_from_a_vanished_host_is_not_waited_for_forever(monkeypatch):
    """A host that loses power closes no connection: a late reply makes the channel ask whether the node is
    still there, and gives up once it is not."""
    import embodied.rollout.channel as channel

    monkeypatch.setattr(channel, "LIVENESS_CHECK_S", 0.05)
    key, asked = os.urandom(32), []
    there = Channel(serve(Sleeper(), key, "127.0.0.1"), key, alive=lambda: asked.append(1) or True)
    assert there.result(there.submit("nap", 0.3)) == 0.3 and len(asked) >= 2  # slow but there: waited for
    gone = Channel(serve(Sleeper(), key, "127.0.0.1"), key, alive=lambda: False)
    start = time.monotonic()
    with pytest.raises(ChannelClosed, match="node is lost"):
        gone.result(gone.submit("nap", 30.0))
    assert time.monotonic() - start < 5
