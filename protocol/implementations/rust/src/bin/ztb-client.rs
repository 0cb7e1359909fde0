//! ztb-client: sends one ZTB/1 request (enveloped by default, plain with --plain) and prints the reply.
//!
//! A DEALER socket rather than REQ, so that a message that is not the awaited reply (a `resent` copy
//! after a durable broker's restart, or one for another id) can be dropped while waiting on.
use ztb::json::{self, obj, Value};
use ztb::util::{self, log, now_ms, DEBUG, ERROR, INFO, WARN};
use ztb::zmq::{self, Context};

const PROG: &str = "ztb-client";
const SIG: &[u8] = b"ZTBC01";

const USAGE: &str = "Usage: ztb-client [options] [CLIENTS] [PAYLOAD...]

Sends one request to a ZTB/1 broker's clients endpoint and prints the answer frames on stdout, one per
line. CLIENTS (an address with ://) defaults to $ZTB_CLIENTS_ENDPOINT. Each PAYLOAD is one frame.

Enveloped mode (default): \"\" ZTBC01 REQUEST {options} payload*, answered by REPLY with its detail.
The request carries an idempotency key (a random one unless --key is given), so resending it after
--deadline, on a new socket, never makes the broker run it twice.

Options:
  --plain              the prototype's plain mode: the payload frames only, no options, no detail
  --service NAME       service to request (default: the broker's \"default\")
  --timeout MS         per-attempt timeout to ask for (the broker's -T caps it)
  --attempts N         attempts to ask for (the broker's -t caps it)
  --id ID              correlation id (default: a random r-<hex>)
  --key KEY            idempotency key (default: a random k-<hex>)
  --no-key             send no idempotency key (and never resend)
  --deadline DURATION  wait this long for a reply before resending, e.g. 500ms, 30s (default 30s)
  --resend N           resends after a deadline, each on a new socket with back-off (default 3;
                       plain mode or --no-key: 0, as the broker cannot tell a resend from a new request)
  --routing-id ID      ZMQ_ROUTING_ID of the socket, so a durable broker that restarts delivers the reply
  --log-level LEVEL    debug, info, warn or error (default warn); logs go to stderr
  -h, --help           show this help

Exit status: 0 succeeded, 1 failed (the reason on stderr), 2 usage error, 3 no reply.";

struct Config {
    endpoint: String,
    plain: bool,
    service: Option<String>,
    timeout: Option<i64>,
    attempts: Option<i64>,
    id: String,
    key: Option<String>,
    deadline: i64,
    resend: Option<i64>,
    routing_id: Option<String>,
    payload: Vec<Vec<u8>>,
}

fn parse_args() -> Result<Config, String> {
    let mut cfg = Config {
        endpoint: std::env::var("ZTB_CLIENTS_ENDPOINT").unwrap_or_default(),
        plain: false,
        service: None,
        timeout: None,
        attempts: None,
        id: format!("r-{:012x}", util::random_u64() >> 16),
        key: Some(format!("k-{:016x}", util::random_u64())),
        deadline: 30_000,
        resend: None,
        routing_id: None,
        payload: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    let mut positional: Vec<String> = Vec::new();
    let mut only_positional = false;
    while let Some(a) = args.next() {
        if only_positional {
            positional.push(a);
            continue;
        }
        let mut value = |what: &str| args.next().ok_or(format!("{what} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--" => only_positional = true,
            "--plain" => cfg.plain = true,
            "--service" => {
                let s = value("--service")?;
                util::check_name(&s, "--service")?;
                cfg.service = Some(s);
            }
            "--timeout" => cfg.timeout = Some(util::parse_int(&value("--timeout")?, "--timeout", 1, i64::MAX)?),
            "--attempts" => cfg.attempts = Some(util::parse_int(&value("--attempts")?, "--attempts", 1, i64::MAX)?),
            "--id" => cfg.id = value("--id")?,
            "--key" => cfg.key = Some(value("--key")?),
            "--no-key" => cfg.key = None,
            "--deadline" => cfg.deadline = util::parse_duration(&value("--deadline")?)?.max(1),
            "--resend" => cfg.resend = Some(util::parse_int(&value("--resend")?, "--resend", 0, 1000)?),
            "--routing-id" => cfg.routing_id = Some(value("--routing-id")?),
            "--log-level" => util::set_log_level(&value("--log-level")?)?,
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => positional.push(a),
        }
    }
    if positional.first().map_or(false, |p| p.contains("://")) {
        cfg.endpoint = positional.remove(0);
    }
    if cfg.endpoint.is_empty() {
        return Err("no endpoint: give CLIENTS or set ZTB_CLIENTS_ENDPOINT".into());
    }
    for (what, s) in [("--id", Some(&cfg.id)), ("--key", cfg.key.as_ref())] {
        if let Some(s) = s {
            let n = s.chars().count();
            if n == 0 || n > 128 {
                return Err(format!("{what} must be 1..128 characters"));
            }
        }
    }
    cfg.payload = positional.into_iter().map(String::into_bytes).collect();
    if cfg.plain {
        if cfg.service.is_some() || cfg.timeout.is_some() || cfg.attempts.is_some() {
            return Err("--service, --timeout and --attempts need the enveloped mode (no --plain)".into());
        }
        // A plain body needs at least one frame; an empty one is a valid payload.
        if cfg.payload.is_empty() {
            cfg.payload.push(Vec::new());
        }
        let f = &cfg.payload[0];
        if f.len() == 6 && f.starts_with(b"ZTBC") && f[4].is_ascii_digit() && f[5].is_ascii_digit() {
            return Err("a plain request cannot start with ZTBC and two digits (spec §Known weaknesses)".into());
        }
    }
    Ok(cfg)
}

enum Outcome {
    Succeeded(Vec<Vec<u8>>),
    Failed(String),
}

fn request_frames(cfg: &Config) -> Vec<Vec<u8>> {
    let mut frames: Vec<Vec<u8>> = vec![Vec::new()];
    if !cfg.plain {
        let mut o: Vec<(&str, Value)> = Vec::new();
        if let Some(s) = &cfg.service {
            o.push(("service", Value::str(s)));
        }
        if let Some(t) = cfg.timeout {
            o.push(("timeout", Value::int(t)));
        }
        if let Some(a) = cfg.attempts {
            o.push(("attempts", Value::int(a)));
        }
        o.push(("id", Value::str(&cfg.id)));
        if let Some(k) = &cfg.key {
            o.push(("key", Value::str(k)));
        }
        frames.push(SIG.to_vec());
        frames.push(b"REQUEST".to_vec());
        frames.push(obj(o).encode().into_bytes());
    }
    frames.extend(cfg.payload.iter().cloned());
    frames
}

/// Reads one message; Some(outcome) when it is the reply to this request, None when it is to be dropped.
fn read_reply(cfg: &Config, msg: Vec<Vec<u8>>) -> Option<Outcome> {
    if msg.is_empty() || !msg[0].is_empty() {
        log(WARN, PROG, &format!("dropped a message without delimiter: {}", util::show_frames(&msg)));
        return None;
    }
    let body = &msg[1..];
    if cfg.plain {
        // "" "" is the failure; anything else is the worker's answer (spec §Plain mode).
        if body.is_empty() {
            log(WARN, PROG, "dropped a reply with no body");
            return None;
        }
        if body.len() == 1 && body[0].is_empty() {
            return Some(Outcome::Failed("the broker sent the plain failure (no reason in plain mode)".into()));
        }
        return Some(Outcome::Succeeded(body.to_vec()));
    }
    if body.len() < 3 || body[0] != SIG || body[1] != b"REPLY" {
        log(WARN, PROG, &format!("dropped a message that is not a REPLY: {}", util::show_frames(body)));
        return None;
    }
    let detail = match json::parse(&body[2]) {
        Ok(v @ Value::Obj(_)) => v,
        Ok(_) => {
            log(WARN, PROG, "dropped a REPLY whose detail is not an object");
            return None;
        }
        Err(e) => {
            log(WARN, PROG, &format!("dropped a REPLY with bad JSON: {e}"));
            return None;
        }
    };
    log(INFO, PROG, &format!("REPLY {}", detail.encode()));
    match detail.get("id").and_then(|v| v.as_str()) {
        Some(id) if id == cfg.id => {}
        // A malformed-request reply carries no id (spec §JSON members, REPLY detail).
        None if detail.get("reason").and_then(|v| v.as_str()) == Some("malformed") => {}
        other => {
            log(WARN, PROG, &format!("dropped a REPLY for id {other:?}, not {:?}", cfg.id));
            return None;
        }
    }
    if detail.get("resent").and_then(|v| v.as_bool()) == Some(true) {
        log(DEBUG, PROG, "the reply is a copy resent after a broker restart");
    }
    match detail.get("status").and_then(|v| v.as_str()) {
        Some("succeeded") => Some(Outcome::Succeeded(body[3..].to_vec())),
        Some("failed") => {
            let field = |n: &str| detail.get(n).map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.encode()));
            let mut text = format!("failed: {}", field("reason").unwrap_or_else(|| "no reason".into()));
            if let Some(m) = field("message") {
                text.push_str(&format!(": {m}"));
            }
            if let Some(e) = field("error") {
                text.push_str(&format!(" ({e})"));
            }
            if let Some(a) = detail.get("attempts").and_then(|v| v.as_int()) {
                text.push_str(&format!(" after {a} attempt(s)"));
            }
            Some(Outcome::Failed(text))
        }
        _ => {
            log(WARN, PROG, "dropped a REPLY without a valid status");
            None
        }
    }
}

/// One try on a fresh socket: Ok(None) when the deadline passed without the reply.
fn attempt(ctx: &Context, cfg: &Config) -> Result<Option<Outcome>, zmq::Error> {
    let sock = ctx.socket(zmq::DEALER)?;
    sock.set_linger(0)?;
    if let Some(r) = &cfg.routing_id {
        sock.set_routing_id(r.as_bytes())?;
    }
    sock.connect(&cfg.endpoint)?;
    let frames = request_frames(cfg);
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    sock.send(&refs)?;
    log(DEBUG, PROG, &format!("sent {}", util::show_frames(&frames)));
    let until = now_ms() + cfg.deadline;
    loop {
        if util::stop_requested() {
            return Ok(None);
        }
        let left = until - now_ms();
        if left <= 0 {
            return Ok(None);
        }
        match sock.poll_in(left.min(100)) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) if e.interrupted() => continue,
            Err(e) => return Err(e),
        }
        let msg = match sock.recv() {
            Ok(m) => m,
            Err(e) if e.interrupted() => continue,
            Err(e) => return Err(e),
        };
        log(DEBUG, PROG, &format!("received {}", util::show_frames(&msg)));
        if let Some(o) = read_reply(cfg, msg) {
            return Ok(Some(o));
        }
    }
}

fn main() {
    util::set_log_level("warn").ok();
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {e}\n(ztb-client --help for usage)");
            std::process::exit(2);
        }
    };
    util::install_stop_signals();
    let resends = cfg.resend.unwrap_or(if cfg.plain || cfg.key.is_none() { 0 } else { 3 });
    let ctx = match Context::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            std::process::exit(1);
        }
    };
    let mut backoff = 100i64;
    let mut code = 3;
    for n in 0..=resends {
        if n > 0 {
            // Spec §Reliability: resend with exponential back-off and jitter, 100 ms doubling to 5 s.
            let d = (backoff as f64 * (1.0 - 0.2 * util::random_unit())) as u64;
            std::thread::sleep(std::time::Duration::from_millis(d));
            backoff = (backoff * 2).min(5000);
            log(WARN, PROG, &format!("no reply within {} ms: resending ({n}/{resends})", cfg.deadline));
        }
        match attempt(&ctx, &cfg) {
            Ok(Some(Outcome::Succeeded(frames))) => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                for f in frames {
                    let _ = out.write_all(&f);
                    let _ = out.write_all(b"\n");
                }
                code = 0;
                break;
            }
            Ok(Some(Outcome::Failed(text))) => {
                eprintln!("{PROG}: {text}");
                code = 1;
                break;
            }
            Ok(None) if util::stop_requested() => break,
            Ok(None) => {}
            Err(e) => {
                log(ERROR, PROG, &e.to_string());
                code = 1;
                break;
            }
        }
    }
    if code == 3 {
        eprintln!("{PROG}: no reply");
    }
    drop(ctx);
    std::process::exit(code);
}
