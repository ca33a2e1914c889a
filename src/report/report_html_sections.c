/*
 * report_html_sections.c — the sections of report.html around the verdicts
 * and findings: inputs and versions; then destinations, timeline,
 * recipients × data types, what could not be inspected, GeoIP plausibility,
 * and the rules with their legal references.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_html_internal.h"
#include "util/sha256.h"

#define MAX_RECIPIENT_ROWS 30
#define MATRIX_MAX_ROWS 60
#define MATRIX_MAX_COLS 24

static void heading(struct html *h, const char *anchor, const char *zh, const char *en)
{
	h_fmt(h, "<section id=\"%s\">\n<h2>%s<span class=\"en\">%s</span></h2>\n", anchor, zh, en);
}

/* ---- inputs ------------------------------------------------------------------ */

/* The hash taken while the audit read the file (report.json has it since
 * the hasher thread); a report.json from before may lack it. */
static void input_hash(struct html *h, const json_t *in)
{
	const char *recorded = j_str(in, "sha256");
	if (recorded) {
		h_raw(h, "<span class=\"mono hash\">");
		h_text(h, recorded);
		h_raw(h, "</span>");
		if (json_is_true(j_get(in, "changed_during_audit")))
			h_raw(h, " <span class=\"muted small\">(the file changed during the audit: "
				 "this hash may not be of the bytes analysed)</span>");
		return;
	}
	/* Not in the document: hash the file if it is still where it was read. */
	char hex[PA_SHA256_HEX];
	uint64_t size;
	struct pa_error err;
	if (j_str(in, "path") && pa_sha256_file(j_str(in, "path"), hex, &size, &err)) {
		h_fmt(h, "<span class=\"mono hash\">%s</span>", hex);
		return;
	}
	h_raw(h, "<span class=\"muted\">not recorded (see manifest.json)</span>");
}

void html_section_inputs(struct html *h, const json_t *report)
{
	char b1[32], b2[32], b3[32];
	heading(h, "inputs", "1. \xe8\xbe\x93\xe5\x85\xa5\xe4\xb8\x8e\xe7\x89\x88\xe6\x9c\xac",
			"Inputs and versions");
	h_raw(h, "<table><thead><tr><th>\xe6\x96\x87\xe4\xbb\xb6 File</th><th>Format</th>"
		 "<th class=\"num\">Records</th><th class=\"num\">Packets no.</th><th>SHA-256</th>"
		 "<th>\xe9\x97\xae\xe9\xa2\x98 Problem</th></tr></thead><tbody>\n");
	size_t i;
	const json_t *in;
	json_array_foreach(j_get(report, "summary.inputs"), i, in) {
		h_raw(h, "<tr><td><code class=\"wrap\">");
		h_text_or_dash(h, j_str(in, "path"));
		h_raw(h, "</code></td><td>");
		h_text_or_dash(h, j_str(in, "format"));
		h_fmt(h, "</td><td class=\"num\">%s</td><td class=\"num\">%s\xe2\x80\x93%s</td><td>",
		      fmt_count(j_u64(in, "records"), b1, sizeof b1),
		      fmt_count(j_u64(in, "first_packet"), b2, sizeof b2),
		      fmt_count(j_u64(in, "last_packet"), b3, sizeof b3));
		input_hash(h, in);
		h_raw(h, "</td><td>");
		h_text_or_dash(h, j_str(in, "problem"));
		h_raw(h, "</td></tr>\n");
	}
	h_raw(h, "</tbody></table>\n");

	h_raw(h, "<table><thead><tr><th>GeoIP \xe6\x95\xb0\xe6\x8d\xae\xe5\xba\x93 database</th><th>Type</th>"
		 "<th>Schema</th><th>Built</th></tr></thead><tbody>\n");
	const json_t *db;
	json_array_foreach(j_get(report, "summary.geoip"), i, db) {
		h_raw(h, "<tr><td><code class=\"wrap\">");
		h_text_or_dash(h, j_str(db, "path"));
		h_raw(h, "</code></td><td>");
		h_text_or_dash(h, j_str(db, "database_type"));
		h_raw(h, "</td><td>");
		h_text_or_dash(h, j_str(db, "schema"));
		time_t built = (time_t)j_u64(db, "build_epoch");
		struct tm tm;
		char date[32] = "\xe2\x80\x94";
		if (built && gmtime_r(&built, &tm))
			strftime(date, sizeof date, "%Y-%m-%d", &tm);
		h_fmt(h, "</td><td>%s</td></tr>\n", date);
	}
	if (!j_len(report, "summary.geoip"))
		h_raw(h, "<tr><td colspan=\"4\"><span class=\"badge b-warn\">none</span> no GeoIP database: "
			 "public destinations are \xe2\x80\x9cunknown\xe2\x80\x9d</td></tr>\n");
	h_raw(h, "</tbody></table>\n<p class=\"small muted\">Every input, policy, signature, device and "
		 "GeoIP file, every evidence file and every output is hashed in <code>manifest.json</code>; "
		 "<code>privaudit verify DIR</code> re-hashes them.</p>\n</section>\n");
}

