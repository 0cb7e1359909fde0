// ztb-client: sends one enveloped ZTB/1 REQUEST (spec §Client protocol › Enveloped mode) and prints its REPLY.
// Given several clients endpoints it fails over between them (§Failing over): one broker at a time, gone on
// connection loss / refusal / failed or slow handshake / ZMTP heartbeat silence, resend with the same id and key.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>

#include "json.hpp"
#include "wire.hpp"

namespace ztb {
int g_verbosity = 0;
}
using namespace ztb;

namespace {

const std::string SIG = "ZTBC01";

struct Options {
  std::vector<std::string> endpoints;
  std::string service, id, key;
  int64_t timeout = -1, attempts = -1, deadline = 30000;
  Frames payload;
};

std::string random_hex(std::mt19937_64& rng, int octets) {
  std::string raw;
  for (int k = 0; k < octets; k++) raw += char(rng() & 0xff);
  return hex(raw);
}

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

struct Connection {
  void* sock = nullptr;
  void* mon = nullptr;
  int64_t opened_at = 0;
  bool handshaken = false;
};

class Client {
 public:
  Client(const Options& o) : o_(o), rng_(std::random_device{}()) {}

  int run() {
    ctx_ = zmq_ctx_new();
    std::string opts = options_json();
    int64_t start = now_ms(), backoff = 100;
    size_t index = 0, tried_since_reply = 0;
    int rc = 3;
    while (true) {
      Connection c = open(o_.endpoints[index]);
      logf(1, "sending to %s", o_.endpoints[index].c_str());
      Frames req = {"", SIG, "REQUEST", opts};
      req.insert(req.end(), o_.payload.begin(), o_.payload.end());
      send_frames(c.sock, req);
      tried_since_reply++;
      std::string why;
      int outcome = wait_reply(c, start + o_.deadline, why);
      close(c);
      if (outcome >= 0) { rc = outcome; break; }
      if (outcome == -2) { std::fprintf(stderr, "no reply within %lld ms\n", (long long)o_.deadline); break; }
      if (o_.endpoints.size() == 1 && why == "") break;
      logf(0, "broker %s gone (%s)", o_.endpoints[index].c_str(), why.c_str());
      index = (index + 1) % o_.endpoints.size();
      if (tried_since_reply >= o_.endpoints.size()) {  // every endpoint tried: back off before the next
        int64_t d = int64_t(double(backoff) * (1.0 - std::uniform_real_distribution<double>(0, 0.2)(rng_)));
        if (now_ms() + d >= start + o_.deadline) { std::fprintf(stderr, "no reply within the deadline\n"); break; }
        usleep(useconds_t(d * 1000));
        backoff = std::min<int64_t>(backoff * 2, 5000);
      }
    }
    zmq_ctx_term(ctx_);
    return rc;
  }

 private:
  std::string options_json() {
    JsonWriter w;
    if (!o_.service.empty()) w.str("service", o_.service);
    if (o_.timeout > 0) w.num("timeout", o_.timeout);
    if (o_.attempts > 0) w.num("attempts", o_.attempts);
    w.str("id", o_.id);
    if (!o_.key.empty()) w.str("key", o_.key);
    return w.done();
  }

