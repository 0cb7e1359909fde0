// ztb-worker: a ZTB/1 modern worker (spec §Worker protocol) in C++17 over libzmq's C API.
// It echoes each task's payload after a simulated delay. One thread owns the socket; the "work" is a timer in the
// same loop, so nothing crosses threads (§Implementing a worker: ZeroMQ sockets are not thread-safe).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "json.hpp"
#include "wire.hpp"

namespace ztb {
int g_verbosity = 0;
}
using namespace ztb;

namespace {

const std::string SIG = "ZTBW01";
const int64_t MAX_TIMEOUT = 2147483647;  // §JSON members, EXTEND
const int64_t NEVER = INT64_MAX / 4;

volatile sig_atomic_t g_signals = 0;
void on_signal(int) { g_signals = g_signals + 1; }

struct Options {
  std::string endpoint;
  std::string name;
  std::vector<std::string> services;
  int capacity = 1;
  long heartbeat = 1000;
  int64_t delay = 0;
  double fail_rate = 0;
  std::set<std::string> poison;
  int64_t grace = 10000;
  bool quiet = false;
};

struct Job {
  Frames payload;
  int64_t due_at;       // when the simulated work ends (NEVER for a poison task)
  int64_t received_at;  // start of the current deadline window, as the worker sees it
  int64_t timeout;      // -1: no deadline (header timeout null)
  bool fail;
};

bool is_name(const Json* v) {
  return v && v->type == Json::Str && !v->s.empty() && code_points(v->s) <= 64;
}

// §JSON members, TASK header: all four members present; unknown members ignored.
bool read_task_header(const std::string& frame, std::string& service, int64_t& timeout, std::string& why) {
  Json h;
  if (!parse_json(frame, h, why)) return false;
  if (h.type != Json::Obj) { why = "header is not an object"; return false; }
  const Json* s = h.get("service");
  const Json* a = h.get("attempt");
  const Json* as = h.get("attempts");
  const Json* t = h.get("timeout");
  if (!is_name(s)) { why = "service is not a name"; return false; }
  if (!a || a->type != Json::Int || a->i < 1) { why = "attempt is not an integer >= 1"; return false; }
  if (!as || !(as->type == Json::Null || (as->type == Json::Int && as->i >= 1))) {
    why = "attempts is not null or an integer >= 1";
    return false;
  }
  if (!t || !(t->type == Json::Null || (t->type == Json::Int && t->i >= 1 && t->i <= MAX_TIMEOUT))) {
    why = "timeout is not null or an integer 1..2147483647";
    return false;
  }
  service = s->s;
  timeout = t->type == Json::Null ? -1 : t->i;
  return true;
}

class Worker {
 public:
  explicit Worker(const Options& o) : o_(o), rng_(std::random_device{}()) {}

  int run() {
    ctx_ = zmq_ctx_new();
    int64_t backoff = 100, saved_backoff = 100;
    int rc = 0;
    while (true) {
      if (leaving_ || g_signals > 0) break;  // a signal while not connected: nothing held, just stop
      End end = connection(backoff, saved_backoff);
      if (end == End::Exit) break;
      if (leaving_) break;  // the connection ended while leaving: the broker re-queues what we held
      int64_t delay = int64_t(double(backoff) * (1.0 - std::uniform_real_distribution<double>(0, 0.2)(rng_)));
      logf(1, "reconnecting in %lld ms", (long long)delay);
      if (!sleep_interruptibly(delay)) break;
      backoff = std::min<int64_t>(std::max<int64_t>(backoff * 2, 100), 5000);
    }
    zmq_ctx_term(ctx_);
    return rc;
  }

 private:
  enum class End { Reconnect, Exit };

  bool sleep_interruptibly(int64_t ms) {
    int64_t until = now_ms() + ms;
    while (now_ms() < until) {
      if (g_signals > 0) return false;
      usleep(10000);
    }
    return true;
  }

  void send(const Frames& f) {
    send_frames(sock_, f);
    last_send_ = now_ms();
  }

  void send_fail(const std::string& id, const std::string& message, bool returned) {
    JsonWriter w;
    w.str("message", truncate_code_points(message, 1024)).boolean("retryable", true);
    if (returned) w.boolean("returned", true);
    send({"", SIG, "FAIL", id, w.done()});
  }