/* ---- destinations ------------------------------------------------------------ */

struct host_row {
	const char *host;
	const json_t *v;
	uint64_t up;
};

static int host_by_upload(const void *a, const void *b)
{
	const struct host_row *x = a, *y = b;
	if (x->up != y->up)
		return x->up < y->up ? 1 : -1;
	return strcmp(x->host, y->host);
}

/* nDPI names: "TLS", "TLS.Alibaba", "QUIC.Google", ... */
static bool encrypted_protocol(const json_t *protocols)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)protocols, k, v)
		if (!strncmp(k, "TLS", 3) || !strncmp(k, "QUIC", 4) || strstr(k, ".TLS"))
			return true;
	return false;
}

/* Hosts by upload from the summary; with only_encrypted, those reached over
 * TLS or QUIC. Returns how many rows exist (before the cut). */
static size_t host_rows(const json_t *report, bool only_encrypted, struct host_row **out)
{
	const json_t *map = j_get(report, "summary.recipients");
	size_t n = 0;
	struct host_row *rows = pa_xcalloc(json_object_size(map) + 1, sizeof *rows);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)map, k, v) {
		if (only_encrypted && !encrypted_protocol(j_get(v, "protocols")))
			continue;
		rows[n++] = (struct host_row){k, v, j_u64(v, "bytes_up")};
	}
	qsort(rows, n, sizeof *rows, host_by_upload);
	*out = rows;
	return n;
}

static void host_table(struct html *h, struct host_row *rows, size_t n)
{
	char b1[32], b2[32], b3[32];
	h_raw(h, "<table><thead><tr><th>\xe4\xb8\xbb\xe6\x9c\xba Host</th><th>\xe8\xbe\x96\xe5\x8c\xba "
		 "Jurisdiction</th><th class=\"num\">Flows</th><th class=\"num\">\xe4\xb8\x8a\xe8\xa1\x8c Up</th>"
		 "<th class=\"num\">\xe4\xb8\x8b\xe8\xa1\x8c Down</th><th>\xe5\x8d\x8f\xe8\xae\xae Protocols"
		 "</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n && i < MAX_RECIPIENT_ROWS; i++) {
		h_raw(h, "<tr><td><code class=\"wrap\">");
		h_text(h, rows[i].host);
		h_raw(h, "</code></td><td>");
		h_text_or_dash(h, j_jurisdiction(rows[i].v, (char[32]){0}, 32));
		h_fmt(h, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td>",
		      fmt_count(j_u64(rows[i].v, "flows"), b1, sizeof b1),
		      pa_bytes_str(rows[i].up, b2, sizeof b2),
		      pa_bytes_str(j_u64(rows[i].v, "bytes_down"), b3, sizeof b3));
		size_t np;
		const char **protos = j_sorted_keys(j_get(rows[i].v, "protocols"), &np);
		for (size_t k = 0; k < np; k++) {
			if (k)
				h_raw(h, ", ");
			h_text(h, protos[k]);
		}
		free(protos);
		h_raw(h, "</td></tr>\n");
	}
	if (n > MAX_RECIPIENT_ROWS)
		h_fmt(h, "<tr><td colspan=\"6\" class=\"muted\">and %zu more in report.json</td></tr>\n",
		      n - MAX_RECIPIENT_ROWS);
	h_raw(h, "</tbody></table>\n");
}