  Connection open(const std::string& endpoint) {
    Connection c;
    c.sock = zmq_socket(ctx_, ZMQ_DEALER);
    int zero = 0, ivl = 1000, tmo = 3000;
    zmq_setsockopt(c.sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c.sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);  // libzmq answers PING below the application
    zmq_setsockopt(c.sock, ZMQ_HEARTBEAT_TIMEOUT, &tmo, sizeof tmo);
    std::string mon = "inproc://ztb-client-monitor-" + std::to_string(++monitors_);
    zmq_socket_monitor(c.sock, mon.c_str(),
                       ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    c.mon = zmq_socket(ctx_, ZMQ_PAIR);
    zmq_connect(c.mon, mon.c_str());
    if (zmq_connect(c.sock, endpoint.c_str()) != 0)
      logf(0, "cannot connect to %s: %s", endpoint.c_str(), zmq_strerror(zmq_errno()));
    c.opened_at = now_ms();
    return c;
  }

  void close(Connection& c) {
    zmq_socket_monitor(c.sock, nullptr, 0);
    zmq_close(c.mon);
    zmq_close(c.sock);
  }

  // >= 0: exit status after a REPLY; -1: broker gone (why says how); -2: deadline passed.
  int wait_reply(Connection& c, int64_t deadline, std::string& why) {
    while (true) {
      int64_t t = now_ms();
      if (t >= deadline) return -2;
      if (!c.handshaken && t >= c.opened_at + 2000) { why = "no handshake within 2 s"; return -1; }
      zmq_pollitem_t items[2] = {{c.sock, 0, ZMQ_POLLIN, 0}, {c.mon, 0, ZMQ_POLLIN, 0}};
      int64_t wake = c.handshaken ? deadline : std::min(deadline, c.opened_at + 2000);
      zmq_poll(items, 2, long(std::max<int64_t>(0, wake - t)));
      Frames ev;
      while (recv_frames(c.mon, ev)) {
        if (ev.empty() || ev[0].size() < 2) continue;
        uint16_t e;
        std::memcpy(&e, ev[0].data(), 2);
        if (e == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) { c.handshaken = true; continue; }
        why = e == ZMQ_EVENT_DISCONNECTED ? "connection lost"
              : e == ZMQ_EVENT_CONNECT_RETRIED ? "connection refused or failed"
                                               : "handshake failed";
        return -1;
      }
      Frames m;
      while (recv_frames(c.sock, m)) {
        int rc = reply(m);
        if (rc >= 0) return rc;
      }
    }
  }

  // Reads one message from the broker; returns the exit status when it is our REPLY, -1 otherwise.
  int reply(const Frames& m) {
    if (m.size() < 4 || !m[0].empty() || m[1] != SIG || m[2] != "REPLY") {
      logf(0, "unexpected message from the broker (%zu frames); dropped", m.size());
      return -1;
    }
    Json d;
    std::string err;
    if (!parse_json(m[3], d, err) || d.type != Json::Obj || !d.get("status") || d.get("status")->type != Json::Str) {
      logf(0, "unreadable REPLY detail (%s); dropped", err.c_str());
      return -1;
    }
    const Json* id = d.get("id");
    // A malformed-request REPLY carries no id (§JSON members, REPLY detail); with one request it is ours.
    if (id && (id->type != Json::Str || id->s != o_.id)) {
      logf(0, "REPLY for another id dropped");
      return -1;
    }
    auto s = [&](const char* k) { const Json* v = d.get(k); return v && v->type == Json::Str ? v->s : std::string(); };
    auto n = [&](const char* k) { const Json* v = d.get(k); return v && v->type == Json::Int ? v->i : -1; };
    const Json* dup = d.get("duplicate");
    if (s("status") == "succeeded") {
      for (size_t k = 4; k < m.size(); k++) std::fwrite((m[k] + "\n").data(), 1, m[k].size() + 1, stdout);
      std::fflush(stdout);
      std::fprintf(stderr, "succeeded (task %s, worker %s, %lld attempt(s), %lld ms%s)\n", s("task").c_str(),
                   s("worker").c_str(), (long long)n("attempts"), (long long)n("elapsed"),
                   dup && dup->type == Json::Bool && dup->b ? ", duplicate" : "");
      return 0;
    }
    std::fprintf(stderr, "failed: %s: %s%s%s\n", s("reason").c_str(), s("message").c_str(),
                 s("error").empty() ? "" : " ", s("error").c_str());
    return 1;
  }

  const Options& o_;
  std::mt19937_64 rng_;
  void* ctx_ = nullptr;
  int monitors_ = 0;
};

void usage(FILE* f) {
  std::fprintf(f,
      "Usage: ztb-client [options] CLIENTS[,CLIENTS...] [PAYLOAD...]\n"
      "Sends one enveloped ZTB/1 REQUEST and prints the reply frames on stdout, the status on stderr.\n"
      "CLIENTS defaults to $ZTB_CLIENTS_ENDPOINT when the first argument is not an endpoint ('-' also takes it).\n"
      "Several comma-separated endpoints: fail over between them, resending with the same id and key.\n"
      "  --service NAME      service (default: the broker's \"default\")\n"
      "  --timeout MS        per-attempt timeout to ask for\n"
      "  --attempts N        attempts to ask for\n"
      "  --id ID             correlation id (default generated)\n"
      "  --key KEY           idempotency key (generated when several endpoints are given)\n"
      "  --deadline DURATION give up after this long without a reply (default 30s)\n"
      "  -v                  log more on stderr\n"
      "Exit status: 0 succeeded, 1 failed reply, 2 usage error, 3 no reply before the deadline.\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<std::string> rest;
  for (int k = 1; k < argc; k++) {
    std::string a = argv[k];
    auto val = [&](const char* what) -> const char* {
      if (k + 1 >= argc) { std::fprintf(stderr, "ztb-client: %s needs a value\n", what); std::exit(2); }
      return argv[++k];
    };
    if (a == "-h" || a == "--help") { usage(stdout); return 0; }
    else if (a == "--service") o.service = val("--service");
    else if (a == "--timeout") o.timeout = parse_duration(val("--timeout"));
    else if (a == "--attempts") o.attempts = std::atoll(val("--attempts"));
    else if (a == "--id") o.id = val("--id");
    else if (a == "--key") o.key = val("--key");
    else if (a == "--deadline") o.deadline = parse_duration(val("--deadline"));
    else if (a == "-v") g_verbosity = 2;
    else if (a == "--") { for (k++; k < argc; k++) rest.push_back(argv[k]); }
    else if (a.size() > 1 && a[0] == '-') { std::fprintf(stderr, "ztb-client: unknown option %s\n", a.c_str()); return 2; }
    else rest.push_back(a);
  }
  std::string eps;
  if (!rest.empty() && (rest[0] == "-" || rest[0].find("://") != std::string::npos)) {
    eps = rest[0] == "-" ? "" : rest[0];
    rest.erase(rest.begin());
  }
  if (eps.empty()) { const char* e = std::getenv("ZTB_CLIENTS_ENDPOINT"); eps = e ? e : ""; }
  if (eps.empty()) { std::fprintf(stderr, "ztb-client: no CLIENTS endpoint (argument or $ZTB_CLIENTS_ENDPOINT)\n"); return 2; }
  for (size_t p = 0; p <= eps.size();) {
    size_t q = eps.find(',', p);
    if (q == std::string::npos) q = eps.size();
    if (q > p) o.endpoints.push_back(eps.substr(p, q - p));
    p = q + 1;
  }
  o.payload = rest;
  std::mt19937_64 rng(std::random_device{}());
  if (o.id.empty()) o.id = "cpp-" + random_hex(rng, 6);
  // §Failing over rule 4: a client that fails over MUST give every request a key.
  // With one endpoint too: after a lost connection it resends, and the key keeps that from running twice.
  if (o.key.empty()) o.key = "cpp-" + random_hex(rng, 16);
  if (code_points(o.id) > 128 || code_points(o.key) > 128) { std::fprintf(stderr, "ztb-client: --id and --key are 1..128 characters\n"); return 2; }
  if (o.timeout == 0 || o.timeout > 2147483647 || o.attempts == 0 || o.deadline <= 0 ||
      (!o.service.empty() && code_points(o.service) > 64)) {
    std::fprintf(stderr, "ztb-client: --timeout 1..2147483647 ms, --attempts >= 1, --service 1..64 characters\n");
    return 2;
  }
  return Client(o).run();
}
