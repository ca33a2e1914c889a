/*
 * evidence.c — one pcapng per finding with the packets that prove it.
 *
 * Two passes over the inputs: the first finds the context packets of each
 * cited flow (decoding only from the flow's first packet on, and only until
 * every flow has its packets); the second copies the chosen records into the
 * evidence files, a batch of findings at a time so the number of open files
 * stays bounded however many findings there are.
 */
#include "report/evidence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/pcapng_writer.h"
#include "decode/decode.h"
#include "util/atomic_file.h"

#define EVIDENCE_BATCH 32

struct flow_request {
	const struct finding_flow *flow;
	uint64_t found[EVIDENCE_CONTEXT_PACKETS];
	size_t found_count;
};

struct packet_set {
	uint64_t *numbers;
	size_t count, cap;
};

static void set_add(struct packet_set *s, uint64_t n)
{
	if (!n)
		return;
	if (s->count == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->numbers = pa_xrealloc(s->numbers, s->cap * sizeof *s->numbers);
	}
	s->numbers[s->count++] = n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort and drop duplicates. */
static void set_finish(struct packet_set *s)
{
	if (!s->count)
		return;
	qsort(s->numbers, s->count, sizeof *s->numbers, cmp_u64);
	size_t k = 1;
	for (size_t i = 1; i < s->count; i++)
		if (s->numbers[i] != s->numbers[k - 1])
			s->numbers[k++] = s->numbers[i];
	s->count = k;
}

static bool set_has(const struct packet_set *s, uint64_t n)
{
	return s->count && bsearch(&n, s->numbers, s->count, sizeof n, cmp_u64) != NULL;
}

static bool same_flow(const struct finding_flow *f, const struct pa_packet *p)
{
	if (p->l4_proto != f->proto)
		return false;
	if (pa_addr_equal(&p->src, &f->src) && pa_addr_equal(&p->dst, &f->dst))
		return p->sport == f->sport && p->dport == f->dport;
	if (pa_addr_equal(&p->src, &f->dst) && pa_addr_equal(&p->dst, &f->src))
		return p->sport == f->dport && p->dport == f->sport;
	return false;
}

/* Pass 1: the first packets of every requested flow. */
static void find_context(struct flow_request *req, size_t nreq, char *const *inputs, size_t n)
{
	if (!nreq)
		return;
	uint64_t start = UINT64_MAX;
	for (size_t i = 0; i < nreq; i++)
		if (req[i].flow->first_packet && req[i].flow->first_packet < start)
			start = req[i].flow->first_packet;
	struct decoder *dec = decoder_new(&(struct decode_config){0});
	uint64_t number = 0;
	size_t open_requests = nreq;
	for (size_t fi = 0; fi < n && open_requests; fi++) {
		struct pa_error err;
		struct capture_file *cf = capture_file_open(inputs[fi], &err);
		if (!cf)
			continue;
		struct capture_record rec;
		while (open_requests && capture_file_next(cf, &rec, &err) == CAPTURE_RECORD) {
			number++;
			if (number < start)
				continue;
			struct pa_packet pkt;
			enum decode_problem why;
			pkt.number = number;
			if (decode_packet(dec, &rec, &pkt, &why) != DECODE_OK)
				continue;
			for (size_t i = 0; i < nreq; i++) {
				struct flow_request *r = &req[i];
				if (r->found_count == EVIDENCE_CONTEXT_PACKETS || number < r->flow->first_packet ||
				    !same_flow(r->flow, &pkt))
					continue;
				r->found[r->found_count++] = number;
				if (r->found_count == EVIDENCE_CONTEXT_PACKETS)
					open_requests--;
			}
		}
		capture_file_close(cf);
	}
	decoder_free(dec);
}

static struct flow_request *request_for(struct flow_request *req, size_t nreq, uint64_t flow_id)
{
	for (size_t i = 0; i < nreq; i++)
		if (req[i].flow->id == flow_id)
			return &req[i];
	return NULL;
}

static bool make_dir(const char *path, struct pa_error *err)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		pa_error_set(err, "%s: cannot create folder: %s", path, strerror(errno));
		return false;
	}
	return true;
}

struct batch_file {
	struct pcapng_writer w;
	const struct packet_set *set;
	char path[4200], tmp[4200 + 8]; /* tmp: DIR/.NAME.tmp */
	bool open;
};

