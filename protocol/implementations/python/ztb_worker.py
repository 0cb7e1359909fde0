#!/usr/bin/env python3
"""A ZTB/1 modern worker in Python, written from protocol/spec.md alone.

Library use::

    from ztb_worker import Worker, NonRetryableError

    def resize(job):                  # runs on a thread of its own
        if job.payload[0][:2] != b"\\xff\\xd8":
            raise NonRetryableError("not a JPEG")   # FAIL retryable=false
        job.extend(30000)             # EXTEND: "give me 30 s more from now"
        if job.wait(1.0):             # True when the broker sent CANCEL
            return None               # abandoned: nothing is sent
        return [b"png octets"]        # RESULT frames

    Worker("tcp://127.0.0.1:4162", "img-1", capacity=4, services=["resize"], handler=resize).run()

The socket belongs to the thread that calls run() (ZeroMQ sockets are not thread-safe); jobs run on threads and hand
their outcome back through a queue and a wake-up pipe that the loop polls next to the socket (spec "Implementing a
worker"). Needs pyzmq: on Debian `apt-get install python3-zmq`, then run with /usr/bin/python3 (a pyenv python3 first
on PATH may lack pyzmq).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import random
import re
import select
import signal
import socket as _socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, Union

SIG = b"ZTBW01"
DISCONNECT_REASONS = ("shutdown", "protocol-error", "unknown-worker", "draining", "bye")
CANCEL_REASONS = ("timeout", "answered", "cancelled")
HEARTBEAT_MIN, HEARTBEAT_MAX = 100, 60000
LIVENESS = 3
# Until the broker is heard on a connection, wait LIVENESS x min(own interval, this) (spec "Heartbeating" rule 3).
REGISTRATION_INTERVAL_CAP = 2500
MAX_TIMEOUT = 2147483647  # every timeout of the protocol is 1..2^31-1 ms (spec "JSON members")
BACKOFF_FIRST_MS, BACKOFF_MAX_MS = 100, 5000
LEAVE_GRACE_MS = 10000  # on SIGTERM: how long held tasks may finish before they are given back
# Time given to a parting DISCONNECT to leave the socket before close() (LINGER 0 would discard it).
PARTING_LINGER_MS = 500

log = logging.getLogger("ztb_worker")


# ---------------------------------------------------------------------------------------------------------------------
# Codec: pure functions, no sockets (tested by selftest.py against protocol/examples/valid).
# ---------------------------------------------------------------------------------------------------------------------

class ProtocolError(Exception):
    """A malformed message from the broker; `code` is the spec's codec error code (e.g. ZTB_ERR_SCHEMA)."""

    def __init__(self, code: str, text: str):
        super().__init__(f"{code}: {text}")
        self.code = code


