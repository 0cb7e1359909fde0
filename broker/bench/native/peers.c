/*
 * Native load generators for `npm run bench` (optional: built when a C compiler and libzmq's headers are present).
 *
 * The prototype figure was measured with "fast native legacy workers and a pipelining client"; Node peers cost
 * as much CPU per message as the broker does, and on a 2-core machine every cycle they take is a cycle the broker under
 * test does not get. These peers do the least a peer can: no parsing beyond the command frame, no allocation.
 *
 *   peers legacy  WORKERS ANSWERS COUNT            COUNT prototype REQ workers (one process each), echo the task
 *   peers modern  WORKERS ANSWERS COUNT CAPACITY   COUNT ZTB/1 DEALER workers (one process each), RESULT = payload
 *   peers client  ENDPOINT WINDOW BYTES SECONDS ENVELOPE
 *                 pipelining DEALER client: keeps WINDOW requests in flight for SECONDS after 0.5 s of warm-up and
 *                 prints one JSON line {rate, p50, p99, failures, replies}. ENVELOPE 1 sends "" slot payload (the
 *                 prototype's plain request), 0 sends slot payload (for the ROUTER echo server of the ceiling).
 *
 * Worker processes die with their parent (PR_SET_PDEATHSIG), so a killed bench leaves none behind.
 */
