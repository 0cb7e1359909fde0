//! ztb-worker: a modern ZTB/1 worker (spec §Worker protocol) that echoes each task's payload.
//!
//! One thread owns the DEALER socket; each task runs on its own thread and hands its outcome back
//! through a channel, because ZeroMQ sockets are not thread-safe (spec §Implementing a worker).
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ztb::json::{self, obj, Value};
use ztb::util::{self, log, now_ms, DEBUG, ERROR, INFO, WARN};
use ztb::zmq::{self, Context, Socket};

const PROG: &str = "ztb-worker";
const SIG: &[u8] = b"ZTBW01";
/// Longest a poll may block, so that a signal caught by another thread is seen promptly.
const MAX_WAIT_MS: i64 = 50;

const USAGE: &str = "Usage: ztb-worker [options] [WORKERS]

A ZTB/1 modern worker: connects a DEALER socket to the broker's workers endpoint, announces its services,
and answers every task with its payload unchanged (an echo). WORKERS defaults to $ZTB_WORKERS_ENDPOINT.

Options:
  --name NAME          worker name (1..64 characters; default rust-<pid>)
  --service NAME       service to serve (repeatable, at most 32; default \"default\")
  --capacity N         tasks held at once, 1..1000 (default 1)
  --heartbeat MS       this worker's heartbeat interval, 100..60000 ms (default 1000)
  --delay DURATION     simulated work per task, e.g. 50, 50ms, 2s (default 0)
  --extend             while a task with a deadline runs, send EXTEND {timeout} every timeout / 2
  --fail TEXT          answer FAIL retryable=false to a task whose first payload frame is TEXT (repeatable)
  --retry TEXT         answer FAIL retryable=true to a task whose first payload frame is TEXT (repeatable)
  --fail-rate F        fraction 0..1 of tasks answered with FAIL retryable=true instead of a RESULT
  --grace DURATION     on SIGINT/SIGTERM, time given to running tasks before DISCONNECT bye (default 5s)
  --log-level LEVEL    debug, info, warn or error (default info); logs go to stderr
  -h, --help           show this help

Exit status: 0 after SIGINT/SIGTERM or DISCONNECT draining/bye, 2 on usage errors.";

struct Config {
    endpoint: String,
    name: String,
    services: Vec<String>,
    capacity: i64,
    heartbeat: i64,
    delay: i64,
    extend: bool,
    fail: Vec<Vec<u8>>,
    retry: Vec<Vec<u8>>,
    fail_rate: f64,
    grace: i64,
}

fn parse_args() -> Result<Config, String> {
    let mut cfg = Config {
        endpoint: std::env::var("ZTB_WORKERS_ENDPOINT").unwrap_or_default(),
        name: format!("rust-{}", std::process::id()),
        services: Vec::new(),
        capacity: 1,
        heartbeat: 1000,
        delay: 0,
        extend: false,
        fail: Vec::new(),
        retry: Vec::new(),
        fail_rate: 0.0,
        grace: 5000,
    };
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{what} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--name" => cfg.name = value("--name")?,
            "--service" => cfg.services.push(value("--service")?),
            "--capacity" => cfg.capacity = util::parse_int(&value("--capacity")?, "--capacity", 1, 1000)?,
            "--heartbeat" => cfg.heartbeat = util::parse_int(&value("--heartbeat")?, "--heartbeat", 100, 60000)?,
            "--delay" => cfg.delay = util::parse_duration(&value("--delay")?)?,
            "--extend" => cfg.extend = true,
            "--fail" => cfg.fail.push(value("--fail")?.into_bytes()),
            "--retry" => cfg.retry.push(value("--retry")?.into_bytes()),
            "--fail-rate" => {
                let t = value("--fail-rate")?;
                cfg.fail_rate = t.parse().map_err(|_| format!("--fail-rate must be a number, got {t:?}"))?;
                if !(0.0..=1.0).contains(&cfg.fail_rate) {
                    return Err("--fail-rate must be within 0..1".into());
                }
            }
            "--grace" => cfg.grace = util::parse_duration(&value("--grace")?)?,
            "--log-level" => util::set_log_level(&value("--log-level")?)?,
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            _ => positional.push(a),
        }
    }
    match positional.len() {
        0 => {}
        1 => cfg.endpoint = positional.remove(0),
        _ => return Err("expected at most one endpoint (WORKERS)".into()),
    }
    if cfg.endpoint.is_empty() {
        return Err("no endpoint: give WORKERS or set ZTB_WORKERS_ENDPOINT".into());
    }
    util::check_name(&cfg.name, "--name")?;
    if cfg.services.is_empty() {
        cfg.services.push("default".into());
    }
    if cfg.services.len() > 32 {
        return Err("at most 32 --service".into());
    }
    for (i, s) in cfg.services.iter().enumerate() {
        util::check_name(s, "--service")?;
        if cfg.services[..i].contains(s) {
            return Err(format!("--service {s:?} given twice"));
        }
    }
    Ok(cfg)
}