def encode_json(obj: dict) -> bytes:
    """Compact JSON in the member order given, as the spec's vectors spell it (JSON.stringify)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def format_interval(ms: int) -> bytes:
    """The HEARTBEAT interval frame: ASCII decimal, no leading zero; senders use 100..60000 (spec "Formal grammar")."""
    if not isinstance(ms, int) or isinstance(ms, bool) or not HEARTBEAT_MIN <= ms <= HEARTBEAT_MAX:
        raise ValueError(f"heartbeat interval must be an integer {HEARTBEAT_MIN}..{HEARTBEAT_MAX} ms")
    return str(ms).encode("ascii")


_INTERVAL = re.compile(rb"[1-9][0-9]*")


def parse_interval(frame: bytes) -> int:
    """Parse an `interval` frame: 1..6 digits without leading zero, else TOO_LARGE / SCHEMA (spec "Limits")."""
    if len(frame) > 6:
        raise ProtocolError("ZTB_ERR_TOO_LARGE", "heartbeat interval over 6 digits")
    if not _INTERVAL.fullmatch(frame):
        raise ProtocolError("ZTB_ERR_SCHEMA", "heartbeat interval is not decimal digits without leading zero")
    return int(frame)


def build_ready(name: str, capacity: int, heartbeat: int, services: Optional[Sequence[str]] = None) -> list[bytes]:
    """READY (spec "JSON members"); `services` omitted means ["default"]."""
    if not 1 <= len(name) <= 64:
        raise ValueError("worker name must be 1..64 characters")
    if not 1 <= capacity <= 1000:
        raise ValueError("capacity must be 1..1000")
    format_interval(heartbeat)
    body: dict = {"name": name}
    if services is not None:
        if not 1 <= len(services) <= 32 or len(set(services)) != len(services):
            raise ValueError("services must be 1..32 distinct names")
        if any(not 1 <= len(s) <= 64 for s in services):
            raise ValueError("service names must be 1..64 characters")
        body["services"] = list(services)
    body["capacity"] = capacity
    body["heartbeat"] = heartbeat
    return [b"", SIG, b"READY", encode_json(body)]


def _check_id(task_id: bytes) -> bytes:
    task_id = bytes(task_id)
    if not 1 <= len(task_id) <= 255:
        raise ValueError("a task id is 1..255 octets")
    return task_id


def build_result(task_id: bytes, answer: Sequence[bytes] = ()) -> list[bytes]:
    return [b"", SIG, b"RESULT", _check_id(task_id), *[bytes(f) for f in answer]]


def build_fail(task_id: bytes, message: str, retryable: bool, returned: bool = False) -> list[bytes]:
    """FAIL; `returned` (since 1.1) gives the task back without counting the attempt, from a leaving worker."""
    body: dict = {"message": message[:1024], "retryable": bool(retryable) or returned}
    if returned:
        body["returned"] = True
    return [b"", SIG, b"FAIL", _check_id(task_id), encode_json(body)]


def build_extend(task_id: bytes, timeout: int) -> list[bytes]:
    if not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT:
        raise ValueError(f"EXTEND timeout must be an integer 1..{MAX_TIMEOUT} ms")
    return [b"", SIG, b"EXTEND", _check_id(task_id), encode_json({"timeout": timeout})]


def build_heartbeat(interval: int) -> list[bytes]:
    return [b"", SIG, b"HEARTBEAT", format_interval(interval)]


def build_disconnect(reason: Optional[str] = "bye", message: Optional[str] = None, finish: bool = False) -> list[bytes]:
    """DISCONNECT; `finish` (since 1.1, with bye) announces the worker leaves once it holds nothing."""
    frames = [b"", SIG, b"DISCONNECT"]
    if reason is not None:
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"unknown DISCONNECT reason {reason!r}")
        if finish and reason != "bye":
            raise ValueError("finish goes with reason bye only")
        body: dict = {"reason": reason}
        if message is not None:
            body["message"] = message[:1024]
        if finish:
            body["finish"] = True
        frames.append(encode_json(body))
    return frames


@dataclass
class BrokerMessage:
    """A decoded broker-to-worker message. Unused fields stay None."""
    command: str
    task_id: Optional[bytes] = None
    header: Optional[dict] = None
    payload: list[bytes] = field(default_factory=list)
    interval: Optional[int] = None
    reason: Optional[str] = None
    message: Optional[str] = None


def _json_object(frame: bytes) -> dict:
    try:
        value = json.loads(frame.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("ZTB_ERR_BAD_JSON", str(exc)) from None
    if not isinstance(value, dict):
        raise ProtocolError("ZTB_ERR_SCHEMA", "JSON frame is not an object")
    return value


def _task_id(frame: bytes) -> bytes:
    if len(frame) == 0:
        raise ProtocolError("ZTB_ERR_MISSING_FRAME", "empty task id")
    if len(frame) > 255:
        raise ProtocolError("ZTB_ERR_TOO_LARGE", "task id over 255 octets")
    return frame


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _count(frames: Sequence[bytes], least: int, most: Optional[int]) -> None:
    if len(frames) < least:
        raise ProtocolError("ZTB_ERR_MISSING_FRAME", f"{len(frames)} frames, at least {least} needed")
    if most is not None and len(frames) > most:
        raise ProtocolError("ZTB_ERR_EXTRA_FRAME", f"{len(frames)} frames, at most {most} allowed")


def parse_broker_message(frames: Sequence[bytes]) -> BrokerMessage:
    """Decode a message the broker sent to a modern worker (spec "Worker protocol"); raise ProtocolError if malformed.

    Broker JSON may gain members in later revisions, so unknown members are ignored; an unknown command is reported as
    ZTB_ERR_UNKNOWN_COMMAND so the caller can log and ignore it.
    """
    frames = [bytes(f) for f in frames]
    if not frames:
        raise ProtocolError("ZTB_ERR_EMPTY", "no frames")
    if frames[0] != b"":
        raise ProtocolError("ZTB_ERR_DELIMITER", "first frame is not the empty delimiter")
    _count(frames, 3, None)
    if frames[1] != SIG:
        if re.fullmatch(rb"ZTBW[0-9]{2}", frames[1]):
            raise ProtocolError("ZTB_ERR_VERSION", f"unsupported version {frames[1]!r}")
        raise ProtocolError("ZTB_ERR_SIGNATURE", "not a ZTBW01 message")
    command = frames[2].decode("ascii", "replace")
    if command == "HEARTBEAT":
        _count(frames, 4, 4)
        return BrokerMessage(command, interval=parse_interval(frames[3]))
    if command == "TASK":
        _count(frames, 5, None)
        task_id = _task_id(frames[3])
        header = _json_object(frames[4])
        if not isinstance(header.get("service"), str) or not 1 <= len(header["service"]) <= 64:
            raise ProtocolError("ZTB_ERR_SCHEMA", "TASK header: bad service")
        if not _is_int(header.get("attempt")) or header["attempt"] < 1:
            raise ProtocolError("ZTB_ERR_SCHEMA", "TASK header: bad attempt")
        for key in ("attempts", "timeout"):
            if key not in header or not (header[key] is None or (_is_int(header[key]) and header[key] >= 1)):
                raise ProtocolError("ZTB_ERR_SCHEMA", f"TASK header: bad {key}")
        return BrokerMessage(command, task_id=task_id, header=header, payload=frames[5:])
    if command == "CANCEL":
        _count(frames, 5, 5)
        task_id = _task_id(frames[3])
        body = _json_object(frames[4])
        if body.get("reason") not in CANCEL_REASONS:
            raise ProtocolError("ZTB_ERR_SCHEMA", "CANCEL: bad reason")
        return BrokerMessage(command, task_id=task_id, reason=body["reason"])
    if command == "DISCONNECT":
        _count(frames, 3, 4)
        if len(frames) == 3:
            return BrokerMessage(command)
        body = _json_object(frames[3])
        if body.get("reason") not in DISCONNECT_REASONS:
            raise ProtocolError("ZTB_ERR_SCHEMA", "DISCONNECT: bad reason")
        message = body.get("message")
        return BrokerMessage(command, reason=body["reason"], message=message if isinstance(message, str) else None)
    raise ProtocolError("ZTB_ERR_UNKNOWN_COMMAND", f"unknown command {frames[2][:32]!r}")


def salvage_broker_message(frames: Sequence[bytes]) -> Optional[BrokerMessage]:
    """Spec "JSON members": a CANCEL or DISCONNECT that parse_broker_message refused for its JSON (unreadable, or a
    reason of a later revision) still acts: the CANCEL as `cancelled` for its task, the DISCONNECT as one without
    JSON. None for anything else."""
    frames = [bytes(f) for f in frames]
    if len(frames) < 3 or frames[0] != b"" or frames[1] != SIG:
        return None
    if frames[2] == b"CANCEL" and len(frames) == 5 and 1 <= len(frames[3]) <= 255:
        return BrokerMessage("CANCEL", task_id=frames[3], reason="cancelled")
    if frames[2] == b"DISCONNECT" and len(frames) == 4:
        return BrokerMessage("DISCONNECT")
    return None


def next_backoff(backoff_ms: int) -> int:
    """Spec "Reconnecting": 100 ms first, doubled after each attempt that reaches no broker HEARTBEAT, capped at 5 s."""
    return min(max(backoff_ms * 2, BACKOFF_FIRST_MS), BACKOFF_MAX_MS)


def jittered(backoff_ms: int, rng: Callable[[], float] = random.random) -> float:
    """A delay lowered by up to 20 % at random, in seconds."""
    return backoff_ms * (1 - 0.2 * rng()) / 1000.0


# ---------------------------------------------------------------------------------------------------------------------
# Worker
# ---------------------------------------------------------------------------------------------------------------------

class NonRetryableError(Exception):
    """Raise from a handler to answer FAIL with retryable=false: the task fails at once with worker-failed."""


DROP = object()
"""Return this from a handler to never answer (the prototype's dropped task): the slot stays taken until CANCEL."""

HandlerResult = Union[None, bytes, Sequence[bytes], object]


class Job:
    """One attempt of one task, as seen by a handler running on its own thread."""

    def __init__(self, worker: "Worker", token: int, task_id: bytes, header: dict, payload: list[bytes]):
        self._worker = worker
        self.token = token
        self.task_id = task_id
        self.header = header
        self.payload = payload
        self.cancelled = threading.Event()
        self.cancel_reason: Optional[str] = None

    service = property(lambda self: self.header["service"])
    attempt = property(lambda self: self.header["attempt"])
    attempts = property(lambda self: self.header["attempts"])
    timeout = property(lambda self: self.header["timeout"])

    def extend(self, timeout_ms: int) -> None:
        """Send EXTEND: this attempt's deadline becomes now + timeout_ms (later or earlier; spec rule 4)."""
        build_extend(self.task_id, timeout_ms)  # validate on the caller's thread
        self._worker._post(("extend", self.token, timeout_ms))

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True as soon as the broker cancels this attempt (then the handler should return)."""
        return self.cancelled.wait(seconds)


Handler = Callable[[Job], HandlerResult]


def echo_handler(job: Job) -> list[bytes]:
    return list(job.payload)


class Worker:
    """A modern ZTB/1 worker: one DEALER connection at a time, reconnecting with back-off (spec "Worker protocol")."""

    def __init__(self, endpoint: str, name: str, capacity: int = 1, services: Optional[Sequence[str]] = None,
                 heartbeat: int = 1000, handler: Handler = echo_handler, context=None):
        build_ready(name, capacity, heartbeat, services)  # validate early
        import zmq  # imported here so the codec above works without pyzmq
        self._zmq = zmq
        self.endpoint = endpoint
        self.name = name
        self.capacity = capacity
        self.services = list(services) if services else None
        self.heartbeat = heartbeat
        self.handler = handler
        self._ctx = context or zmq.Context.instance()
        self._inbox: "queue.Queue[tuple]" = queue.Queue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stop_requested = False
        self._tokens = 0
        self.backoff = BACKOFF_FIRST_MS
        self._backoff_before_reset = BACKOFF_FIRST_MS
        self.leave_grace_ms = LEAVE_GRACE_MS
        self._leaving_since: Optional[float] = None

    # -- called from other threads / signal handlers --------------------------------------------------------------

    def _post(self, item: tuple) -> None:
        self._inbox.put(item)
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"!")
        except BlockingIOError:
            pass  # the pipe is full, so the loop is awake anyway

    def stop(self) -> None:
        """Ask run() to leave without losing work (spec "Leaving without losing work"): announce DISCONNECT bye with
        finish, let held jobs finish within leave_grace_ms, give back the rest with FAIL returned, say bye and return.
        Safe from signal handlers and threads."""
        self._stop_requested = True
        self._wake()

    # -- the loop ---------------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until stop() or DISCONNECT draining/bye; returns a process exit code (0)."""
        while True:
            outcome = self._session()
            if outcome == "exit":
                return 0
            delay = jittered(self.backoff)
            log.info("reconnecting in %d ms", delay * 1000)
            self.backoff = next_backoff(self.backoff)
            if self._sleep(delay):
                return 0

    def _sleep(self, seconds: float) -> bool:
        """Sleep, waking early on stop(); True when a stop was requested."""
        end = time.monotonic() + seconds
        while not self._stop_requested:
            left = end - time.monotonic()
            if left <= 0:
                break
            select.select([self._wake_r], [], [], left)
            self._drain_wake()
        return self._stop_requested

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _session(self) -> str:
        """One connection, from READY to its end; returns "exit" or "reconnect" (self.backoff already adjusted)."""
        zmq = self._zmq
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        self._sock = sock
        self._running: dict[bytes, Job] = {}
        self._last_send = self._last_recv = time.monotonic()
        # Until the broker is heard, the registration window (spec "Heartbeating" rule 3); then 3 x its interval.
        self._broker_hb: Optional[int] = None
        self._heard = False
        self._send(build_ready(self.name, self.capacity, self.heartbeat, self.services))
        log.info("connected to %s as %r, capacity %d, heartbeat %d ms", self.endpoint, self.name, self.capacity,
                 self.heartbeat)
        try:
            while True:
                if self._stop_requested and self._leaving_since is None:
                    log.info("leaving: finishing %d task(s) for up to %d ms, then giving the rest back",
                             len(self._running), self.leave_grace_ms)
                    self._leaving_since = time.monotonic()
                    self._send(build_disconnect("bye", finish=True))
                if self._leaving_since is not None and (
                        not self._running or time.monotonic() >= self._leaving_since + self.leave_grace_ms / 1000):
                    for job in list(self._running.values()):
                        self._send(build_fail(job.task_id, "worker leaving", True, returned=True))
                        log.info("task %s: given back (FAIL returned)", _show(job.task_id))
                    self._abandon_all()
                    self._part(build_disconnect("bye"))
                    return "exit"
                now = time.monotonic()
                silence = self._silence_ms()
                deadline = min(self._last_send + self.heartbeat / 1000, self._last_recv + silence / 1000)
                if self._leaving_since is not None:
                    deadline = min(deadline, self._leaving_since + self.leave_grace_ms / 1000)
                ready = dict(poller.poll(max(0, int((deadline - now) * 1000)) + 1))
                if self._wake_r in ready:
                    self._drain_wake()
                self._handle_inbox()
                if ready.get(sock):
                    while True:
                        try:
                            frames = sock.recv_multipart(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        self._last_recv = time.monotonic()
                        if not self._heard:  # any message after READY: the broker took us (rule 5)
                            self._heard = True
                            if self.backoff > BACKOFF_FIRST_MS:
                                self._backoff_before_reset = self.backoff
                            self.backoff = BACKOFF_FIRST_MS
                        verdict = self._handle(frames)
                        if verdict == "reconnect" and self._leaving_since is not None:
                            return "exit"  # leaving: never come back (a broker before 1.1 refuses finish)
                        if verdict is not None:
                            return verdict
                now = time.monotonic()
                if now >= self._last_recv + self._silence_ms() / 1000:
                    if self._leaving_since is not None:
                        return "exit"
                    log.warning("broker silent for %d ms: reconnecting", self._silence_ms())
                    return "reconnect"
                if now >= self._last_send + self.heartbeat / 1000:
                    self._send(build_heartbeat(self.heartbeat))
        finally:
            self._abandon_all()  # the broker re-queues them; never answer from a new connection
            sock.close()
            self._sock = None

    def _silence_ms(self) -> int:
        """Spec "Heartbeating" rules 2-3: 3 x the broker's interval once heard, else the registration window."""
        if self._heard and self._broker_hb is not None:
            return LIVENESS * self._broker_hb
        return LIVENESS * min(self.heartbeat, REGISTRATION_INTERVAL_CAP)

    def _send(self, frames: list[bytes]) -> None:
        zmq = self._zmq
        try:
            self._sock.send_multipart(frames, zmq.NOBLOCK)
            self._last_send = time.monotonic()
            log.debug("sent %s", frames[2:4])
        except zmq.Again:
            log.warning("send queue full: %s dropped", frames[2].decode())

    def _part(self, frames: list[bytes]) -> None:
        """Send a last message, letting close() wait a little for it (LINGER 0 would discard it)."""
        self._sock.setsockopt(self._zmq.LINGER, PARTING_LINGER_MS)
        self._send(frames)

    def _abandon_all(self) -> None:
        for job in self._running.values():
            job.cancelled.set()
        self._running.clear()
        while True:  # outcomes of the old connection's jobs are void
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                break

    def _current(self, token: int) -> Optional[Job]:
        for job in self._running.values():
            if job.token == token:
                return job
        return None

    def _handle_inbox(self) -> None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            kind, token, value = item
            job = self._current(token)
            if job is None:
                continue  # cancelled, replaced or from an old connection: its outcome is dropped
            if kind == "extend":
                self._send(build_extend(job.task_id, value))
                log.info("task %s: EXTEND %d ms", _show(job.task_id), value)
                continue
            del self._running[job.task_id]
            if kind == "result":
                self._send(build_result(job.task_id, value))
                log.info("task %s: RESULT (%d frame(s))", _show(job.task_id), len(value))
            elif kind == "fail":
                message, retryable = value
                self._send(build_fail(job.task_id, message, retryable))
                log.info("task %s: FAIL retryable=%s %s", _show(job.task_id), retryable, message)

    def _handle(self, frames: list[bytes]):
        """Act on one broker message. Returns "exit"/"reconnect", or None."""
        error_code = "ZTB_ERR_SCHEMA"
        try:
            msg = parse_broker_message(frames)
        except ProtocolError as exc:
            error_code = exc.code
            salvaged = salvage_broker_message(frames)
            if salvaged is not None:
                # Spec "JSON members": a reason of a later revision (or unreadable JSON) still cancels / disconnects.
                log.warning("broker %s not understood (%s): read as %s", salvaged.command, exc,
                            salvaged.reason or "no detail")
                msg = salvaged
            else:
                msg = None
        if msg is None:
            # Spec "Versioning and error handling": a worker SHOULD log and drop what it cannot decode.
            log.error("malformed message from broker dropped: %r", [bytes(f)[:40] for f in frames[:6]])
            if len(frames) > 2 and frames[1] == SIG and frames[2] == b"TASK":
                # Dropping a TASK would keep its slot taken at the broker (forever without -T): use the spec's MAY,
                # DISCONNECT protocol-error and reconnect, so the broker re-queues it at once.
                self._part(build_disconnect("protocol-error", error_code))
                return "reconnect"
            return None
        log.debug("received %s %s", msg.command, _show(msg.task_id) if msg.task_id else msg.interval or msg.reason or "")
        if msg.command == "HEARTBEAT":
            if HEARTBEAT_MIN <= msg.interval <= HEARTBEAT_MAX:
                self._broker_hb = msg.interval
            else:  # still proof of life and of registration; only the value is ignored (rule 5)
                log.warning("broker announced heartbeat %d ms outside 100..60000: ignored", msg.interval)
            return None
        if msg.command == "TASK":
            self._start(msg)
            return None
        if msg.command == "CANCEL":
            job = self._running.pop(msg.task_id, None)
            if job is not None:  # the slot is free at once; the job's outcome will be dropped
                job.cancel_reason = msg.reason
                job.cancelled.set()
                log.info("task %s: CANCEL %s, abandoned", _show(msg.task_id), msg.reason)
            else:
                log.info("task %s: CANCEL %s for a task not held (already answered)", _show(msg.task_id),
                         msg.reason)
            return None
        if msg.command == "DISCONNECT":
            reason = msg.reason
            detail = f" ({msg.message})" if msg.message else ""
            if reason in ("draining", "bye"):
                log.info("broker DISCONNECT %s%s: leaving for good", reason, detail)
                return "exit"
            if reason == "unknown-worker":
                log.info("broker DISCONNECT unknown-worker: re-registering at once")
                self.backoff = 0
            elif reason == "protocol-error":
                log.error("broker DISCONNECT protocol-error%s: this is a bug in this worker", detail)
                # Spec "Reconnecting": continue the back-off from before the last reset.
                self.backoff = max(self.backoff, self._backoff_before_reset)
            else:  # shutdown, or no detail frame (treated like shutdown)
                log.info("broker DISCONNECT %s%s", reason or "(no reason)", detail)
            return "reconnect"
        return None

    def _start(self, msg: BrokerMessage) -> None:
        service = msg.header["service"]
        if service not in (self.services or ["default"]):  # spec "Modern workers" rule 7
            log.warning("task %s: service %s not served: FAIL retryable", _show(msg.task_id), service)
            self._send(build_fail(msg.task_id, f"service {service} is not served by this worker", True))
            return
        if self._leaving_since is not None:  # crossed our announcement: give it back, no attempt counted
            self._send(build_fail(msg.task_id, "worker leaving", True, returned=True))
            log.info("task %s: given back (leaving)", _show(msg.task_id))
            return
        old = self._running.get(msg.task_id)
        if old is not None:  # spec rule 6: the same id again is a new attempt; the old one's outcome is void
            old.cancelled.set()
        elif len(self._running) >= self.capacity:
            log.warning("TASK beyond capacity %d accepted anyway (spec: a worker MUST accept every TASK)",
                        self.capacity)
        self._tokens += 1
        job = Job(self, self._tokens, msg.task_id, msg.header, msg.payload)
        self._running[msg.task_id] = job
        h = msg.header
        log.info("task %s: TASK service=%s attempt %d/%s timeout %s", _show(msg.task_id), h["service"],
                 h["attempt"], h["attempts"] if h["attempts"] is not None else "-",
                 h["timeout"] if h["timeout"] is not None else "-")
        threading.Thread(target=self._execute, args=(job,), daemon=True, name=f"job-{job.token}").start()

    def _execute(self, job: Job) -> None:
        try:
            out = self.handler(job)
        except NonRetryableError as exc:
            self._post(("fail", job.token, (str(exc) or type(exc).__name__, False)))
            return
        except Exception as exc:  # any other failure may succeed elsewhere
            self._post(("fail", job.token, (f"{type(exc).__name__}: {exc}", True)))
            return
        if out is DROP:
            return
        if out is None:
            out = []
        elif isinstance(out, (bytes, bytearray, memoryview)):
            out = [bytes(out)]
        self._post(("result", job.token, [bytes(f) for f in out]))


def _show(task_id: bytes) -> str:
    text = task_id.decode("ascii", "replace")
    return text if text.isprintable() and "\ufffd" not in text else task_id.hex()


# ---------------------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------------------

def simulating_handler(delay_ms: int, fail_rate: float, drop_rate: float, fail_permanent: bool,
                       rng: random.Random, extend_ms: Optional[int] = None) -> Handler:
    """The CLI's handler: EXTEND if asked, wait `delay_ms` (abandoned on CANCEL), then drop, fail or echo the payload."""
    def handle(job: Job):
        if extend_ms:
            job.extend(extend_ms)
        if delay_ms and job.timeout is not None and delay_ms >= job.timeout / 2:
            # Spec "Modern workers" rule 4: work that outlasts half the deadline EXTENDs by the timeout each half.
            left = delay_ms / 1000
            while left > job.timeout / 2000:
                if job.wait(job.timeout / 2000):
                    return DROP
                left -= job.timeout / 2000
                job.extend(job.timeout)
            if job.wait(left):
                return DROP
        elif delay_ms and job.wait(delay_ms / 1000):
            return DROP  # cancelled while working: abandon, send nothing
        roll = rng.random()
        if roll < drop_rate:
            log.info("task %s: dropped on purpose (no answer)", _show(job.task_id))
            return DROP
        if roll < drop_rate + fail_rate:
            if fail_permanent:
                raise NonRetryableError("simulated permanent failure")
            raise RuntimeError("simulated failure")
        return list(job.payload)
    return handle


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a rate is between 0 and 1")
    return value


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description="ZTB/1 modern worker (echo by default).")
    p.add_argument("--workers", default=os.environ.get("ZTB_WORKERS_ENDPOINT") or "tcp://127.0.0.1:4162",
                   help="broker workers endpoint (default: $ZTB_WORKERS_ENDPOINT, else tcp://127.0.0.1:4162)")
    p.add_argument("--answers", default=os.environ.get("ZTB_ANSWERS_ENDPOINT"),
                   help="answers endpoint ($ZTB_ANSWERS_ENDPOINT); unused: only legacy workers answer there")
    p.add_argument("--clients", default=os.environ.get("ZTB_CLIENTS_ENDPOINT"),
                   help="clients endpoint ($ZTB_CLIENTS_ENDPOINT); unused by a worker")
    p.add_argument("--name", default=f"py-{_socket.gethostname()[:40]}-{os.getpid()}", help="worker name (1..64)")
    p.add_argument("--capacity", type=int, default=1, help="tasks held at once, 1..1000 (default 1)")
    p.add_argument("--service", action="append", dest="services", metavar="NAME",
                   help="a service to serve; repeat for several (default: default)")
    p.add_argument("--heartbeat", type=int, default=1000, metavar="MS", help="own heartbeat interval (default 1000)")
    p.add_argument("--delay", type=int, default=0, metavar="MS", help="simulated work time per task (default 0)")
    p.add_argument("--fail-rate", type=_rate, default=0.0, metavar="F", help="fraction of tasks answered FAIL")
    p.add_argument("--fail-permanent", action="store_true", help="simulated FAILs are non-retryable")
    p.add_argument("--drop-rate", type=_rate, default=0.0, metavar="F", help="fraction of tasks never answered")
    p.add_argument("--extend", type=int, metavar="MS", help="send EXTEND with this timeout when a task starts")
    p.add_argument("--seed", type=int, help="random seed for --fail-rate/--drop-rate")
    p.add_argument("--grace", type=int, default=LEAVE_GRACE_MS, metavar="MS",
                   help="on SIGTERM: finish held tasks for up to this long, give the rest back, leave (default 10000)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s {args.name} %(levelname)s %(message)s")
    if args.extend is not None and not 1 <= args.extend <= MAX_TIMEOUT:
        p.error(f"--extend must be 1..{MAX_TIMEOUT} ms")
    if args.fail_rate + args.drop_rate > 1:
        p.error("--fail-rate plus --drop-rate exceeds 1")
    handler = simulating_handler(args.delay, args.fail_rate, args.drop_rate, args.fail_permanent,
                                 random.Random(args.seed), args.extend)
    try:
        worker = Worker(args.workers, args.name, args.capacity, args.services, args.heartbeat, handler)
    except ValueError as exc:
        p.error(str(exc))
    worker.leave_grace_ms = args.grace
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: worker.stop())
    code = worker.run()
    worker._ctx.term()  # waits for the parting DISCONNECT to leave (bounded by PARTING_LINGER_MS)
    return code


if __name__ == "__main__":
    sys.exit(main())
