/*
 * rule_report.c — what the rules mean (ids, words, legal references), the
 * verdict on each promise at the end of a run, and the JSON of findings.jsonl
 * and of the policy engine's part of report.json.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/rule_internal.h"
#include "flow/community_id.h"
#include "geo/jurisdiction.h"
#include "util/atomic_file.h"
#include "util/format_version.h"

static const struct rule_info rules[RULE_COUNT] = {
	[RULE_RESIDENCY] = {
		"residency", "Data leaving mainland China", "个人信息出境",
		"Personal data observed going to a jurisdiction the policy does not allow (only CN is "
		"inside mainland China; HK, MO and TW are outside): conclusive. Indicative when the "
		"handshake RTT makes the GeoIP country physically implausible, and for an upload above "
		"the threshold to such a jurisdiction whose content could not be read (unverified "
		"transfer abroad).",
		"观察到个人信息被发送至隐私政策不允许的司法辖区（仅 CN 属于中国大陆境内，香港、澳门、台湾均属境外）：结论性。"
		"当握手往返时延表明 GeoIP 所给国家在物理上不可信时，以及向此类辖区上传超过阈值且内容无法读取的数据时"
		"（未经核实的出境传输）：指示性。",
		"PIPL art. 38, 39 (legal basis, notice of the overseas recipient and separate consent "
		"for export); 数据出境安全评估办法 (2022); 促进和规范数据跨境流动规定 (2024)"},
	[RULE_ENCRYPTION] = {
		"encryption", "Personal data in cleartext", "明文传输个人信息",
		"Personal data seen in a cleartext protocol (HTTP, DNS, raw TCP/UDP) while the policy "
		"promises encryption in transit: conclusive.",
		"在隐私政策承诺加密传输的情况下，个人信息出现在明文协议（HTTP、DNS、裸 TCP/UDP）中：结论性。",
		"PIPL art. 51 (encryption and other security measures); GB/T 35273-2020 6.3 "
		"(transmission and storage of personal information); the policy's own promise"},
	[RULE_UNDECLARED_RECIPIENT] = {
		"undeclared-recipient", "Undeclared recipient", "未声明的第三方接收方",
		"A third party the policy does not declare (catalogued, or only mentioned in the text) "
		"receiving personal data: conclusive. Personal data to a host nobody names, or a "
		"catalogued undeclared third party contacted without personal data seen: indicative.",
		"隐私政策未声明的第三方（目录中收录的，或仅在正文中提及的）收到个人信息：结论性。"
		"个人信息发往无人认领的主机，或与目录中未声明的第三方通信但未见个人信息：指示性。",
		"PIPL art. 23 (notice of the recipient and separate consent); App违法违规收集使用个人信息"
		"行为认定方法 二.1 (embedded third-party code not disclosed), 五 (data given to third "
		"parties through embedded code without consent); GB/T 41391-2022 6.6 (the app answers "
		"for its SDKs); TC260 SDK guide (信安秘字[2020]85号)"},
	[RULE_BEYOND_SCOPE] = {
		"beyond-scope", "Beyond declared scope", "超出声明范围",
		"A declared third party or processor receiving a data type outside the types the "
		"policy declares for it: conclusive.",
		"已声明的第三方或受托方收到隐私政策未为其声明的数据类型：结论性。",
		"PIPL art. 6 (purpose limitation, minimum necessary), art. 23; 认定方法 三.3 (beyond the "
		"scope the user authorised); 工信部信管函〔2020〕164号 (超范围收集)"},
	[RULE_UNDECLARED_TYPE] = {
		"undeclared-type", "Undeclared data type", "未声明的个人信息类型",
		"A data type the policy never mentions, or one the first party receives without "
		"declaring it: conclusive. Indicative for a device identifier the policy does not "
		"name while it speaks of unique device identifiers in general, and for types without "
		"a vocabulary word.",
		"出现隐私政策从未提及的数据类型，或第一方收到其未声明收集的数据类型：结论性。"
		"政策笼统提及唯一设备识别码但未点名的设备标识符，以及没有词汇对应的类型：指示性。",
		"PIPL art. 7, 17 (openness; notice of the types processed); 认定方法 二 (collection "
		"rules not stated), 三.3; GB/T 35273-2020 5.5 (privacy policy contents)"},
	[RULE_BEFORE_CONSENT] = {
		"before-consent", "Collected before consent", "同意前收集",
		"Personal data leaving the device before the consent moment (--consent-at, or a "
		"PRIVAUDIT-CONSENT marker datagram in the capture): conclusive.",
		"个人信息在同意时刻（--consent-at，或抓包中的 PRIVAUDIT-CONSENT 标记数据报）之前离开设备：结论性。",
		"PIPL art. 13, 14 (consent, informed and voluntary); 认定方法 三.1 (collecting before "
		"the user consents); GB/T 41391-2022 (no collection before consent); "
		"工信部信管函〔2020〕164号"},
	[RULE_EVASION] = {
		"evasion", "Conflicting retransmission", "重传内容不一致（规避检测）",
		"The same TCP stream bytes were sent twice with different content (a decoy before "
		"the real data, or a segment replaced while out of order): a receiver may have "
		"accepted either copy, and a monitor that keeps one sees other data than the "
		"server. Every copy was scanned; the finding names the packets. Indicative: it "
		"shows traffic shaped to defeat inspection, not what was in it.",
		"同一 TCP 流的字节以不同内容发送了两次（在真实数据前发送诱饵，或在乱序时替换分段）：接收方可能接受任一副本，"
		"只保留一份副本的监测设备看到的数据与服务器不同。所有副本均已扫描，发现列出相关数据包。指示性：它说明流量"
		"被刻意构造以规避检测，而不说明其中的内容。",
		"PIPL art. 51 (security measures), art. 7 (openness and transparency); "
		"GB/T 35273-2020 4 (openness, transparency)"},
};

const struct rule_info *finding_rule_info(enum finding_rule r)
{
	return r >= 0 && r < RULE_COUNT ? &rules[r] : NULL;
}

const char *finding_strength_name(enum finding_strength s)
{
	return s == FINDING_CONCLUSIVE ? "conclusive" : "indicative";
}

const char *recipient_kind_name(enum recipient_kind k)
{
	static const char *const names[] = {"first-party", "third-party", "processor",
					    "mentioned",   "catalogued",  "unknown"};
	return k >= 0 && k <= RECIPIENT_UNKNOWN ? names[k] : "unknown";
}

const char *promise_status_name(enum promise_status s)
{
	switch (s) {
	case PROMISE_KEPT:
		return "kept";
	case PROMISE_CONTRADICTED:
		return "contradicted";
	case PROMISE_NOT_VERIFIABLE:
		break;
	}
	return "not-verifiable";
}

/* ---- verdicts -------------------------------------------------------------- */