enum Outcome {
    Result(Vec<Vec<u8>>),
    Fail { message: String, retryable: bool },
}

/// A finished job, tagged with the job number so that the outcome of a cancelled or superseded
/// attempt is recognised and dropped.
struct Done {
    job: u64,
    id: Vec<u8>,
    outcome: Outcome,
}

struct Job {
    job: u64,
    cancel: Arc<AtomicBool>,
    /// The attempt's timeout from the TASK header, for EXTEND.
    timeout: Option<i64>,
    next_extend: Option<i64>,
}

fn run_job(cfg: &Config, job: u64, id: Vec<u8>, payload: Vec<Vec<u8>>, cancel: Arc<AtomicBool>, tx: Sender<Done>) {
    let delay = cfg.delay;
    let fail = payload.first().map_or(false, |f| cfg.fail.contains(f));
    let retry = payload.first().map_or(false, |f| cfg.retry.contains(f)) || util::random_unit() < cfg.fail_rate;
    thread::spawn(move || {
        let until = now_ms() + delay;
        while now_ms() < until {
            if cancel.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis((until - now_ms()).clamp(1, 10) as u64));
        }
        let outcome = if fail {
            Outcome::Fail { message: "refused by --fail".into(), retryable: false }
        } else if retry {
            Outcome::Fail { message: "refused by --retry or --fail-rate".into(), retryable: true }
        } else {
            Outcome::Result(payload)
        };
        let _ = tx.send(Done { job, id, outcome });
    });
}

/// How one connection ended.
enum End {
    Exit,
    Reconnect { at_once: bool },
}

struct Conn<'a> {
    cfg: &'a Config,
    sock: Socket,
    broker_hb: i64,
    last_recv: i64,
    last_send: i64,
    running: HashMap<Vec<u8>, Job>,
    next_job: u64,
    tx: Sender<Done>,
    rx: Receiver<Done>,
    /// Set once SIGINT/SIGTERM arrived: when the grace period for running tasks ends.
    stop_at: Option<i64>,
}

impl<'a> Conn<'a> {
    fn send(&mut self, frames: &[&[u8]]) -> Result<(), zmq::Error> {
        let mut all: Vec<&[u8]> = vec![b"", SIG];
        all.extend_from_slice(frames);
        self.sock.send(&all)?;
        self.last_send = now_ms();
        Ok(())
    }

    fn drop_all_jobs(&mut self) {
        for (_, j) in self.running.drain() {
            j.cancel.store(true, Ordering::SeqCst);
        }
    }

    fn protocol_error(&mut self, code: &str, detail: &str) -> End {
        log(ERROR, PROG, &format!("malformed message from the broker: {code}: {detail}"));
        let message = util::truncate_chars(&format!("{code}: {detail}"), 1024);
        let d = obj(vec![("reason", Value::str("protocol-error")), ("message", Value::Str(message))]).encode();
        self.drop_all_jobs();
        let _ = self.sock.set_linger(500);
        let _ = self.send(&[b"DISCONNECT", d.as_bytes()]);
        End::Reconnect { at_once: false }
    }

    fn finish_jobs(&mut self) -> Result<(), zmq::Error> {
        while let Ok(done) = self.rx.try_recv() {
            match self.running.get(&done.id) {
                Some(j) if j.job == done.job => {}
                _ => continue, // cancelled, or superseded by a later attempt of the same id
            }
            self.running.remove(&done.id);
            match done.outcome {
                Outcome::Result(frames) => {
                    log(DEBUG, PROG, &format!("RESULT {}", util::show(&done.id)));
                    let mut f: Vec<&[u8]> = vec![b"RESULT", &done.id];
                    f.extend(frames.iter().map(|x| x.as_slice()));
                    self.send(&f)?;
                }
                Outcome::Fail { message, retryable } => {
                    log(DEBUG, PROG, &format!("FAIL {} retryable={retryable}", util::show(&done.id)));
                    let d = obj(vec![
                        ("message", Value::Str(util::truncate_chars(&message, 1024))),
                        ("retryable", Value::Bool(retryable)),
                    ])
                    .encode();
                    self.send(&[b"FAIL", &done.id, d.as_bytes()])?;
                }
            }
        }
        Ok(())
    }