void html_section_destinations(struct html *h, const json_t *report)
{
	char b1[32], b2[32], b3[32], b4[32];
	heading(h, "destinations", "4. \xe7\x9b\xae\xe7\x9a\x84\xe5\x9c\xb0", "Destinations by jurisdiction");
	html_destinations_chart(h, report);
	if (j_len(report, "destinations")) {
		h_raw(h, "<table><thead><tr><th>\xe8\xbe\x96\xe5\x8c\xba Jurisdiction</th><th class=\"num\">Flows"
			 "</th><th class=\"num\">With personal data</th><th class=\"num\">\xe4\xb8\x8a\xe8\xa1\x8c Up"
			 "</th><th class=\"num\">\xe4\xb8\x8b\xe8\xa1\x8c Down</th><th class=\"num\">Unread up</th>"
			 "</tr></thead><tbody>\n");
		size_t i;
		const json_t *d;
		json_array_foreach(j_get(report, "destinations"), i, d) {
			h_raw(h, "<tr><td>");
			h_text_or_dash(h, j_jurisdiction(d, (char[32]){0}, 32));
			h_fmt(h, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
			      "<td class=\"num\">%s</td>", fmt_count(j_u64(d, "flows"), b1, sizeof b1),
			      fmt_count(j_u64(d, "personal_flows"), b2, sizeof b2),
			      pa_bytes_str(j_u64(d, "bytes_up"), b3, sizeof b3),
			      pa_bytes_str(j_u64(d, "bytes_down"), b4, sizeof b4));
			h_fmt(h, "<td class=\"num\">%s</td></tr>\n",
			      pa_bytes_str(j_u64(d, "uninspected_up"), b1, sizeof b1));
		}
		h_raw(h, "</tbody></table>\n");
	}
	struct host_row *rows;
	size_t n = host_rows(report, false, &rows);
	if (n) {
		h_raw(h, "<h3>\xe6\x8e\xa5\xe6\x94\xb6\xe6\x96\xb9\xe4\xb8\xbb\xe6\x9c\xba<span class=\"en\">"
			 "Hosts by upload</span></h3>\n"); /* 接收方主机 */
		host_table(h, rows, n);
	}
	free(rows);
	h_raw(h, "</section>\n");
}

void html_section_timeline(struct html *h, const json_t *report)
{
	heading(h, "timeline", "5. \xe6\x97\xb6\xe9\x97\xb4\xe7\xba\xbf", "Timeline of personal-data flows");
	html_timeline(h, report);
	h_raw(h, "</section>\n");
}

/* ---- recipients × data types ------------------------------------------------- */

static int index_of(const char **list, size_t *count, size_t max, const char *s)
{
	for (size_t i = 0; i < *count; i++)
		if (!strcmp(list[i], s))
			return (int)i;
	if (*count == max)
		return -1;
	list[*count] = s;
	return (int)(*count)++;
}

static const char *kind_words(const char *kind)
{
	static const char *const words[][2] = {
		{"first-party", "\xe7\xac\xac\xe4\xb8\x80\xe6\x96\xb9 first party"},
		{"third-party", "\xe5\xb7\xb2\xe5\xa3\xb0\xe6\x98\x8e\xe7\xac\xac\xe4\xb8\x89\xe6\x96\xb9 declared"},
		{"processor", "\xe5\x8f\x97\xe6\x89\x98\xe6\x96\xb9 processor"},
		{"mentioned", "\xe4\xbb\x85\xe6\x96\x87\xe4\xb8\xad\xe6\x8f\x90\xe5\x8f\x8a mentioned only"},
		{"catalogued", "\xe6\x9c\xaa\xe5\xa3\xb0\xe6\x98\x8e undeclared"},
		{"unknown", "\xe6\x9c\xaa\xe7\x9f\xa5 unknown"},
	};
	for (size_t i = 0; kind && i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(kind, words[i][0]))
			return words[i][1];
	return NULL;
}