static void count_rule(const struct findings *fs, enum finding_rule rule, size_t *conclusive,
		       size_t *indicative)
{
	*conclusive = *indicative = 0;
	for (size_t i = 0; i < fs->raised_count; i++) {
		if (fs->raised[i]->rule != rule)
			continue;
		if (fs->raised[i]->strength == FINDING_CONCLUSIVE)
			(*conclusive)++;
		else
			(*indicative)++;
	}
}

/* Which unread bytes could hide a contradiction of a promise. */
enum coverage_scope {
	COVER_RESIDENCY,  /* unread bytes to jurisdictions not allowed, or unknown */
	COVER_ENCRYPTION, /* unread or opaque bytes of flows that are not TLS */
	COVER_RECIPIENTS, /* unread bytes to anybody not declared */
	COVER_SCOPE,      /* unread bytes to declared third parties and processors */
	COVER_ALL,        /* unread bytes anywhere (data types) */
	COVER_CONSENT,    /* unread bytes of flows that started before the consent moment */
};

static bool undeclared(enum recipient_kind k)
{
	return k == RECIPIENT_MENTIONED || k == RECIPIENT_CATALOGUED || k == RECIPIENT_UNKNOWN;
}

static bool in_scope(const struct findings *fs, const struct unread_flow *u, enum coverage_scope c)
{
	switch (c) {
	case COVER_RESIDENCY:
		return !u->jurisdiction_allowed;
	case COVER_ENCRYPTION:
		return u->cleartext;
	case COVER_RECIPIENTS:
		return undeclared(u->recipient_kind);
	case COVER_SCOPE:
		return u->recipient_kind == RECIPIENT_THIRD_PARTY ||
		       u->recipient_kind == RECIPIENT_PROCESSOR;
	case COVER_ALL:
		return true;
	case COVER_CONSENT:
		return !fs->consent_us || u->ts_first < fs->consent_us;
	}
	return true;
}

/* The unread bytes that could contradict a promise. Opaque bytes (scanned
 * raw, format unknown) count only against encryption: they were read, but
 * nothing shows the channel that carried them was encrypted. */
