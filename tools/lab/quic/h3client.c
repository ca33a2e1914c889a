/*
 * h3client — the lab phone's HTTP/3 client (libngtcp2 + GnuTLS + libnghttp3).
 *
 * usage: h3client PLAN.json
 *
 * Debian's gtlsclient cannot send request headers of its own choosing, and
 * it times key updates and migrations by the clock. The lab needs both under
 * control: values planted in request headers, and requests that are known to
 * travel before and after a key update or a connection migration. So this
 * client runs a plan, one action at a time, on one QUIC connection:
 *
 *   {"addr": "39.156.0.10", "port": 443, "sni": "lanxin.cn", "ca": "ca.pem",
 *    "version": "v1" | "v2draft", "priority": GnuTLS priority string (optional),
 *    "rate": bytes per second the client sends at most, and lets the server
 *            send at most, through the flow control credit it gives
 *            (optional; bulk transfers at a pace the capture taps keep up
 *            with),
 *    "actions": [
 *      {"request": {"method": "POST", "path": "/x?a=b", "authority": "lanxin.cn",
 *                   "headers": [["x-oaid", "..."]], "body_file": "/tmp/body"}},
 *      {"key_update": true},     our 1-RTT keys change (key phase flips)
 *      {"migrate": true}         a new UDP socket (new local port), the
 *                                connection moves to it at once
 *    ]}
 *
 * Each request is sent after the previous one has been answered, so a
 * request after a key update is sent with the new keys and one after a
 * migration from the new port. The TLS secrets go to $SSLKEYLOGFILE (GnuTLS
 * writes it). On success it prints one JSON object on stdout: the version
 * and cipher suite negotiated, whether the server sent a Retry, and per
 * request its stream, source port,
 * key updates and migrations before it, and the response status.
 * Exit 1 with a message on stderr when anything fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#define MAX_SOCKETS 8
#define MAX_HEADERS 64
/* How long the whole plan may take: a lab exchange answers in milliseconds,
 * a loaded machine may need seconds; only a broken lab reaches this. */
#define PLAN_SECONDS 60

static const char default_priority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
    "+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
    "%DISABLE_TLS13_COMPAT_MODE";

struct udp_socket {
	int fd;
	struct sockaddr_storage local;
	socklen_t locallen;
};

enum action_kind { ACT_REQUEST, ACT_KEY_UPDATE, ACT_MIGRATE };

struct request {
	const char *method, *path, *authority;
	nghttp3_nv nv[MAX_HEADERS];
	size_t nvlen;
	uint8_t *body;
	size_t bodylen;
	int64_t stream_id;
	int status;
	uint64_t response_bytes;
	int done;
	int key_updates, migrations;
	uint16_t src_port;
};

struct action {
	enum action_kind kind;
	struct request req;
};

struct client {
	ngtcp2_crypto_conn_ref conn_ref;
	ngtcp2_conn *conn;
	nghttp3_conn *h3;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t session;
	struct udp_socket socks[MAX_SOCKETS];
	size_t nsocks;
	size_t current; /* index of the socket the connection uses now */
	struct sockaddr_storage remote;
	socklen_t remotelen;
	struct action *actions;
	size_t nactions, next; /* next action to start */
	struct request *pending; /* request waiting for its answer */
	int key_updates, migrations;
	int handshake_done;
	ngtcp2_connection_close_error last_error;
	/* Pacing (plan "rate"), one token bucket per direction: bytes we send,
	 * and flow control credit we give for response bodies. */
	uint64_t rate, pace_until;
	struct bucket {
		uint64_t tokens, last_ts;
	} send_bucket, credit_bucket;
	uint64_t uncredited; /* response body bytes consumed, credit not yet given */
};

/* A bucket holds at most this much: an idle pause does not turn into a
 * burst at line rate afterwards. */
#define PACE_BURST (64 * 1024)
#define PACE_PACKET 1500

static void bucket_refill(struct client *c, struct bucket *b, uint64_t ts)
{
	uint64_t add = (ts - b->last_ts) / 1000 * c->rate / 1000000;
	b->tokens = b->tokens + add > PACE_BURST ? PACE_BURST : b->tokens + add;
	b->last_ts = ts;
}

/* Wake up when bucket B holds a packet's worth (the earliest of all such
 * times asked for in one round). */