    fn send_extends(&mut self) -> Result<(), zmq::Error> {
        let now = now_ms();
        let due: Vec<(Vec<u8>, i64)> = self
            .running
            .iter()
            .filter(|(_, j)| j.next_extend.map_or(false, |t| now >= t))
            .map(|(id, j)| (id.clone(), j.timeout.unwrap_or(1000)))
            .collect();
        for (id, timeout) in due {
            let timeout = timeout.clamp(1, 3_600_000);
            let d = obj(vec![("timeout", Value::int(timeout))]).encode();
            log(DEBUG, PROG, &format!("EXTEND {} by {timeout} ms", util::show(&id)));
            self.send(&[b"EXTEND", &id, d.as_bytes()])?;
            if let Some(j) = self.running.get_mut(&id) {
                j.next_extend = Some(now + (timeout / 2).max(1));
            }
        }
        Ok(())
    }

    fn say_bye(&mut self) -> End {
        self.drop_all_jobs();
        // With LINGER 0 the close could discard DISCONNECT unsent (spec §Implementing a worker).
        let _ = self.sock.set_linger(500);
        let d = obj(vec![("reason", Value::str("bye"))]).encode();
        let _ = self.send(&[b"DISCONNECT", d.as_bytes()]);
        log(INFO, PROG, "sent DISCONNECT bye");
        End::Exit
    }