static void coverage_of(const struct findings *fs, enum coverage_scope c,
			struct promise_coverage *cov)
{
	memset(cov, 0, sizeof *cov);
	for (size_t i = 0; i < fs->unread_count; i++) {
		const struct unread_flow *u = &fs->unread[i];
		if (!in_scope(fs, u, c))
			continue;
		struct unread_bytes b = u->bytes;
		if (c == COVER_ENCRYPTION)
			b.encrypted = 0; /* ciphertext is what the promise asks for */
		else
			b.opaque = 0;
		if (!unread_bytes_total(&b))
			continue;
		cov->flows++;
		cov->bytes.encrypted += b.encrypted;
		cov->bytes.gap += b.gap;
		cov->bytes.truncated += b.truncated;
		cov->bytes.unparsed += b.unparsed;
		cov->bytes.conflict += b.conflict;
		cov->bytes.opaque += b.opaque;
	}
	cov->complete = !cov->flows;
}

/* "1200 bytes in 3 flow(s): encrypted 1000, gaps 200" — only the causes
 * that occurred. */
static void describe_unread(const struct promise_coverage *cov, char *buf, size_t len)
{
	const struct unread_bytes *b = &cov->bytes;
	const struct {
		const char *what;
		uint64_t n;
	} parts[] = {{"encrypted", b->encrypted},
		     {"not captured (gaps)", b->gap},
		     {"truncated or past a decoder bound", b->truncated},
		     {"unparsed", b->unparsed},
		     {"in retransmissions that conflict", b->conflict},
		     {"in a format no decoder reads, over a protocol not known as encrypted", b->opaque}};
	int n = snprintf(buf, len, "(");
	const char *sep = "";
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		if (!parts[i].n || n < 0 || (size_t)n >= len)
			continue;
		n += snprintf(buf + n, len - (size_t)n, "%s%s %" PRIu64, sep, parts[i].what, parts[i].n);
		sep = "; ";
	}
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ")");
}

/* Contradicted by a conclusive finding; not verifiable with only indicative
 * ones, with unread bytes that could hide a contradiction, when the device
 * was never seen or the input is incomplete; kept otherwise. */
static struct promise_verdict *verdict(struct findings *fs, const char *promise, const char *en,
				       const char *zh, enum finding_rule rule,
				       const struct policy_refs *clauses, enum coverage_scope scope,
				       const char *what_could_hide, const char *kept_why)
{
	if (fs->promise_count == FINDINGS_MAX_PROMISES)
		return NULL;
	struct promise_verdict *v = &fs->promises[fs->promise_count++];
	memset(v, 0, sizeof *v);
	v->promise = promise;
	v->title_en = en;
	v->title_zh = zh;
	v->clauses = clauses;
	count_rule(fs, rule, &v->conclusive, &v->indicative);
	coverage_of(fs, scope, &v->coverage);
	if (findings_device_unseen(fs) || fs->input_incomplete[0])
		v->coverage.complete = false;
	char unread[384];
	describe_unread(&v->coverage, unread, sizeof unread);
	if (v->conclusive) {
		v->status = PROMISE_CONTRADICTED;
		snprintf(v->why, sizeof v->why, "%zu conclusive finding(s)%s", v->conclusive,
			 v->indicative ? ", more indicative ones" : "");
	} else if (v->indicative) {
		v->status = PROMISE_NOT_VERIFIABLE;
		snprintf(v->why, sizeof v->why,
			 "%zu indicative finding(s): traffic suggests a contradiction the bytes do not prove",
			 v->indicative);
	} else if (findings_device_unseen(fs)) {
		v->status = PROMISE_NOT_VERIFIABLE;
		snprintf(v->why, sizeof v->why, "%s", fs->device_why);
	} else if (fs->input_incomplete[0]) {
		v->status = PROMISE_NOT_VERIFIABLE;
		snprintf(v->why, sizeof v->why,
			 "no contradiction in what could be read, but the input is incomplete: %.400s",
			 fs->input_incomplete);
	} else if (v->coverage.flows) {
		v->status = PROMISE_NOT_VERIFIABLE;
		snprintf(v->why, sizeof v->why,
			 "no contradiction in what could be read, but %" PRIu64 " bytes in %" PRIu64
			 " flow(s) %s could not be read %s",
			 unread_bytes_total(&v->coverage.bytes), v->coverage.flows, what_could_hide, unread);
	} else {
		v->status = PROMISE_KEPT;
		snprintf(v->why, sizeof v->why, "%s", kept_why);
	}
	return v;
}

/* The words every promise and the summary use when the device under audit
 * took no part in the traffic. */