static bool kind_is_declared(const char *kind)
{
	return kind && (!strcmp(kind, "first-party") || !strcmp(kind, "third-party") ||
			!strcmp(kind, "processor"));
}

/* The conclusive findings about one cell, as a list of ids (for its title). */
static size_t cell_findings(struct html *h, const json_t *report, const char *recipient,
			    const char *type, bool write)
{
	size_t n = 0, i;
	const json_t *f;
	json_array_foreach(j_get(report, "findings"), i, f) {
		const char *rid = j_str(f, "recipient.id"), *dt = j_str(f, "data_type");
		const char *strength = j_str(f, "strength");
		if (!rid || !dt || !strength || strcmp(rid, recipient) || strcmp(dt, type) ||
		    strcmp(strength, "conclusive"))
			continue;
		if (write) {
			h_raw(h, n ? ", " : "");
			h_text(h, j_str(f, "id"));
		}
		n++;
	}
	return n;
}

void html_section_matrix(struct html *h, const json_t *report)
{
	heading(h, "matrix", "6. \xe6\x8e\xa5\xe6\x94\xb6\xe6\x96\xb9 \xc3\x97 \xe6\x95\xb0\xe6\x8d\xae\xe7\xb1\xbb\xe5\x9e\x8b",
		"Recipients \xc3\x97 data types");
	const char *rows[MATRIX_MAX_ROWS], *cols[MATRIX_MAX_COLS];
	const char *kinds[MATRIX_MAX_ROWS] = {0};
	size_t nr = 0, nc = 0, dropped = 0;
	uint64_t counts[MATRIX_MAX_ROWS][MATRIX_MAX_COLS] = {{0}};
	uint64_t max = 0;
	size_t i;
	const json_t *f;
	json_array_foreach(j_get(report, "frequency"), i, f) {
		const char *r = j_str(f, "recipient"), *t = j_str(f, "data_type");
		if (!r || !t)
			continue;
		int ri = index_of(rows, &nr, MATRIX_MAX_ROWS, r);
		int ci = index_of(cols, &nc, MATRIX_MAX_COLS, t);
		if (ri < 0 || ci < 0) {
			dropped++;
			continue;
		}
		kinds[ri] = j_str(f, "recipient_kind");
		counts[ri][ci] += j_u64(f, "count");
		if (counts[ri][ci] > max)
			max = counts[ri][ci];
	}
	if (!nr) {
		h_raw(h, "<p class=\"muted\">No personal data was seen leaving the device.</p>\n</section>\n");
		return;
	}
	h_raw(h, "<p class=\"small muted\">How many times each data type went to each recipient. A red "
		 "frame marks a cell with a conclusive finding (the ids are in its tooltip).</p>\n"
		 "<div style=\"overflow-x:auto\"><table><thead><tr><th>\xe6\x8e\xa5\xe6\x94\xb6\xe6\x96\xb9 "
		 "Recipient</th>");
	for (size_t c = 0; c < nc; c++) {
		h_raw(h, "<th class=\"num\"><code>");
		h_text(h, cols[c]);
		h_raw(h, "</code></th>");
	}
	h_raw(h, "<th class=\"num\">\xe5\x90\x88\xe8\xae\xa1 Total</th></tr></thead><tbody>\n");
	uint64_t col_total[MATRIX_MAX_COLS] = {0}, total = 0;
	char b[32];
	for (size_t r = 0; r < nr; r++) {
		const char *words = kind_words(kinds[r]);
		h_raw(h, "<tr><th>");
		h_text(h, recipient_display_name(report, rows[r]));
		if (words)
			h_fmt(h, " <span class=\"badge %s\">%s</span>",
			      kind_is_declared(kinds[r]) ? "b-info" : "b-warn", words);
		h_raw(h, "</th>");
		uint64_t row_total = 0;
		for (size_t c = 0; c < nc; c++) {
			uint64_t v = counts[r][c];
			row_total += v;
			col_total[c] += v;
			if (!v) {
				h_raw(h, "<td class=\"cell muted\">\xc2\xb7</td>");
				continue;
			}
			double shade = 0.1 + 0.5 * log1p((double)v) / log1p((double)max);
			bool hit = cell_findings(h, report, rows[r], cols[c], false) > 0;
			h_fmt(h, "<td class=\"cell%s\" style=\"background:rgba(46,111,158,%.2f)\"", hit ? " hit" : "",
			      shade);
			if (hit) {
				h_raw(h, " title=\"");
				cell_findings(h, report, rows[r], cols[c], true);
				h_raw(h, "\"");
			}
			h_fmt(h, ">%s</td>", fmt_count(v, b, sizeof b));
		}
		total += row_total;
		h_fmt(h, "<td class=\"num\"><b>%s</b></td></tr>\n", fmt_count(row_total, b, sizeof b));
	}
	h_raw(h, "<tr><th>\xe5\x90\x88\xe8\xae\xa1 Total</th>");
	for (size_t c = 0; c < nc; c++)
		h_fmt(h, "<td class=\"num\"><b>%s</b></td>", fmt_count(col_total[c], b, sizeof b));
	h_fmt(h, "<td class=\"num\"><b>%s</b></td></tr>\n</tbody></table></div>\n", fmt_count(total, b, sizeof b));
	if (dropped)
		h_fmt(h, "<p class=\"small muted\">%zu more recipient \xc3\x97 data type row(s) are in "
		      "report.json (frequency).</p>\n", dropped);
	h_raw(h, "</section>\n");
}

