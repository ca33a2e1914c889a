/*
 * findings.c — the policy engine's state: who a flow's recipient is, the
 * rules applied to each observation and to each ended flow, deduplication,
 * and the consent moment. Verdicts and JSON live in rule_report.c.
 */
#include "policy/findings.h"

#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/rule_internal.h"

/* ---- life cycle ----------------------------------------------------------- */

struct findings *findings_new(const struct policy *p, const struct recipients *r,
			      const struct findings_config *cfg, struct pa_error *err)
{
	struct findings *fs = pa_xcalloc(1, sizeof *fs);
	fs->p = p;
	fs->r = r;
	if (cfg)
		fs->cfg = *cfg;
	if (!fs->cfg.upload_threshold)
		fs->cfg.upload_threshold = FINDINGS_DEFAULT_UPLOAD_THRESHOLD;
	fs->consent_us = fs->cfg.consent_at_us;
	if (fs->cfg.country_overrides) {
		struct pa_diag diag = {.out = stderr};
		fs->overrides = country_overrides_load(fs->cfg.country_overrides, &diag);
		if (!fs->overrides) {
			pa_error_set(err, "%s: %zu error(s) in the CIDR to country file",
				     fs->cfg.country_overrides, diag.errors);
			free(fs);
			return NULL;
		}
	}
	fs->plaus.lab_known = fs->cfg.lab_known;
	fs->plaus.lab_lat = fs->cfg.lab_lat;
	fs->plaus.lab_lon = fs->cfg.lab_lon;
	fs->plaus.overrides = country_overrides_count(fs->overrides);
	return fs;
}

void findings_free(struct findings *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->all_count; i++)
		free(fs->all[i]);
	free(fs->all);
	free(fs->raised);
	free(fs->freq);
	free(fs->jur);
	free(fs->flows);
	free(fs->unread);
	keymap_free(&fs->finding_keys);
	keymap_free(&fs->freq_keys);
	keymap_free(&fs->flow_keys);
	keymap_free(&fs->undeclared_with_data);
	country_overrides_free(fs->overrides);
	free(fs);
}

/* ---- recipients ----------------------------------------------------------- */

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

void resolve_recipient(const struct findings *fs, const char *hostname, const char *dst_ip,
		       struct recipient_view *out)
{
	memset(out, 0, sizeof *out);
	out->kind = RECIPIENT_UNKNOWN;
	/* An HTTP Host may carry a port: "a.com:8080" is the recipient a.com
	 * (the port stays in the flow record). */
	char bare[256];
	if (hostname)
		hostname = recipients_host_without_port(hostname, bare, sizeof bare);
	if (!hostname || !hostname[0]) {
		copy(out->id, sizeof out->id, dst_ip && dst_ip[0] ? dst_ip : "unknown");
		return;
	}
	const struct policy *p = fs->p;
	if (p && policy_is_first_party(p, hostname)) {
		out->kind = RECIPIENT_FIRST_PARTY;
		copy(out->id, sizeof out->id, "first-party");
		copy(out->name, sizeof out->name, p->app);
		copy(out->organisation, sizeof out->organisation, p->publisher);
		return;
	}
	const struct recipient *cat = fs->r ? recipients_match(fs->r, hostname) : NULL;
	const struct policy_party *party = cat ? policy_party_for_recipient(p, cat->id) : NULL;
	if (!party)
		party = policy_party_for_host(p, hostname);
	out->catalogue = cat;
	out->party = party;
	/* Who the host belongs to rests on the catalogue when the policy's own
	 * domains did not name it: as sure as the catalogue's source. */
	out->unverified = cat && !cat->source_verified &&
			  !(party && policy_party_for_host(p, hostname) == party);
	if (party) {
		out->kind = party->kind == POLICY_PARTY_THIRD_PARTY ? RECIPIENT_THIRD_PARTY :
			    party->kind == POLICY_PARTY_PROCESSOR   ? RECIPIENT_PROCESSOR :
								      RECIPIENT_MENTIONED;
		copy(out->id, sizeof out->id, party->id);
		copy(out->name, sizeof out->name, party->name);
		copy(out->organisation, sizeof out->organisation,
		     party->organisation ? party->organisation : cat ? cat->organisation : NULL);
		return;
	}
	if (cat) {
		out->kind = RECIPIENT_CATALOGUED;
		copy(out->id, sizeof out->id, cat->id);
		copy(out->name, sizeof out->name, cat->sdk);
		copy(out->organisation, sizeof out->organisation, cat->organisation);
		return;
	}
	copy(out->id, sizeof out->id, hostname);
}

/* ---- flows ---------------------------------------------------------------- */

static const struct pa_addr *remote_of(const struct flow *f)
{
	return f->device_side == DEVICE_SIDE_DST ? &f->src : &f->dst;
}

/* Country of the remote end: the user's override first, then GeoIP. */
static void flow_country(const struct findings *fs, const struct flow *f, const char *geo_country,
			 char country[3], char source[12])
{
	const char *o = country_overrides_lookup(fs->overrides, remote_of(f));
	if (o[0]) {
		copy(country, 3, o);
		copy(source, 12, "override");
	} else {
		copy(country, 3, geo_country);
		copy(source, 12, "geoip");
	}
}

/* The handshake RTT towards the server, measured only when the device opened
 * the connection (SYN from the device, SYN/ACK from the server). */
static double server_rtt_ms(const struct flow *f)
{
	if (f->proto != IPPROTO_TCP || f->device_side == DEVICE_SIDE_DST)
		return -1;
	return flow_rtt_server_ms(f);
}