static void device_words(struct findings *fs)
{
	const struct device_presence *d = &fs->device;
	if (!d->flows)
		snprintf(fs->device_why, sizeof fs->device_why,
			 "the device was never seen: the input holds no flow at all");
	else if (!d->device_flows)
		snprintf(fs->device_why, sizeof fs->device_why,
			 "the device was never seen: none of the %" PRIu64 " flow(s) has the device "
			 "as an endpoint (%s); wrong capture or wrong device profile",
			 d->flows, fs->cfg.device_from_profile ?
				 "no address or MAC of the device profile appears" :
				 "no endpoint has a private address; give --device");
	else
		snprintf(fs->device_why, sizeof fs->device_why,
			 "the device never sent a packet: %" PRIu64 " flow(s) have it as an endpoint, "
			 "but no byte came from it", d->device_flows);
}

void decide_promises(struct findings *fs)
{
	const struct policy *p = fs->p;
	fs->promise_count = 0;
	device_words(fs);
	if (!p)
		return;

	struct promise_verdict *res = verdict(
		fs, "residency", "Personal data stays in the allowed jurisdictions", "个人信息境内存储",
		RULE_RESIDENCY, &p->residency.clauses, COVER_RESIDENCY,
		"to jurisdictions the policy does not allow, or whose country is unknown,",
		"every personal datum seen went to an allowed jurisdiction, and nothing unreadable went elsewhere");
	if (res && res->status == PROMISE_KEPT && fs->un.unknown_jurisdiction_obs) {
		res->status = PROMISE_NOT_VERIFIABLE;
		res->coverage.complete = false;
		snprintf(res->why, sizeof res->why,
			 "%" PRIu64 " personal datum(s) went to destinations whose country is unknown",
			 fs->un.unknown_jurisdiction_obs);
	}
	if (p->encryption.promised)
		verdict(fs, "encryption", "Personal data encrypted in transit", "加密传输",
			RULE_ENCRYPTION, &p->encryption.clauses, COVER_ENCRYPTION,
			"outside TLS (a datum in them would have travelled in cleartext)",
			"no personal datum was seen in a cleartext protocol, and every byte outside "
			"TLS was read");
	verdict(fs, "recipients", "Only declared recipients", "仅向声明的第三方提供",
		RULE_UNDECLARED_RECIPIENT, &p->consent.clauses, COVER_RECIPIENTS,
		"to recipients the policy does not declare",
		"personal data went only to the first party and declared parties");
	verdict(fs, "scope", "Declared parties receive only their declared data", "第三方声明范围",
		RULE_BEYOND_SCOPE, NULL, COVER_SCOPE, "to declared third parties or processors",
		"declared parties received only their declared data types");
	verdict(fs, "data-types", "Only declared data types", "声明的个人信息类型",
		RULE_UNDECLARED_TYPE, p->data_type_count ? &p->data_types[0].clauses : NULL,
		COVER_ALL, "(any data type could hide in them)",
		"every data type seen is declared by the policy");
	struct promise_verdict *consent = verdict(
		fs, "consent", "No collection before consent", "同意前不收集", RULE_BEFORE_CONSENT,
		&p->consent.clauses, COVER_CONSENT, "that began before the consent moment",
		"no personal datum left the device before the consent moment");
	if (consent && !fs->consent_us && consent->status != PROMISE_CONTRADICTED) {
		consent->status = PROMISE_NOT_VERIFIABLE;
		consent->coverage.complete = false;
		snprintf(consent->why, sizeof consent->why,
			 "no consent moment: give --consent-at or send a PRIVAUDIT-CONSENT marker "
			 "(%" PRIu64 " personal datum(s) could not be placed before or after it)",
			 fs->un.pending_before_consent);
	}
	if (p->minimum_necessary.count && fs->promise_count < FINDINGS_MAX_PROMISES) {
		struct promise_verdict *v = &fs->promises[fs->promise_count++];
		memset(v, 0, sizeof *v);
		v->promise = "minimum-necessary";
		v->title_en = "Minimum necessary collection";
		v->title_zh = "最小必要";
		v->clauses = &p->minimum_necessary;
		v->status = PROMISE_NOT_VERIFIABLE;
		v->coverage.needs_judgement = true;
		const struct frequency_row *top = NULL;
		for (size_t i = 0; i < fs->freq_count; i++)
			if (!top || frequency_rate_per_min(&fs->freq[i]) > frequency_rate_per_min(top))
				top = &fs->freq[i];
		if (top)
			snprintf(v->why, sizeof v->why,
				 "no numeric limit exists; judge the frequency table (highest: %s to %s, "
				 "%" PRIu64 " times, %.1f per minute)",
				 top->data_type, top->recipient, top->count, frequency_rate_per_min(top));
		else
			snprintf(v->why, sizeof v->why, "no personal data seen; no numeric limit exists");
	}
}