/* ---- not inspected ----------------------------------------------------------- */

static void unread_row(struct html *h, const char *label, uint64_t v, bool bytes, const char *why)
{
	char b[32];
	h_fmt(h, "<tr><td>%s</td><td class=\"num\">%s</td><td class=\"small muted\">%s</td></tr>\n", label,
	      bytes ? pa_bytes_str(v, b, sizeof b) : fmt_count(v, b, sizeof b), why);
}

void html_section_uninspected(struct html *h, const json_t *report)
{
	char b1[32], b2[32];
	heading(h, "uninspected", "7. \xe6\x9c\xaa\xe8\x83\xbd\xe6\xa3\x80\xe6\x9f\xa5", "What could not be inspected");
	h_raw(h, "<p>Traffic that could not be read is <b>not</b> clean: it is unverified. "
		 "\xe6\x97\xa0\xe6\xb3\x95\xe8\xaf\xbb\xe5\x8f\x96\xe7\x9a\x84\xe6\xb5\x81\xe9\x87\x8f\xe4\xb8\x8d"
		 "\xe8\xa7\x86\xe4\xb8\xba\xe5\x90\x88\xe8\xa7\x84\xe3\x80\x82</p>\n"); /* 无法读取的流量不视为合规。 */
	const json_t *u = j_get(report, "uninspected");
	if (json_is_object(u)) {
		h_raw(h, "<table><thead><tr><th>\xe9\xa1\xb9\xe7\x9b\xae What</th><th class=\"num\">Amount</th>"
			 "<th>Meaning</th></tr></thead><tbody>\n");
		unread_row(h, "\xe6\x9c\xaa\xe8\xaf\xbb\xe6\xb5\x81 Flows with unread upload", j_u64(u, "flows"), false,
			   "flows with bytes from the device that no parser could read");
		unread_row(h, "\xe5\x8a\xa0\xe5\xaf\x86 Encrypted", j_u64(u, "encrypted_up"), true,
			   "TLS/QUIC or other encrypted payload without a key log that opens it");
		unread_row(h, "\xe7\xbc\xba\xe5\x8f\xa3 Gaps", j_u64(u, "gap_up"), true,
			   "TCP bytes that were never captured (missing segments)");
		unread_row(h, "\xe6\x88\xaa\xe6\x96\xad Truncated", j_u64(u, "truncated_up"), true,
			   "bytes cut by the snap length or past the per-flow inspection limit");
		unread_row(h, "\xe6\x9c\xaa\xe8\xa7\xa3\xe6\x9e\x90 Unparsed", j_u64(u, "unparsed_up"), true,
			   "bytes a protocol decoder gave up on (scanned raw, counted here)"); /* 未解析 */
		unread_row(h, "\xe5\x86\xb2\xe7\xaa\x81 Conflicting", j_u64(u, "conflict_up"), true,
			   "retransmitted or overlapping TCP bytes whose copies differ"); /* 冲突 */
		unread_row(h, "\xe4\xb8\x8d\xe9\x80\x8f\xe6\x98\x8e Opaque", j_u64(u, "opaque_up"), true,
			   "scanned raw in a format no decoder reads, over a protocol not known as encrypted: "
			   "it may be cleartext (only the encryption promise rests on it)"); /* 不透明 */
		unread_row(h, "\xe8\xbe\x96\xe5\x8c\xba\xe6\x9c\xaa\xe7\x9f\xa5 Unknown jurisdiction",
			   j_u64(u, "unknown_jurisdiction_observations"), false,
			   "personal data sent to addresses whose country no GeoIP database knows");
		unread_row(h, "\xe6\x97\xa0 RTT Unmeasured RTT", j_u64(u, "unmeasured_rtt_flows"), false,
			   "TCP flows without a complete handshake: GeoIP plausibility could not be checked");
		unread_row(h, "\xe5\x90\x8c\xe6\x84\x8f\xe5\xbe\x85\xe5\xae\x9a Consent pending",
			   j_u64(u, "pending_before_consent"), false,
			   "personal data that cannot be placed before or after consent: no consent moment known");
		h_raw(h, "</tbody></table>\n");
	} else {
		h_raw(h, "<p class=\"muted\">Not recorded in this report.</p>\n");
	}
	/* Per-flow detail, when the document lists the unread flows. */
	const json_t *list = j_get(report, "uninspected.flow_list");
	if (json_array_size(list)) {
		h_raw(h, "<table><thead><tr><th class=\"num\">Flow</th><th>Host</th><th>Jurisdiction</th>"
			 "<th class=\"num\">Unread up</th><th>Why</th></tr></thead><tbody>\n");
		size_t i;
		const json_t *fl;
		json_array_foreach(list, i, fl) {
			h_fmt(h, "<tr><td class=\"num\">%llu</td><td><code>", (unsigned long long)j_u64(fl, "flow_id"));
			h_text_or_dash(h, j_str(fl, "hostname") ? j_str(fl, "hostname") : j_str(fl, "dst_ip"));
			h_raw(h, "</code></td><td>");
			h_text_or_dash(h, j_jurisdiction(fl, (char[32]){0}, 32));
			h_fmt(h, "</td><td class=\"num\">%s</td><td>", pa_bytes_str(j_u64(fl, "bytes_up"), b1, sizeof b1));
			h_text_or_dash(h, j_str(fl, "reason"));
			h_raw(h, "</td></tr>\n");
		}
		h_raw(h, "</tbody></table>\n");
	}
	/* Which hosts the unread encrypted bytes went to (the summary does not
	 * say which of their flows a key log opened). */
	struct host_row *rows;
	size_t n = host_rows(report, true, &rows);
	if (n && j_u64(report, "uninspected.encrypted_up")) {
		h_raw(h, "<h3>\xe5\x8a\xa0\xe5\xaf\x86\xe6\xb5\x81\xe9\x87\x8f<span class=\"en\">Hosts reached over "
			 "TLS or QUIC</span></h3>\n<p class=\"small muted\">The unread encrypted bytes went "
			 "to these hosts; flows a key log opened are judged in the findings above.</p>\n");
		host_table(h, rows, n);
	} else if (n && json_is_object(u)) {
		h_fmt(h, "<p class=\"small\">No encrypted byte was left unread: the TLS/QUIC flows of %zu "
		      "host(s) were opened with a key log or carried no application data.</p>\n", n);
	}
	free(rows);
	/* Malformed input is counted, never silently passed. */
	const json_t *problems = j_get(report, "summary.decode_problems");
	uint64_t bad = 0, snapped = j_u64(report, "summary.packets.snapped");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)problems, k, v)
		bad += json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	if (bad || snapped) {
		h_fmt(h, "<p><b>\xe8\xa7\xa3\xe7\xa0\x81\xe9\x97\xae\xe9\xa2\x98 Decode problems</b>: %s packet(s) "
		      "could not be decoded; %s cut short by the snap length.</p>\n<ul class=\"small\">",
		      fmt_count(bad, b1, sizeof b1), fmt_count(snapped, b2, sizeof b2));
		size_t nk;
		const char **keys = j_sorted_keys(problems, &nk);
		for (size_t i = 0; i < nk; i++) {
			json_int_t count = json_integer_value(json_object_get(problems, keys[i]));
			if (count <= 0)
				continue;
			h_raw(h, "<li><code>");
			h_text(h, keys[i]);
			h_fmt(h, "</code>: %s</li>", fmt_count((uint64_t)count, b1, sizeof b1));
		}
		free(keys);
		h_raw(h, "</ul>\n");
	}
	h_raw(h, "</section>\n");
}