  // Closes with a short linger so a DISCONNECT we mean the broker to read is not discarded (§Reconnecting).
  void close_socket(int linger) {
    zmq_setsockopt(sock_, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(sock_);
    sock_ = nullptr;
  }

  void start_leaving() {
    leaving_ = true;
    leaving_since_ = now_ms();
    logf(0, "leaving: finishing %zu held task(s) within %lld ms", jobs_.size(), (long long)o_.grace);
    send({"", SIG, "DISCONNECT", JsonWriter().str("reason", "bye").boolean("finish", true).done()});
  }

  End connection(int64_t& backoff, int64_t& saved_backoff) {
    sock_ = zmq_socket(ctx_, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(sock_, ZMQ_LINGER, &zero, sizeof zero);
    int hwm = o_.capacity + 64;  // §Security: above capacity plus a few control messages
    zmq_setsockopt(sock_, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect(sock_, o_.endpoint.c_str()) != 0) {
      logf(0, "cannot connect to %s: %s", o_.endpoint.c_str(), zmq_strerror(zmq_errno()));
      close_socket(0);
      return End::Exit;
    }
    jobs_.clear();
    registered_ = false;
    broker_hb_ = 0;
    JsonWriter ready;
    ready.str("name", o_.name);
    std::string svcs = "[";
    for (size_t k = 0; k < o_.services.size(); k++) svcs += (k ? "," : "") + JsonWriter::quote(o_.services[k]);
    ready.raw("services", svcs + "]").num("capacity", o_.capacity).num("heartbeat", o_.heartbeat);
    send({"", SIG, "READY", ready.done()});
    logf(1, "READY sent to %s", o_.endpoint.c_str());

    bool heard = false;
    long broker_hb = 0;  // 0: no valid interval announced yet
    int64_t last_recv = now_ms();
    int handled_signals = 0;

    while (true) {
      int64_t t = now_ms();
      if (g_signals != handled_signals) {
        handled_signals = g_signals;
        if (handled_signals >= 2) {  // a second signal: stop at once
          logf(0, "second signal: exiting now");
          close_socket(0);
          return End::Exit;
        }
        if (!leaving_) start_leaving();
      }
      int64_t silence = (heard && broker_hb) ? 3 * broker_hb : 3 * std::min<long>(o_.heartbeat, 2500);

      int64_t wake = std::min(last_send_ + o_.heartbeat, last_recv + silence);
      for (auto& kv : jobs_) {
        wake = std::min(wake, kv.second.due_at);
        if (needs_extend(kv.second)) wake = std::min(wake, kv.second.received_at + kv.second.timeout / 2);
      }
      if (leaving_) wake = std::min(wake, leaving_since_ + o_.grace);
      zmq_pollitem_t item = {sock_, 0, ZMQ_POLLIN, 0};
      long wait = long(std::max<int64_t>(0, wake - t));
      int n = zmq_poll(&item, 1, wait);
      if (n < 0 && zmq_errno() != EINTR) logf(0, "poll: %s", zmq_strerror(zmq_errno()));

      Frames m;
      while (sock_ && recv_frames(sock_, m)) {
        last_recv = now_ms();
        heard = true;
        End end;
        if (handle(m, broker_hb, backoff, saved_backoff, end)) return end;
      }

      t = now_ms();
      finish_due_jobs(t);
      send_extends(t);

      if (leaving_ && (jobs_.empty() || t >= leaving_since_ + o_.grace)) {
        for (auto& kv : jobs_) send_fail(kv.first, "worker leaving", true);
        jobs_.clear();
        send({"", SIG, "DISCONNECT", JsonWriter().str("reason", "bye").done()});
        logf(0, "left: DISCONNECT bye sent");
        close_socket(500);
        return End::Exit;
      }

      silence = (heard && broker_hb) ? 3 * broker_hb : 3 * std::min<long>(o_.heartbeat, 2500);
      if (t >= last_recv + silence) {
        logf(0, heard ? "broker silent for %lld ms: reconnecting" : "no answer to READY in %lld ms: reconnecting",
             (long long)silence);
        close_socket(0);
        return End::Reconnect;
      }
      if (t >= last_send_ + o_.heartbeat) send({"", SIG, "HEARTBEAT", std::to_string(o_.heartbeat)});
    }
  }

  // Returns true when the connection ends; `end` then says whether to reconnect.
  bool handle(const Frames& m, long& broker_hb, int64_t& backoff, int64_t& saved_backoff, End& end) {
    if (m.size() < 3 || !m[0].empty() || m[1] != SIG) {
      logf(0, "bad message from broker (%zu frames, first body frame %s); dropped", m.size(),
           m.size() > 1 ? hex(m[1]).c_str() : "-");
      return false;
    }
    const std::string& cmd = m[2];
    if (cmd == "HEARTBEAT" && m.size() == 4) {
      if (!registered_) { registered_ = true; saved_backoff = backoff; backoff = 100; }
      long v = parse_interval(m[3]);
      if (v >= 100 && v <= 60000) broker_hb = broker_hb_ = v;
      else logf(0, "broker HEARTBEAT interval '%s' out of range or malformed; keeping %ld", m[3].c_str(), broker_hb);
      return false;
    }
    if (cmd == "TASK" && m.size() >= 5 && !m[3].empty() && m[3].size() <= 255) {
      const std::string& id = m[3];
      std::string service, why;
      int64_t timeout;
      if (!read_task_header(m[4], service, timeout, why)) {
        logf(0, "malformed TASK %s (%s): DISCONNECT protocol-error", show_id(id).c_str(), why.c_str());
        send({"", SIG, "DISCONNECT",
              JsonWriter().str("reason", "protocol-error").str("message", "malformed TASK header: " + why).done()});
        close_socket(500);
        end = End::Reconnect;
        return true;
      }
      if (jobs_.count(id)) logf(1, "TASK %s again: the earlier run is abandoned", show_id(id).c_str());
      jobs_.erase(id);
      if (std::find(o_.services.begin(), o_.services.end(), service) == o_.services.end()) {
        send_fail(id, "service " + service + " not served by this worker", false);
        return false;
      }
      if (leaving_) { send_fail(id, "worker leaving", true); return false; }
      if (int(jobs_.size()) >= o_.capacity)
        logf(0, "TASK %s beyond capacity %d (broker bug?); accepted anyway", show_id(id).c_str(), o_.capacity);
      if (!o_.quiet) logf(1, "TASK %s service=%s timeout=%lld", show_id(id).c_str(), service.c_str(), (long long)timeout);
      Job j;
      j.payload.assign(m.begin() + 5, m.end());
      int64_t t = now_ms();
      bool poison = j.payload.size() == 1 && o_.poison.count(j.payload[0]);
      j.due_at = poison ? NEVER : t + o_.delay;
      j.received_at = t;
      j.timeout = timeout;
      j.fail = o_.fail_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < o_.fail_rate;
      jobs_[id] = std::move(j);
      return false;
    }
    // A CANCEL missing its JSON frame still names a task: read as `cancelled` (see GUESSES.md G12).
    if (cmd == "CANCEL" && m.size() >= 4 && !m[3].empty()) {
      // Whatever the reason, even an unknown one or unreadable JSON (§JSON members): the slot is free.
      Json c;
      std::string err, reason = "?";
      if (m.size() >= 5 && parse_json(m[4], c, err) && c.get("reason") && c.get("reason")->type == Json::Str) reason = c.get("reason")->s;
      logf(1, "CANCEL %s (%s)%s", show_id(m[3]).c_str(), reason.c_str(), jobs_.count(m[3]) ? "" : " for no held task");
      jobs_.erase(m[3]);
      return false;
    }
    if (cmd == "DISCONNECT" && m.size() <= 4) {
      std::string reason;
      if (m.size() == 4) {
        Json d;
        std::string err;
        if (parse_json(m[3], d, err) && d.get("reason") && d.get("reason")->type == Json::Str) reason = d.get("reason")->s;
      }
      logf(0, "DISCONNECT from broker: %s", reason.empty() ? "(no reason)" : reason.c_str());
      close_socket(0);
      jobs_.clear();
      if (reason == "draining" || reason == "bye" || leaving_) { end = End::Exit; return true; }
      if (reason == "unknown-worker") backoff = 0;
      else if (reason == "protocol-error") { logf(0, "the broker says this worker broke the protocol (a bug)"); backoff = saved_backoff; }
      end = End::Reconnect;  // shutdown, none, or a reason this revision does not know
      return true;
    }
    logf(0, "unknown or malformed command '%s' (%zu frames); ignored", show_id(cmd).c_str(), m.size());
    return false;
  }

  bool needs_extend(const Job& j) const {
    return j.timeout > 0 && j.due_at != NEVER && j.due_at > j.received_at + j.timeout;
  }

  // §Worker protocol rule 4: EXTEND once at most half the timeout remains, covering the rest of the work plus a
  // margin of one broker heartbeat interval (2500, the broker default, when unknown).
  void send_extends(int64_t t) {
    for (auto& kv : jobs_) {
      Job& j = kv.second;
      if (!needs_extend(j) || t < j.received_at + j.timeout / 2) continue;
      int64_t want = std::min<int64_t>(MAX_TIMEOUT, std::max<int64_t>(j.timeout, j.due_at - t + (broker_hb_ ? broker_hb_ : 2500)));
      send({"", SIG, "EXTEND", kv.first, JsonWriter().num("timeout", want).done()});
      logf(1, "EXTEND %s by %lld ms", show_id(kv.first).c_str(), (long long)want);
      j.received_at = t;
      j.timeout = want;
    }
  }

  void finish_due_jobs(int64_t t) {
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->second.due_at > t) { ++it; continue; }
      if (it->second.fail) {
        send_fail(it->first, "simulated failure (--fail-rate)", false);
      } else {
        Frames f = {"", SIG, "RESULT", it->first};
        f.insert(f.end(), it->second.payload.begin(), it->second.payload.end());
        send(f);
      }
      it = jobs_.erase(it);
    }
  }