static void pace_wake(struct client *c, const struct bucket *b, uint64_t ts)
{
	uint64_t need = b->tokens >= PACE_PACKET ? 0 : PACE_PACKET - b->tokens;
	uint64_t t = ts + need * 1000000 / c->rate * 1000 + 1000;
	if (!c->pace_until || t < c->pace_until)
		c->pace_until = t;
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...);

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("h3client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec tp;
	clock_gettime(CLOCK_MONOTONIC, &tp);
	return (uint64_t)tp.tv_sec * NGTCP2_SECONDS + (uint64_t)tp.tv_nsec;
}

static uint16_t sock_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* A new UDP socket connected to the server; the kernel picks the port. */
static size_t open_socket(struct client *c)
{
	if (c->nsocks == MAX_SOCKETS)
		die("more than %d migrations", MAX_SOCKETS - 1);
	struct udp_socket *s = &c->socks[c->nsocks];
	s->fd = socket(c->remote.ss_family, SOCK_DGRAM, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&c->remote, c->remotelen) != 0)
		die("UDP socket to the server: %s", strerror(errno));
	s->locallen = sizeof(s->local);
	if (getsockname(s->fd, (struct sockaddr *)&s->local, &s->locallen) != 0)
		die("getsockname: %s", strerror(errno));
	return c->nsocks++;
}

static ngtcp2_path path_of(struct client *c, size_t i)
{
	ngtcp2_path p = {
	    {(struct sockaddr *)&c->socks[i].local, c->socks[i].locallen},
	    {(struct sockaddr *)&c->remote, c->remotelen},
	    NULL,
	};
	return p;
}

/* ---- QUIC callbacks ------------------------------------------------------ */

static void rand_cb(uint8_t *dest, size_t destlen, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	(void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, destlen);
}

static int new_cid_cb(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
		      void *user_data)
{
	(void)conn;
	(void)user_data;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	return 0;
}

static int setup_h3(struct client *c);

