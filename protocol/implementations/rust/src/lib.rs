//! ZTB/1 peers in Rust with no crates: libzmq through `extern "C"`, a strict JSON codec, and the
//! small pieces the worker and the client share.
pub mod json;
pub mod util;
pub mod zmq;
