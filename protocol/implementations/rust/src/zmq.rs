//! A minimal safe wrapper over the libzmq C API: only what a ZTB/1 worker or client needs.
use std::ffi::{c_char, c_int, c_long, c_short, c_void, CStr, CString};

pub const REQ: c_int = 3;
pub const DEALER: c_int = 5;
pub const ROUTER: c_int = 6;

const ZMQ_ROUTING_ID: c_int = 5;
const ZMQ_LAST_ENDPOINT: c_int = 32;
const ZMQ_RCVMORE: c_int = 13;
const ZMQ_LINGER: c_int = 17;
const ZMQ_SNDHWM: c_int = 23;
const ZMQ_RCVHWM: c_int = 24;
const ZMQ_CURVE_PUBLICKEY: c_int = 48;
const ZMQ_CURVE_SECRETKEY: c_int = 49;
const ZMQ_CURVE_SERVERKEY: c_int = 50;
const ZMQ_SNDMORE: c_int = 2;
const ZMQ_POLLIN: c_short = 1;
const EINTR: c_int = 4;

// zmq_msg_t is 64 opaque octets, pointer-aligned.
#[repr(C, align(8))]
struct RawMsg([u8; 64]);

#[repr(C)]
struct PollItem {
    socket: *mut c_void,
    fd: c_int,
    events: c_short,
    revents: c_short,
}

#[link(name = "zmq")]
extern "C" {
    fn zmq_ctx_new() -> *mut c_void;
    fn zmq_ctx_term(ctx: *mut c_void) -> c_int;
    fn zmq_socket(ctx: *mut c_void, kind: c_int) -> *mut c_void;
    fn zmq_close(s: *mut c_void) -> c_int;
    fn zmq_bind(s: *mut c_void, addr: *const c_char) -> c_int;
    fn zmq_connect(s: *mut c_void, addr: *const c_char) -> c_int;
    fn zmq_setsockopt(s: *mut c_void, opt: c_int, val: *const c_void, len: usize) -> c_int;
    fn zmq_getsockopt(s: *mut c_void, opt: c_int, val: *mut c_void, len: *mut usize) -> c_int;
    fn zmq_send(s: *mut c_void, buf: *const c_void, len: usize, flags: c_int) -> c_int;
    fn zmq_msg_init(m: *mut RawMsg) -> c_int;
    fn zmq_msg_recv(m: *mut RawMsg, s: *mut c_void, flags: c_int) -> c_int;
    fn zmq_msg_data(m: *mut RawMsg) -> *mut c_void;
    fn zmq_msg_size(m: *const RawMsg) -> usize;
    fn zmq_msg_close(m: *mut RawMsg) -> c_int;
    fn zmq_poll(items: *mut PollItem, n: c_int, timeout: c_long) -> c_int;
    fn zmq_errno() -> c_int;
    fn zmq_strerror(e: c_int) -> *const c_char;
    fn zmq_z85_decode(dest: *mut u8, src: *const c_char) -> *mut u8;
}

#[derive(Debug)]
pub struct Error {
    pub errno: i32,
    pub what: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.what)
    }
}

impl Error {
    pub fn interrupted(&self) -> bool {
        self.errno == EINTR
    }
}

fn last_error(op: &str) -> Error {
    let errno = unsafe { zmq_errno() };
    let text = unsafe { CStr::from_ptr(zmq_strerror(errno)) }.to_string_lossy().into_owned();
    Error { errno, what: format!("{op}: {text}") }
}

pub struct Context(*mut c_void);

// libzmq contexts are thread-safe; sockets are not (Socket is deliberately not Send).
unsafe impl Send for Context {}
unsafe impl Sync for Context {}

impl Context {
    pub fn new() -> Result<Context, Error> {
        let p = unsafe { zmq_ctx_new() };
        if p.is_null() {
            return Err(last_error("zmq_ctx_new"));
        }
        Ok(Context(p))
    }

    pub fn socket(&self, kind: c_int) -> Result<Socket, Error> {
        let p = unsafe { zmq_socket(self.0, kind) };
        if p.is_null() {
            return Err(last_error("zmq_socket"));
        }
        Ok(Socket(p))
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // Sockets must already be closed; zmq_ctx_term then waits for their linger.
        unsafe {
            while zmq_ctx_term(self.0) != 0 && zmq_errno() == EINTR {}
        }
    }
}

/// CURVE client options: this peer's key pair and the broker's public key, 32 raw octets each.
pub struct Curve {
    pub public: [u8; 32],
    pub secret: [u8; 32],
    pub server: [u8; 32],
}

pub fn z85_decode(text: &str) -> Option<[u8; 32]> {
    if text.len() != 40 {
        return None;
    }
    let c = CString::new(text).ok()?;
    let mut out = [0u8; 32];
    let r = unsafe { zmq_z85_decode(out.as_mut_ptr(), c.as_ptr()) };
    if r.is_null() {
        None
    } else {
        Some(out)
    }
}

pub struct Socket(*mut c_void);

impl Socket {
    fn set_int(&self, opt: c_int, v: c_int) -> Result<(), Error> {
        let r = unsafe { zmq_setsockopt(self.0, opt, &v as *const c_int as *const c_void, 4) };
        if r != 0 {
            return Err(last_error("zmq_setsockopt"));
        }
        Ok(())
    }

