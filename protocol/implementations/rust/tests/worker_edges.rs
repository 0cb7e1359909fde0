//! The worker against a scripted broker (a real ROUTER socket) for what `ztb conformance` does not drive:
//! a malformed TASK (GUESSES.md G5) and DISCONNECT draining (G11).
use std::process::{Child, Command};
use ztb::json;
use ztb::zmq::{Context, Socket, ROUTER};

/// Waits for the next message, however long it takes, within a generous bound that only stops a hung test.
fn next(router: &Socket) -> Vec<Vec<u8>> {
    for _ in 0..600 {
        if router.poll_in(100).unwrap() {
            return router.recv().unwrap();
        }
    }
    panic!("no message from the worker within 60 s");
}

/// Skips HEARTBEATs; returns (routing id, frames after the routing id).
fn next_command(router: &Socket) -> (Vec<u8>, Vec<Vec<u8>>) {
    loop {
        let mut m = next(router);
        let rid = m.remove(0);
        if m.get(2).map(|c| c.as_slice()) != Some(b"HEARTBEAT") {
            return (rid, m);
        }
    }
}

fn start(endpoint: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ztb-worker"))
        .args([endpoint, "--name", "edge", "--log-level", "error"])
        .spawn()
        .unwrap()
}

fn send(router: &Socket, rid: &[u8], frames: &[&[u8]]) {
    let mut all: Vec<&[u8]> = vec![rid, b"", b"ZTBW01"];
    all.extend_from_slice(frames);
    router.send(&all).unwrap();
}

#[test]
fn malformed_task_gets_protocol_error_then_a_new_registration() {
    let ctx = Context::new().unwrap();
    let router = ctx.socket(ROUTER).unwrap();
    router.set_linger(0).unwrap();
    let ep = router.bind("tcp://127.0.0.1:*").unwrap();
    let mut worker = start(&ep);
    let (rid, ready) = next_command(&router);
    assert_eq!(ready[2], b"READY");
    send(&router, &rid, &[b"HEARTBEAT", b"1000"]);
    // 1.0 is not an integer: every ZTB/1 number is one.
    send(&router, &rid, &[b"TASK", b"t-1", br#"{"service":"default","attempt":1.0,"attempts":null,"timeout":null}"#, b"x"]);
    let (rid2, bye) = next_command(&router);
    assert_eq!(rid2, rid);
    assert_eq!(bye[2], b"DISCONNECT");
    let detail = json::parse(&bye[3]).unwrap();
    assert_eq!(detail.get("reason").unwrap().as_str(), Some("protocol-error"));
    assert!(detail.get("message").unwrap().as_str().unwrap().starts_with("ZTB_ERR_SCHEMA"));
    let (rid3, again) = next_command(&router);
    assert_ne!(rid3, rid, "a reconnect uses a new socket, hence a new routing id");
    assert_eq!(again[2], b"READY");
    worker.kill().unwrap();
    worker.wait().unwrap();
}

#[test]
fn draining_makes_the_worker_exit_without_reconnecting() {
    let ctx = Context::new().unwrap();
    let router = ctx.socket(ROUTER).unwrap();
    router.set_linger(0).unwrap();
    let ep = router.bind("tcp://127.0.0.1:*").unwrap();
    let mut worker = start(&ep);
    let (rid, ready) = next_command(&router);
    assert_eq!(ready[2], b"READY");
    send(&router, &rid, &[b"HEARTBEAT", b"1000"]);
    send(&router, &rid, &[b"DISCONNECT", br#"{"reason":"draining"}"#]);
    let status = worker.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
}