#include <zmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAMES 64

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *what) {
    fprintf(stderr, "peers: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

/* Receives one multipart message into frames[]; returns the frame count, or -1 on error (e.g. timeout). */
static int receive(void *socket, zmq_msg_t *frames) {
    int count = 0;
    int more;
    do {
        zmq_msg_init(&frames[count]);
        if (zmq_msg_recv(&frames[count], socket, 0) < 0) return -1;
        more = zmq_msg_more(&frames[count]);
        count++;
    } while (more && count < MAX_FRAMES);
    return count;
}

static void close_all(zmq_msg_t *frames, int from, int count) {
    for (int i = from; i < count; i++) zmq_msg_close(&frames[i]);
}

/* Moves frames[from..count) onto the socket as the rest of a message (zmq_msg_send takes ownership). */
static void send_rest(void *socket, zmq_msg_t *frames, int from, int count) {
    for (int i = from; i < count; i++) zmq_msg_send(&frames[i], socket, i < count - 1 ? ZMQ_SNDMORE : 0);
}

/* The prototype's worker protocol: REQ asks with one frame, the task comes back as task-id payload..., the answer
 * goes out on PUSH as task-id payload... (protocol/spec.md §Legacy workers). */
static void legacy_worker(const char *workers, const char *answers) {
    void *context = zmq_ctx_new();
    void *req = zmq_socket(context, ZMQ_REQ);
    void *push = zmq_socket(context, ZMQ_PUSH);
    if (zmq_connect(req, workers) < 0 || zmq_connect(push, answers) < 0) die("connect");
    zmq_msg_t frames[MAX_FRAMES];
    for (;;) {
        zmq_send(req, "requesting task", 15, 0);
        int count = receive(req, frames);
        if (count < 0) die("receive");
        send_rest(push, frames, 0, count);
    }
}

static void send_text(void *socket, const char *text, int flags) {
    zmq_send(socket, text, strlen(text), flags);
}

/* A ZTB/1 worker (protocol/spec.md §Modern workers): READY with CAPACITY, then RESULT task-id payload... per TASK. */
static void modern_worker(const char *workers, int index, int capacity) {
    void *context = zmq_ctx_new();
    void *dealer = zmq_socket(context, ZMQ_DEALER);
    if (zmq_connect(dealer, workers) < 0) die("connect");
    char ready[128];
    snprintf(ready, sizeof ready, "{\"name\":\"native-%d\",\"capacity\":%d,\"heartbeat\":60000}", index, capacity);
    zmq_send(dealer, "", 0, ZMQ_SNDMORE);
    send_text(dealer, "ZTBW01", ZMQ_SNDMORE);
    send_text(dealer, "READY", ZMQ_SNDMORE);
    send_text(dealer, ready, 0);
    zmq_msg_t frames[MAX_FRAMES];
    for (;;) {
        /* "" ZTBW01 TASK task-id header payload... */
        int count = receive(dealer, frames);
        if (count < 0) die("receive");
        int is_task = count >= 5 && zmq_msg_size(&frames[2]) == 4 && memcmp(zmq_msg_data(&frames[2]), "TASK", 4) == 0;
        if (!is_task) { /* HEARTBEAT or DISCONNECT: nothing to answer in a benchmark */
            close_all(frames, 0, count);
            continue;
        }
        zmq_send(dealer, "", 0, ZMQ_SNDMORE);
        send_text(dealer, "ZTBW01", ZMQ_SNDMORE);
        send_text(dealer, "RESULT", ZMQ_SNDMORE);
        zmq_msg_send(&frames[3], dealer, count > 5 ? ZMQ_SNDMORE : 0);
        send_rest(dealer, frames, 5, count);
        close_all(frames, 0, 3);
        zmq_msg_close(&frames[4]);
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void send_request(void *dealer, int envelope, const unsigned char *slot, const char *payload, int bytes) {
    if (envelope) zmq_send(dealer, "", 0, ZMQ_SNDMORE);
    zmq_send(dealer, slot, 2, ZMQ_SNDMORE);
    zmq_send(dealer, payload, bytes, 0);
}

static void client(const char *endpoint, int window, int bytes, double seconds, int envelope) {
    void *context = zmq_ctx_new();
    void *dealer = zmq_socket(context, ZMQ_DEALER);
    int unlimited = 0, timeout = 15000;
    zmq_setsockopt(dealer, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt(dealer, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (zmq_connect(dealer, endpoint) < 0) die("connect");
    char *payload = malloc(bytes > 0 ? bytes : 1);
    memset(payload, 'b', bytes);
    double *sent_at = calloc(window, sizeof *sent_at);
    int capacity = 1 << 22, samples = 0;
    double *latency = malloc(capacity * sizeof *latency);
    for (int i = 0; i < window; i++) {
        unsigned char slot[2] = { i & 0xff, i >> 8 };
        sent_at[i] = now_ms();
        send_request(dealer, envelope, slot, payload, bytes);
    }
    double warm_until = now_ms() + 500, stop_at = warm_until + seconds * 1000, started = 0;
    long measured = 0, failures = 0, replies = 0;
    zmq_msg_t frames[MAX_FRAMES];
    for (;;) {
        int count = receive(dealer, frames);
        if (count < 0) {
            fprintf(stderr, "peers: no reply for 15 s from %s\n", endpoint);
            exit(1);
        }
        double now = now_ms();
        replies++;
        int at = envelope ? 1 : 0; /* the slot frame follows the delimiter when there is one */
        if (count <= at + 1 || zmq_msg_size(&frames[at]) != 2) {
            failures++; /* a failure reply is one empty frame: no slot, the window shrinks by one */
            close_all(frames, 0, count);
            if (failures >= window) break;
            continue;
        }
        unsigned char slot[2];
        memcpy(slot, zmq_msg_data(&frames[at]), 2);
        close_all(frames, 0, count);
        int index = slot[0] | (slot[1] << 8);
        if (now >= warm_until) {
            if (started == 0) started = now;
            measured++;
            if (samples < capacity) latency[samples++] = now - sent_at[index];
        }
        if (now >= stop_at) break;
        sent_at[index] = now;
        send_request(dealer, envelope, slot, payload, bytes);
    }
    double elapsed = (now_ms() - started) / 1000;
    qsort(latency, samples, sizeof *latency, by_value);
    printf("{\"rate\":%.1f,\"p50\":%.3f,\"p99\":%.3f,\"failures\":%ld,\"replies\":%ld}\n", measured / elapsed,
           samples ? latency[samples / 2] : 0, samples ? latency[(int)(samples * 0.99)] : 0, failures, replies);
    fflush(stdout);
    int linger = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(dealer);
    zmq_ctx_term(context);
}

static int usage(void) {
    fprintf(stderr, "usage: peers legacy|modern WORKERS ANSWERS COUNT [CAPACITY] | peers client ENDPOINT WINDOW BYTES SECONDS ENVELOPE\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc >= 5 && (strcmp(argv[1], "legacy") == 0 || strcmp(argv[1], "modern") == 0)) {
        int legacy = argv[1][0] == 'l', count = atoi(argv[4]), capacity = argc > 5 ? atoi(argv[5]) : 1;
        for (int i = 0; i < count; i++) {
            if (fork() != 0) continue;
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (legacy) legacy_worker(argv[2], argv[3]);
            else modern_worker(argv[2], i, capacity);
        }
        printf("ready\n");
        fflush(stdout);
        while (wait(NULL) > 0) {}
        return 0;
    }
    if (argc == 7 && strcmp(argv[1], "client") == 0) {
        client(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]), atoi(argv[6]));
        return 0;
    }
    return usage();
}
