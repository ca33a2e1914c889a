/*
 * live.c — `privaudit live`: the audit pipeline on a mirror port.
 *
 * One loop: poll the capture handle, the terminal and a one-second timer.
 * Every packet goes first to the evidence ring (so the evidence holds what
 * the audit saw), then through audit_packet(). Signals only set flags; the
 * loop acts on them: SIGINT/SIGTERM stop, SIGHUP rotates the evidence file,
 * SIGUSR1 (or "c" + Enter on the terminal) marks the consent moment.
 */
#include "live.h"

#include <errno.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/ring.h"

enum {
	TICK_US = 200000,            /* idle flows ended, key logs re-read: 5 times a second */
	BLOCK_TIMEOUT_MS = 50,       /* the kernel hands over a partly filled block after this */
	LIVE_TCP_CLOSED_US = 500000, /* see live_run */
};

static volatile sig_atomic_t stop_requested, rotate_requested, consent_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		rotate_requested = 1;
	else if (sig == SIGUSR1)
		consent_requested = 1;
	else
		stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct live {
	pcap_t *pcap;
	int linktype;
	struct audit *audit;
	struct ring *ring;
	bool status_line;
	struct audit_progress last; /* at the previous status line */
	int64_t last_status_us;
	uint64_t drops_warned;      /* drops already reported on stderr */
	int64_t drops_warned_us;
	FILE *real_stdout;          /* while stdout goes through ring_first_write */
};

/*
 * What the audit prints on stdout (one line per finding, as it is raised)
 * goes through this writer, which first hands the ring's buffered packets to
 * the kernel: a finding is never on screen before the packets that prove it
 * are in the evidence capture, so a kill -9 right after it cannot lose them.
 */