struct finding_flow *flow_ctx(struct findings *fs, const struct flow *f, const char *geo_country)
{
	char key[24];
	snprintf(key, sizeof key, "%" PRIu64, f->id);
	size_t i = keymap_get(&fs->flow_keys, key);
	if (i != SIZE_MAX)
		return &fs->flows[i];
	if (fs->flow_count == fs->flow_cap) {
		fs->flow_cap = fs->flow_cap ? fs->flow_cap * 2 : 64;
		fs->flows = pa_xrealloc(fs->flows, fs->flow_cap * sizeof *fs->flows);
	}
	struct finding_flow *c = &fs->flows[fs->flow_count];
	memset(c, 0, sizeof *c);
	c->id = f->id;
	c->src = f->src;
	c->dst = f->dst;
	c->sport = f->sport;
	c->dport = f->dport;
	c->proto = f->proto;
	c->first_packet = f->first_packet;
	c->ts_first = f->ts_first;
	flow_country(fs, f, geo_country, c->country, c->country_source);
	c->geo = f->geo;
	c->rtt_ms = server_rtt_ms(f);
	plausibility_check(fs->cfg.lab_known, fs->cfg.lab_lat, fs->cfg.lab_lon, fs->cfg.lab_radius_km,
			   c->rtt_ms, c->country, &c->plaus);
	keymap_put(&fs->flow_keys, key, fs->flow_count);
	return &fs->flows[fs->flow_count++];
}

const struct finding_flow *findings_flow(const struct findings *fs, uint64_t flow_id)
{
	char key[24];
	snprintf(key, sizeof key, "%" PRIu64, flow_id);
	size_t i = keymap_get(&fs->flow_keys, key);
	return i == SIZE_MAX ? NULL : &fs->flows[i];
}

/* ---- findings: raise and accumulate --------------------------------------- */

static void raise_finding(struct findings *fs, struct finding *f)
{
	if (f->raised)
		return;
	f->raised = true;
	snprintf(f->id, sizeof f->id, "F%04zu", fs->raised_count + 1);
	if (fs->raised_count == fs->raised_cap) {
		fs->raised_cap = fs->raised_cap ? fs->raised_cap * 2 : 32;
		fs->raised = pa_xrealloc(fs->raised, fs->raised_cap * sizeof *fs->raised);
	}
	fs->raised[fs->raised_count++] = f;
	if (fs->cfg.on_finding)
		fs->cfg.on_finding(fs->cfg.ctx, f);
}

/* The finding for (rule, recipient, type, clause), created when new. */
static struct finding *finding_for(struct findings *fs, enum finding_rule rule,
				   const struct recipient_view *rv, const char *type,
				   const struct policy_refs *clauses, bool *created)
{
	const struct policy_clause *clause =
		clauses && clauses->count ? policy_clause(fs->p, clauses->ids[0]) : NULL;
	char key[512];
	snprintf(key, sizeof key, "%d\x1f%s\x1f%s\x1f%s", (int)rule, rv->id, type ? type : "",
		 clause ? clause->id : "");
	size_t i = keymap_get(&fs->finding_keys, key);
	*created = i == SIZE_MAX;
	if (!*created)
		return fs->all[i];
	struct finding *f = pa_xcalloc(1, sizeof *f);
	f->rule = rule;
	f->clause = clause;
	f->clauses = clauses;
	f->recipient_kind = rv->kind;
	copy(f->recipient, sizeof f->recipient, rv->id);
	copy(f->recipient_name, sizeof f->recipient_name, rv->name);
	copy(f->organisation, sizeof f->organisation, rv->organisation);
	f->catalogue = rv->catalogue;
	f->attribution_unverified = rv->unverified;
	copy(f->data_type, sizeof f->data_type, type);
	if (fs->all_count == fs->all_cap) {
		fs->all_cap = fs->all_cap ? fs->all_cap * 2 : 32;
		fs->all = pa_xrealloc(fs->all, fs->all_cap * sizeof *fs->all);
	}
	keymap_put(&fs->finding_keys, key, fs->all_count);
	fs->all[fs->all_count++] = f;
	return f;
}

static void add_host(struct finding *f, const char *host)
{
	if (!host || !host[0])
		return;
	for (size_t i = 0; i < f->host_count; i++)
		if (!strcmp(f->hosts[i], host))
			return;
	if (f->host_count < FINDING_MAX_HOSTS)
		copy(f->hosts[f->host_count++], sizeof f->hosts[0], host);
}

static void add_flow_ref(struct finding *f, uint64_t flow_id)
{
	for (size_t i = 0; i < f->flow_count; i++)
		if (f->flows[i] == flow_id)
			return;
	if (f->flow_count < FINDING_MAX_REFS)
		f->flows[f->flow_count++] = flow_id;
	else
		f->flows_more++;
}

static void add_packet_ref(struct finding *f, uint64_t packet)
{
	if (!packet)
		return;
	for (size_t i = 0; i < f->packet_count; i++)
		if (f->packets[i] == packet)
			return;
	if (f->packet_count < sizeof f->packets / sizeof f->packets[0])
		f->packets[f->packet_count++] = packet;
	else
		f->packets_more++;
}

static void add_moment(struct finding *f, int64_t ts_us)
{
	if (!f->count || ts_us < f->first_ts)
		f->first_ts = ts_us;
	if (!f->count || ts_us > f->last_ts)
		f->last_ts = ts_us;
	f->count++;
}

static void add_observation(struct finding *f, const struct observation_record *rec)
{
	const struct pa_observation *o = rec->obs;
	add_moment(f, o->ts_us);
	add_host(f, rec->hostname);
	add_flow_ref(f, o->flow_id);
	add_packet_ref(f, o->packet);
	if (!f->jurisdiction[0])
		copy(f->jurisdiction, sizeof f->jurisdiction, rec->jurisdiction);
	if (f->obs_count < FINDING_MAX_REFS) {
		struct finding_obs_ref *r = &f->obs[f->obs_count++];
		r->flow_id = o->flow_id;
		r->packet = o->packet;
		r->ts_us = o->ts_us;
		copy(r->field, sizeof r->field, o->field);
		copy(r->encoding, sizeof r->encoding, o->encoding);
		copy(r->protocol, sizeof r->protocol, o->protocol);
	}
}