/* ---- plausibility ------------------------------------------------------------ */

void html_section_plausibility(struct html *h, const json_t *report)
{
	char b1[32], b2[32], b3[32], b4[32];
	heading(h, "plausibility", "8. \xe5\x9c\xb0\xe7\x90\x86\xe4\xbd\x8d\xe7\xbd\xae\xe5\x8f\xaf\xe4\xbf\xa1\xe5\xba\xa6",
		"GeoIP plausibility");
	const json_t *p = j_get(report, "plausibility");
	if (!json_is_object(p)) {
		h_raw(h, "<p class=\"muted\">Not recorded in this report.</p>\n</section>\n");
		return;
	}
	double speed = j_num(p, "fibre_km_per_ms", 200);
	if (!json_is_object(j_get(p, "lab"))) {
		h_raw(h, "<p class=\"muted\">The device profile gives no lab location, so no GeoIP country "
			 "was checked against the speed of light.</p>\n</section>\n");
		return;
	}
	h_fmt(h, "<p>A server cannot answer faster than light in fibre allows: the handshake RTT seen at "
	      "the lab (%.4f, %.4f) must be at least 2 \xc3\x97 distance / %.0f km/ms. A GeoIP country "
	      "that would need a shorter RTT is <b>physically implausible</b> (anycast, CDN, a wrong "
	      "database entry) and findings that rely on it are lowered to indicative.</p>\n",
	      j_num(p, "lab.lat", 0), j_num(p, "lab.lon", 0), speed);
	h_fmt(h, "<div class=\"cards\"><div class=\"card\"><div class=\"n\">%s</div><div class=\"l\">"
	      "\xe5\xb7\xb2\xe6\xa3\x80\xe6\x9f\xa5 Flows checked</div></div><div class=\"card good\"><div "
	      "class=\"n\">%s</div><div class=\"l\">\xe4\xb8\x80\xe8\x87\xb4 Consistent</div></div><div "
	      "class=\"card %s\"><div class=\"n\">%s</div><div class=\"l\">\xe7\x9f\x9b\xe7\x9b\xbe "
	      "Contradicted</div></div><div class=\"card\"><div class=\"n\">%s</div><div class=\"l\">"
	      "\xe6\x9c\xaa\xe6\xa3\x80\xe6\x9f\xa5 Not checked</div></div></div>\n",
	      fmt_count(j_u64(p, "checked"), b1, sizeof b1), fmt_count(j_u64(p, "consistent"), b2, sizeof b2),
	      j_u64(p, "contradicted") ? "warn" : "good", fmt_count(j_u64(p, "contradicted"), b3, sizeof b3),
	      fmt_count(j_u64(p, "not_checked"), b4, sizeof b4));
	if (j_u64(p, "overrides"))
		h_fmt(h, "<p class=\"small\">%s address range(s) from the CIDR override file replace GeoIP.</p>\n",
		      fmt_count(j_u64(p, "overrides"), b1, sizeof b1));
	const json_t *rows = j_get(p, "contradicted_flows");
	if (json_array_size(rows)) {
		h_raw(h, "<table><thead><tr><th class=\"num\">Flow</th><th>Host</th><th>Address</th><th>GeoIP "
			 "country</th><th class=\"num\">RTT</th><th class=\"num\">Distance</th><th class=\"num\">"
			 "Minimum RTT</th></tr></thead><tbody>\n");
		size_t i;
		const json_t *r;
		json_array_foreach(rows, i, r) {
			h_fmt(h, "<tr><td class=\"num\">%llu</td><td><code>", (unsigned long long)j_u64(r, "flow_id"));
			h_text_or_dash(h, j_str(r, "hostname"));
			h_raw(h, "</code></td><td><code>");
			h_text_or_dash(h, j_str(r, "dst_ip"));
			h_raw(h, "</code></td><td>");
			h_text_or_dash(h, j_str(r, "country"));
			h_fmt(h, "</td><td class=\"num\">%.1f ms</td><td class=\"num\">%.0f km</td>"
			      "<td class=\"num\">\xe2\x89\xa5 %.1f ms</td></tr>\n", j_num(r, "rtt_ms", 0),
			      j_num(r, "distance_km", 0), j_num(r, "bound_ms", 0));
		}
		h_raw(h, "</tbody></table>\n");
	}
	h_raw(h, "</section>\n");
}