    fn set_bytes(&self, opt: c_int, v: &[u8]) -> Result<(), Error> {
        let r = unsafe { zmq_setsockopt(self.0, opt, v.as_ptr() as *const c_void, v.len()) };
        if r != 0 {
            return Err(last_error("zmq_setsockopt"));
        }
        Ok(())
    }

    pub fn set_linger(&self, ms: i32) -> Result<(), Error> {
        self.set_int(ZMQ_LINGER, ms)
    }

    pub fn set_hwm(&self, n: i32) -> Result<(), Error> {
        self.set_int(ZMQ_SNDHWM, n)?;
        self.set_int(ZMQ_RCVHWM, n)
    }

    pub fn set_routing_id(&self, id: &[u8]) -> Result<(), Error> {
        self.set_bytes(ZMQ_ROUTING_ID, id)
    }

    pub fn set_curve(&self, c: &Curve) -> Result<(), Error> {
        self.set_bytes(ZMQ_CURVE_SERVERKEY, &c.server)?;
        self.set_bytes(ZMQ_CURVE_PUBLICKEY, &c.public)?;
        self.set_bytes(ZMQ_CURVE_SECRETKEY, &c.secret)
    }

    pub fn connect(&self, endpoint: &str) -> Result<(), Error> {
        let c = CString::new(endpoint).map_err(|_| Error { errno: 0, what: "endpoint has a NUL".into() })?;
        if unsafe { zmq_connect(self.0, c.as_ptr()) } != 0 {
            return Err(last_error(&format!("connect {endpoint}")));
        }
        Ok(())
    }

    /// Binds (tests play the broker with a ROUTER); returns the endpoint actually bound.
    pub fn bind(&self, endpoint: &str) -> Result<String, Error> {
        let c = CString::new(endpoint).map_err(|_| Error { errno: 0, what: "endpoint has a NUL".into() })?;
        if unsafe { zmq_bind(self.0, c.as_ptr()) } != 0 {
            return Err(last_error(&format!("bind {endpoint}")));
        }
        let mut buf = [0u8; 256];
        let mut len = buf.len();
        unsafe { zmq_getsockopt(self.0, ZMQ_LAST_ENDPOINT, buf.as_mut_ptr() as *mut c_void, &mut len) };
        Ok(String::from_utf8_lossy(&buf[..len.saturating_sub(1)]).into_owned())
    }

    /// Sends one multipart message, all frames or (on error) an error.
    pub fn send(&self, frames: &[&[u8]]) -> Result<(), Error> {
        let n = frames.len();
        for (i, f) in frames.iter().enumerate() {
            let flags = if i + 1 < n { ZMQ_SNDMORE } else { 0 };
            loop {
                let r = unsafe { zmq_send(self.0, f.as_ptr() as *const c_void, f.len(), flags) };
                if r >= 0 {
                    break;
                }
                let e = last_error("zmq_send");
                // Once the first frame is queued the rest must follow, so EINTR is retried.
                if e.interrupted() {
                    continue;
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Waits up to `timeout_ms` (-1 = forever) for a message; Ok(false) on timeout, Err on EINTR.
    pub fn poll_in(&self, timeout_ms: i64) -> Result<bool, Error> {
        let mut item = PollItem { socket: self.0, fd: 0, events: ZMQ_POLLIN, revents: 0 };
        let r = unsafe { zmq_poll(&mut item, 1, timeout_ms as c_long) };
        if r < 0 {
            return Err(last_error("zmq_poll"));
        }
        Ok(r > 0 && (item.revents & ZMQ_POLLIN) != 0)
    }

    /// Receives a whole multipart message (call after poll_in said one is ready).
    pub fn recv(&self) -> Result<Vec<Vec<u8>>, Error> {
        let mut frames = Vec::new();
        loop {
            let mut m = RawMsg([0; 64]);
            unsafe { zmq_msg_init(&mut m) };
            let r = loop {
                let r = unsafe { zmq_msg_recv(&mut m, self.0, 0) };
                if r < 0 && unsafe { zmq_errno() } == EINTR && !frames.is_empty() {
                    continue; // the rest of a multipart message is already here: finish it
                }
                break r;
            };
            if r < 0 {
                let e = last_error("zmq_msg_recv");
                unsafe { zmq_msg_close(&mut m) };
                return Err(e);
            }
            let size = unsafe { zmq_msg_size(&m) };
            let data = unsafe { zmq_msg_data(&mut m) } as *const u8;
            let bytes = if size == 0 { Vec::new() } else { unsafe { std::slice::from_raw_parts(data, size) }.to_vec() };
            unsafe { zmq_msg_close(&mut m) };
            frames.push(bytes);
            let mut more: c_int = 0;
            let mut len = std::mem::size_of::<c_int>();
            unsafe { zmq_getsockopt(self.0, ZMQ_RCVMORE, &mut more as *mut c_int as *mut c_void, &mut len) };
            if more == 0 {
                return Ok(frames);
            }
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        unsafe { zmq_close(self.0) };
    }
}