/* Raise (or add to) a finding from one observation. */
static struct finding *observation_finding(struct findings *fs, enum finding_rule rule,
					   enum finding_strength strength,
					   const struct recipient_view *rv,
					   const struct observation_record *rec,
					   const struct policy_refs *clauses, bool raise,
					   const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static struct finding *observation_finding(struct findings *fs, enum finding_rule rule,
					   enum finding_strength strength,
					   const struct recipient_view *rv,
					   const struct observation_record *rec,
					   const struct policy_refs *clauses, bool raise,
					   const char *fmt, ...)
{
	bool created;
	struct finding *f = finding_for(fs, rule, rv, rec->obs->type, clauses, &created);
	if (created) {
		f->strength = strength;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(f->reason, sizeof f->reason, fmt, ap);
		va_end(ap);
	} else if (strength == FINDING_CONCLUSIVE && f->strength == FINDING_INDICATIVE) {
		/* Later, clearer evidence: the strongest evidence decides. */
		f->strength = FINDING_CONCLUSIVE;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(f->reason, sizeof f->reason, fmt, ap);
		va_end(ap);
	}
	add_observation(f, rec);
	if (raise)
		raise_finding(fs, f);
	return f;
}

/* ---- the rules on one observation ---------------------------------------- */

static bool cleartext_protocol(const char *protocol)
{
	static const char *const clear[] = {"http", "http2", "dns", "raw-tcp", "raw-udp", NULL};
	for (size_t i = 0; protocol && clear[i]; i++)
		if (!strcmp(protocol, clear[i]))
			return true;
	return false;
}

/* The "device_id" group of the policy vocabulary (policies/README.md) plus
 * identifiers the signatures find that the vocabulary lacks (aaid, vaid).
 * A policy that names some of them one by one and also speaks of "unique
 * device identifiers" in general leaves the others undeclared by name only. */
static bool device_identifier(const char *type)
{
	static const char *const ids[] = {"imei",  "meid", "imsi", "serial", "android_id", "oaid",
					  "gaid",  "idfa", "idfv", "openudid", "aaid",   "vaid", NULL};
	for (size_t i = 0; ids[i]; i++)
		if (!strcmp(ids[i], type))
			return true;
	return false;
}

static bool policy_mentions_type(const struct policy *p, const char *type)
{
	if (policy_declared_type(p, type))
		return true;
	for (size_t i = 0; i < p->party_count; i++)
		if (policy_words_have(&p->parties[i].data_types, type))
			return true;
	return false;
}

static bool declares_some_identifier(const struct policy *p)
{
	for (size_t i = 0; i < p->data_type_count; i++)
		if (device_identifier(p->data_types[i].type))
			return true;
	return false;
}

/* The data_types entry nearest to type, to quote next to an undeclared one:
 * an identifier's siblings, else the first entry. */
static const struct policy_refs *nearest_type_clauses(const struct policy *p, const char *type)
{
	if (!p->data_type_count)
		return NULL;
	if (device_identifier(type))
		for (size_t i = 0; i < p->data_type_count; i++)
			if (device_identifier(p->data_types[i].type))
				return &p->data_types[i].clauses;
	return &p->data_types[0].clauses;
}

static const struct policy_gate *gate_for(const struct policy *p, const char *type)
{
	for (size_t i = 0; i < p->consent.gate_count; i++)
		if (policy_words_have(&p->consent.gates[i].types, type))
			return &p->consent.gates[i];
	return NULL;
}

static bool jurisdiction_known(const char *j)
{
	return j && j[0] && strcmp(j, "unknown") && strcmp(j, "private");
}

/* The GeoIP facts of a residency finding; a disagreement between the
 * databases is settled only when the handshake RTT makes every answer but the
 * one relied on physically impossible. */
static void residency_geo(const struct findings *fs, const struct finding_flow *fc,
			  const struct observation_record *rec, struct finding_geo *g)
{
	memset(g, 0, sizeof *g);
	copy(g->country, sizeof g->country, fc->country);
	copy(g->source, sizeof g->source, fc->country_source);
	g->plaus = fc->plaus;
	copy(g->ip, sizeof g->ip, rec->dst_ip);
	const struct geo_result *r = fc->geo;
	if (!r)
		return;
	g->asn = r->asn;
	copy(g->as_org, sizeof g->as_org, r->as_org);
	for (size_t i = 0; i < r->answer_count && i < FINDING_GEO_MAX_ANSWERS; i++)
		copy(g->answers[g->answer_count++], 3, r->answers[i]);
	g->conflict = r->conflict && strcmp(fc->country_source, "override") != 0;
	if (!g->conflict || fc->plaus.verdict != PLAUS_CONSISTENT)
		return;
	g->conflict_settled = true;
	for (size_t i = 0; i < g->answer_count; i++) {
		if (!g->answers[i][0] || !strcmp(g->answers[i], fc->country))
			continue;
		struct plaus_check other;
		plausibility_check(fs->cfg.lab_known, fs->cfg.lab_lat, fs->cfg.lab_lon,
				   fs->cfg.lab_radius_km, fc->rtt_ms, g->answers[i], &other);
		if (other.verdict != PLAUS_CONTRADICTED)
			g->conflict_settled = false;
	}
}

/* "SG, US" */
static void answers_text(const struct finding_geo *g, char *out, size_t len)
{
	out[0] = 0;
	for (size_t i = 0; i < g->answer_count; i++) {
		size_t n = strlen(out);
		snprintf(out + n, len - n, "%s%s", n ? ", " : "", g->answers[i][0] ? g->answers[i] : "none");
	}
}

/* Where a datum went, in a finding's words: the hostname or address, or for
 * a datum in a DNS query name the zone whose owner receives it and the
 * resolver that carried it. */
static const char *dest_of(const struct observation_record *rec, char *buf, size_t n)
{
	if (rec->query_name)
		snprintf(buf, n, "the owner of the zone %s (in a DNS query, through the resolver %s)",
			 rec->hostname, rec->dst_ip);
	else
		snprintf(buf, n, "%s", rec->hostname[0] ? rec->hostname : rec->dst_ip);
	return buf;
}

static void rule_residency(struct findings *fs, const struct recipient_view *rv,
			   const struct observation_record *rec, const struct finding_flow *fc,
			   const char *jur)
{
	char dest[400];
	const struct policy *p = fs->p;
	if (!jurisdiction_known(jur)) {
		fs->un.unknown_jurisdiction_obs++;
		return;
	}
	if (policy_words_have(&p->residency.allowed, jur))
		return;
	bool doubt = fc->plaus.verdict == PLAUS_CONTRADICTED;
	struct finding_geo geo;
	residency_geo(fs, fc, rec, &geo);
	char answers[64];
	answers_text(&geo, answers, sizeof answers);
	/* The destination with its address, once (a DNS query's words carry
	 * the resolver's address already). */
	char dest_ip[480];
	dest_of(rec, dest, sizeof dest);
	if (!rec->query_name && rec->hostname[0])
		snprintf(dest_ip, sizeof dest_ip, "%s (%s)", dest, rec->dst_ip);
	else
		snprintf(dest_ip, sizeof dest_ip, "%s", dest);
	struct finding *f;
	if (doubt)
		f = observation_finding(fs, RULE_RESIDENCY, FINDING_INDICATIVE, rv, rec,
					&p->residency.clauses, true,
					"%s sent to %s (%s per %s), but the handshake RTT %.1f ms is shorter "
					"than the %.1f ms light needs to reach %s (%.0f km) and back: the "
					"country is physically implausible",
					rec->obs->type, dest_of(rec, dest, sizeof dest), jur,
					fc->country_source, fc->plaus.rtt_ms, fc->plaus.bound_ms,
					fc->country, fc->plaus.distance_km);
	else if (geo.conflict && !geo.conflict_settled)
		f = observation_finding(fs, RULE_RESIDENCY, FINDING_INDICATIVE, rv, rec,
					&p->residency.clauses, true,
					"%s sent to %s, located in %s (%s per %s), but the GeoIP "
					"databases disagree (%s) and the handshake RTT does not rule out "
					"the other answers",
					rec->obs->type, dest_ip, fc->country, jur, fc->country_source, answers);
	else
		f = observation_finding(fs, RULE_RESIDENCY, FINDING_CONCLUSIVE, rv, rec,
					&p->residency.clauses, true,
					"%s sent to %s, located in %s (%s per %s%s%s%s); the policy allows only %s",
					rec->obs->type, dest_ip,
					fc->country, jur, fc->country_source,
					geo.conflict_settled ? "; the GeoIP databases disagree (" : "",
					geo.conflict_settled ? answers : "",
					geo.conflict_settled ? "), the handshake RTT rules out the others" : "",
					p->residency.allowed.count ? p->residency.allowed.items[0] : "(none)");
	/* The facts go with the evidence the reason describes: the first, or
	 * the clearer evidence that made the finding conclusive. */
	bool conclusive_now = !doubt && (!geo.conflict || geo.conflict_settled);
	if (!f->geo.country[0] || (conclusive_now && !f->geo_conclusive)) {
		f->geo = geo;
		f->geo_conclusive = conclusive_now;
	}
	copy(f->jurisdiction, sizeof f->jurisdiction, jur);
}

/* A finding that says who received a datum is only as sure as what names
 * the host's owner: the policy's domains, or a catalogue entry whose source
 * was read; an unverified entry makes it indicative. */
static enum finding_strength attribution_strength(const struct recipient_view *rv)
{
	return rv->unverified ? FINDING_INDICATIVE : FINDING_CONCLUSIVE;
}

static const char *unverified_words(const struct recipient_view *rv)
{
	return rv->unverified ? "; the host's owner comes from a catalogue entry whose source is "
				"not verified" :
				"";
}

static void rule_recipient(struct findings *fs, const struct recipient_view *rv,
			   const struct observation_record *rec)
{
	char dest[400];
	const struct policy *p = fs->p;
	const char *type = rec->obs->type;
	const char *host = dest_of(rec, dest, sizeof dest);
	switch (rv->kind) {
	case RECIPIENT_FIRST_PARTY:
	case RECIPIENT_THIRD_PARTY:
	case RECIPIENT_PROCESSOR:
		return;
	case RECIPIENT_MENTIONED:
		observation_finding(fs, RULE_UNDECLARED_RECIPIENT, attribution_strength(rv), rv, rec,
				    &rv->party->clauses, true,
				    "%s sent to %s (%s), a party the policy mentions but never declares "
				    "as a recipient of personal data%s",
				    type, host, rv->name, unverified_words(rv));
		break;
	case RECIPIENT_CATALOGUED:
		observation_finding(fs, RULE_UNDECLARED_RECIPIENT, attribution_strength(rv), rv, rec,
				    &p->consent.clauses, true,
				    "%s sent to %s (%s, %s), a third party the policy does not name; "
				    "consent to the policy covers only the recipients it names%s",
				    type, host, rv->name, rv->organisation, unverified_words(rv));
		break;
	case RECIPIENT_UNKNOWN:
		observation_finding(fs, RULE_UNDECLARED_RECIPIENT, FINDING_INDICATIVE, rv, rec,
				    &p->consent.clauses, true,
				    "%s sent to %s, which is neither a first-party domain nor a party the "
				    "policy names, and not in the recipient catalogue",
				    type, host);
		break;
	}
	keymap_put(&fs->undeclared_with_data, rv->id, 1);
}

static void rule_scope(struct findings *fs, const struct recipient_view *rv,
		       const struct observation_record *rec)
{
	char dest[400];
	if (rv->kind != RECIPIENT_THIRD_PARTY && rv->kind != RECIPIENT_PROCESSOR)
		return;
	const char *type = rec->obs->type;
	if (policy_party_may_receive(fs->p, rv->party, type))
		return;
	observation_finding(fs, RULE_BEYOND_SCOPE, attribution_strength(rv), rv, rec,
			    &rv->party->clauses, true, "%s sent to %s (%s), declared for %s only%s",
			    type, dest_of(rec, dest, sizeof dest), rv->name,
			    rv->party->declared_as ? rv->party->declared_as : "other data types",
			    unverified_words(rv));
}

static void rule_undeclared_type(struct findings *fs, const struct recipient_view *rv,
				 const struct observation_record *rec)
{
	const struct policy *p = fs->p;
	const char *type = rec->obs->type;
	bool mentioned = policy_mentions_type(p, type);
	bool first_party_gap = rv->kind == RECIPIENT_FIRST_PARTY && !policy_declared_type(p, type);
	if (mentioned && !first_party_gap)
		return;
	const struct policy_refs *near = nearest_type_clauses(p, type);
	if (!policy_is_data_type(type))
		observation_finding(fs, RULE_UNDECLARED_TYPE, FINDING_INDICATIVE, rv, rec, near, true,
				    "%s has no word in the policy vocabulary; the policy does not "
				    "name it among the data it collects", type);
	else if (device_identifier(type) && declares_some_identifier(p))
		observation_finding(fs, RULE_UNDECLARED_TYPE, FINDING_INDICATIVE, rv, rec, near, true,
				    "%s is not among the device identifiers the policy names; it "
				    "may fall under a general \"unique device identifier\"", type);
	else
		observation_finding(fs, RULE_UNDECLARED_TYPE, FINDING_CONCLUSIVE, rv, rec, near, true,
				    mentioned ? "%s reaches the first party, which does not declare "
						"collecting it" :
						"%s is a data type the policy never mentions", type);
}

static void rule_consent(struct findings *fs, const struct recipient_view *rv,
			 const struct observation_record *rec)
{
	char dest[400];
	const struct policy *p = fs->p;
	int64_t ts = rec->obs->ts_us;
	if (fs->consent_us && ts >= fs->consent_us)
		return;
	const struct policy_gate *gate = gate_for(p, rec->obs->type);
	char when[40] = "";
	if (fs->consent_us)
		pa_time_str(fs->consent_us, when, sizeof when);
	/* Without a consent moment yet the finding waits: a marker later in the
	 * capture settles it (findings_consent). */
	observation_finding(
		fs, RULE_BEFORE_CONSENT, FINDING_CONCLUSIVE, rv, rec, &p->consent.clauses,
		fs->consent_us != 0, "%s sent to %s before consent%s%s%s%s", rec->obs->type,
		dest_of(rec, dest, sizeof dest), when[0] ? " (given at " : "", when,
		when[0] ? ")" : "", gate ? "; the policy also ties it to a permission" : "");
	if (!fs->consent_us)
		fs->un.pending_before_consent++;
}

static void frequency_add(struct findings *fs, const struct recipient_view *rv,
			  const struct observation_record *rec, const char *jur)
{
	char key[160];
	snprintf(key, sizeof key, "%s\x1f%s", rv->id, rec->obs->type);
	size_t i = keymap_get(&fs->freq_keys, key);
	if (i == SIZE_MAX) {
		if (fs->freq_count == fs->freq_cap) {
			fs->freq_cap = fs->freq_cap ? fs->freq_cap * 2 : 32;
			fs->freq = pa_xrealloc(fs->freq, fs->freq_cap * sizeof *fs->freq);
		}
		i = fs->freq_count++;
		memset(&fs->freq[i], 0, sizeof fs->freq[i]);
		copy(fs->freq[i].recipient, sizeof fs->freq[i].recipient, rv->id);
		copy(fs->freq[i].data_type, sizeof fs->freq[i].data_type, rec->obs->type);
		fs->freq[i].recipient_kind = rv->kind;
		keymap_put(&fs->freq_keys, key, i);
	}
	struct frequency_row *row = &fs->freq[i];
	int64_t ts = rec->obs->ts_us;
	if (!row->count || ts < row->first_ts)
		row->first_ts = ts;
	if (!row->count || ts > row->last_ts)
		row->last_ts = ts;
	row->count++;
	if (row->last_flow != rec->obs->flow_id) {
		row->flows++;
		row->last_flow = rec->obs->flow_id;
	}
	copy(row->jurisdiction, sizeof row->jurisdiction, jur);
	/* Keep an even sample for the timeline: every stride-th datum; when
	 * the sample is full, drop every other one and double the stride. */
	if (!row->time_stride)
		row->time_stride = 1;
	if ((row->count - 1) % row->time_stride == 0) {
		if (row->time_count == FREQUENCY_MAX_TIMES) {
			for (size_t k = 0; k < FREQUENCY_MAX_TIMES / 2; k++)
				row->times[k] = row->times[2 * k];
			row->time_count = FREQUENCY_MAX_TIMES / 2;
			row->time_stride *= 2;
		}
		if ((row->count - 1) % row->time_stride == 0)
			row->times[row->time_count++] = ts;
	}
}

double frequency_rate_per_min(const struct frequency_row *row)
{
	double span_min = (double)(row->last_ts - row->first_ts) / 60e6;
	return span_min < 1.0 ? (double)row->count : (double)row->count / span_min;
}

void findings_observation(struct findings *fs, const struct observation_record *rec,
			  const struct flow *f)
{
	if (!fs || !rec || !rec->obs || rec->obs->echo)
		return;
	struct finding_flow *fc = flow_ctx(fs, f, f->geo ? f->geo->country : "");
	fc->personal = true;
	char jur[24];
	if (!strcmp(fc->country_source, "override"))
		plaus_jurisdiction(fc->country, jur, sizeof jur);
	else
		copy(jur, sizeof jur, rec->jurisdiction ? rec->jurisdiction : "unknown");

	struct observation_record r = *rec;
	if (!r.hostname)
		r.hostname = "";
	if (!r.dst_ip)
		r.dst_ip = "";
	r.jurisdiction = jur;
	struct recipient_view rv;
	/* A DNS query's datum: the catalogue and the policy are asked about
	 * the full name queried; a name nobody knows is named by its zone. */
	resolve_recipient(fs, r.query_name ? recipients_query_host(r.query_name) : r.hostname,
			  r.dst_ip, &rv);
	if (r.query_name && rv.kind == RECIPIENT_UNKNOWN && r.hostname[0])
		copy(rv.id, sizeof rv.id, r.hostname);
	frequency_add(fs, &rv, &r, jur);
	if (!fs->p)
		return;
	rule_residency(fs, &rv, &r, fc, jur);
	char dest[400];
	if (fs->p->encryption.promised && cleartext_protocol(r.obs->protocol))
		observation_finding(fs, RULE_ENCRYPTION, FINDING_CONCLUSIVE, &rv, &r,
				    &fs->p->encryption.clauses, true,
				    "%s sent in cleartext (%s, field %s) to %s", r.obs->type,
				    r.obs->protocol, r.obs->field,
				    dest_of(&r, dest, sizeof dest));
	rule_recipient(fs, &rv, &r);
	rule_scope(fs, &rv, &r);
	rule_undeclared_type(fs, &rv, &r);
	rule_consent(fs, &rv, &r);
}

/* ---- the rules on an ended flow ------------------------------------------- */

static struct jurisdiction_row *jurisdiction_row(struct findings *fs, const char *jur)
{
	for (size_t i = 0; i < fs->jur_count; i++)
		if (!strcmp(fs->jur[i].jurisdiction, jur))
			return &fs->jur[i];
	fs->jur = pa_xrealloc(fs->jur, (fs->jur_count + 1) * sizeof *fs->jur);
	struct jurisdiction_row *row = &fs->jur[fs->jur_count++];
	memset(row, 0, sizeof *row);
	copy(row->jurisdiction, sizeof row->jurisdiction, jur);
	return row;
}

/* A finding raised by a whole flow rather than by one datum. */
static void flow_finding(struct findings *fs, enum finding_rule rule, enum finding_strength strength,
			 const struct recipient_view *rv, const struct flow_record *rec,
			 const struct policy_refs *clauses, const char *jur, const char *reason)
{
	bool created;
	struct finding *f = finding_for(fs, rule, rv, "", clauses, &created);
	if (created) {
		f->strength = strength;
		copy(f->reason, sizeof f->reason, reason);
		copy(f->jurisdiction, sizeof f->jurisdiction, jur);
	}
	add_moment(f, rec->flow->ts_first);
	add_host(f, rec->hostname);
	add_flow_ref(f, rec->flow->id);
	add_packet_ref(f, rec->flow->first_packet);
	raise_finding(fs, f);
}

/* Copies of the same stream bytes that differ (flow_app.h "conflicts"): a
 * finding of its own, naming the packets that carried each copy. */
static void evasion_finding(struct findings *fs, const struct flow_record *rec,
			    const struct recipient_view *rv, const char *jur,
			    const char *geo_country)
{
	const struct flow_app_info *app = rec->app;
	uint64_t bytes = app->bytes[0].conflict + app->bytes[1].conflict;
	uint64_t packets = app->bytes[0].conflict_packets + app->bytes[1].conflict_packets;
	uint64_t bad = app->bytes[0].bad_checksum + app->bytes[1].bad_checksum;
	if (!bytes && !bad)
		return;
	/* The finding cites the flow: keep what its record needs (addresses
	 * for the Community ID, country), as for a flow with personal data. */
	flow_ctx(fs, rec->flow, geo_country)->ended = true;
	char list[256] = "";
	size_t used = 0;
	for (unsigned i = 0; i < app->conflict_count && used < sizeof list - 40; i++) {
		const struct app_conflict *c = &app->conflicts[i];
		int n = c->first_packet ?
			snprintf(list + used, sizeof list - used, "%s%" PRIu64 " (first copy %" PRIu64 ")",
				 i ? ", " : "", c->packet, c->first_packet) :
			snprintf(list + used, sizeof list - used, "%s%" PRIu64 "%s", i ? ", " : "",
				 c->packet, c->bad_checksum ? " (bad checksum)" : "");
		used += n > 0 ? (size_t)n : 0;
	}
	char reason[512];
	snprintf(reason, sizeof reason,
		 "flow %" PRIu64 ": %" PRIu64 " bytes sent again with other content (%" PRIu64
		 " packets), %" PRIu64 " bytes in segments with a wrong TCP checksum; packets %s%s; "
		 "every copy was scanned",
		 rec->flow->id, bytes, packets, bad, list,
		 app->conflict_count == APP_CONFLICTS_KEPT ? ", ..." : "");
	bool created;
	struct finding *f = finding_for(fs, RULE_EVASION, rv, "", NULL, &created);
	if (created) {
		f->strength = FINDING_INDICATIVE;
		copy(f->reason, sizeof f->reason, reason);
		copy(f->jurisdiction, sizeof f->jurisdiction, jur);
	}
	add_moment(f, rec->flow->ts_first);
	add_host(f, rec->hostname);
	add_flow_ref(f, rec->flow->id);
	for (unsigned i = 0; i < app->conflict_count; i++) {
		if (app->conflicts[i].first_packet)
			add_packet_ref(f, app->conflicts[i].first_packet);
		add_packet_ref(f, app->conflicts[i].packet);
	}
	raise_finding(fs, f);
}

static void plausibility_note(struct findings *fs, const struct flow_record *rec,
			      const struct plaus_check *pc)
{
	struct plausibility_summary *s = &fs->plaus;
	if (rec->flow->proto != IPPROTO_TCP)
		return;
	if (pc->rtt_ms < 0)
		fs->un.unmeasured_rtt_flows++;
	switch (pc->verdict) {
	case PLAUS_NOT_CHECKED:
		s->not_checked++;
		return;
	case PLAUS_CONSISTENT:
		s->checked++;
		s->consistent++;
		return;
	case PLAUS_CONTRADICTED:
		s->checked++;
		s->contradicted++;
		break;
	}
	if (s->row_count < sizeof s->rows / sizeof s->rows[0]) {
		struct plaus_row *row = &s->rows[s->row_count++];
		row->flow_id = rec->flow->id;
		copy(row->hostname, sizeof row->hostname, rec->hostname);
		pa_addr_str(remote_of(rec->flow), row->dst_ip, sizeof row->dst_ip);
		row->check = *pc;
	}
}

uint64_t unread_bytes_total(const struct unread_bytes *b)
{
	return b->encrypted + b->gap + b->truncated + b->unparsed + b->conflict + b->opaque;
}

/* The device side's bytes of a flow that were not read, by cause. Bytes of a
 * flow no decoder understood were scanned raw: they are "opaque" unless nDPI
 * knows the protocol as encrypted (a custom or compressed cleartext format
 * could hide a datum the raw scan does not recognise). */
static void unread_of(const struct flow_record *rec, enum pa_dir up, struct unread_bytes *out)
{
	memset(out, 0, sizeof *out);
	if (!rec->app)
		return;
	const struct app_bytes *b = &rec->app->bytes[up];
	out->encrypted = b->encrypted;
	out->gap = b->gap;
	out->truncated = b->truncated;
	/* Scanned raw, yet not read as the protocol: a compressed or encoded
	 * part past a parser error, or stream bytes a receiver may have put
	 * together from two conflicting copies, could still hide a datum. */
	out->unparsed = b->unparsed;
	out->conflict = b->conflict;
	if (rec->app->kind == APP_RAW && !(rec->cls && rec->cls->encrypted) &&
	    rec->flow->payload_bytes[up])
		out->opaque = b->scanned < rec->flow->payload_bytes[up] ? b->scanned
									: rec->flow->payload_bytes[up];
}

static void note_device(struct findings *fs, const struct flow *f, enum pa_dir up)
{
	fs->device.flows++;
	if (f->device_side == DEVICE_SIDE_UNKNOWN) {
		fs->device.unknown_side_flows++;
		return;
	}
	fs->device.device_flows++;
	fs->device.device_packets += f->packets[up];
}

static void keep_unread_flow(struct findings *fs, const struct flow_record *rec,
			     const struct recipient_view *rv, const char *jur,
			     const struct unread_bytes *ub)
{
	if (fs->unread_count == fs->unread_cap) {
		fs->unread_cap = fs->unread_cap ? fs->unread_cap * 2 : 64;
		fs->unread = pa_xrealloc(fs->unread, fs->unread_cap * sizeof *fs->unread);
	}
	struct unread_flow *u = &fs->unread[fs->unread_count++];
	u->id = rec->flow->id;
	u->ts_first = rec->flow->ts_first;
	u->recipient_kind = rv->kind;
	u->cleartext = !rec->app || rec->app->kind != APP_TLS;
	u->jurisdiction_allowed = fs->p && jurisdiction_known(jur) &&
				  policy_words_have(&fs->p->residency.allowed, jur);
	u->bytes = *ub;
}

void findings_flow_end(struct findings *fs, const struct flow_record *rec)
{
	if (!fs || !rec || !rec->flow)
		return;
	const struct flow *f = rec->flow;
	enum pa_dir up = flow_device_dir(f);
	enum pa_dir down = up == PA_DIR_FROM_SRC ? PA_DIR_FROM_DST : PA_DIR_FROM_SRC;
	const char *geo_country = rec->geo ? rec->geo->country : "";

	/* Flows with personal data already have their context (and plausibility
	 * from the moment of the datum); others are judged here and forgotten. */
	const struct finding_flow *fc = findings_flow(fs, f->id);
	struct finding_flow scratch;
	if (!fc) {
		memset(&scratch, 0, sizeof scratch);
		flow_country(fs, f, geo_country, scratch.country, scratch.country_source);
		plausibility_check(fs->cfg.lab_known, fs->cfg.lab_lat, fs->cfg.lab_lon,
				   fs->cfg.lab_radius_km, server_rtt_ms(f), scratch.country, &scratch.plaus);
		fc = &scratch;
	}
	char jur[24];
	if (!strcmp(fc->country_source, "override"))
		plaus_jurisdiction(fc->country, jur, sizeof jur);
	else
		copy(jur, sizeof jur, rec->geo ? rec->geo->jurisdiction : "unknown");
	plausibility_note(fs, rec, &fc->plaus);

	note_device(fs, f, up);
	struct unread_bytes ub;
	unread_of(rec, up, &ub);
	uint64_t enc = ub.encrypted, gap = ub.gap, trunc = ub.truncated;
	uint64_t unread = unread_bytes_total(&ub) - ub.opaque; /* opaque bytes were scanned */
	struct jurisdiction_row *jr = jurisdiction_row(fs, jur);
	jr->flows++;
	jr->bytes_up += f->ip_bytes[up];
	jr->bytes_down += f->ip_bytes[down];
	jr->personal_flows += fc->personal;
	jr->uninspected_up += unread;
	if (unread) {
		fs->un.flows++;
		fs->un.encrypted_up += ub.encrypted;
		fs->un.gap_up += ub.gap;
		fs->un.truncated_up += ub.truncated;
		fs->un.unparsed_up += ub.unparsed;
		fs->un.conflict_up += ub.conflict;
	}
	if (ub.opaque) {
		fs->un.opaque_flows++;
		fs->un.opaque_up += ub.opaque;
	}
	if (fc != &scratch)
		((struct finding_flow *)fc)->ended = true;

	char dst[48];
	pa_addr_str(remote_of(f), dst, sizeof dst);
	struct recipient_view rv;
	resolve_recipient(fs, rec->hostname, dst, &rv);
	/* Conflicting copies of the flow's bytes: shaped to defeat inspection. */
	if (fs->p && rec->app)
		evasion_finding(fs, rec, &rv, jur, geo_country);
	/* Promises are about the device's data: a flow where neither end is
	 * the device (transit traffic on a mirror port, another host) is
	 * counted in the device presence, not against them. */
	if ((unread || ub.opaque) && f->device_side != DEVICE_SIDE_UNKNOWN)
		keep_unread_flow(fs, rec, &rv, jur, &ub);
	if (!fs->p || fc->personal)
		return;
	char reason[512];

	/* Unverified transfer abroad: much uploaded, nothing readable. */
	if (jurisdiction_known(jur) && !policy_words_have(&fs->p->residency.allowed, jur) &&
	    unread >= fs->cfg.upload_threshold) {
		snprintf(reason, sizeof reason,
			 "unverified transfer abroad: %" PRIu64 " bytes uploaded to %s (%s) could not "
			 "be read (encrypted %" PRIu64 ", not captured %" PRIu64 ", truncated %" PRIu64
			 "); threshold %" PRIu64 " bytes%s",
			 unread, rec->hostname[0] ? rec->hostname : dst, jur, enc, gap, trunc,
			 fs->cfg.upload_threshold,
			 fc->plaus.verdict == PLAUS_CONTRADICTED ?
				 "; the RTT also makes the country physically implausible" : "");
		struct finding_flow *ctx = flow_ctx(fs, f, geo_country);
		ctx->ended = true;
		flow_finding(fs, RULE_RESIDENCY, FINDING_INDICATIVE, &rv, rec,
			     &fs->p->residency.clauses, jur, reason);
	}

	/* Contacting an undeclared third party at all (CDNs are infrastructure). */
	bool third = rv.kind == RECIPIENT_CATALOGUED || rv.kind == RECIPIENT_MENTIONED;
	bool cdn = rv.catalogue && rv.catalogue->purpose && !strcmp(rv.catalogue->purpose, "cdn");
	if (third && !cdn && keymap_get(&fs->undeclared_with_data, rv.id) == SIZE_MAX) {
		snprintf(reason, sizeof reason,
			 "the app contacted %s (%s, %s), a third party the policy does not declare; "
			 "no personal data was seen in the flow (%" PRIu64 " bytes up, %" PRIu64
			 " of them unreadable)",
			 rec->hostname, rv.name, rv.organisation, f->ip_bytes[up], unread);
		struct finding_flow *ctx = flow_ctx(fs, f, geo_country);
		ctx->ended = true;
		flow_finding(fs, RULE_UNDECLARED_RECIPIENT, FINDING_INDICATIVE, &rv, rec,
			     rv.kind == RECIPIENT_MENTIONED ? &rv.party->clauses : &fs->p->consent.clauses,
			     jur, reason);
	}
}

/* ---- consent and the end -------------------------------------------------- */

static void settle_pending(struct findings *fs)
{
	char when[40];
	pa_time_str(fs->consent_us, when, sizeof when);
	for (size_t i = 0; i < fs->all_count; i++) {
		struct finding *f = fs->all[i];
		if (f->raised || f->rule != RULE_BEFORE_CONSENT)
			continue;
		size_t n = strlen(f->reason);
		snprintf(f->reason + n, sizeof f->reason - n, " (consent marker at %s)", when);
		raise_finding(fs, f);
	}
	fs->un.pending_before_consent = 0;
}

void findings_consent(struct findings *fs, int64_t ts_us)
{
	if (!fs || fs->consent_us || !ts_us)
		return;
	fs->consent_us = ts_us;
	settle_pending(fs);
}

void findings_finish(struct findings *fs)
{
	if (!fs || fs->finished)
		return;
	fs->finished = true;
	decide_promises(fs);
}

/* ---- accessors ------------------------------------------------------------ */

size_t findings_count(const struct findings *fs)
{
	return fs ? fs->raised_count : 0;
}

const struct finding *findings_at(const struct findings *fs, size_t i)
{
	return fs && i < fs->raised_count ? fs->raised[i] : NULL;
}

size_t findings_violations(const struct findings *fs)
{
	return findings_count(fs);
}

size_t findings_frequency_count(const struct findings *fs)
{
	return fs ? fs->freq_count : 0;
}

const struct frequency_row *findings_frequency_at(const struct findings *fs, size_t i)
{
	return fs && i < fs->freq_count ? &fs->freq[i] : NULL;
}

size_t findings_jurisdiction_count(const struct findings *fs)
{
	return fs ? fs->jur_count : 0;
}

const struct jurisdiction_row *findings_jurisdiction_at(const struct findings *fs, size_t i)
{
	return fs && i < fs->jur_count ? &fs->jur[i] : NULL;
}

const struct uninspected *findings_uninspected(const struct findings *fs)
{
	return &fs->un;
}

const struct device_presence *findings_device(const struct findings *fs)
{
	return &fs->device;
}

bool findings_device_unseen(const struct findings *fs)
{
	return !fs->device.device_flows || !fs->device.device_packets;
}

const char *findings_device_words(const struct findings *fs)
{
	return fs->device_why;
}

const struct plausibility_summary *findings_plausibility(const struct findings *fs)
{
	return &fs->plaus;
}

const struct policy *findings_policy(const struct findings *fs)
{
	return fs ? fs->p : NULL;
}

int64_t findings_consent_at(const struct findings *fs)
{
	return fs ? fs->consent_us : 0;
}