/* ---- rules ------------------------------------------------------------------- */

void html_section_rules(struct html *h, const json_t *report)
{
	heading(h, "rules", "9. \xe8\xa7\x84\xe5\x88\x99\xe4\xb8\x8e\xe6\xb3\x95\xe5\xbe\x8b\xe4\xbe\x9d\xe6\x8d\xae",
		"Rules and legal references");
	h_raw(h, "<table><thead><tr><th style=\"width:17%\">\xe8\xa7\x84\xe5\x88\x99 Rule</th>"
		 "<th style=\"width:43%\">\xe4\xbd\x95\xe6\x97\xb6\xe8\xa7\xa6\xe5\x8f\x91 When it fires</th><th>\xe6\xb3\x95\xe5\xbe\x8b\xe4\xbe\x9d"
		 "\xe6\x8d\xae Legal reference</th></tr></thead><tbody>\n");
	size_t i;
	const json_t *r;
	json_array_foreach(j_get(report, "rules"), i, r) {
		h_raw(h, "<tr><td><b>");
		h_text(h, j_str(r, "title_zh"));
		h_raw(h, "</b><br>");
		h_text(h, j_str(r, "title_en"));
		h_raw(h, "<br><code class=\"small\">");
		h_text(h, j_str(r, "id"));
		h_raw(h, "</code></td><td class=\"small\">");
		if (j_str(r, "description_zh")) {
			h_raw(h, "<span lang=\"zh-CN\">");
			h_text(h, j_str(r, "description_zh"));
			h_raw(h, "</span><br><span class=\"muted\" lang=\"en\">");
			h_text(h, j_str(r, "description"));
			h_raw(h, "</span>");
		} else {
			h_text(h, j_str(r, "description"));
		}
		h_raw(h, "</td><td class=\"small\">");
		h_text(h, j_str(r, "legal"));
		h_raw(h, "</td></tr>\n");
	}
	h_raw(h, "</tbody></table>\n");
	const json_t *gaps = j_get(report, "policy.gaps");
	if (json_array_size(gaps)) {
		h_raw(h, "<h3>\xe6\x94\xbf\xe7\xad\x96\xe8\x87\xaa\xe8\xba\xab\xe7\x9a\x84\xe7\xbc\xba\xe5\x8f\xa3"
			 "<span class=\"en\">Gaps in the policy itself</span></h3>\n<ul class=\"small\">\n");
		const json_t *g;
		json_array_foreach(gaps, i, g) {
			h_raw(h, "<li>");
			h_text(h, j_str(g, "note"));
			size_t k;
			const json_t *c;
			json_array_foreach(j_get(g, "clauses"), k, c) {
				h_raw(h, k ? ", " : " <span class=\"muted\">(clauses ");
				h_text(h, json_string_value(c));
			}
			if (j_len(g, "clauses"))
				h_raw(h, ")</span>");
			h_raw(h, "</li>\n");
		}
		h_raw(h, "</ul>\n");
	}
	h_raw(h, "</section>\n");
}