    /// Handles one message from the broker; Some(end) when the connection is over.
    fn handle(&mut self, msg: Vec<Vec<u8>>) -> Option<End> {
        if msg.len() < 3 || !msg[0].is_empty() || msg[1] != SIG {
            log(WARN, PROG, &format!("dropped a message that is not ZTBW01: {}", util::show_frames(&msg)));
            return None;
        }
        let command = msg[2].as_slice();
        let args = &msg[3..];
        match command {
            b"HEARTBEAT" => {
                if args.len() != 1 {
                    log(WARN, PROG, &format!("dropped a HEARTBEAT of {} argument frames", args.len()));
                    return None;
                }
                match util::parse_interval(&args[0]) {
                    Some(v) if (100..=60000).contains(&v) => self.broker_hb = v,
                    Some(v) => log(WARN, PROG, &format!("ignored broker interval {v} ms outside 100..60000")),
                    None => log(WARN, PROG, &format!("dropped a HEARTBEAT with interval {}", util::show(&args[0]))),
                }
                None
            }
            b"TASK" => self.on_task(args),
            b"CANCEL" => {
                if args.len() != 2 || args[0].is_empty() || args[0].len() > 255 {
                    log(WARN, PROG, &format!("dropped a malformed CANCEL: {}", util::show_frames(args)));
                    return None;
                }
                let reason = json::parse(&args[1]).ok().and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(String::from));
                match reason.as_deref() {
                    Some("timeout") | Some("answered") | Some("cancelled") => {}
                    _ => {
                        log(WARN, PROG, &format!("dropped a CANCEL with detail {}", util::show(&args[1])));
                        return None;
                    }
                }
                if let Some(j) = self.running.remove(&args[0]) {
                    j.cancel.store(true, Ordering::SeqCst);
                    log(DEBUG, PROG, &format!("CANCEL {} ({})", util::show(&args[0]), reason.unwrap()));
                }
                None
            }
            b"DISCONNECT" => {
                let reason = match args.len() {
                    0 => None,
                    1 => json::parse(&args[0]).ok().and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(String::from)),
                    _ => {
                        log(WARN, PROG, "DISCONNECT with extra frames: treated as one without detail");
                        None
                    }
                };
                let detail = args.first().map(|f| String::from_utf8_lossy(f).into_owned()).unwrap_or_default();
                self.drop_all_jobs();
                match reason.as_deref() {
                    Some("draining") | Some("bye") => {
                        log(INFO, PROG, &format!("the broker asked this worker to leave: {detail}"));
                        Some(End::Exit)
                    }
                    Some("unknown-worker") => {
                        log(INFO, PROG, "the broker does not know this worker: registering again");
                        Some(End::Reconnect { at_once: true })
                    }
                    Some("protocol-error") => {
                        log(ERROR, PROG, &format!("the broker reports a protocol error (a bug here): {detail}"));
                        Some(End::Reconnect { at_once: false })
                    }
                    _ => {
                        log(INFO, PROG, &format!("the broker disconnected this worker: {detail}"));
                        Some(End::Reconnect { at_once: false })
                    }
                }
            }
            _ => {
                log(WARN, PROG, &format!("ignored unknown command {}", util::show(command)));
                None
            }
        }
    }

    fn on_task(&mut self, args: &[Vec<u8>]) -> Option<End> {
        if args.len() < 2 {
            return Some(self.protocol_error("ZTB_ERR_MISSING_FRAME", "TASK without task id and header"));
        }
        let id = &args[0];
        if id.is_empty() {
            return Some(self.protocol_error("ZTB_ERR_MISSING_FRAME", "TASK with an empty task id"));
        }
        if id.len() > 255 {
            return Some(self.protocol_error("ZTB_ERR_TOO_LARGE", "TASK id over 255 octets"));
        }
        let header = match json::parse(&args[1]) {
            Ok(v) => v,
            Err(e) => return Some(self.protocol_error("ZTB_ERR_BAD_JSON", &format!("TASK header: {e}"))),
        };
        let timeout = match check_header(&header) {
            Ok(t) => t,
            Err(e) => return Some(self.protocol_error("ZTB_ERR_SCHEMA", &format!("TASK header: {e}"))),
        };
        if self.stop_at.is_some() {
            // Leaving: the broker re-queues it when it reads DISCONNECT bye.
            log(INFO, PROG, &format!("not starting {} while leaving", util::show(id)));
            return None;
        }
        if self.running.len() as i64 >= self.cfg.capacity && !self.running.contains_key(id) {
            log(WARN, PROG, &format!("the broker sent {} beyond capacity {}; running it anyway", util::show(id), self.cfg.capacity));
        }
        if let Some(old) = self.running.remove(id) {
            // A new attempt of an id we still run, without a CANCEL before it: the newer one is the one to answer.
            old.cancel.store(true, Ordering::SeqCst);
        }
        let payload: Vec<Vec<u8>> = args[2..].to_vec();
        log(DEBUG, PROG, &format!("TASK {} {}", util::show(id), String::from_utf8_lossy(&args[1])));
        self.next_job += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        let next_extend = if self.cfg.extend { timeout.map(|t| now_ms() + (t / 2).max(1)) } else { None };
        self.running.insert(id.clone(), Job { job: self.next_job, cancel: cancel.clone(), timeout, next_extend });
        run_job(self.cfg, self.next_job, id.clone(), payload, cancel, self.tx.clone());
        None
    }
}

/// Checks a TASK header (schemas/task-header.schema.json); returns the attempt's timeout.
/// Unknown members are ignored: a later broker may add some.
fn check_header(h: &Value) -> Result<Option<i64>, String> {
    if !matches!(h, Value::Obj(_)) {
        return Err("not an object".into());
    }
    let service = h.get("service").and_then(|v| v.as_str()).ok_or("service missing or not a string")?;
    util::check_name(service, "service")?;
    match h.get("attempt").and_then(|v| v.as_int()) {
        Some(n) if n >= 1 => {}
        _ => return Err("attempt missing or not an integer >= 1".into()),
    }
    let nullable_positive = |name: &str| -> Result<Option<i64>, String> {
        match h.get(name) {
            Some(Value::Null) => Ok(None),
            Some(v) => match v.as_int() {
                Some(n) if n >= 1 => Ok(Some(n)),
                _ => Err(format!("{name} is neither null nor an integer >= 1")),
            },
            None => Err(format!("{name} missing")),
        }
    };
    nullable_positive("attempts")?;
    nullable_positive("timeout")
}

