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
#include <fcntl.h>
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
#include "tls/keylog.h"

enum {
	TICK_US = 200000,            /* idle flows ended, key logs re-read: 5 times a second */
	BLOCK_TIMEOUT_MS = 50,       /* the kernel hands over a partly filled block after this */
	LIVE_TCP_CLOSED_US = 500000, /* see live_run */
};

/* The evidence ring, relative to the output folder the process works in. */
#define LIVE_RING_DIR "capture"


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
	bool nanoseconds;           /* the handle gives ns timestamps */
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
	/* With nanosecond precision libpcap puts ns in tv_usec. */
	int64_t frac_ns = l->nanoseconds ? h->ts.tv_usec : (int64_t)h->ts.tv_usec * 1000;
	struct capture_record rec = {
		.ts_us = (int64_t)h->ts.tv_sec * 1000000 + frac_ns / 1000,
		.ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + frac_ns,
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
	/* Nanosecond timestamps where the kernel gives them: the evidence ring
	 * and the per-finding files keep them (if_tsresol 9). */
	pcap_set_tstamp_precision(l->pcap, PCAP_TSTAMP_PRECISION_NANO);
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
	l->nanoseconds = pcap_get_tstamp_precision(l->pcap) == PCAP_TSTAMP_PRECISION_NANO;
	return true;
}

/* The user the process becomes after opening the interface (root only). */
static struct passwd *target_user(const char *user, struct pa_error *err)
{
	const char *name = user ? user : "nobody";
	struct passwd *pw = getpwnam(name);
	if (!pw)
		pa_error_set(err, "--user %s: no such user", name);
	return pw;
}

/*
 * The output folder is made, handed to the unprivileged user and opened
 * while still root; the process then works inside it (fchdir on that
 * descriptor) and reaches every output by a relative name. Relative names
 * do not walk the folders above it, so a folder under /root (mode 0700) or
 * inside a private mktemp -d folder stays writable after the drop.
 */
static int open_out_dir(const char *out_dir, const struct passwd *pw, struct pa_error *err)
{
	if (!pa_mkdir_p(out_dir, err))
		return -1;
	int fd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		pa_error_set(err, "--out %s: cannot open: %s", out_dir, strerror(errno));
		return -1;
	}
	const char *subdirs[] = {".", "capture", "evidence"};
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		const char *sep = i ? "/" : "", *sub = i ? subdirs[i] : "";
		if (i && mkdirat(fd, subdirs[i], 0755) != 0 && errno != EEXIST) {
			pa_error_set(err, "--out %s%s%s: cannot create: %s", out_dir, sep, sub, strerror(errno));
			close(fd);
			return -1;
		}
		if (pw && fchownat(fd, subdirs[i], pw->pw_uid, pw->pw_gid, 0) != 0) {
			pa_error_set(err, "--out %s%s%s: cannot hand over to %s: %s", out_dir, sep, sub,
				     pw->pw_name, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * After the interface, the inputs and the output folder are open, the
 * process needs no privilege: it becomes the unprivileged user for good.
 */
static bool drop_privileges(const struct passwd *pw, struct pa_error *err)
{
	if (!pw)
		return true;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		pa_error_set(err, "cannot become user %s: %s", pw->pw_name, strerror(errno));
		return false;
	}
	if (setuid(0) == 0) { /* must be impossible now */
		pa_error_set(err, "privileges were not dropped");
		return false;
	}
	return true;
}

/*
 * What the run will need to write or read after the drop, tried now as the
 * user it runs as, so that a run that could not keep its results is refused
 * at start rather than losing them at the end.
 */
static bool check_can_keep(const char *out_dir, const struct keylog *kl, const char *user,
			   struct pa_error *err)
{
	const char *name = user ? user : "nobody";
	const char *subdirs[] = {".", "capture", "evidence"};
	for (size_t i = 0; out_dir && i < sizeof subdirs / sizeof subdirs[0]; i++) {
		char probe[64];
		snprintf(probe, sizeof probe, "%s/.privaudit-probe-%ld", subdirs[i], (long)getpid());
		int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			pa_error_set(err, "--out %s%s%s: %s cannot write there (%s); give a folder it can write",
				     out_dir, i ? "/" : "", i ? subdirs[i] : "",
				     geteuid() == 0 ? "root" : name, strerror(errno));
			return false;
		}
		close(fd);
		unlink(probe);
	}
	const char *missing;
	if (kl && !keylog_reachable(kl, &missing)) {
		pa_error_set(err, "--keylog %s: does not exist yet and its folder cannot be entered as %s; "
			     "create it first or put it in a folder that user can read", missing, name);
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
static void add_evidence_inputs(struct live *l, const struct ring_stats *rs)
{
	if (rs->packets_lost || rs->files_deleted) {
		fprintf(stderr, "privaudit: the evidence capture is not complete; no per-finding evidence is cut from it\n");
		return;
	}
	char path[4200];
	for (unsigned seq = 1; seq <= rs->files_opened; seq++) {
		ring_file_path(LIVE_RING_DIR, seq, path, sizeof path);
		audit_add_evidence_input(l->audit, path);
	}
}

/*
 * Everything that needs privilege, in order: the output folder made, handed
 * over and opened; the audit's inputs loaded and hashed for the manifest;
 * the process moved into the output folder; the evidence ring opened; then
 * the drop, and a check as the new user that every output can be written.
 */
static bool start_outputs(struct live *l, const struct live_options *lo, struct audit_config *cfg,
			  int *out_fd, struct pa_error *err)
{
	struct passwd *pw = NULL;
	if (geteuid() == 0 && !(pw = target_user(lo->user, err)))
		return false;
	if (cfg->out_dir && (*out_fd = open_out_dir(cfg->out_dir, pw, err)) < 0)
		return false;
	l->audit = audit_new(cfg, err);
	if (!l->audit)
		return false;
	if (cfg->out_dir) {
		if (!audit_hash_inputs(l->audit, err))
			return false;
		if (fchdir(*out_fd) != 0) {
			pa_error_set(err, "--out %s: cannot enter: %s", cfg->out_dir, strerror(errno));
			return false;
		}
		audit_set_out_dir(l->audit, ".");
		struct ring_config rc = {.dir = LIVE_RING_DIR, .max_bytes = (uint64_t)(lo->ring_mb * 1e6),
					 .max_age_us = (int64_t)(lo->ring_seconds * 1e6),
					 .max_files = lo->ring_files};
		l->ring = ring_open(&rc, err);
		if (!l->ring)
			return false;
	}
	if (!drop_privileges(pw, err))
		return false;
	return check_can_keep(cfg->out_dir, audit_keylog(l->audit), lo->user, err);
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
	int out_fd = -1;
	if (!start_outputs(&l, lo, cfg, &out_fd, &err)) {
		fprintf(stderr, "privaudit: %s\n", err.msg);
		if (l.ring)
			ring_close(l.ring, NULL);
		audit_free(l.audit);
		if (out_fd >= 0)
			close(out_fd);
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
		add_evidence_inputs(&l, &final);
	}
	stdout_restore(&l);
	warn_drops(&l, &loss, now_us() + 10000000);
	audit_set_capture_loss(l.audit, &loss);
	int rc = audit_finish(l.audit, cfg->quiet ? NULL : stdout);
	audit_free(l.audit);
	pcap_close(l.pcap);
	if (out_fd >= 0)
		close(out_fd);
	return rc;
}
