#!/usr/bin/env python3
"""A ZTB/1 client in Python (enveloped and plain modes), written from protocol/spec.md alone.

Library use::

    from ztb_client import Client, ClientTimeout

    client = Client("tcp://127.0.0.1:4161")
    try:
        reply = client.request([b"hello"], service="default", timeout=2000, attempts=3, wait=10.0)
    except ClientTimeout:
        ...                                  # no reply in time (broker down or busy)
    print(reply.status, reply.reason, reply.frames)

Each try uses a fresh DEALER socket (so a stale reply can never be taken for a new one); after a client-side timeout
the enveloped client sends CANCEL for its request before closing, so the broker does not keep running it.

Several brokers (spec "Failing over"): ``Client(["tcp://a:4161", "tcp://b:4161"])`` (or one comma-separated string)
talks to one at a time; when that one is judged gone (connection lost or refused, security handshake failed, no
handshake within `connect_timeout`, or silent to ZMTP heartbeats) the request goes to the next endpoint in turn with
the same correlation id and idempotency key (generated when none is given), within the same `wait`. Needs pyzmq:
on Debian `apt-get install python3-zmq`, then run with /usr/bin/python3 (a pyenv python3 first on PATH may lack it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional, Sequence

SIG = b"ZTBC01"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3
# Time given to a parting CANCEL to leave the socket before close() (LINGER 0 would discard it).
PARTING_LINGER_MS = 200


# ---------------------------------------------------------------------------------------------------------------------
# Codec: pure functions, no sockets (tested by selftest.py against protocol/examples/valid).
# ---------------------------------------------------------------------------------------------------------------------

class ProtocolError(Exception):
    """A malformed message from the broker; `code` is the spec's codec error code."""

    def __init__(self, code: str, text: str):
        super().__init__(f"{code}: {text}")
        self.code = code


