/*
 * report_html_svg.c — the two drawings of report.html, as inline SVG (no
 * script, no font, scales and prints): upload per destination jurisdiction,
 * and the timeline of personal data leaving the device per recipient.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_html_internal.h"

#define MAX_CHART_ROWS 24
#define MAX_TIMELINE_ROWS 40
#define MAX_SERIES 256
#define MAX_MARKS_PER_SERIES 256
#define MAX_DATA_TYPES 12
#define LATEST_TIME_US 253402300799999999LL /* 9999-12-31T23:59:59.999999Z */

const char *recipient_display_name(const json_t *report, const char *id)
{
	size_t i;
	const json_t *f;
	json_array_foreach(j_get(report, "findings"), i, f) {
		const char *fid = j_str(f, "recipient.id");
		if (id && fid && !strcmp(id, fid) && j_str(f, "recipient.name"))
			return j_str(f, "recipient.name");
	}
	return id;
}

/* Colours say how far from mainland China the data went; a class of the
 * jurisdiction, never the string itself, reaches the markup. */
static const char *jurisdiction_colour(const char *j)
{
	if (!j || !strcmp(j, "unknown"))
		return "#7a5ea8";
	if (!strcmp(j, "CN"))
		return "#2e6f9e";
	if (!strcmp(j, "HK") || !strcmp(j, "MO") || !strcmp(j, "TW"))
		return "#d98c1f";
	if (!strcmp(j, "private"))
		return "#98a2b3";
	return "#c0392b"; /* foreign:XX */
}

static const char *jurisdiction_words(const char *j)
{
	static const char *const words[][2] = {
		{"CN", "\xe4\xb8\xad\xe5\x9b\xbd\xe5\xa4\xa7\xe9\x99\x86 mainland"}, /* 中国大陆 */
		{"HK", "\xe9\xa6\x99\xe6\xb8\xaf"},                                 /* 香港 */
		{"MO", "\xe6\xbe\xb3\xe9\x97\xa8"},                                 /* 澳门 */
		{"TW", "\xe5\x8f\xb0\xe6\xb9\xbe"},                                 /* 台湾 */
		{"private", "\xe5\x86\x85\xe7\xbd\x91"},                            /* 内网 */
		{"unknown", "\xe6\x9c\xaa\xe7\x9f\xa5"},                            /* 未知 */
	};
	for (size_t i = 0; j && i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(j, words[i][0]))
			return words[i][1];
	return j && !strncmp(j, "foreign:", 8) ? "\xe5\xa2\x83\xe5\xa4\x96 abroad" : ""; /* 境外 */
}

/* ---- destinations ------------------------------------------------------------ */

struct dest_row {
	char jurisdiction[32]; /* the one word: CN, foreign:SG (j_jurisdiction) */
	uint64_t flows, up, down, personal, unread;
};

static int by_upload(const void *a, const void *b)
{
	const struct dest_row *x = a, *y = b;
	if (x->up != y->up)
		return x->up < y->up ? 1 : -1;
	return strcmp(x->jurisdiction, y->jurisdiction);
}

/* The policy engine's rows, else the summary's map (a run without a policy
 * engine part still has upload per jurisdiction). */
static size_t destination_rows(const json_t *report, struct dest_row *rows, size_t max)
{
	size_t n = 0, i;
	const json_t *d;
	char word[32];
	json_array_foreach(j_get(report, "destinations"), i, d) {
		const char *j = j_jurisdiction(d, word, sizeof word);
		if (n == max || !j)
			continue;
		rows[n] = (struct dest_row){.flows = j_u64(d, "flows"), .up = j_u64(d, "bytes_up"),
					    .down = j_u64(d, "bytes_down"),
					    .personal = j_u64(d, "personal_flows"),
					    .unread = j_u64(d, "uninspected_up")};
		snprintf(rows[n++].jurisdiction, sizeof rows->jurisdiction, "%s", j);
	}
	/* Without the policy engine's part: summary.jurisdictions, an array of
	 * rows (a map keyed by the word before report.json format 1.0). */
	const json_t *summary = j_get(report, "summary.jurisdictions");
	json_array_foreach(n ? NULL : summary, i, d) {
		const char *j = j_jurisdiction(d, word, sizeof word);
		if (n == max || !j)
			continue;
		rows[n] = (struct dest_row){.flows = j_u64(d, "flows"), .up = j_u64(d, "bytes_up"),
					    .down = j_u64(d, "bytes_down")};
		snprintf(rows[n++].jurisdiction, sizeof rows->jurisdiction, "%s", j);
	}
	if (!n && json_is_object(summary)) {
		size_t nk;
		const char **keys = j_sorted_keys(summary, &nk);
		for (size_t k = 0; k < nk && n < max; k++) {
			const json_t *v = json_object_get(summary, keys[k]);
			rows[n] = (struct dest_row){.flows = j_u64(v, "flows"), .up = j_u64(v, "bytes_up"),
						    .down = j_u64(v, "bytes_down")};
			snprintf(rows[n++].jurisdiction, sizeof rows->jurisdiction, "%s", keys[k]);
		}
		free(keys);
	}
	qsort(rows, n, sizeof *rows, by_upload);
	return n;
}