fn run_connection(ctx: &Context, cfg: &Config, backoff: &mut i64) -> Result<End, zmq::Error> {
    let sock = ctx.socket(zmq::DEALER)?;
    sock.set_linger(0)?;
    // Spec §Security: the send high-water mark should exceed capacity plus a few control messages.
    sock.set_hwm((cfg.capacity as i32) * 2 + 64)?;
    sock.connect(&cfg.endpoint)?;
    let (tx, rx) = channel();
    let mut c = Conn {
        cfg,
        sock,
        broker_hb: cfg.heartbeat,
        last_recv: now_ms(),
        last_send: now_ms(),
        running: HashMap::new(),
        next_job: 0,
        tx,
        rx,
        stop_at: None,
    };
    let mut ready = vec![("name", Value::str(&cfg.name))];
    // `services` is optional with default ["default"]; it is sent anyway, which is always valid.
    ready.push(("services", Value::Arr(cfg.services.iter().map(|s| Value::str(s)).collect())));
    ready.push(("capacity", Value::int(cfg.capacity)));
    ready.push(("heartbeat", Value::int(cfg.heartbeat)));
    c.send(&[b"READY", obj(ready).encode().as_bytes()])?;
    log(INFO, PROG, &format!("READY sent to {} as {:?}", cfg.endpoint, cfg.name));
    let mut heard = false;
    loop {
        let now = now_ms();
        if util::stop_requested() && c.stop_at.is_none() {
            log(INFO, PROG, &format!("stopping: {} task(s) running, grace {} ms", c.running.len(), cfg.grace));
            c.stop_at = Some(now + cfg.grace);
        }
        c.finish_jobs()?;
        if let Some(at) = c.stop_at {
            if c.running.is_empty() || now >= at {
                return Ok(c.say_bye());
            }
        }
        c.send_extends()?;
        let dead_at = c.last_recv + 3 * c.broker_hb;
        if now >= dead_at {
            log(WARN, PROG, &format!("the broker has been silent for {} ms: reconnecting", now - c.last_recv));
            c.drop_all_jobs();
            return Ok(End::Reconnect { at_once: false });
        }
        if now >= c.last_send + cfg.heartbeat {
            c.send(&[b"HEARTBEAT", cfg.heartbeat.to_string().as_bytes()])?;
        }
        let mut wake = dead_at.min(c.last_send + cfg.heartbeat);
        for j in c.running.values() {
            if let Some(t) = j.next_extend {
                wake = wake.min(t);
            }
        }
        let mut wait = (wake - now_ms()).clamp(0, MAX_WAIT_MS);
        if !c.running.is_empty() {
            wait = wait.min(5); // job outcomes arrive on a channel the poll cannot see
        }
        match c.sock.poll_in(wait) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) if e.interrupted() => continue,
            Err(e) => return Err(e),
        }
        let msg = match c.sock.recv() {
            Ok(m) => m,
            Err(e) if e.interrupted() => continue,
            Err(e) => return Err(e),
        };
        c.last_recv = now_ms();
        if !heard && msg.len() >= 3 && msg[1] == SIG && msg[2] == b"HEARTBEAT" {
            // Registered: the broker answered READY (spec §Reconnecting: reset back-off once it speaks).
            heard = true;
            *backoff = 100;
        }
        if let Some(end) = c.handle(msg) {
            return Ok(end);
        }
    }
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {e}\n(ztb-worker --help for usage)");
            std::process::exit(2);
        }
    };
    util::install_stop_signals();
    let ctx = match Context::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            std::process::exit(1);
        }
    };
    let mut backoff: i64 = 100;
    loop {
        if util::stop_requested() {
            break;
        }
        match run_connection(&ctx, &cfg, &mut backoff) {
            Ok(End::Exit) => break,
            Ok(End::Reconnect { at_once }) => {
                if at_once {
                    backoff = 0;
                }
            }
            Err(e) => {
                log(ERROR, PROG, &e.to_string());
                if e.errno != 11 && e.errno != 4 {
                    // Anything but a full queue or a signal (e.g. a bad endpoint) will not get better.
                    if e.what.starts_with("connect") {
                        std::process::exit(1);
                    }
                }
            }
        }
        // Exponential back-off with jitter (spec §Reconnecting): each delay lowered by up to 20 %.
        let delay = (backoff as f64 * (1.0 - 0.2 * util::random_unit())) as i64;
        let until = now_ms() + delay;
        while now_ms() < until && !util::stop_requested() {
            thread::sleep(Duration::from_millis((until - now_ms()).clamp(1, 20) as u64));
        }
        backoff = (backoff * 2).clamp(100, 5000);
    }
    drop(ctx);
}