def encode_json(obj: dict) -> bytes:
    """Compact JSON in the member order given, as the spec's vectors spell it (JSON.stringify)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def request_options(service: Optional[str] = None, timeout: Optional[int] = None, attempts: Optional[int] = None,
                    id: Optional[str] = None, key: Optional[str] = None, deadline: Optional[int] = None,
                    limits: bool = False) -> dict:
    """REQUEST options (spec "JSON members"), members in the spec's order; absent ones take the broker's defaults.

    `deadline` (ms, since 1.1) bounds the time to the reply, queue wait included (spec "Request deadlines");
    `limits` asks for the broker's limits instead of running a task (spec "Limits discovery").
    """
    opts: dict = {}
    if service is not None:
        if not 1 <= len(service) <= 64:
            raise ValueError("service must be 1..64 characters")
        opts["service"] = service
    if timeout is not None:
        if not isinstance(timeout, int) or timeout < 1:
            raise ValueError("timeout must be an integer >= 1 ms")
        opts["timeout"] = timeout
    if attempts is not None:
        if not isinstance(attempts, int) or attempts < 1:
            raise ValueError("attempts must be an integer >= 1")
        opts["attempts"] = attempts
    if id is not None:
        if not 1 <= len(id) <= 128:
            raise ValueError("correlation id must be 1..128 characters")
        opts["id"] = id
    if key is not None:
        if not 1 <= len(key) <= 128:
            raise ValueError("idempotency key must be 1..128 characters")
        opts["key"] = key
    if deadline is not None:
        if not isinstance(deadline, int) or deadline < 1:
            raise ValueError("deadline must be an integer >= 1 ms")
        opts["deadline"] = deadline
    if limits:
        opts["limits"] = True
    return opts


def build_request(options: dict, payload: Sequence[bytes] = ()) -> list[bytes]:
    """`"" ZTBC01 REQUEST options payload*` as a DEALER sends it (the delimiter included)."""
    return [b"", SIG, b"REQUEST", encode_json(options), *[bytes(f) for f in payload]]


def build_cancel(id: str) -> list[bytes]:
    if not 1 <= len(id) <= 128:
        raise ValueError("correlation id must be 1..128 characters")
    return [b"", SIG, b"CANCEL", encode_json({"id": id})]


def build_plain(payload: Sequence[bytes]) -> list[bytes]:
    """A PLAIN-REQUEST: at least one body frame, and the first must not look like a client signature."""
    if not payload:
        raise ValueError("a plain request needs at least one payload frame")
    if re.fullmatch(rb"ZTBC[0-9]{2}", bytes(payload[0])):
        raise ValueError("a plain request cannot start with ZTBC + two digits (spec Known weaknesses)")
    return [b"", *[bytes(f) for f in payload]]


@dataclass
class Reply:
    """A decoded REPLY (or a plain reply mapped onto the same shape)."""
    status: str
    detail: dict = field(default_factory=dict)
    frames: list[bytes] = field(default_factory=list)

    reason = property(lambda self: self.detail.get("reason"))
    message = property(lambda self: self.detail.get("message"))
    id = property(lambda self: self.detail.get("id"))

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


def parse_reply(frames: Sequence[bytes]) -> Reply:
    """Decode `"" ZTBC01 REPLY detail answer*`; unknown detail members are kept and ignored (spec "Signatures")."""
    frames = [bytes(f) for f in frames]
    if not frames:
        raise ProtocolError("ZTB_ERR_EMPTY", "no frames")
    if frames[0] != b"":
        raise ProtocolError("ZTB_ERR_DELIMITER", "first frame is not the empty delimiter")
    if len(frames) < 4:
        raise ProtocolError("ZTB_ERR_MISSING_FRAME", f"{len(frames)} frames, a REPLY has at least 4")
    if frames[1] != SIG:
        if re.fullmatch(rb"ZTBC[0-9]{2}", frames[1]):
            raise ProtocolError("ZTB_ERR_VERSION", f"unsupported version {frames[1]!r}")
        raise ProtocolError("ZTB_ERR_SIGNATURE", "not a ZTBC01 message")
    if frames[2] != b"REPLY":
        raise ProtocolError("ZTB_ERR_UNKNOWN_COMMAND", f"unknown command {frames[2][:32]!r}")
    try:
        detail = json.loads(frames[3].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("ZTB_ERR_BAD_JSON", str(exc)) from None
    if not isinstance(detail, dict):
        raise ProtocolError("ZTB_ERR_SCHEMA", "REPLY detail is not an object")
    status = detail.get("status")
    if status not in ("succeeded", "failed"):
        raise ProtocolError("ZTB_ERR_SCHEMA", "REPLY detail: bad status")
    if (status == "failed") != isinstance(detail.get("reason"), str):
        raise ProtocolError("ZTB_ERR_SCHEMA", "REPLY detail: reason present exactly when failed")
    if status == "failed" and len(frames) > 4:
        raise ProtocolError("ZTB_ERR_EXTRA_FRAME", "a failed REPLY carries no payload")
    return Reply(status, detail, frames[4:])


def parse_plain_reply(frames: Sequence[bytes]) -> Reply:
    """`"" answer+`; one empty frame is a failure (indistinguishable from an empty answer, spec "Plain mode")."""
    frames = [bytes(f) for f in frames]
    if not frames or frames[0] != b"":
        raise ProtocolError("ZTB_ERR_DELIMITER", "first frame is not the empty delimiter")
    if len(frames) < 2:
        raise ProtocolError("ZTB_ERR_MISSING_FRAME", "a plain reply has at least one frame after the delimiter")
    if frames[1:] == [b""]:
        return Reply("failed", {"status": "failed"}, [])
    return Reply("succeeded", {"status": "succeeded"}, frames[1:])


def show_frame(frame: bytes) -> str:
    """Text when UTF-8 without control characters other than TAB/LF/CR (like the spec's FrameView), else hex:…"""
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError:
        return "hex:" + frame.hex()
    if any(ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127 for c in text):
        return "hex:" + frame.hex()
    return text


# ---------------------------------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------------------------------

class ClientTimeout(Exception):
    """No reply within the client-side wait, on every try."""


_ids = itertools.count(1)


def endpoint_list(endpoints) -> list[str]:
    """One endpoint, a comma-separated string of several, or a sequence: the brokers in the order to try them."""
    items = endpoints.split(",") if isinstance(endpoints, str) else list(endpoints)
    if not items or any(not e for e in items):
        raise ValueError("endpoints must be non-empty")
    if len(set(items)) != len(items):
        raise ValueError("an endpoint is listed twice")
    return items


class EndpointRotation:
    """The brokers in turn (spec "Failing over"): moving on is free until every endpoint has been tried since the
    last reply; after that each move waits a back-off, 100 ms doubling to 5 s, minus up to 20 % jitter. Pure: the
    client sleeps the delay it is given."""

    def __init__(self, endpoints: Sequence[str], rand=random.random):
        self.endpoints = list(endpoints)
        self._index = 0
        self._tried = 1
        self._failures = 0
        self._rand = rand

    @property
    def current(self) -> str:
        return self.endpoints[self._index]

    def advance(self) -> tuple[str, float]:
        """The current broker is judged gone: the next endpoint and the seconds to wait before connecting."""
        self._index = (self._index + 1) % len(self.endpoints)
        self._tried += 1
        if self._tried <= len(self.endpoints):
            return self.current, 0.0
        base = min(5.0, 0.1 * 2 ** min(self._failures, 30))
        self._failures += 1
        return self.current, base * (1 - 0.2 * self._rand())

    def answered(self) -> None:
        self._tried = 1
        self._failures = 0


class Client:
    """Sends one request at a time; a fresh DEALER socket per try (spec "Reliability": close, reopen, resend).

    With several endpoints it fails over between them (spec "Failing over"); `failovers` counts brokers left.
    """

    def __init__(self, endpoint, context=None, connect_timeout: float = 2.0, heartbeat_ivl: int = 1000,
                 heartbeat_timeout: int = 3000):
        import zmq  # imported here so the codec above works without pyzmq
        self._zmq = zmq
        self._rotation = EndpointRotation(endpoint_list(endpoint))
        self._ctx = context or zmq.Context.instance()
        self.connect_timeout = connect_timeout
        self.heartbeat_ivl = heartbeat_ivl
        self.heartbeat_timeout = heartbeat_timeout
        self.failovers = 0

    @property
    def endpoint(self) -> str:
        """The broker in use (with several endpoints: the one failing over has reached)."""
        return self._rotation.current

    @property
    def fails_over(self) -> bool:
        return len(self._rotation.endpoints) > 1

    def request(self, payload: Sequence[bytes], service: Optional[str] = None, timeout: Optional[int] = None,
                attempts: Optional[int] = None, id: Optional[str] = None, wait: float = 30.0,
                resend: int = 0, key: Optional[str] = None, deadline: Optional[int] = None) -> Reply:
        """Enveloped REQUEST; `timeout`/`attempts` are the broker's per-attempt options, `wait` (s) the client's.

        `resend` extra tries follow a client-side timeout, with back-off 100 ms doubling to 5 s and jitter. With an
        idempotency `key` (spec "Idempotent requests"; generated when resending without one) every try names the same
        task, so it runs once whatever happens to the broker; a try that times out is then not cancelled.
        """
        corr = id or f"py-{os.getpid()}-{next(_ids)}"
        if key is None and (resend > 0 or self.fails_over):
            key = f"py-{uuid.uuid4().hex}"
        message = build_request(request_options(service, timeout, attempts, corr, key, deadline), payload)

        def accept(frames: list[bytes]) -> Optional[Reply]:
            reply = parse_reply(frames)
            return reply if reply.id in (corr, None) else None  # None: a malformed-request reply carries no id

        # A CANCEL would end the keyed task that the next try is to attach to.
        cancel = None if key is not None else build_cancel(corr)
        return self._exchange(message, accept, cancel, wait, resend)

    def plain(self, payload: Sequence[bytes], wait: float = 30.0, resend: int = 0) -> Reply:
        """PLAIN-REQUEST (the prototype's mode): service default, the broker's -T and -t, no reason on failure."""
        return self._exchange(build_plain(payload), parse_plain_reply, None, wait, resend)

    def _exchange(self, message, accept, cancel, wait: float, resend: int) -> Reply:
        backoff = 0.1
        for attempt in range(resend + 1):
            if attempt:
                time.sleep(backoff * (1 - 0.2 * random.random()))
                backoff = min(backoff * 2, 5.0)
            reply = self._try(message, accept, cancel, time.monotonic() + wait)
            if reply is not None:
                return reply
        raise ClientTimeout(f"no reply within {wait:g} s ({resend + 1} tr{'y' if resend == 0 else 'ies'})")

    def _try(self, message, accept, cancel, end: float) -> Optional[Reply]:
        """One try until `end`: the message goes to the current broker, and to the next each time one is judged gone."""
        while True:
            reply, gone = self._send_and_wait(self._rotation.current, message, accept, cancel, end)
            if not gone:
                return reply
            left = self._rotation.current
            endpoint, delay = self._rotation.advance()
            self.failovers += 1
            print(f"ztb_client: broker {left} gone ({gone}); sending to {endpoint}", file=sys.stderr)
            if time.monotonic() + delay >= end:
                return None
            time.sleep(delay)

    def _send_and_wait(self, endpoint: str, message, accept, cancel, end: float) -> tuple[Optional[Reply], Optional[str]]:
        """(reply, None), or (None, reason) when the broker is judged gone, or (None, None) when `end` passed."""
        zmq = self._zmq
        from zmq.utils.monitor import recv_monitor_message
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        monitor = None
        watched = self.fails_over
        if watched:
            sock.setsockopt(zmq.HEARTBEAT_IVL, self.heartbeat_ivl)
            sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, self.heartbeat_timeout)
            # Before connect: a monitor does not replay what happened before it existed.
            monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | GONE_EVENTS)
        try:
            sock.connect(endpoint)
            sock.send_multipart(message)
            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            if monitor is not None:
                poller.register(monitor, zmq.POLLIN)
            handshake_by = time.monotonic() + self.connect_timeout if watched else None
            while (left := end - time.monotonic()) > 0:
                if handshake_by is not None:
                    if time.monotonic() >= handshake_by:
                        return None, "no handshake"
                    left = min(left, handshake_by - time.monotonic())
                ready = dict(poller.poll(int(left * 1000) + 1))
                if monitor is not None and monitor in ready:
                    event = recv_monitor_message(monitor)["event"]
                    if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                        handshake_by = None
                    elif event & GONE_EVENTS:
                        return None, GONE_EVENTS_NAMES.get(event, "gone")
                if sock not in ready:
                    continue
                frames = sock.recv_multipart()
                try:
                    reply = accept(frames)
                except ProtocolError as exc:
                    print(f"ztb_client: malformed reply dropped: {exc}", file=sys.stderr)
                    continue
                if reply is not None:
                    self._rotation.answered()
                    return reply, None
            if cancel is not None:  # give up on it at the broker too (best effort)
                sock.setsockopt(zmq.LINGER, PARTING_LINGER_MS)
                sock.send_multipart(cancel, zmq.NOBLOCK)
            return None, None
        finally:
            if monitor is not None:
                sock.disable_monitor()
                monitor.close(0)
            sock.close()


