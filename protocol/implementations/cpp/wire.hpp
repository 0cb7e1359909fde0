// Thin helpers over libzmq's C API: multipart send/receive, a monotonic clock, logging.
#pragma once
#include <zmq.h>

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ztb {

using Frames = std::vector<std::string>;

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

extern int g_verbosity;  // 0 warn, 1 info, 2 debug

inline void logf(int level, const char* fmt, ...) {
  if (level > g_verbosity) return;
  static const char* names[] = {"warn", "info", "debug"};
  std::fprintf(stderr, "[%s] ", names[level]);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

// Sends without blocking: a full pipe drops the message (logged) instead of stalling the loop that must heartbeat.
inline bool send_frames(void* sock, const Frames& frames) {
  for (size_t k = 0; k < frames.size(); k++) {
    int flags = ZMQ_DONTWAIT | (k + 1 < frames.size() ? ZMQ_SNDMORE : 0);
    if (zmq_send(sock, frames[k].data(), frames[k].size(), flags) < 0) {
      logf(0, "send failed (%s); message dropped", zmq_strerror(zmq_errno()));
      return false;
    }
  }
  return true;
}

// Receives one whole multipart message if one is waiting. Returns false when none is (or on error).
inline bool recv_frames(void* sock, Frames& out) {
  out.clear();
  while (true) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, out.empty() ? ZMQ_DONTWAIT : 0) < 0) {
      zmq_msg_close(&m);
      return false;
    }
    out.emplace_back(static_cast<const char*>(zmq_msg_data(&m)), zmq_msg_size(&m));
    bool more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    if (!more) return true;
  }
}

inline std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) { o += d[c >> 4]; o += d[c & 15]; }
  return o;
}

// A task id is opaque octets (§Task ids); print it as text only when it is printable ASCII.
inline std::string show_id(const std::string& id) {
  for (unsigned char c : id)
    if (c < 0x21 || c > 0x7e) return "0x" + hex(id);
  return id;
}

// HEARTBEAT interval frame: 1..6 ASCII digits, no leading zero (§Formal grammar `interval`). Returns -1 otherwise.
inline long parse_interval(const std::string& f) {
  if (f.empty() || f.size() > 6 || f[0] == '0') return -1;
  long v = 0;
  for (char c : f) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace ztb