void html_destinations_chart(struct html *h, const json_t *report)
{
	struct dest_row rows[MAX_CHART_ROWS];
	size_t n = destination_rows(report, rows, MAX_CHART_ROWS);
	if (!n) {
		h_raw(h, "<p class=\"muted\">No flow reached a destination.</p>\n");
		return;
	}
	const double left = 170, bar_w = 380, row_h = 34, top = 12;
	const int width = 800, height = (int)(top + row_h * (double)n + 40);
	uint64_t max_up = 1;
	for (size_t i = 0; i < n; i++)
		if (rows[i].up > max_up)
			max_up = rows[i].up;
	h_fmt(h, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"%d\" height=\"%d\" "
	      "viewBox=\"0 0 %d %d\" font-size=\"13\">\n", width, height, width, height);
	h_raw(h, "<title>Upload by destination jurisdiction</title>\n"
		 "<defs><pattern id=\"unread\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
		 "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f2f4f7\"/>"
		 "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#475467\" stroke-width=\"2.2\"/>"
		 "</pattern></defs>\n");
	/* One buffer per formatted argument: the order in which a call's
	 * arguments are evaluated is unspecified (gcc and clang differ). */
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	for (size_t i = 0; i < n; i++) {
		const struct dest_row *r = &rows[i];
		double y = top + row_h * (double)i;
		double w = bar_w * (double)r->up / (double)max_up;
		uint64_t unread = r->unread > r->up ? r->up : r->unread;
		double wu = r->up ? w * (double)unread / (double)r->up : 0;
		if (w > 0 && w < 2)
			w = 2; /* a flow that sent anything stays visible */
		h_fmt(h, "<g><title>");
		h_text(h, r->jurisdiction);
		h_fmt(h, ": %s uploaded (%s could not be read), %s downloaded, %s flow(s), %s with personal "
		      "data</title>\n", pa_bytes_str(r->up, b1, sizeof b1), pa_bytes_str(unread, b2, sizeof b2),
		      pa_bytes_str(r->down, b3, sizeof b3), fmt_count(r->flows, b4, sizeof b4),
		      fmt_count(r->personal, b5, sizeof b5));
		h_fmt(h, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-weight=\"600\" fill=\"%s\">",
		      left - 10, y + 15, jurisdiction_colour(r->jurisdiction));
		h_text_trunc(h, r->jurisdiction, 18);
		h_fmt(h, "</text><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10.5\" "
		      "fill=\"#5d6678\">%s</text>\n", left - 10, y + 28, jurisdiction_words(r->jurisdiction));
		h_fmt(h, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" rx=\"2\" fill=\"#f2f4f7\"/>",
		      left, y + 4, bar_w);
		h_fmt(h, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" rx=\"2\" fill=\"%s\"/>",
		      left, y + 4, w - wu, jurisdiction_colour(r->jurisdiction));
		if (wu > 0)
			h_fmt(h, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" fill=\"url(#unread)\" "
			      "stroke=\"%s\" stroke-width=\"1\"/>", left + w - wu, y + 4, wu,
			      jurisdiction_colour(r->jurisdiction));
		h_fmt(h, "\n<text x=\"%.0f\" y=\"%.1f\" font-weight=\"600\">%s</text>"
		      "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" fill=\"#5d6678\">%s flow(s), %s with "
		      "personal data</text></g>\n", left + bar_w + 10, y + 13, pa_bytes_str(r->up, b1, sizeof b1),
		      left + bar_w + 10, y + 27, fmt_count(r->flows, b2, sizeof b2),
		      fmt_count(r->personal, b3, sizeof b3));
	}
	double ly = top + row_h * (double)n + 14;
	h_fmt(h, "<g font-size=\"11\" fill=\"#5d6678\"><rect x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"10\" "
	      "fill=\"#2e6f9e\"/><text x=\"%.0f\" y=\"%.0f\">read (inspected)</text>"
	      "<rect x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"10\" fill=\"url(#unread)\" stroke=\"#475467\"/>"
	      "<text x=\"%.0f\" y=\"%.0f\">could not be read (encrypted, gaps, truncated)</text></g>\n",
	      left, ly, left + 20, ly + 9, left + 140, ly, left + 160, ly + 9);
	h_raw(h, "</svg><figcaption>\xe6\x8c\x89\xe8\xbe\x96\xe5\x8c\xba\xe7\x9a\x84\xe4\xb8\x8a\xe8\xa1\x8c"
		 "\xe6\xb5\x81\xe9\x87\x8f Upload (IP bytes from the device) per destination jurisdiction; "
		 "only CN is inside mainland China. Blue: mainland; amber: HK, MO, TW; red: abroad; "
		 "purple: unknown.</figcaption></figure>\n"); /* 按辖区的上行流量 */
}

