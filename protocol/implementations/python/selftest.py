"""Tests of the pure parts of ztb_worker.py and ztb_client.py (frame building and parsing), no sockets, no pyzmq.

Run from this directory: /usr/bin/python3 -m unittest selftest   (or: /usr/bin/python3 -m unittest -v)
The spec's test vectors (protocol/examples) are the reference: messages built here must equal them byte for byte, and
messages the broker sends must parse (valid) or fail with the vector's error code (invalid).
"""

import glob
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
EXAMPLES = os.path.normpath(os.path.join(HERE, "..", "..", "examples"))

import ztb_client as zc  # noqa: E402
import ztb_worker as zw  # noqa: E402


def frame_bytes(spec: dict) -> bytes:
    """A vector frame's octets (protocol/schemas/vector.schema.json)."""
    if "text" in spec:
        return spec["text"].encode("utf-8")
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    return json.dumps(spec["json"], separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def vectors(kind: str, endpoint: str, direction: str, command: str):
    for path in sorted(glob.glob(os.path.join(EXAMPLES, kind, "*.json"))):
        with open(path, encoding="utf-8") as f:
            v = json.load(f)
        if (v["endpoint"], v["direction"], v["command"]) == (endpoint, direction, command):
            yield os.path.basename(path), v, [frame_bytes(x) for x in v["frames"]]


def body_json(frames, index):
    return json.loads(frames[index].decode("utf-8"))


class WorkerBuildsVectors(unittest.TestCase):
    """Every valid worker-to-broker vector is rebuilt byte for byte."""

    def check(self, command, build):
        seen = 0
        for name, _, frames in vectors("valid", "workers", "to-broker", command):
            with self.subTest(vector=name):
                self.assertEqual(build(frames), frames)
                seen += 1
        self.assertGreater(seen, 0, f"no vector for {command}")

    def test_ready(self):
        def build(frames):
            j = body_json(frames, 3)
            return zw.build_ready(j["name"], j["capacity"], j["heartbeat"], j.get("services"))
        self.check("READY", build)

    def test_result(self):
        self.check("RESULT", lambda f: zw.build_result(f[3], f[4:]))

    def test_fail(self):
        self.check("FAIL", lambda f: zw.build_fail(f[3], body_json(f, 4)["message"], body_json(f, 4)["retryable"],
                                                   body_json(f, 4).get("returned", False)))

    def test_extend(self):
        self.check("EXTEND", lambda f: zw.build_extend(f[3], body_json(f, 4)["timeout"]))

    def test_heartbeat(self):
        self.check("HEARTBEAT", lambda f: zw.build_heartbeat(int(f[3])))

    def test_disconnect(self):
        def build(frames):
            if len(frames) == 3:
                return zw.build_disconnect(None)
            j = body_json(frames, 3)
            return zw.build_disconnect(j["reason"], j.get("message"), j.get("finish", False))
        self.check("DISCONNECT", build)


class WorkerParsesBrokerMessages(unittest.TestCase):

    def test_unknown_reasons_are_salvaged(self):
        """Spec "JSON members": CANCEL/DISCONNECT with a reason of a later revision still act."""
        cancel = [b"", b"ZTBW01", b"CANCEL", b"t-1", b'{"reason":"preempted"}']
        with self.assertRaises(zw.ProtocolError):
            zw.parse_broker_message(cancel)
        msg = zw.salvage_broker_message(cancel)
        self.assertEqual((msg.command, msg.task_id, msg.reason), ("CANCEL", b"t-1", "cancelled"))
        msg = zw.salvage_broker_message([b"", b"ZTBW01", b"DISCONNECT", b"{bad"])
        self.assertEqual((msg.command, msg.reason), ("DISCONNECT", None))
        self.assertIsNone(zw.salvage_broker_message([b"", b"ZTBW01", b"TASK", b"t-1", b"{bad"]))
        self.assertIsNone(zw.salvage_broker_message([b"", b"ZTBW01", b"CANCEL", b"", b"{}"]))

    def test_valid_vectors_parse(self):
        seen = 0
        for command in ("TASK", "CANCEL", "HEARTBEAT", "DISCONNECT"):
            for name, v, frames in vectors("valid", "workers", "from-broker", command):
                with self.subTest(vector=name):
                    msg = zw.parse_broker_message(frames)
                    self.assertEqual(msg.command, command)
                    seen += 1
        self.assertGreaterEqual(seen, 6)

    def test_task_fields(self):
        (_, _, frames), = [x for x in vectors("valid", "workers", "from-broker", "TASK") if x[0] == "workers-task.json"]
        msg = zw.parse_broker_message(frames)
        self.assertEqual(msg.task_id, b"k3f9q2-1a")
        self.assertEqual(msg.header, {"service": "resize", "attempt": 1, "attempts": 3, "timeout": 5000})
        self.assertEqual(msg.payload, [bytes.fromhex("ffd8ffe000104a464946")])

    def test_task_unlimited_keeps_binary_payload(self):
        (_, _, frames), = [x for x in vectors("valid", "workers", "from-broker", "TASK")
                           if x[0] == "workers-task-unlimited.json"]
        msg = zw.parse_broker_message(frames)
        self.assertIsNone(msg.header["attempts"])
        self.assertIsNone(msg.header["timeout"])
        self.assertEqual(msg.payload, [b"\x00\xff\x10\xab", b"second"])

    def test_heartbeat_and_disconnect_fields(self):
        self.assertEqual(zw.parse_broker_message([b"", b"ZTBW01", b"HEARTBEAT", b"2500"]).interval, 2500)
        msg = zw.parse_broker_message([b"", b"ZTBW01", b"DISCONNECT", b'{"reason":"unknown-worker","extra":1}'])
        self.assertEqual(msg.reason, "unknown-worker")  # unknown members are ignored
        self.assertIsNone(zw.parse_broker_message([b"", b"ZTBW01", b"DISCONNECT"]).reason)

    def test_invalid_vectors_give_their_code(self):
        seen = 0
        for command in ("TASK", "CANCEL", "HEARTBEAT", "DISCONNECT"):
            for name, v, frames in vectors("invalid", "workers", "from-broker", command):
                with self.subTest(vector=name):
                    with self.assertRaises(zw.ProtocolError) as ctx:
                        zw.parse_broker_message(frames)
                    self.assertEqual(ctx.exception.code, v["error"])
                    seen += 1
        self.assertGreaterEqual(seen, 3)

    def test_malformed_codes(self):
        cases = [
            ([], "ZTB_ERR_EMPTY"),
            ([b"ZTBW01", b"HEARTBEAT", b"2500"], "ZTB_ERR_DELIMITER"),
            ([b"", b"ZTBW01"], "ZTB_ERR_MISSING_FRAME"),
            ([b"", b"ZTBW02", b"HEARTBEAT", b"2500"], "ZTB_ERR_VERSION"),
            ([b"", b"ZTBX01", b"HEARTBEAT", b"2500"], "ZTB_ERR_SIGNATURE"),
            ([b"", b"ZTBW01", b"RESULT", b"x"], "ZTB_ERR_UNKNOWN_COMMAND"),
            ([b"", b"ZTBW01", b"HEARTBEAT", b"2500", b""], "ZTB_ERR_EXTRA_FRAME"),
            ([b"", b"ZTBW01", b"HEARTBEAT", b"0100"], "ZTB_ERR_SCHEMA"),
            ([b"", b"ZTBW01", b"HEARTBEAT", b"25a0"], "ZTB_ERR_SCHEMA"),
            ([b"", b"ZTBW01", b"TASK", b"", b"{}"], "ZTB_ERR_MISSING_FRAME"),
            ([b"", b"ZTBW01", b"TASK", b"x" * 256, b"{}"], "ZTB_ERR_TOO_LARGE"),
            ([b"", b"ZTBW01", b"TASK", b"t", b"{"], "ZTB_ERR_BAD_JSON"),
            ([b"", b"ZTBW01", b"TASK", b"t", b'{"service":"s","attempt":1,"attempts":null}'], "ZTB_ERR_SCHEMA"),
            ([b"", b"ZTBW01", b"CANCEL", b"t"], "ZTB_ERR_MISSING_FRAME"),
            ([b"", b"ZTBW01", b"DISCONNECT", b"[]"], "ZTB_ERR_SCHEMA"),
        ]
        for frames, code in cases:
            with self.subTest(frames=frames[:4]):
                with self.assertRaises(zw.ProtocolError) as ctx:
                    zw.parse_broker_message(frames)
                self.assertEqual(ctx.exception.code, code)


class WorkerRefusesToBuildInvalid(unittest.TestCase):

    def test_ready_bounds(self):
        for args in (("", 1, 1000), ("w", 0, 1000), ("w", 1001, 1000), ("w", 1, 99), ("w", 1, 60001), ("x" * 65, 1, 100)):
            with self.subTest(args=args), self.assertRaises(ValueError):
                zw.build_ready(*args)
        for services in ([], ["a", "a"], ["x" * 65], [str(i) for i in range(33)]):
            with self.subTest(services=services), self.assertRaises(ValueError):
                zw.build_ready("w", 1, 1000, services)

    def test_task_id_bounds(self):
        for tid in (b"", b"x" * 256):
            with self.subTest(len=len(tid)), self.assertRaises(ValueError):
                zw.build_result(tid)

    def test_other_bounds(self):
        with self.assertRaises(ValueError):
            zw.build_extend(b"t", 0)
        with self.assertRaises(ValueError):
            zw.build_extend(b"t", zw.MAX_TIMEOUT + 1)
        with self.assertRaises(ValueError):
            zw.build_disconnect("shutdown", finish=True)
        with self.assertRaises(ValueError):
            zw.build_disconnect("later")
        self.assertEqual(len(json.loads(zw.build_fail(b"t", "e" * 5000, True)[4])["message"]), 1024)

    def test_interval_round_trip(self):
        for ms in (100, 2500, 60000):
            self.assertEqual(zw.parse_interval(zw.format_interval(ms)), ms)
        with self.assertRaises(zw.ProtocolError) as ctx:
            zw.parse_interval(b"1234567")
        self.assertEqual(ctx.exception.code, "ZTB_ERR_TOO_LARGE")

    def test_backoff(self):
        delays, b = [], zw.BACKOFF_FIRST_MS
        for _ in range(8):
            delays.append(b)
            b = zw.next_backoff(b)
        self.assertEqual(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000])
        self.assertEqual(zw.next_backoff(0), 100)  # after unknown-worker: at once, then 100 ms
        self.assertAlmostEqual(zw.jittered(1000, lambda: 1.0), 0.8)
        self.assertAlmostEqual(zw.jittered(1000, lambda: 0.0), 1.0)