# libzmq monitor events that judge a broker gone (spec "Failing over"); the values are libzmq's ZMQ_EVENT_* bits.
GONE_EVENTS_NAMES = {0x0004: "refused", 0x0200: "disconnected", 0x0800: "handshake failed",
                     0x2000: "handshake failed", 0x4000: "handshake failed"}
GONE_EVENTS = sum(GONE_EVENTS_NAMES)


# ---------------------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------------------

def print_reply(reply: Reply, plain: bool, out=sys.stdout) -> None:
    print(f"status: {reply.status}", file=out)
    if not plain:
        if reply.reason is not None:
            print(f"reason: {reply.reason}", file=out)
        if reply.message is not None:
            print(f"message: {reply.message}", file=out)
        extra = {k: v for k, v in reply.detail.items() if k not in ("status", "reason", "message")}
        print(f"detail: {json.dumps(extra, separators=(',', ':'))}", file=out)
    for i, frame in enumerate(reply.frames):
        print(f"frame {i}: {show_frame(frame)}", file=out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description="Send one ZTB/1 request and print the reply. Exit 0 success, 1 failure reply, 3 no reply in time.")
    p.add_argument("--clients", default=os.environ.get("ZTB_CLIENTS_ENDPOINT") or "tcp://127.0.0.1:4161",
                   help="broker clients endpoint, or several separated by commas to fail over between "
                        "(enveloped only; default: $ZTB_CLIENTS_ENDPOINT, else tcp://127.0.0.1:4161)")
    p.add_argument("--plain", action="store_true", help="the prototype's plain mode (no options, no reason)")
    p.add_argument("--service", help="service name (enveloped; default: the broker's \"default\")")
    p.add_argument("--timeout", type=int, metavar="MS", help="per-attempt timeout asked of the broker (enveloped)")
    p.add_argument("--attempts", type=int, metavar="N", help="maximum attempts asked of the broker (enveloped)")
    p.add_argument("--id", help="correlation id (enveloped; default: generated)")
    p.add_argument("--key", help="idempotency key (enveloped): one task per key, so resends never run it twice "
                                 "(default: generated when --resend is given)")
    p.add_argument("--deadline", type=int, metavar="MS",
                   help="the request's deadline at the broker, queue wait included (enveloped): past it the broker "
                        "replies failed/expired, saying when no worker serves the service")
    p.add_argument("--wait", type=int, metavar="MS",
                   help="client-side timeout per try (default: the deadline + 1000, else 30000); then exit 3")
    p.add_argument("--resend", type=int, default=0, metavar="N",
                   help="extra tries on a new socket after a client-side timeout (default 0: a task may run twice)")
    p.add_argument("payload", nargs="*", help="payload frames (UTF-8; '-' reads one frame from stdin)")
    args = p.parse_args(argv)
    frames = [sys.stdin.buffer.read() if a == "-" else a.encode("utf-8") for a in args.payload]
    if args.plain and (args.service or args.timeout or args.attempts or args.id or args.key or args.deadline):
        p.error("--plain takes no --service/--timeout/--attempts/--id/--key/--deadline (plain requests use the broker's defaults)")
    if args.wait is None:
        # A live broker answers by the deadline (expired at worst): wait a little longer before calling it gone.
        args.wait = args.deadline + 1000 if args.deadline is not None else 30000
    if args.wait < 1 or args.resend < 0:
        p.error("--wait must be >= 1 and --resend >= 0")
    try:
        client = Client(args.clients)
    except ValueError as exc:
        p.error(f"--clients: {exc}")
    if args.plain and client.fails_over:
        p.error("--plain takes one --clients endpoint (a plain request has no key: resent elsewhere it could run twice)")
    try:
        if args.plain:
            reply = client.plain(frames or [b""], wait=args.wait / 1000, resend=args.resend)
        else:
            reply = client.request(frames, args.service, args.timeout, args.attempts, args.id,
                                   wait=args.wait / 1000, resend=args.resend, key=args.key, deadline=args.deadline)
    except ValueError as exc:
        p.error(str(exc))
    except ClientTimeout as exc:
        print(f"ztb_client: timeout: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT
    print_reply(reply, args.plain)
    return EXIT_OK if reply.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