/* Pass 2 for findings [first, last): copy their packets. */
static bool write_batch(const struct findings *fs, const struct packet_set *sets, size_t first,
			size_t last, char *const *inputs, size_t n, const char *evdir,
			struct evidence_stats *st, struct pa_error *err)
{
	struct batch_file files[EVIDENCE_BATCH];
	uint64_t max_needed = 0;
	bool ok = true;
	size_t opened = 0;
	for (size_t i = first; i < last; i++) {
		struct batch_file *b = &files[i - first];
		memset(b, 0, sizeof *b);
		const struct finding *f = findings_at(fs, i);
		b->set = &sets[i];
		snprintf(b->path, sizeof b->path, "%s/%s.pcapng", evdir, f->id);
		pa_atomic_tmp_name(b->path, 0, b->tmp, sizeof b->tmp);
		if (!pcapng_writer_open(&b->w, b->tmp, "privaudit " PA_VERSION " evidence", err)) {
			ok = false;
			break;
		}
		b->open = true;
		opened++;
		if (b->set->count && b->set->numbers[b->set->count - 1] > max_needed)
			max_needed = b->set->numbers[b->set->count - 1];
	}
	uint64_t number = 0;
	for (size_t fi = 0; ok && fi < n && number < max_needed; fi++) {
		struct pa_error rerr;
		struct capture_file *cf = capture_file_open(inputs[fi], &rerr);
		if (!cf)
			continue;
		struct capture_record rec;
		while (number < max_needed && capture_file_next(cf, &rec, &rerr) == CAPTURE_RECORD) {
			number++;
			for (size_t k = 0; k < opened; k++) {
				if (!set_has(files[k].set, number))
					continue;
				if (pcapng_writer_packet(&files[k].w, &rec))
					st->packets++;
			}
		}
		capture_file_close(cf);
	}
	for (size_t k = 0; k < opened; k++) {
		struct batch_file *b = &files[k];
		uint64_t written = b->w.packets;
		if (!pcapng_writer_close(&b->w)) {
			if (ok)
				pa_error_set(err, "%s: write failed", b->tmp);
			ok = false;
		}
		ok = pa_atomic_rename(b->tmp, b->path, ok, err);
		if (!ok)
			continue;
		st->files++;
		if (written < b->set->count)
			st->missing += b->set->count - written;
	}
	return ok;
}

bool evidence_write(const struct findings *fs, char *const *inputs, size_t n, const char *dir,
		    struct evidence_stats *st, struct pa_error *err)
{
	memset(st, 0, sizeof *st);
	size_t count = findings_count(fs);
	char evdir[4096];
	snprintf(evdir, sizeof evdir, "%s/evidence", dir);
	if (!make_dir(evdir, err))
		return false;
	if (!count)
		return true;

	/* The flows findings cite, each once. */
	struct flow_request *req = NULL;
	size_t nreq = 0, capreq = 0;
	for (size_t i = 0; i < count; i++) {
		const struct finding *f = findings_at(fs, i);
		for (size_t k = 0; k < f->flow_count; k++) {
			const struct finding_flow *ff = findings_flow(fs, f->flows[k]);
			if (!ff || request_for(req, nreq, ff->id))
				continue;
			if (nreq == capreq) {
				capreq = capreq ? capreq * 2 : 32;
				req = pa_xrealloc(req, capreq * sizeof *req);
			}
			req[nreq++] = (struct flow_request){.flow = ff};
		}
	}
	find_context(req, nreq, inputs, n);

	struct packet_set *sets = pa_xcalloc(count, sizeof *sets);
	for (size_t i = 0; i < count; i++) {
		const struct finding *f = findings_at(fs, i);
		for (size_t k = 0; k < f->packet_count; k++)
			set_add(&sets[i], f->packets[k]);
		for (size_t k = 0; k < f->flow_count; k++) {
			const struct flow_request *r = request_for(req, nreq, f->flows[k]);
			for (size_t j = 0; r && j < r->found_count; j++)
				set_add(&sets[i], r->found[j]);
		}
		set_finish(&sets[i]);
	}
	bool ok = true;
	for (size_t first = 0; ok && first < count; first += EVIDENCE_BATCH) {
		size_t last = first + EVIDENCE_BATCH < count ? first + EVIDENCE_BATCH : count;
		ok = write_batch(fs, sets, first, last, inputs, n, evdir, st, err);
	}
	for (size_t i = 0; i < count; i++)
		free(sets[i].numbers);
	free(sets);
	free(req);
	return ok;
}