class ClientBuildsVectors(unittest.TestCase):

    def test_request(self):
        seen = 0
        for name, _, frames in vectors("valid", "clients", "to-broker", "REQUEST"):
            with self.subTest(vector=name):
                o = body_json(frames, 3)
                opts = zc.request_options(o.get("service"), o.get("timeout"), o.get("attempts"), o.get("id"), o.get("key"),
                                          o.get("deadline"), o.get("limits", False))
                self.assertEqual(zc.build_request(opts, frames[4:]), frames)
                seen += 1
        self.assertGreaterEqual(seen, 3)

    def test_cancel(self):
        for name, _, frames in vectors("valid", "clients", "to-broker", "CANCEL"):
            with self.subTest(vector=name):
                self.assertEqual(zc.build_cancel(body_json(frames, 3)["id"]), frames)

    def test_plain(self):
        seen = 0
        for name, _, frames in vectors("valid", "clients", "to-broker", "PLAIN-REQUEST"):
            if frames[0] != b"":
                continue  # proxied: the hop frames are added by the proxy, not by the client
            with self.subTest(vector=name):
                self.assertEqual(zc.build_plain(frames[1:]), frames)
                seen += 1
        self.assertGreaterEqual(seen, 2)

    def test_refusals(self):
        with self.assertRaises(ValueError):
            zc.build_plain([b"ZTBC01", b"x"])  # would be read as enveloped
        with self.assertRaises(ValueError):
            zc.build_plain([])
        for kwargs in ({"service": ""}, {"timeout": 0}, {"attempts": 0}, {"id": "x" * 129}, {"deadline": 0}):
            with self.subTest(kwargs=kwargs), self.assertRaises(ValueError):
                zc.request_options(**kwargs)