/* ---- timeline ---------------------------------------------------------------- */

struct series {
	const char *recipient, *data_type, *jurisdiction;
	int type_index;
	int row, lane;                   /* lane: its place among the row's data types */
	int64_t *times;
	size_t count;
	uint64_t total;
};

struct timeline {
	struct series s[MAX_SERIES];
	size_t n;
	const char *types[MAX_DATA_TYPES];
	size_t type_count;
	const char *rows[MAX_TIMELINE_ROWS];
	const char *row_names[MAX_TIMELINE_ROWS];
	const char *row_jurisdiction[MAX_TIMELINE_ROWS][3]; /* the first three seen */
	char jurisdiction_words[MAX_SERIES][32]; /* each series' (j_jurisdiction) */
	int lanes[MAX_TIMELINE_ROWS];
	double row_y[MAX_TIMELINE_ROWS + 1], row_h[MAX_TIMELINE_ROWS];
	size_t row_count, rows_dropped;
	int64_t t0, t1;
};

static const char *const palette[MAX_DATA_TYPES] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
	"#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939", "#7f7f7f",
};

static void add_time(struct series *s, int64_t t)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->times[i] == t)
			return;
	if (s->count < MAX_MARKS_PER_SERIES)
		s->times[s->count++] = t;
}

/* The moments of one recipient × data type: the frequency row's sample when
 * the document has one, else the observations its findings cite, plus the
 * first and last moment. */
static void series_times(struct series *s, const json_t *row, const json_t *report)
{
	int64_t t;
	size_t i;
	const json_t *v;
	json_array_foreach(j_get(row, "times"), i, v) {
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= LATEST_TIME_US) /* µs; beyond it spans overflow */
			add_time(s, json_integer_value(v));
		else if (parse_iso_time(json_string_value(v), &t))
			add_time(s, t);
	}
	if (!j_len(row, "times")) {
		const json_t *f;
		json_array_foreach(j_get(report, "findings"), i, f) {
			const char *rid = j_str(f, "recipient.id"), *dt = j_str(f, "data_type");
			if (!rid || !dt || strcmp(rid, s->recipient) || strcmp(dt, s->data_type))
				continue;
			size_t k;
			const json_t *o;
			json_array_foreach(j_get(f, "observations"), k, o)
				if (parse_iso_time(j_str(o, "ts"), &t))
					add_time(s, t);
		}
	}
	if (parse_iso_time(j_str(row, "first_seen"), &t))
		add_time(s, t);
	if (parse_iso_time(j_str(row, "last_seen"), &t))
		add_time(s, t);
}

static int type_index(struct timeline *tl, const char *type)
{
	for (size_t i = 0; i < tl->type_count; i++)
		if (!strcmp(tl->types[i], type))
			return (int)i;
	if (tl->type_count == MAX_DATA_TYPES)
		return MAX_DATA_TYPES - 1; /* the last colour stands for the rest */
	tl->types[tl->type_count] = type;
	return (int)tl->type_count++;
}

static int row_index(struct timeline *tl, const char *recipient, const char *jurisdiction)
{
	size_t r = 0;
	while (r < tl->row_count && strcmp(tl->rows[r], recipient))
		r++;
	if (r == MAX_TIMELINE_ROWS)
		return -1;
	if (r == tl->row_count)
		tl->rows[tl->row_count++] = recipient;
	for (size_t k = 0; jurisdiction && k < 3; k++) {
		if (!tl->row_jurisdiction[r][k]) {
			tl->row_jurisdiction[r][k] = jurisdiction;
			break;
		}
		if (!strcmp(tl->row_jurisdiction[r][k], jurisdiction))
			break;
	}
	return (int)r;
}