  const Options& o_;
  std::mt19937_64 rng_;
  void* ctx_ = nullptr;
  void* sock_ = nullptr;
  std::map<std::string, Job> jobs_;
  int64_t last_send_ = 0;
  bool registered_ = false;
  long broker_hb_ = 0;  // copy of the broker's valid interval, for the EXTEND margin
  bool leaving_ = false;
  int64_t leaving_since_ = 0;
};

int64_t parse_duration(const char* s) {
  char* end;
  double v = std::strtod(s, &end);
  std::string unit = end;
  if (end == s || v < 0) return -1;
  if (unit.empty() || unit == "ms") return int64_t(v);
  if (unit == "s") return int64_t(v * 1000);
  if (unit == "m") return int64_t(v * 60000);
  return -1;
}

void usage(FILE* f) {
  std::fprintf(f,
      "Usage: ztb-worker [options] [WORKERS]\n"
      "A ZTB/1 modern worker that echoes each task's payload. WORKERS defaults to $ZTB_WORKERS_ENDPOINT,\n"
      "else tcp://localhost:4162.\n"
      "  --name NAME         worker name (default cpp-<pid>)\n"
      "  --service NAME      service to serve (repeatable; default \"default\")\n"
      "  --capacity N        tasks held at once, 1..1000 (default 1)\n"
      "  --heartbeat MS      heartbeat interval announced, 100..60000 (default 1000)\n"
      "  --delay DURATION    simulated work per task, e.g. 50ms, 2s (default 0)\n"
      "  --fail-rate F       fraction of tasks answered with a retryable FAIL (default 0)\n"
      "  --poison TEXT       never answer a task whose payload is exactly TEXT (repeatable)\n"
      "  --grace DURATION    on SIGTERM/SIGINT, time to finish held tasks before giving them back (default 10s)\n"
      "  --quiet, -v, -vv    less or more logging on stderr\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.name = "cpp-" + std::to_string(getpid());
  for (int k = 1; k < argc; k++) {
    std::string a = argv[k];
    auto val = [&](const char* what) -> const char* {
      if (k + 1 >= argc) { std::fprintf(stderr, "ztb-worker: %s needs a value\n", what); std::exit(2); }
      return argv[++k];
    };
    if (a == "-h" || a == "--help") { usage(stdout); return 0; }
    else if (a == "--name") o.name = val("--name");
    else if (a == "--service") o.services.push_back(val("--service"));
    else if (a == "--capacity") o.capacity = std::atoi(val("--capacity"));
    else if (a == "--heartbeat") o.heartbeat = long(parse_duration(val("--heartbeat")));
    else if (a == "--delay") o.delay = parse_duration(val("--delay"));
    else if (a == "--fail-rate") o.fail_rate = std::atof(val("--fail-rate"));
    else if (a == "--poison") o.poison.insert(val("--poison"));
    else if (a == "--grace") o.grace = parse_duration(val("--grace"));
    else if (a == "--quiet") o.quiet = true;
    else if (a == "-v") g_verbosity = 1;
    else if (a == "-vv") g_verbosity = 2;
    else if (!a.empty() && a[0] == '-') { std::fprintf(stderr, "ztb-worker: unknown option %s\n", a.c_str()); return 2; }
    else if (o.endpoint.empty()) o.endpoint = a;
    else { std::fprintf(stderr, "ztb-worker: unexpected argument %s\n", a.c_str()); return 2; }
  }
  if (o.endpoint.empty()) {
    const char* e = std::getenv("ZTB_WORKERS_ENDPOINT");
    o.endpoint = e && *e ? e : "tcp://localhost:4162";
  }
  if (o.services.empty()) o.services.push_back("default");
  std::string bad;
  if (o.name.empty() || code_points(o.name) > 64) bad = "--name must be 1..64 characters";
  else if (o.services.size() > 32) bad = "at most 32 services";
  else if (o.capacity < 1 || o.capacity > 1000) bad = "--capacity must be 1..1000";
  else if (o.heartbeat < 100 || o.heartbeat > 60000) bad = "--heartbeat must be 100..60000 ms";
  else if (o.delay < 0 || o.grace < 0) bad = "bad duration";
  for (size_t a = 0; a < o.services.size() && bad.empty(); a++) {
    if (o.services[a].empty() || code_points(o.services[a]) > 64) bad = "--service must be 1..64 characters";
    for (size_t b = 0; b < a; b++)
      if (o.services[a] == o.services[b]) bad = "--service names must be distinct";
  }
  if (!bad.empty()) { std::fprintf(stderr, "ztb-worker: %s\n", bad.c_str()); return 2; }

  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;  // no SA_RESTART: zmq_poll returns EINTR so the loop reacts at once
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  return Worker(o).run();
}