bool findings_unverified(const struct findings *fs)
{
	if (!fs)
		return false;
	if (findings_device_unseen(fs) || fs->input_incomplete[0])
		return true;
	for (size_t i = 0; i < fs->promise_count; i++)
		if (fs->promises[i].status == PROMISE_NOT_VERIFIABLE &&
		    !fs->promises[i].coverage.needs_judgement)
			return true;
	/* Without a policy there is no promise: what was not read still
	 * leaves the audit unverified. */
	return !fs->p && fs->unread_count;
}

void findings_input_incomplete(struct findings *fs, const char *why)
{
	if (!fs || !why || !why[0])
		return;
	size_t n = strlen(fs->input_incomplete);
	snprintf(fs->input_incomplete + n, sizeof fs->input_incomplete - n, "%s%s",
		 n ? "; " : "", why);
}

size_t findings_promise_count(const struct findings *fs)
{
	return fs ? fs->promise_count : 0;
}

const struct promise_verdict *findings_promise_at(const struct findings *fs, size_t i)
{
	return fs && i < fs->promise_count ? &fs->promises[i] : NULL;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *time_json(int64_t ts_us)
{
	char buf[40];
	return ts_us ? json_string(pa_time_str(ts_us, buf, sizeof buf)) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

/* Rounded to 0.1 so reports compare across runs. */
static json_t *num_or_null(double v)
{
	return v < 0 ? json_null() : json_real((double)(int64_t)(v * 10 + 0.5) / 10);
}

static json_t *clause_json(const struct policy_clause *c)
{
	if (!c)
		return json_null();
	return json_pack("{s:s, s:o, s:s, s:o}", "id", c->id, "section", str_or_null(c->section),
			 "quote", c->quote, "gloss", str_or_null(c->gloss));
}

static json_t *refs_json(const struct policy_refs *r)
{
	json_t *a = json_array();
	for (size_t i = 0; r && i < r->count; i++)
		json_array_append_new(a, json_string(r->ids[i]));
	return a;
}

static json_t *plaus_json(const struct plaus_check *pc)
{
	json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o}", "verdict", plaus_verdict_name(pc->verdict),
			      "country", str_or_null(pc->country), "rtt_ms", num_or_null(pc->rtt_ms),
			      "distance_km", num_or_null(pc->distance_km), "bound_ms",
			      num_or_null(pc->bound_ms));
	json_object_set_new(o, "why", pc->verdict == PLAUS_NOT_CHECKED && pc->why ? json_string(pc->why)
										    : json_null());
	return o;
}

/* The Community ID of each flow a finding lists, in the order of "flows",
 * so the finding can be looked up in Zeek, Suricata or Arkime; null for a
 * flow without one (ICMP). */
static void add_community_ids(const struct findings *fs, const struct finding *f, json_t *o)
{
	json_t *ids = json_array();
	for (size_t i = 0; i < f->flow_count; i++) {
		const struct finding_flow *ff = findings_flow(fs, f->flows[i]);
		char cid[COMMUNITY_ID_LEN];
		if (ff && community_id_v1(&ff->src, ff->sport, &ff->dst, ff->dport, ff->proto, 0, cid))
			json_array_append_new(ids, json_string(cid));
		else
			json_array_append_new(ids, json_null());
	}
	json_object_set_new(o, "community_ids", ids);
}

/* A residency finding's destination: address, network, every GeoIP
 * database's answer and whether they disagreed (docs/findings.md). */
static json_t *finding_geo_json(const struct finding_geo *g)
{
	json_t *answers = json_array();
	for (size_t i = 0; i < g->answer_count; i++)
		json_array_append_new(answers, g->answers[i][0] ? json_string(g->answers[i]) : json_null());
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:b, s:o}", "country", g->country,
			 "source", g->source, "ip", g->ip, "asn",
			 g->asn ? json_integer(g->asn) : json_null(), "as_org",
			 g->as_org[0] ? json_string(g->as_org) : json_null(), "answers", answers,
			 "conflict", g->conflict, "conflict_settled_by_rtt", g->conflict_settled,
			 "plausibility", plaus_json(&g->plaus));
}

/* The catalogue entry that named the recipient, with what its attribution
 * rests on: the document, whether it was read, and the words a report
 * shows (kept here, in the data, so every renderer says the same). */
