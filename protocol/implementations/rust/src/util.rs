//! Small shared pieces: signals, randomness, clocks, logging, frame formatting, CLI values.
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" {
    fn signal(signum: i32, handler: usize) -> usize;
}

extern "C" fn on_stop_signal(_: i32) {
    STOP.store(true, Ordering::SeqCst);
}

/// Turns SIGINT and SIGTERM into a flag polled by the main loop (only an atomic store happens in the handler).
pub fn install_stop_signals() {
    unsafe {
        signal(2, on_stop_signal as extern "C" fn(i32) as usize);
        signal(15, on_stop_signal as extern "C" fn(i32) as usize);
    }
}

pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// A random u64 from std's per-process SipHash keys, mixed with the clock (no crates available).
pub fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

/// Uniform in [0, 1).
pub fn random_unit() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Milliseconds on a monotonic clock, from the first call.
pub fn now_ms() -> i64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as i64
}

pub const DEBUG: u8 = 0;
pub const INFO: u8 = 1;
pub const WARN: u8 = 2;
pub const ERROR: u8 = 3;
static LEVEL: AtomicU8 = AtomicU8::new(INFO);

pub fn set_log_level(name: &str) -> Result<(), String> {
    let l = match name {
        "debug" => DEBUG,
        "info" => INFO,
        "warn" => WARN,
        "error" => ERROR,
        _ => return Err(format!("unknown log level {name:?} (debug, info, warn or error)")),
    };
    LEVEL.store(l, Ordering::SeqCst);
    Ok(())
}

pub fn log(level: u8, prog: &str, text: &str) {
    if level >= LEVEL.load(Ordering::SeqCst) {
        let tag = ["debug", "info", "warn", "error"][level as usize];
        eprintln!("{prog} {tag}: {text}");
    }
}

/// A frame for logs: text when printable ASCII, else hex.
pub fn show(frame: &[u8]) -> String {
    if !frame.is_empty() && frame.iter().all(|b| (0x20..0x7f).contains(b)) {
        format!("{:?}", String::from_utf8_lossy(frame))
    } else {
        format!("0x{}", hex(frame))
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn show_frames(frames: &[Vec<u8>]) -> String {
    frames.iter().map(|f| show(f)).collect::<Vec<_>>().join(" ")
}

/// A HEARTBEAT interval frame (spec §Formal grammar `interval`): 1..6 ASCII digits, no leading zero.
pub fn parse_interval(frame: &[u8]) -> Option<i64> {
    if frame.is_empty() || frame.len() > 6 || frame[0] == b'0' || !frame.iter().all(|b| b.is_ascii_digit()) {
        return None;
    }
    std::str::from_utf8(frame).ok()?.parse().ok()
}

/// "500", "500ms", "2s", "1m" -> milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let (num, mult) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60000.0)
    } else {
        (text, 1.0)
    };
    let v: f64 = num.parse().map_err(|_| format!("bad duration {text:?} (e.g. 500, 500ms, 2s, 1m)"))?;
    if !(v >= 0.0) || !v.is_finite() {
        return Err(format!("bad duration {text:?}"));
    }
    Ok((v * mult).round() as i64)
}

pub fn parse_int(text: &str, what: &str, lo: i64, hi: i64) -> Result<i64, String> {
    let v: i64 = text.parse().map_err(|_| format!("{what} must be an integer, got {text:?}"))?;
    if v < lo || v > hi {
        return Err(format!("{what} must be within {lo}..{hi}, got {v}"));
    }
    Ok(v)
}

/// A ZTB/1 "name": 1..64 characters (code points).
pub fn check_name(text: &str, what: &str) -> Result<(), String> {
    let n = text.chars().count();
    if n == 0 || n > 64 {
        return Err(format!("{what} must be 1..64 characters, got {n}"));
    }
    Ok(())
}

/// The first `n` code points of `text`.
pub fn truncate_chars(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}