class ClientParsesReplies(unittest.TestCase):

    def test_valid_replies(self):
        seen = 0
        for name, v, frames in vectors("valid", "clients", "from-broker", "REPLY"):
            with self.subTest(vector=name):
                reply = zc.parse_reply(frames)
                detail = body_json(frames, 3)
                self.assertEqual(reply.status, detail["status"])
                self.assertEqual(reply.reason, detail.get("reason"))
                self.assertEqual(reply.frames, frames[4:])
                seen += 1
        self.assertGreaterEqual(seen, 4)

    def test_succeeded_reply_fields(self):
        (_, _, frames), = [x for x in vectors("valid", "clients", "from-broker", "REPLY")
                           if x[0] == "clients-reply-succeeded.json"]
        reply = zc.parse_reply(frames)
        self.assertTrue(reply.ok)
        self.assertEqual((reply.id, reply.frames), ("req-1", [b"HELLO"]))

    def test_invalid_replies(self):
        seen = 0
        for name, v, frames in vectors("invalid", "clients", "from-broker", "REPLY"):
            with self.subTest(vector=name):
                with self.assertRaises(zc.ProtocolError) as ctx:
                    zc.parse_reply(frames)
                self.assertEqual(ctx.exception.code, v["error"])
                seen += 1
        self.assertGreaterEqual(seen, 2)
        with self.assertRaises(zc.ProtocolError) as ctx:
            zc.parse_reply([b"", b"ZTBC01", b"REPLY", b'{"status":"failed","attempts":0,"elapsed":0}'])
        self.assertEqual(ctx.exception.code, "ZTB_ERR_SCHEMA")  # failed without a reason

    def test_plain_replies(self):
        for name, v, frames in vectors("valid", "clients", "from-broker", "PLAIN-REPLY"):
            if frames[0] != b"":
                continue  # proxied: the proxy strips its hop before the client sees it
            with self.subTest(vector=name):
                reply = zc.parse_plain_reply(frames)
                self.assertEqual(reply.ok, frames[1:] != [b""])

    def test_show_frame(self):
        self.assertEqual(zc.show_frame(b"hello\tworld"), "hello\tworld")
        self.assertEqual(zc.show_frame(b"\x00\xff"), "hex:00ff")
        self.assertEqual(zc.show_frame("é".encode()), "é")