static json_t *catalogue_entry_json(const struct finding *f)
{
	const struct recipient *c = f->catalogue;
	if (!c)
		return json_null();
	const char *words =
		c->source_verified ?
			"The host's owner is named by a public document that was read: see source." :
		f->attribution_unverified ?
			"The host's owner comes from a catalogue entry whose source is not verified: "
			"findings that rest on who received the data are indicative." :
			"The catalogue entry's source is not verified; the policy's own domains name "
			"this recipient.";
	const char *words_zh =
		c->source_verified ? "接收方归属有已核实的公开文件为据（见来源）。" :
		f->attribution_unverified ?
			"接收方归属来自来源未经核实的目录条目：依赖接收方身份的发现仅为指示性。" :
			"目录条目来源未经核实；接收方由隐私政策自身列出的域名确定。";
	return json_pack("{s:s, s:s, s:o, s:b, s:s, s:s}", "id", c->id, "source", c->source,
			 "source_url", str_or_null(c->source_url), "source_verified",
			 c->source_verified, "attribution", words, "attribution_zh", words_zh);
}

json_t *finding_json(const struct finding *f)
{
	const struct rule_info *ri = finding_rule_info(f->rule);
	json_t *o = json_object();
	json_object_set_new(o, "format_version", json_string(PA_FORMAT_FINDINGS));
	json_object_set_new(o, "id", json_string(f->id));
	json_object_set_new(o, "rule", json_string(ri->id));
	json_object_set_new(o, "rule_title", json_string(ri->title_en));
	json_object_set_new(o, "strength", json_string(finding_strength_name(f->strength)));
	json_object_set_new(o, "clause", clause_json(f->clause));
	json_object_set_new(o, "clauses", refs_json(f->clauses));
	json_t *hosts = json_array();
	for (size_t i = 0; i < f->host_count; i++)
		json_array_append_new(hosts, json_string(f->hosts[i]));
	json_t *recipient = json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", f->recipient, "kind",
				      recipient_kind_name(f->recipient_kind), "name",
				      str_or_null(f->recipient_name), "organisation",
				      str_or_null(f->organisation), "hosts", hosts);
	json_object_set_new(recipient, "catalogue", catalogue_entry_json(f));
	json_object_set_new(o, "recipient", recipient);
	jurisdiction_json_set(o, f->jurisdiction);
	json_object_set_new(o, "data_type", str_or_null(f->data_type));
	json_object_set_new(o, "reason", json_string(f->reason));
	json_object_set_new(o, "geo", f->rule == RULE_RESIDENCY && f->geo.country[0]
					      ? finding_geo_json(&f->geo) : json_null());
	json_object_set_new(o, "count", json_integer((json_int_t)f->count));
	json_object_set_new(o, "first_seen", time_json(f->first_ts));
	json_object_set_new(o, "last_seen", time_json(f->last_ts));
	json_t *obs = json_array();
	for (size_t i = 0; i < f->obs_count; i++) {
		const struct finding_obs_ref *r = &f->obs[i];
		json_array_append_new(obs, json_pack("{s:I, s:I, s:o, s:s, s:s, s:s}", "flow_id",
						     (json_int_t)r->flow_id, "packet", (json_int_t)r->packet,
						     "ts", time_json(r->ts_us), "field", r->field,
						     "encoding", r->encoding, "protocol", r->protocol));
	}
	json_object_set_new(o, "observations", obs);
	uint64_t obs_total = f->obs_count ? f->count : 0;
	json_object_set_new(o, "observations_more",
			    json_integer((json_int_t)(obs_total > f->obs_count ? obs_total - f->obs_count : 0)));
	json_t *flows = json_array();
	for (size_t i = 0; i < f->flow_count; i++)
		json_array_append_new(flows, json_integer((json_int_t)f->flows[i]));
	json_object_set_new(o, "flows", flows);
	json_object_set_new(o, "flows_more", json_integer((json_int_t)f->flows_more));
	json_t *packets = json_array();
	for (size_t i = 0; i < f->packet_count; i++)
		json_array_append_new(packets, json_integer((json_int_t)f->packets[i]));
	json_object_set_new(o, "packets", packets);
	json_object_set_new(o, "packets_more", json_integer((json_int_t)f->packets_more));
	char ev[64];
	snprintf(ev, sizeof ev, "evidence/%s.pcapng", f->id);
	json_object_set_new(o, "evidence", json_string(ev));
	return o;
}

static json_t *policy_json(const struct policy *p)
{
	if (!p)
		return json_null();
	json_t *gaps = json_array();
	for (size_t i = 0; i < p->gap_count; i++)
		json_array_append_new(gaps, json_pack("{s:s, s:o}", "note", p->gaps[i].note, "clauses",
						      refs_json(&p->gaps[i].clauses)));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "path", str_or_null(p->path), "app",
			 str_or_null(p->app), "publisher", str_or_null(p->publisher), "version",
			 str_or_null(p->version), "source", str_or_null(p->source), "gaps", gaps);
}

static json_t *coverage_json(const struct promise_coverage *c);