static void timeline_collect(struct timeline *tl, const json_t *report, int64_t *storage)
{
	size_t i;
	const json_t *row;
	tl->t0 = INT64_MAX;
	tl->t1 = INT64_MIN;
	json_array_foreach(j_get(report, "frequency"), i, row) {
		const char *rcp = j_str(row, "recipient"), *dt = j_str(row, "data_type");
		if (!rcp || !dt)
			continue;
		const char *jur = tl->n == MAX_SERIES ? NULL
				  : j_jurisdiction(row, tl->jurisdiction_words[tl->n], sizeof tl->jurisdiction_words[0]);
		int r = tl->n == MAX_SERIES ? -1 : row_index(tl, rcp, jur);
		if (r < 0) {
			tl->rows_dropped++;
			continue;
		}
		struct series *s = &tl->s[tl->n];
		*s = (struct series){rcp, dt, jur, type_index(tl, dt), r,
				     tl->lanes[r]++, storage + tl->n * MAX_MARKS_PER_SERIES, 0,
				     j_u64(row, "count")};
		series_times(s, row, report);
		for (size_t k = 0; k < s->count; k++) {
			if (s->times[k] < tl->t0)
				tl->t0 = s->times[k];
			if (s->times[k] > tl->t1)
				tl->t1 = s->times[k];
		}
		tl->n++;
	}
}

/* A tick step giving at most about eight ticks: 1, 2 or 5 × 10^k µs on a
 * relative axis; seconds, minutes and hours that a clock reader expects on
 * a clock axis. */
static int64_t tick_step(int64_t span, bool clock)
{
	static const int64_t clock_steps[] = {
		1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
	};
	if (clock) {
		for (size_t i = 0; i < sizeof clock_steps / sizeof clock_steps[0]; i++)
			if (span / (clock_steps[i] * 1000000) <= 8)
				return clock_steps[i] * 1000000;
		int64_t days = span / (86400LL * 1000000 * 8) + 1;
		return days * 86400LL * 1000000;
	}
	int64_t step = 1;
	for (;;) {
		static const int mult[] = {1, 2, 5};
		for (int i = 0; i < 3; i++)
			if (span / (step * mult[i]) <= 8)
				return step * mult[i];
		if (step > INT64_MAX / 100)
			return step;
		step *= 10;
	}
}

static void tick_label(char *buf, size_t len, int64_t t, int64_t t0, int64_t step, bool clock)
{
	if (clock) {
		time_t sec = (time_t)(t / 1000000);
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(buf, len, step < 60000000 ? "%H:%M:%S" : "%H:%M", &tm);
		return;
	}
	int decimals = 0;
	for (int64_t s = step; s < 1000000 && decimals < 6; s *= 10)
		decimals++;
	snprintf(buf, len, "+%.*f s", decimals, (double)(t - t0) / 1e6);
}