if __name__ == "__main__":
    unittest.main()


class ClientFailsOverInTurn(unittest.TestCase):
    """spec "Failing over": which broker next, and how long to wait (no sockets)."""

    def test_round_then_backoff(self):
        rotation = zc.EndpointRotation(["a", "b", "c"], rand=lambda: 0.0)
        moves = [rotation.advance() for _ in range(6)]
        self.assertEqual(moves, [("b", 0.0), ("c", 0.0), ("a", 0.1), ("b", 0.2), ("c", 0.4), ("a", 0.8)])

    def test_a_reply_resets_the_round_and_the_backoff(self):
        rotation = zc.EndpointRotation(["a", "b"], rand=lambda: 0.0)
        for _ in range(5):
            rotation.advance()
        rotation.answered()
        self.assertEqual(rotation.advance(), ("a", 0.0))
        self.assertEqual(rotation.advance(), ("b", 0.1))

    def test_backoff_has_a_ceiling(self):
        rotation = zc.EndpointRotation(["a"], rand=lambda: 0.0)
        delays = [rotation.advance()[1] for _ in range(12)]
        self.assertEqual(max(delays), 5.0)

    def test_endpoint_lists(self):
        self.assertEqual(zc.endpoint_list("tcp://a:1,tcp://b:2"), ["tcp://a:1", "tcp://b:2"])
        self.assertEqual(zc.endpoint_list(["tcp://a:1"]), ["tcp://a:1"])
        for bad in ("", "tcp://a:1,", "tcp://a:1,tcp://a:1", []):
            with self.assertRaises(ValueError):
                zc.endpoint_list(bad)