static json_t *promise_json(const struct findings *fs, const struct promise_verdict *v)
{
	json_t *clauses = json_array();
	for (size_t i = 0; v->clauses && i < v->clauses->count; i++)
		json_array_append_new(clauses, clause_json(policy_clause(fs->p, v->clauses->ids[i])));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:o}", "promise", v->promise,
			 "title_en", v->title_en, "title_zh", v->title_zh, "status",
			 promise_status_name(v->status), "why", v->why, "clauses", clauses,
			 "conclusive", (json_int_t)v->conclusive, "indicative",
			 (json_int_t)v->indicative, "coverage", coverage_json(&v->coverage));
}

static json_t *unread_json(const struct unread_bytes *b)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "total",
			 (json_int_t)unread_bytes_total(b), "encrypted", (json_int_t)b->encrypted,
			 "gap", (json_int_t)b->gap, "truncated", (json_int_t)b->truncated, "unparsed",
			 (json_int_t)b->unparsed, "conflict", (json_int_t)b->conflict, "opaque",
			 (json_int_t)b->opaque);
}

static json_t *coverage_json(const struct promise_coverage *c)
{
	return json_pack("{s:b, s:b, s:I, s:o}", "complete", c->complete, "needs_judgement",
			 c->needs_judgement, "flows", (json_int_t)c->flows, "unread",
			 unread_json(&c->bytes));
}

/* The audit's own coverage: was the device there, was the input whole, and
 * which promises rest on bytes that were not read. */
static json_t *audit_coverage_json(const struct findings *fs)
{
	const struct device_presence *d = &fs->device;
	json_t *reasons = json_array();
	if (findings_device_unseen(fs))
		json_array_append_new(reasons, json_string(fs->device_why));
	if (fs->input_incomplete[0]) {
		char why[600];
		snprintf(why, sizeof why, "the input is incomplete: %s", fs->input_incomplete);
		json_array_append_new(reasons, json_string(why));
	}
	json_t *open = json_array();
	for (size_t i = 0; i < fs->promise_count; i++) {
		const struct promise_verdict *v = &fs->promises[i];
		if (v->status == PROMISE_NOT_VERIFIABLE && !v->coverage.needs_judgement) {
			json_array_append_new(open, json_string(v->promise));
			if (!findings_device_unseen(fs) && !fs->input_incomplete[0]) {
				char why[640];
				snprintf(why, sizeof why, "%s not verifiable: %s", v->promise, v->why);
				json_array_append_new(reasons, json_string(why));
			}
		}
	}
	bool complete = !findings_unverified(fs);
	if (!complete && !json_array_size(reasons)) { /* no policy: no promise names the bytes */
		char why[200];
		snprintf(why, sizeof why, "%zu flow(s) of the device with bytes that could not be read, "
			 "or in a format no decoder reads", fs->unread_count);
		json_array_append_new(reasons, json_string(why));
	}
	return json_pack("{s:b, s:o, s:o, s:{s:b, s:I, s:I, s:I, s:I}, s:o}", "complete", complete,
			 "reasons", reasons, "not_verifiable", open, "device", "seen",
			 !findings_device_unseen(fs), "flows", (json_int_t)d->flows, "device_flows",
			 (json_int_t)d->device_flows, "unknown_side_flows",
			 (json_int_t)d->unknown_side_flows, "device_packets",
			 (json_int_t)d->device_packets, "input_incomplete",
			 fs->input_incomplete[0] ? json_string(fs->input_incomplete) : json_null());
}