static int handshake_completed_cb(ngtcp2_conn *conn, void *user_data)
{
	struct client *c = user_data;
	(void)conn;
	c->handshake_done = 1;
	return setup_h3(c) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int recv_stream_data_cb(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id,
			       uint64_t offset, const uint8_t *data, size_t datalen,
			       void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	(void)offset;
	(void)stream_user_data;
	if (!c->h3)
		return 0;
	nghttp3_ssize n = nghttp3_conn_read_stream(c->h3, stream_id, data, datalen,
						   flags & NGTCP2_STREAM_DATA_FLAG_FIN);
	if (n < 0) {
		fprintf(stderr, "h3client: nghttp3_conn_read_stream: %s\n", nghttp3_strerror((int)n));
		ngtcp2_connection_close_error_set_application_error(
		    &c->last_error, nghttp3_err_infer_quic_app_error_code((int)n), NULL, 0);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	ngtcp2_conn_extend_max_stream_offset(conn, stream_id, (uint64_t)n);
	ngtcp2_conn_extend_max_offset(conn, (uint64_t)n);
	return 0;
}

static int acked_stream_data_offset_cb(ngtcp2_conn *conn, int64_t stream_id, uint64_t offset,
				       uint64_t datalen, void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	(void)conn;
	(void)offset;
	(void)stream_user_data;
	if (c->h3 && nghttp3_conn_add_ack_offset(c->h3, stream_id, datalen) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int stream_close_cb(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id,
			   uint64_t app_error_code, void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	(void)conn;
	(void)stream_user_data;
	if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
		app_error_code = NGHTTP3_H3_NO_ERROR;
	if (c->h3) {
		int rv = nghttp3_conn_close_stream(c->h3, stream_id, app_error_code);
		if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND)
			return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int stream_reset_cb(ngtcp2_conn *conn, int64_t stream_id, uint64_t final_size,
			   uint64_t app_error_code, void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	(void)conn;
	(void)final_size;
	(void)app_error_code;
	(void)stream_user_data;
	if (c->h3 && nghttp3_conn_shutdown_stream_read(c->h3, stream_id) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int extend_max_stream_data_cb(ngtcp2_conn *conn, int64_t stream_id, uint64_t max_data,
				     void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	(void)conn;
	(void)max_data;
	(void)stream_user_data;
	if (c->h3 && nghttp3_conn_unblock_stream(c->h3, stream_id) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct client *)ref->user_data)->conn;
}

/* ---- HTTP/3 callbacks ---------------------------------------------------- */

static struct request *request_of(struct client *c, int64_t stream_id)
{
	return c->pending && c->pending->stream_id == stream_id ? c->pending : NULL;
}

static int h3_recv_header(nghttp3_conn *conn, int64_t stream_id, int32_t token,
			  nghttp3_rcbuf *name, nghttp3_rcbuf *value, uint8_t flags,
			  void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	struct request *r = request_of(c, stream_id);
	(void)conn;
	(void)name;
	(void)flags;
	(void)stream_user_data;
	if (r && token == NGHTTP3_QPACK_TOKEN__STATUS) {
		nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
		char buf[8] = {0};
		memcpy(buf, v.base, v.len < sizeof(buf) - 1 ? v.len : sizeof(buf) - 1);
		r->status = atoi(buf);
	}
	return 0;
}

static int h3_recv_data(nghttp3_conn *conn, int64_t stream_id, const uint8_t *data,
			size_t datalen, void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	struct request *r = request_of(c, stream_id);
	(void)conn;
	(void)data;
	(void)stream_user_data;
	if (r)
		r->response_bytes += datalen;
	/* Body bytes are consumed here: give the flow control credit back, at
	 * once or, when pacing, as the rate allows (give_credit). */
	if (c->rate && r) {
		c->uncredited += datalen;
		return 0;
	}
	ngtcp2_conn_extend_max_stream_offset(c->conn, stream_id, datalen);
	ngtcp2_conn_extend_max_offset(c->conn, datalen);
	return 0;
}

/* Pacing downloads: credit for the pending response's body as the rate
 * allows; the server cannot send past it. */
static void give_credit(struct client *c)
{
	if (!c->rate || !c->uncredited || !c->pending)
		return;
	uint64_t ts = now_ns();
	struct bucket *b = &c->credit_bucket;
	bucket_refill(c, b, ts);
	uint64_t n = b->tokens < c->uncredited ? b->tokens : c->uncredited;
	if (n) {
		ngtcp2_conn_extend_max_stream_offset(c->conn, c->pending->stream_id, n);
		ngtcp2_conn_extend_max_offset(c->conn, n);
		c->uncredited -= n;
		b->tokens -= n;
	}
	if (c->uncredited)
		pace_wake(c, b, ts);
}

static int h3_deferred_consume(nghttp3_conn *conn, int64_t stream_id, size_t consumed,
			       void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	(void)conn;
	(void)stream_user_data;
	ngtcp2_conn_extend_max_stream_offset(c->conn, stream_id, consumed);
	ngtcp2_conn_extend_max_offset(c->conn, consumed);
	return 0;
}

static int h3_stream_close(nghttp3_conn *conn, int64_t stream_id, uint64_t app_error_code,
			   void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	struct request *r = request_of(c, stream_id);
	(void)conn;
	(void)stream_user_data;
	if (r) {
		if (app_error_code != NGHTTP3_H3_NO_ERROR)
			die("%s %s: stream %" PRId64 " closed with error 0x%" PRIx64, r->method, r->path,
			    stream_id, app_error_code);
		r->done = 1;
		c->pending = NULL;
		/* The stream is done: what its body still owed goes back to the
		 * connection's window at once, or the next response would stall. */
		ngtcp2_conn_extend_max_offset(c->conn, c->uncredited);
		c->uncredited = 0;
	}
	return 0;
}

static int h3_stop_sending(nghttp3_conn *conn, int64_t stream_id, uint64_t app_error_code,
			   void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	(void)conn;
	(void)stream_user_data;
	return ngtcp2_conn_shutdown_stream_read(c->conn, stream_id, app_error_code) == 0
		   ? 0
		   : NGHTTP3_ERR_CALLBACK_FAILURE;
}

static int h3_reset_stream(nghttp3_conn *conn, int64_t stream_id, uint64_t app_error_code,
			   void *user_data, void *stream_user_data)
{
	struct client *c = user_data;
	(void)conn;
	(void)stream_user_data;
	return ngtcp2_conn_shutdown_stream_write(c->conn, stream_id, app_error_code) == 0
		   ? 0
		   : NGHTTP3_ERR_CALLBACK_FAILURE;
}

/* The whole body is in memory: one vector, end of data. */
static nghttp3_ssize read_body(nghttp3_conn *conn, int64_t stream_id, nghttp3_vec *vec,
			       size_t veccnt, uint32_t *pflags, void *user_data,
			       void *stream_user_data)
{
	struct request *r = stream_user_data;
	(void)conn;
	(void)stream_id;
	(void)user_data;
	(void)veccnt;
	vec[0].base = r->body;
	vec[0].len = r->bodylen;
	*pflags |= NGHTTP3_DATA_FLAG_EOF;
	return 1;
}

static int setup_h3(struct client *c)
{
	nghttp3_callbacks cb = {
	    .stream_close = h3_stream_close,
	    .recv_data = h3_recv_data,
	    .deferred_consume = h3_deferred_consume,
	    .recv_header = h3_recv_header,
	    .stop_sending = h3_stop_sending,
	    .reset_stream = h3_reset_stream,
	};
	nghttp3_settings settings;
	int64_t ctrl, enc, dec;
	nghttp3_settings_default(&settings);
	/* A dynamic table both ways, as browsers and app stacks use: header
	 * values then travel on the QPACK encoder stream too. */
	settings.qpack_max_dtable_capacity = 4096;
	settings.qpack_encoder_max_dtable_capacity = 4096;
	settings.qpack_blocked_streams = 100;
	if (nghttp3_conn_client_new(&c->h3, &cb, &settings, nghttp3_mem_default(), c) != 0)
		return -1;
	if (ngtcp2_conn_open_uni_stream(c->conn, &ctrl, NULL) != 0 ||
	    nghttp3_conn_bind_control_stream(c->h3, ctrl) != 0 ||
	    ngtcp2_conn_open_uni_stream(c->conn, &enc, NULL) != 0 ||
	    ngtcp2_conn_open_uni_stream(c->conn, &dec, NULL) != 0 ||
	    nghttp3_conn_bind_qpack_streams(c->h3, enc, dec) != 0)
		return -1;
	return 0;
}

/* ---- sending and receiving ----------------------------------------------- */

static size_t socket_for_path(struct client *c, const ngtcp2_path *p)
{
	for (size_t i = 0; i < c->nsocks; i++)
		if (p->local.addrlen == c->socks[i].locallen &&
		    memcmp(p->local.addr, &c->socks[i].local, c->socks[i].locallen) == 0)
			return i;
	return c->current;
}

static void send_packet(struct client *c, size_t sock, const uint8_t *data, size_t len)
{
	ssize_t n;
	do
		n = send(c->socks[sock].fd, data, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("send: %s", strerror(errno));
}

static void write_streams(struct client *c)
{
	uint8_t buf[1500];
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	nghttp3_vec vec[16];
	ngtcp2_path_storage_zero(&ps);
	for (;;) {
		int64_t stream_id = -1;
		int fin = 0;
		nghttp3_ssize nvec = 0;
		ngtcp2_ssize ndatalen;
		uint64_t ts = now_ns();
		if (c->rate && c->handshake_done) {
			bucket_refill(c, &c->send_bucket, ts);
			if (c->send_bucket.tokens < PACE_PACKET) {
				pace_wake(c, &c->send_bucket, ts);
				return;
			}
		}
		if (c->h3 && ngtcp2_conn_get_max_data_left(c->conn)) {
			nvec = nghttp3_conn_writev_stream(c->h3, &stream_id, &fin, vec, 16);
			if (nvec < 0)
				die("nghttp3_conn_writev_stream: %s", nghttp3_strerror((int)nvec));
		}
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
		if (fin)
			flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(
		    c->conn, &ps.path, &pi, buf, ngtcp2_conn_get_max_tx_udp_payload_size(c->conn),
		    &ndatalen, flags, stream_id, (const ngtcp2_vec *)vec, (size_t)nvec, ts);
		if (n < 0) {
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
				nghttp3_conn_block_stream(c->h3, stream_id);
				continue;
			}
			if (n == NGTCP2_ERR_STREAM_SHUT_WR) {
				nghttp3_conn_shutdown_stream_write(c->h3, stream_id);
				continue;
			}
			if (n == NGTCP2_ERR_WRITE_MORE) {
				if (nghttp3_conn_add_write_offset(c->h3, stream_id, (size_t)ndatalen) != 0)
					die("nghttp3_conn_add_write_offset failed");
				continue;
			}
			die("ngtcp2_conn_writev_stream: %s", ngtcp2_strerror((int)n));
		}
		if (ndatalen >= 0 && nghttp3_conn_add_write_offset(c->h3, stream_id, (size_t)ndatalen) != 0)
			die("nghttp3_conn_add_write_offset failed");
		if (n == 0) {
			ngtcp2_conn_update_pkt_tx_time(c->conn, ts);
			return;
		}
		send_packet(c, socket_for_path(c, &ps.path), buf, (size_t)n);
		if (c->rate)
			c->send_bucket.tokens -= c->send_bucket.tokens < (uint64_t)n ? c->send_bucket.tokens
										    : (uint64_t)n;
	}
}

static void read_socket(struct client *c, size_t i)
{
	uint8_t buf[65536];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(c->socks[i].fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* An ICMP error for an old path: nothing to read there. */
			if (errno == ECONNREFUSED)
				continue;
			die("recvfrom: %s", strerror(errno));
		}
		ngtcp2_path p = {
		    {(struct sockaddr *)&c->socks[i].local, c->socks[i].locallen},
		    {(struct sockaddr *)&from, fromlen},
		    NULL,
		};
		ngtcp2_pkt_info pi = {0};
		int rv = ngtcp2_conn_read_pkt(c->conn, &p, &pi, buf, (size_t)n, now_ns());
		if (rv != 0) {
			if (rv == NGTCP2_ERR_DRAINING)
				die("the server closed the connection");
			die("ngtcp2_conn_read_pkt: %s (TLS alert %u)", ngtcp2_strerror(rv),
			    ngtcp2_conn_get_tls_alert(c->conn));
		}
	}
}

/* ---- the plan ------------------------------------------------------------ */

static void submit_request(struct client *c, struct request *r)
{
	nghttp3_nv nva[MAX_HEADERS + 4];
	size_t n = 0;
#define NV(k, v)                                                                        \
	nva[n++] = (nghttp3_nv){(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v),      \
				NGHTTP3_NV_FLAG_NONE}
	NV(":method", r->method);
	NV(":scheme", "https");
	NV(":authority", r->authority);
	NV(":path", r->path);
#undef NV
	memcpy(nva + n, r->nv, r->nvlen * sizeof(nghttp3_nv));
	n += r->nvlen;
	int64_t sid;
	int rv = ngtcp2_conn_open_bidi_stream(c->conn, &sid, NULL);
	if (rv != 0)
		die("no bidirectional stream left: %s", ngtcp2_strerror(rv));
	nghttp3_data_reader dr = {read_body};
	r->stream_id = sid;
	r->key_updates = c->key_updates;
	r->migrations = c->migrations;
	r->src_port = sock_port(&c->socks[c->current].local);
	rv = nghttp3_conn_submit_request(c->h3, sid, nva, n, r->body || r->bodylen ? &dr : NULL, r);
	if (rv != 0)
		die("nghttp3_conn_submit_request: %s", nghttp3_strerror(rv));
	c->pending = r;
}

/* Start the next action when the previous one has finished. Returns 1 once
 * the whole plan is done. Key updates and migrations that the connection
 * cannot do yet (handshake not confirmed, the previous key update not yet
 * acknowledged, no spare connection ID from the server) are tried again
 * after the next packet. */
static int advance(struct client *c)
{
	while (c->h3 && !c->pending && c->next < c->nactions) {
		struct action *a = &c->actions[c->next];
		uint64_t ts = now_ns();
		if (a->kind == ACT_REQUEST) {
			submit_request(c, &a->req);
		} else if (a->kind == ACT_KEY_UPDATE) {
			int rv = ngtcp2_conn_initiate_key_update(c->conn, ts);
			if (rv == NGTCP2_ERR_INVALID_STATE)
				return 0;
			if (rv != 0)
				die("key update: %s", ngtcp2_strerror(rv));
			c->key_updates++;
		} else {
			size_t s = open_socket(c);
			ngtcp2_path p = path_of(c, s);
			int rv = ngtcp2_conn_initiate_immediate_migration(c->conn, &p, ts);
			if (rv == NGTCP2_ERR_CONN_ID_BLOCKED || rv == NGTCP2_ERR_INVALID_STATE) {
				close(c->socks[s].fd);
				c->nsocks--;
				return 0;
			}
			if (rv != 0)
				die("migration: %s", ngtcp2_strerror(rv));
			c->current = s;
			c->migrations++;
		}
		c->next++;
	}
	return c->next == c->nactions && !c->pending;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("%s: %s", path, strerror(errno));
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap && !(buf = realloc(buf, cap = cap ? cap * 2 : 65536)))
			die("out of memory");
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
	*len = n;
	return buf;
}

static const char *plan_string(json_t *obj, const char *key, const char *plan, const char *dflt)
{
	json_t *v = json_object_get(obj, key);
	if (!v && dflt)
		return dflt;
	if (!json_is_string(v))
		die("%s: \"%s\" must be a string", plan, key);
	return json_string_value(v);
}

static void parse_request(json_t *j, struct request *r, const char *plan, size_t index)
{
	r->method = plan_string(j, "method", plan, "GET");
	r->path = plan_string(j, "path", plan, "/");
	r->authority = plan_string(j, "authority", plan, NULL);
	json_t *hdrs = json_object_get(j, "headers");
	size_t i;
	json_t *h;
	json_array_foreach(hdrs, i, h)
	{
		if (r->nvlen == MAX_HEADERS)
			die("%s: action %zu: more than %d headers", plan, index, MAX_HEADERS);
		const char *name = json_string_value(json_array_get(h, 0));
		const char *value = json_string_value(json_array_get(h, 1));
		if (!name || !value)
			die("%s: action %zu: a header is [name, value]", plan, index);
		r->nv[r->nvlen++] = (nghttp3_nv){(uint8_t *)name, (uint8_t *)value, strlen(name),
						 strlen(value), NGHTTP3_NV_FLAG_NONE};
	}
	json_t *bf = json_object_get(j, "body_file");
	if (bf)
		r->body = read_file(json_string_value(bf), &r->bodylen);
	r->stream_id = -1;
}

static void load_plan(struct client *c, const char *plan, json_t **root)
{
	json_error_t err;
	*root = json_load_file(plan, 0, &err);
	if (!*root)
		die("%s:%d: %s", plan, err.line, err.text);
	json_t *acts = json_object_get(*root, "actions");
	if (!json_is_array(acts) || json_array_size(acts) == 0)
		die("%s: \"actions\" must be a non-empty list", plan);
	c->nactions = json_array_size(acts);
	c->actions = calloc(c->nactions, sizeof(*c->actions));
	size_t i;
	json_t *a;
	json_array_foreach(acts, i, a)
	{
		json_t *req = json_object_get(a, "request");
		if (req) {
			c->actions[i].kind = ACT_REQUEST;
			parse_request(req, &c->actions[i].req, plan, i);
		} else if (json_object_get(a, "key_update")) {
			c->actions[i].kind = ACT_KEY_UPDATE;
		} else if (json_object_get(a, "migrate")) {
			c->actions[i].kind = ACT_MIGRATE;
		} else {
			die("%s: action %zu is none of request, key_update, migrate", plan, i);
		}
	}
}

static void tls_init(struct client *c, const char *ca, const char *sni, const char *priority)
{
	static const gnutls_datum_t alpn = {(uint8_t *)"h3", 2};
	int rv;
	if ((rv = gnutls_certificate_allocate_credentials(&c->cred)) != 0 ||
	    (rv = gnutls_certificate_set_x509_trust_file(c->cred, ca, GNUTLS_X509_FMT_PEM)) < 0)
		die("%s: %s", ca, gnutls_strerror(rv));
	if ((rv = gnutls_init(&c->session, GNUTLS_CLIENT)) != 0)
		die("gnutls_init: %s", gnutls_strerror(rv));
	if (ngtcp2_crypto_gnutls_configure_client_session(c->session) != 0)
		die("ngtcp2_crypto_gnutls_configure_client_session failed");
	if ((rv = gnutls_priority_set_direct(c->session, priority, NULL)) != 0)
		die("GnuTLS priority %s: %s", priority, gnutls_strerror(rv));
	gnutls_session_set_ptr(c->session, &c->conn_ref);
	if ((rv = gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->cred)) != 0)
		die("gnutls_credentials_set: %s", gnutls_strerror(rv));
	gnutls_alpn_set_protocols(c->session, &alpn, 1, GNUTLS_ALPN_MANDATORY);
	gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, sni, strlen(sni));
	/* The lab CA signed a certificate for every catalogue host. */
	gnutls_session_set_verify_cert(c->session, sni, 0);
}

static void quic_init(struct client *c, uint32_t version)
{
	ngtcp2_callbacks cb = {
	    .client_initial = ngtcp2_crypto_client_initial_cb,
	    .recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	    .handshake_completed = handshake_completed_cb,
	    .encrypt = ngtcp2_crypto_encrypt_cb,
	    .decrypt = ngtcp2_crypto_decrypt_cb,
	    .hp_mask = ngtcp2_crypto_hp_mask_cb,
	    .recv_stream_data = recv_stream_data_cb,
	    .acked_stream_data_offset = acked_stream_data_offset_cb,
	    .stream_close = stream_close_cb,
	    .recv_retry = ngtcp2_crypto_recv_retry_cb,
	    .rand = rand_cb,
	    .get_new_connection_id = new_cid_cb,
	    .update_key = ngtcp2_crypto_update_key_cb,
	    .stream_reset = stream_reset_cb,
	    .extend_max_stream_data = extend_max_stream_data_cb,
	    .delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	    .delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	    .get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	    .version_negotiation = ngtcp2_crypto_version_negotiation_cb,
	};
	ngtcp2_cid dcid, scid;
	ngtcp2_settings settings;
	ngtcp2_transport_params params;
	dcid.datalen = 16;
	scid.datalen = 8;
	rand_cb(dcid.data, dcid.datalen, NULL);
	rand_cb(scid.data, scid.datalen, NULL);
	ngtcp2_settings_default(&settings);
	settings.initial_ts = now_ns();
	ngtcp2_transport_params_default(&params);
	params.initial_max_streams_uni = 3;
	params.initial_max_stream_data_bidi_local = 1024 * 1024;
	params.initial_max_stream_data_uni = 1024 * 1024;
	params.initial_max_data = 4 * 1024 * 1024;
	if (c->rate) {
		/* Paced: small windows, so the credit given decides the pace. */
		params.initial_max_stream_data_bidi_local = 256 * 1024;
		params.initial_max_data = 512 * 1024;
	}
	params.max_idle_timeout = 30 * NGTCP2_SECONDS;
	ngtcp2_path p = path_of(c, 0);
	int rv = ngtcp2_conn_client_new(&c->conn, &dcid, &scid, &p, version, &cb, &settings,
					&params, NULL, c);
	if (rv != 0)
		die("ngtcp2_conn_client_new: %s", ngtcp2_strerror(rv));
	ngtcp2_conn_set_tls_native_handle(c->conn, c->session);
}

static void close_connection(struct client *c)
{
	uint8_t buf[1500];
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_connection_close_error_set_application_error(&c->last_error, NGHTTP3_H3_NO_ERROR,
							    NULL, 0);
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi, buf, sizeof(buf),
							    &c->last_error, now_ns());
	if (n < 0)
		die("ngtcp2_conn_write_connection_close: %s", ngtcp2_strerror((int)n));
	if (n > 0)
		send_packet(c, socket_for_path(c, &ps.path), buf, (size_t)n);
}

static void print_result(struct client *c)
{
	json_t *out = json_object();
	uint32_t v = ngtcp2_conn_get_negotiated_version(c->conn);
	char vs[16];
	snprintf(vs, sizeof(vs), "0x%08" PRIx32, v);
	json_object_set_new(out, "quic_version", json_string(vs));
	const char *suite = gnutls_ciphersuite_get(c->session);
	json_object_set_new(out, "cipher", json_string(suite ? suite : "?"));
	gnutls_datum_t alpn;
	if (gnutls_alpn_get_selected_protocol(c->session, &alpn) == 0)
		json_object_set_new(out, "alpn", json_stringn((const char *)alpn.data, alpn.size));
	json_t *reqs = json_array();
	for (size_t i = 0; i < c->nactions; i++) {
		struct request *r = &c->actions[i].req;
		if (c->actions[i].kind != ACT_REQUEST)
			continue;
		json_array_append_new(
		    reqs, json_pack("{s:I, s:i, s:i, s:i, s:i, s:I}", "stream_id", (json_int_t)r->stream_id,
				    "src_port", r->src_port, "key_updates", r->key_updates, "migrations",
				    r->migrations, "status", r->status, "response_bytes",
				    (json_int_t)r->response_bytes));
	}
	json_object_set_new(out, "requests", reqs);
	json_object_set_new(out, "retry", json_boolean(ngtcp2_conn_after_retry(c->conn)));
	json_t *ports = json_array();
	for (size_t i = 0; i < c->nsocks; i++)
		json_array_append_new(ports, json_integer(sock_port(&c->socks[i].local)));
	json_object_set_new(out, "src_ports", ports);
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
}

int main(int argc, char **argv)
{
	struct client c;
	json_t *plan;
	if (argc != 2) {
		fprintf(stderr, "usage: h3client PLAN.json\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	c.conn_ref.get_conn = get_conn;
	c.conn_ref.user_data = &c;
	ngtcp2_connection_close_error_default(&c.last_error);
	load_plan(&c, argv[1], &plan);

	const char *addr = plan_string(plan, "addr", argv[1], NULL);
	json_t *port = json_object_get(plan, "port");
	if (!json_is_integer(port))
		die("%s: \"port\" must be an integer", argv[1]);
	memset(&c.remote, 0, sizeof(c.remote));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c.remote;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)json_integer_value(port));
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			die("%s: bad address %s", argv[1], addr);
		c.remotelen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&c.remote;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)json_integer_value(port));
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			die("%s: bad address %s", argv[1], addr);
		c.remotelen = sizeof(*s4);
	}
	const char *version = plan_string(plan, "version", argv[1], "v1");
	uint32_t qv;
	if (strcmp(version, "v1") == 0)
		qv = NGTCP2_PROTO_VER_V1;
	else if (strcmp(version, "v2draft") == 0)
		qv = NGTCP2_PROTO_VER_V2_DRAFT;
	else
		die("%s: version is v1 or v2draft, not %s", argv[1], version);

	json_t *rate = json_object_get(plan, "rate");
	if (rate && (!json_is_integer(rate) || json_integer_value(rate) <= 0))
		die("%s: \"rate\" must be a positive integer (bytes per second)", argv[1]);
	c.rate = rate ? (uint64_t)json_integer_value(rate) : 0;
	c.send_bucket = c.credit_bucket = (struct bucket){PACE_BURST, now_ns()};

	open_socket(&c);
	tls_init(&c, plan_string(plan, "ca", argv[1], NULL), plan_string(plan, "sni", argv[1], NULL),
		 plan_string(plan, "priority", argv[1], default_priority));
	quic_init(&c, qv);

	uint64_t deadline = now_ns() + (uint64_t)PLAN_SECONDS * NGTCP2_SECONDS;
	write_streams(&c);
	for (;;) {
		if (advance(&c))
			break;
		give_credit(&c);
		write_streams(&c);
		uint64_t now = now_ns(), expiry = ngtcp2_conn_get_expiry(c.conn);
		if (now >= deadline)
			die("the plan did not finish within %d s (action %zu of %zu)", PLAN_SECONDS,
			    c.next + 1, c.nactions);
		if (c.pace_until && c.pace_until < expiry)
			expiry = c.pace_until;
		c.pace_until = 0;
		int timeout = expiry <= now ? 0 : (int)((expiry - now) / 1000000 + 1);
		if (timeout > 1000)
			timeout = 1000;
		struct pollfd fds[MAX_SOCKETS];
		for (size_t i = 0; i < c.nsocks; i++)
			fds[i] = (struct pollfd){c.socks[i].fd, POLLIN, 0};
		if (poll(fds, c.nsocks, timeout) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (size_t i = 0; i < c.nsocks; i++)
			if (fds[i].revents)
				read_socket(&c, i);
		if (ngtcp2_conn_get_expiry(c.conn) <= now_ns()) {
			int rv = ngtcp2_conn_handle_expiry(c.conn, now_ns());
			if (rv != 0)
				die("ngtcp2_conn_handle_expiry: %s", ngtcp2_strerror(rv));
		}
	}
	close_connection(&c);
	print_result(&c);
	ngtcp2_conn_del(c.conn);
	nghttp3_conn_del(c.h3);
	gnutls_deinit(c.session);
	gnutls_certificate_free_credentials(c.cred);
	for (size_t i = 0; i < c.nactions; i++)
		free(c.actions[i].req.body);
	free(c.actions);
	for (size_t i = 0; i < c.nsocks; i++)
		close(c.socks[i].fd);
	json_decref(plan);
	return 0;
}