void html_timeline(struct html *h, const json_t *report)
{
	struct timeline *tl = pa_xcalloc(1, sizeof *tl);
	int64_t *storage = pa_xcalloc((size_t)MAX_SERIES * MAX_MARKS_PER_SERIES, sizeof *storage);
	timeline_collect(tl, report, storage);
	if (!tl->n || tl->t0 > tl->t1) {
		h_raw(h, "<p class=\"muted\">No personal data was seen leaving the device.</p>\n");
		goto out;
	}
	int64_t consent = 0;
	bool has_consent = parse_iso_time(j_str(report, "consent_at"), &consent);
	int64_t t0 = tl->t0, t1 = tl->t1;
	if (has_consent && consent < t0)
		t0 = consent;
	if (has_consent && consent > t1)
		t1 = consent;
	int64_t span = t1 - t0;
	if (span <= 0)
		span = 1000; /* a single moment: draw it in the middle of a millisecond */
	t0 -= span / 20;
	span += span / 10;

	/* A row grows with its data types so that each keeps a lane of its own. */
	const double left = 215, plot_w = 640, top = 34, lane_h = 8;
	tl->row_y[0] = top;
	for (size_t r = 0; r < tl->row_count; r++) {
		tl->row_h[r] = tl->lanes[r] * lane_h + 14 > 30 ? tl->lanes[r] * lane_h + 14 : 30;
		tl->row_y[r + 1] = tl->row_y[r] + tl->row_h[r];
	}
	double bottom = tl->row_y[tl->row_count];
	int legend_lines = 1 + (int)tl->type_count / 8;
	const int width = 880, height = (int)(bottom + 30 + 16 * legend_lines);
	h_fmt(h, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"%d\" height=\"%d\" "
	      "viewBox=\"0 0 %d %d\" font-size=\"12\">\n<title>Personal data leaving the device over "
	      "time, per recipient</title>\n", width, height, width, height);
	for (size_t r = 0; r < tl->row_count; r++) {
		double y = tl->row_y[r], row_h = tl->row_h[r];
		if (r % 2 == 0)
			h_fmt(h, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%.0f\" fill=\"#f7f8fa\"/>\n", y,
			      width, row_h);
		const char *name = tl->row_names[r] = recipient_display_name(report, tl->rows[r]);
		h_fmt(h, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\"><title>", left - 12, y + row_h / 2 + 4);
		h_text(h, name);
		h_raw(h, " (");
		h_text(h, tl->rows[r]);
		h_raw(h, ")</title>");
		h_text_trunc(h, name, 24);
		for (size_t k = 0; k < 3 && tl->row_jurisdiction[r][k]; k++) {
			h_fmt(h, " <tspan font-size=\"10\" fill=\"%s\">",
			      jurisdiction_colour(tl->row_jurisdiction[r][k]));
			h_text_trunc(h, tl->row_jurisdiction[r][k], 12);
			h_raw(h, "</tspan>");
		}
		h_raw(h, "</text>\n");
	}
	/* time axis */
	bool clock = span >= 120000000;
	int64_t step = tick_step(span, clock);
	h_fmt(h, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#98a2b3\"/>\n", left, top - 4,
	      left + plot_w, top - 4);
	/* Relative ticks count from the first datum; clock ticks fall on round times. */
	int64_t origin = clock ? 0 : tl->t0;
	int64_t first_tick = origin + ((t0 - origin) / step + (t0 > origin)) * step;
	for (int64_t t = first_tick; t <= t0 + span; t += step) {
		double x = left + plot_w * (double)(t - t0) / (double)span;
		char label[32];
		tick_label(label, sizeof label, t, tl->t0, step, clock);
		h_fmt(h, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e7ec\"/>"
		      "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"10.5\" fill=\"#5d6678\">%s"
		      "</text>\n", x, top - 4, x, bottom, x, top - 10, label);
	}
	if (has_consent) {
		double x = left + plot_w * (double)(consent - t0) / (double)span;
		h_fmt(h, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#067647\" "
		      "stroke-width=\"2\" stroke-dasharray=\"5 3\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
		      "fill=\"#067647\" text-anchor=\"middle\">\xe5\x90\x8c\xe6\x84\x8f consent</text>\n", x, top - 4,
		      x, bottom, x, bottom + 13);
	}
	/* marks: one lane per data type inside its recipient's row */
	for (size_t i = 0; i < tl->n; i++) {
		const struct series *s = &tl->s[i];
		int r = s->row;
		double y = tl->row_y[r] + tl->row_h[r] / 2 +
			   ((double)s->lane - (double)(tl->lanes[r] - 1) / 2) * lane_h;
		for (size_t k = 0; k < s->count; k++) {
			double x = left + plot_w * (double)(s->times[k] - t0) / (double)span;
			char when[40];
			h_fmt(h, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" fill-opacity=\"0.85\" "
			      "stroke=\"#fff\" stroke-width=\"0.8\"><title>", x, y, palette[s->type_index]);
			h_text(h, s->data_type);
			h_raw(h, " \xe2\x86\x92 ");
			h_text(h, tl->row_names[r]);
			h_fmt(h, " at %s</title></circle>\n", pa_time_str(s->times[k], when, sizeof when));
		}
	}
	/* legend */
	double lx = left, ly = bottom + 26;
	for (size_t i = 0; i < tl->type_count; i++) {
		size_t chars = utf8_chars(tl->types[i]);
		double w = 26 + 7.0 * (double)(chars > 16 ? 17 : chars);
		if (lx + w > width) {
			lx = left;
			ly += 16;
		}
		h_fmt(h, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" "
		      "font-size=\"11\">", lx + 5, ly - 4, palette[i], lx + 13, ly);
		h_text_trunc(h, tl->types[i], 16);
		h_raw(h, "</text>\n");
		lx += w;
	}
	h_raw(h, "</svg><figcaption>");
	if (clock)
		h_raw(h, "Time axis: UTC clock time. ");
	else {
		char start[40];
		h_fmt(h, "Time axis: seconds after the first datum, %s. ", pa_time_str(tl->t0, start, sizeof start));
	}
	h_raw(h, "One row per recipient, one lane and colour per data type; each mark is a datum leaving "
		 "the device (a sample when it left many times).");
	if (tl->rows_dropped)
		h_fmt(h, " Only the first %d recipients are drawn; %zu more recipient \xc3\x97 data type "
		      "row(s) are in the matrix and in report.json.", MAX_TIMELINE_ROWS, tl->rows_dropped);
	h_raw(h, "</figcaption></figure>\n");
out:
	free(storage);
	free(tl);
}