static ssize_t ring_first_write(void *cookie, const char *buf, size_t n)
{
	struct live *l = cookie;
	if (l->ring)
		ring_flush(l->ring);
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(STDOUT_FILENO, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static void stdout_through_ring(struct live *l)
{
	fflush(stdout);
	FILE *f = fopencookie(l, "w", (cookie_io_functions_t){.write = ring_first_write});
	if (!f)
		return; /* stdout stays as it was: findings may then precede their packets */
	setvbuf(f, NULL, _IOLBF, 0);
	l->real_stdout = stdout;
	stdout = f;
}

static void stdout_restore(struct live *l)
{
	if (!l->real_stdout)
		return;
	fclose(stdout);
	stdout = l->real_stdout;
	l->real_stdout = NULL;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct live *l = (struct live *)user;
	struct capture_record rec = {
		.ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec,
		.caplen = h->caplen,
		.wirelen = h->len,
		.linktype = l->linktype,
		.data = bytes,
	};
	if (l->ring)
		ring_packet(l->ring, &rec);
	audit_packet(l->audit, &rec);
}

/*
 * The consent moment is written into the evidence capture itself, as a UDP
 * datagram on loopback addresses carrying PA_CONSENT_MARKER, so that
 * `privaudit audit DIR/capture/` later sees the same moment.
 */
static void mark_consent(struct live *l, int64_t ts)
{
	char text[96];
	char when[40];
	int n = snprintf(text, sizeof text, "%s %s", PA_CONSENT_MARKER, pa_time_str(ts, when, sizeof when));
	uint8_t pkt[28 + 96];
	size_t total = 28 + (size_t)n;
	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(total >> 8);
	pkt[3] = (uint8_t)total;
	pkt[8] = 64;
	pkt[9] = 17; /* UDP */
	uint8_t lo[4] = {127, 0, 0, 1};
	memcpy(pkt + 12, lo, 4);
	memcpy(pkt + 16, lo, 4);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	pkt[10] = (uint8_t)(~sum >> 8);
	pkt[11] = (uint8_t)~sum;
	pkt[21] = 9; /* discard port, both ends */
	pkt[23] = 9;
	pkt[24] = (uint8_t)((8 + n) >> 8);
	pkt[25] = (uint8_t)(8 + n);
	memcpy(pkt + 28, text, (size_t)n);
	struct capture_record rec = {.ts_us = ts, .caplen = (uint32_t)total, .wirelen = (uint32_t)total,
				     .linktype = PA_LINKTYPE_RAW, .data = pkt};
	if (l->ring)
		ring_packet(l->ring, &rec);
	audit_packet(l->audit, &rec);
	fprintf(stdout, "consent marked at %s\n", when);
	fflush(stdout);
}

static void capture_loss(struct live *l, struct capture_loss *loss)
{
	memset(loss, 0, sizeof *loss);
	struct pcap_stat st;
	if (pcap_stats(l->pcap, &st) == 0) {
		loss->known = true;
		loss->received = st.ps_recv;
		loss->kernel_drops = st.ps_drop;
		loss->interface_drops = st.ps_ifdrop;
	}
	if (l->ring) {
		const struct ring_stats *rs = ring_stats(l->ring);
		loss->evidence_lost = rs->packets_lost;
		ring_loss_text(rs, loss->evidence_error, sizeof loss->evidence_error);
	}
}

/*
 * Drops are never only in the status line (which --quiet and a pipe hide):
 * the first one, and every further increase at most every 10 s, is said on
 * stderr at once.
 */
static void warn_drops(struct live *l, const struct capture_loss *loss, int64_t now)
{
	uint64_t drops = loss->kernel_drops + loss->interface_drops;
	if (!loss->known || drops <= l->drops_warned || now - l->drops_warned_us < 10000000)
		return;
	fprintf(stderr, "%sprivaudit: WARNING: %llu packets dropped so far (kernel %llu, interface %llu); "
		"the audit is incomplete (try a larger --buffer-mb or a narrower --bpf)\n",
		l->status_line ? "\r\033[K" : "", (unsigned long long)drops,
		(unsigned long long)loss->kernel_drops, (unsigned long long)loss->interface_drops);
	l->drops_warned = drops;
	l->drops_warned_us = now;
}

static void print_status(struct live *l, int64_t now, const struct capture_loss *loss)
{
	struct audit_progress p;
	audit_progress(l->audit, &p);
	double secs = l->last_status_us ? (double)(now - l->last_status_us) / 1e6 : 1.0;
	if (secs <= 0)
		secs = 1.0;
	char evidence[48] = "";
	if (loss->evidence_lost)
		snprintf(evidence, sizeof evidence, "  EVIDENCE LOST %llu", (unsigned long long)loss->evidence_lost);
	fprintf(stderr, "\r\033[K%8.0f pkt/s %8.2f Mbit/s  flows %llu  drops kernel %llu if %llu%s  observations %llu  findings %llu%s",
		(double)(p.packets - l->last.packets) / secs,
		(double)(p.bytes - l->last.bytes) * 8 / secs / 1e6, (unsigned long long)p.active_flows,
		(unsigned long long)loss->kernel_drops, (unsigned long long)loss->interface_drops, evidence,
		(unsigned long long)p.observations, (unsigned long long)p.findings,
		p.consent_at_us ? "  consent given" : "  no consent yet (c+Enter)");
	fflush(stderr);
	l->last = p;
	l->last_status_us = now;
}

static bool open_pcap(struct live *l, const struct live_options *lo, struct pa_error *err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	l->pcap = pcap_create(lo->interface, ebuf);
	if (!l->pcap) {
		pa_error_set(err, "%s: %s", lo->interface, ebuf);
		return false;
	}
	pcap_set_snaplen(l->pcap, lo->snaplen);
	pcap_set_promisc(l->pcap, lo->promisc);
	/*
	 * Not immediate mode: with it libpcap falls back to TPACKET_V2, whose
	 * ring has one fixed slot per packet, sized for the largest frame, and
	 * wakes the process for every packet. TPACKET_V3 packs packets into
	 * blocks (about twice as many packets per buffer on app traffic) and
	 * hands a block over when it is full or BLOCK_TIMEOUT_MS after its
	 * first packet, which bounds how late a finding can be. With a 4 MB
	 * buffer the highest mirror rate without drops went from 100 to 300
	 * Mbit/s (tools/bench-live, docs/benchmarks.md).
	 */
	pcap_set_timeout(l->pcap, BLOCK_TIMEOUT_MS);
	/* pcap_set_buffer_size takes an int: 2047 MB is the most it can say. */
	int buffer_mb = lo->buffer_mb > 2047 ? 2047 : lo->buffer_mb;
	pcap_set_buffer_size(l->pcap, buffer_mb * 1024 * 1024);
	int rc = pcap_activate(l->pcap);
	if (rc < 0) {
		pa_error_set(err, "%s: %s", lo->interface, pcap_geterr(l->pcap));
		return false;
	}
	if (rc > 0)
		fprintf(stderr, "privaudit: %s: warning: %s\n", lo->interface, pcap_geterr(l->pcap));
	if (lo->bpf) {
		struct bpf_program prog;
		if (pcap_compile(l->pcap, &prog, lo->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
		    pcap_setfilter(l->pcap, &prog) != 0) {
			pa_error_set(err, "--bpf '%s': %s", lo->bpf, pcap_geterr(l->pcap));
			return false;
		}
		pcap_freecode(&prog);
	}
	if (pcap_setnonblock(l->pcap, 1, ebuf) != 0) {
		pa_error_set(err, "%s: %s", lo->interface, ebuf);
		return false;
	}
	l->linktype = pcap_datalink(l->pcap);
	return true;
}

/*
 * After the interface is open, the process needs no privilege but writing
 * its own output folder: hand that folder to the unprivileged user, then
 * become that user for good.
 */
static bool drop_privileges(const char *user, const char *out_dir, const char *staging,
			    struct pa_error *err)
{
	if (geteuid() != 0)
		return true;
	const char *name = user ? user : "nobody";
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		pa_error_set(err, "--user %s: no such user", name);
		return false;
	}
	if (out_dir) {
		char capture_dir[4096];
		snprintf(capture_dir, sizeof capture_dir, "%s/capture", out_dir);
		/* DIR and the staging folder too: the finished bundle moves
		 * from one into the other. */
		const char *dirs[] = {out_dir, staging, capture_dir};
		for (size_t i = 0; i < 3; i++)
			if (chown(dirs[i], pw->pw_uid, pw->pw_gid) != 0) {
				pa_error_set(err, "%s: cannot hand over to %s: %s", dirs[i], name, strerror(errno));
				return false;
			}
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		pa_error_set(err, "cannot become user %s: %s", name, strerror(errno));
		return false;
	}
	if (setuid(0) == 0) { /* must be impossible now */
		pa_error_set(err, "privileges were not dropped");
		return false;
	}
	return true;
}

static void read_terminal(void)
{
	char line[64];
	if (!fgets(line, sizeof line, stdin))
		return;
	if (line[0] == 'c' || line[0] == 'C')
		consent_requested = 1;
}

/*
 * The evidence of each finding is cut from the ring files, whose packets are
 * numbered as the audit numbered them only when the ring holds every packet
 * from the first: after a loss or a deleted file the numbers no longer line
 * up, and wrong packets must never pass for evidence, so then none is cut
 * (the report shows the missing evidence and the ring's loss).
 */
static void add_evidence_inputs(struct live *l, const struct ring_stats *rs, const char *out_dir)
{
	if (rs->packets_lost || rs->files_deleted) {
		fprintf(stderr, "privaudit: the evidence capture is not complete; no per-finding evidence is cut from it\n");
		return;
	}
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s/capture", out_dir);
	for (unsigned seq = 1; seq <= rs->files_opened; seq++) {
		ring_file_path(dir, seq, path, sizeof path);
		audit_add_evidence_input(l->audit, path);
	}
}

int live_run(const struct live_options *lo, struct audit_config *cfg)
{
	struct pa_error err = {{0}};
	struct live l;
	memset(&l, 0, sizeof l);
	if (!lo->interface) {
		fprintf(stderr, "privaudit live: -i IFACE is required\n");
		return PA_EXIT_USAGE;
	}
	cfg->live = true;
	cfg->capture_interface = lo->interface;
	/*
	 * A finished TCP connection (FIN both ways, or RST) lingers in the flow
	 * table for late packets, and what is held back for it (stream bytes
	 * after the last match, a value that might still grow) is judged when it
	 * ends. Offline that costs nothing; live, the default 5 s would show such
	 * findings seconds after their packet. Half a second still catches the
	 * last ACK; audit_tick runs every TICK_US to end flows on time.
	 */
	if (!cfg->flow.tcp_closed_us)
		cfg->flow.tcp_closed_us = LIVE_TCP_CLOSED_US;
	if (!open_pcap(&l, lo, &err)) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		if (l.pcap)
			pcap_close(l.pcap);
		return PA_EXIT_USAGE;
	}
	l.audit = audit_new(cfg, &err);
	if (!l.audit) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		pcap_close(l.pcap);
		return PA_EXIT_USAGE;
	}
	if (cfg->out_dir) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/capture", cfg->out_dir);
		struct ring_config rc = {.dir = dir, .max_bytes = (uint64_t)(lo->ring_mb * 1e6),
					 .max_age_us = (int64_t)(lo->ring_seconds * 1e6),
					 .max_files = lo->ring_files};
		l.ring = ring_open(&rc, &err);
		if (!l.ring) {
			fprintf(stderr, "privaudit: %s\n", err.msg);
			audit_free(l.audit);
			pcap_close(l.pcap);
			return PA_EXIT_USAGE;
		}
	}
	if (!drop_privileges(lo->user, cfg->out_dir, audit_output_dir(l.audit), &err)) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		ring_close(l.ring, NULL);
		audit_free(l.audit);
		pcap_close(l.pcap);
		return PA_EXIT_USAGE;
	}
	install_signals();
	if (l.ring)
		stdout_through_ring(&l);
	bool tty = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
	l.status_line = !cfg->quiet && isatty(STDERR_FILENO);
	if (!cfg->quiet)
		fprintf(stderr, "privaudit: capturing on %s (link type %s)%s\n", lo->interface,
			pcap_datalink_val_to_name(l.linktype) ? pcap_datalink_val_to_name(l.linktype) : "?",
			tty ? "; c + Enter marks consent, Ctrl-C stops" : "");

	struct pollfd fds[2] = {{.fd = pcap_get_selectable_fd(l.pcap), .events = POLLIN},
				{.fd = STDIN_FILENO, .events = POLLIN}};
	int nfds = tty ? 2 : 1;
	int64_t next_tick = now_us() + TICK_US, next_status = now_us() + 1000000;
	while (!stop_requested) {
		int rc = poll(fds, (nfds_t)nfds, TICK_US / 1000);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc > 0 && (fds[0].revents & POLLIN)) {
			int n = pcap_dispatch(l.pcap, -1, on_packet, (u_char *)&l);
			if (n < 0) {
				fprintf(stderr, "\nprivaudit: %s: %s\n", lo->interface, pcap_geterr(l.pcap));
				break;
			}
			/* The batch is in the kernel's hands before the loop sleeps. */
			if (l.ring)
				ring_flush(l.ring);
		}
		if (nfds == 2 && rc > 0 && (fds[1].revents & POLLIN))
			read_terminal();
		if (consent_requested) {
			consent_requested = 0;
			mark_consent(&l, now_us());
			if (l.ring)
				ring_flush(l.ring);
		}
		if (rotate_requested) {
			rotate_requested = 0;
			if (l.ring)
				ring_rotate(l.ring);
		}
		int64_t now = now_us();
		if (now >= next_tick) {
			audit_tick(l.audit, now);
			next_tick = now + TICK_US;
		}
		if (now >= next_status) {
			if (l.ring)
				ring_flush(l.ring); /* a manifest the disk refused is retried */
			struct capture_loss loss;
			capture_loss(&l, &loss);
			warn_drops(&l, &loss, now);
			if (l.status_line)
				print_status(&l, now, &loss);
			next_status = now + 1000000;
		}
	}
	if (l.status_line)
		fputc('\n', stderr);

	/* Drain what the kernel still holds, then account for losses. */
	pcap_dispatch(l.pcap, -1, on_packet, (u_char *)&l);
	struct capture_loss loss;
	capture_loss(&l, &loss);
	if (l.ring) {
		struct ring_stats final;
		ring_close(l.ring, &final); /* closing the last file may fail too */
		l.ring = NULL;
		loss.evidence_lost = final.packets_lost;
		ring_loss_text(&final, loss.evidence_error, sizeof loss.evidence_error);
		add_evidence_inputs(&l, &final, cfg->out_dir);
	}
	stdout_restore(&l);
	warn_drops(&l, &loss, now_us() + 10000000);
	audit_set_capture_loss(l.audit, &loss);
	int rc = audit_finish(l.audit, cfg->quiet ? NULL : stdout);
	audit_free(l.audit);
	pcap_close(l.pcap);
	return rc;
}