json_t *findings_report_json(const struct findings *fs)
{
	json_t *o = json_object();
	json_object_set_new(o, "policy", policy_json(fs->p));
	json_object_set_new(o, "consent_at", time_json(fs->consent_us));

	json_t *rl = json_array();
	for (int r = 0; r < RULE_COUNT; r++)
		json_array_append_new(rl, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", rules[r].id,
						    "title_en", rules[r].title_en, "title_zh",
						    rules[r].title_zh, "description", rules[r].description,
						    "description_zh", rules[r].description_zh,
						    "legal", rules[r].legal));
	json_object_set_new(o, "rules", rl);

	json_t *list = json_array();
	size_t conclusive = 0, indicative = 0;
	for (size_t i = 0; i < fs->raised_count; i++) {
		json_t *j = finding_json(fs->raised[i]);
		add_community_ids(fs, fs->raised[i], j);
		json_array_append_new(list, j);
		if (fs->raised[i]->strength == FINDING_CONCLUSIVE)
			conclusive++;
		else
			indicative++;
	}
	json_object_set_new(o, "findings", list);
	json_object_set_new(o, "finding_counts", json_pack("{s:I, s:I}", "conclusive",
							   (json_int_t)conclusive, "indicative",
							   (json_int_t)indicative));

	json_t *pr = json_array();
	for (size_t i = 0; i < fs->promise_count; i++)
		json_array_append_new(pr, promise_json(fs, &fs->promises[i]));
	json_object_set_new(o, "promises", pr);
	json_object_set_new(o, "coverage", audit_coverage_json(fs));

	json_t *fq = json_array();
	for (size_t i = 0; i < fs->freq_count; i++) {
		const struct frequency_row *r = &fs->freq[i];
		json_t *row = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o}",
					"recipient", r->recipient, "recipient_kind",
					recipient_kind_name(r->recipient_kind), "data_type",
					r->data_type, "count", (json_int_t)r->count, "flows",
					(json_int_t)r->flows, "first_seen", time_json(r->first_ts),
					"last_seen", time_json(r->last_ts), "rate_per_min",
					num_or_null(frequency_rate_per_min(r)));
		jurisdiction_json_set(row, r->jurisdiction);
		json_array_append_new(fq, row);
	}
	json_object_set_new(o, "frequency", fq);

	json_t *dst = json_array();
	for (size_t i = 0; i < fs->jur_count; i++) {
		const struct jurisdiction_row *j = &fs->jur[i];
		json_t *row = json_pack("{s:I, s:I, s:I, s:I, s:I}", "flows", (json_int_t)j->flows,
					"bytes_up", (json_int_t)j->bytes_up, "bytes_down",
					(json_int_t)j->bytes_down, "personal_flows",
					(json_int_t)j->personal_flows, "uninspected_up",
					(json_int_t)j->uninspected_up);
		jurisdiction_json_set(row, j->jurisdiction);
		json_array_append_new(dst, row);
	}
	json_object_set_new(o, "destinations", dst);

	const struct plausibility_summary *s = &fs->plaus;
	json_t *rows = json_array();
	for (size_t i = 0; i < s->row_count; i++) {
		json_t *row = plaus_json(&s->rows[i].check);
		json_object_set_new(row, "flow_id", json_integer((json_int_t)s->rows[i].flow_id));
		json_object_set_new(row, "hostname", str_or_null(s->rows[i].hostname));
		json_object_set_new(row, "dst_ip", json_string(s->rows[i].dst_ip));
		json_array_append_new(rows, row);
	}
	json_object_set_new(o, "plausibility",
			    json_pack("{s:o, s:f, s:I, s:I, s:I, s:I, s:I, s:o}", "lab",
				      s->lab_known ? json_pack("{s:f, s:f}", "lat", s->lab_lat, "lon", s->lab_lon)
						   : json_null(),
				      "fibre_km_per_ms", PLAUS_FIBRE_KM_PER_MS, "checked",
				      (json_int_t)s->checked, "consistent", (json_int_t)s->consistent,
				      "contradicted", (json_int_t)s->contradicted, "not_checked",
				      (json_int_t)s->not_checked, "overrides", (json_int_t)s->overrides,
				      "contradicted_flows", rows));

	const struct uninspected *u = &fs->un;
	json_object_set_new(o, "uninspected",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				      "flows", (json_int_t)u->flows,
				      "encrypted_up", (json_int_t)u->encrypted_up, "gap_up",
				      (json_int_t)u->gap_up, "truncated_up", (json_int_t)u->truncated_up,
				      "unparsed_up", (json_int_t)u->unparsed_up, "conflict_up",
				      (json_int_t)u->conflict_up, "opaque_flows", (json_int_t)u->opaque_flows,
				      "opaque_up", (json_int_t)u->opaque_up,
				      "unknown_jurisdiction_observations",
				      (json_int_t)u->unknown_jurisdiction_obs, "unmeasured_rtt_flows",
				      (json_int_t)u->unmeasured_rtt_flows, "pending_before_consent",
				      (json_int_t)u->pending_before_consent));
	return o;
}

bool findings_write_jsonl(const struct findings *fs, const char *dir, struct pa_error *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/findings.jsonl", dir);
	struct pa_atomic_file af;
	if (!pa_atomic_open(&af, path, 0, err))
		return false;
	bool ok = true;
	for (size_t i = 0; ok && i < fs->raised_count; i++) {
		json_t *j = finding_json(fs->raised[i]);
		add_community_ids(fs, fs->raised[i], j);
		ok = json_dumpf(j, af.f, JSON_COMPACT) == 0 && fputc('\n', af.f) != EOF;
		json_decref(j);
	}
	return pa_atomic_commit(&af, ok, err);
}
