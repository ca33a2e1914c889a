/*
 * provenance.c — the run's provenance for manifest.json and report.json
 * (provenance.h).
 */
#include "provenance.h"

#include <hs/hs.h>
#include <http_parser.h>
#include <maxminddb.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <yaml.h>

#include "build_info.h"
#include "classify/classify.h"
#include "util/hasher.h"

#ifdef __clang__
#define PA_COMPILER "clang " __clang_version__
#else
#define PA_COMPILER "gcc " __VERSION__
#endif

json_t *provenance_libraries(void)
{
	unsigned long hp = http_parser_version();
	char http_parser[32];
	snprintf(http_parser, sizeof http_parser, "%lu.%lu.%lu", (hp >> 16) & 255, (hp >> 8) & 255,
		 hp & 255);
	const nghttp2_info *ng = nghttp2_version(0);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "ndpi", classify_engine_version(),
			 "hyperscan", hs_version(),
			 "openssl", OpenSSL_version(OPENSSL_VERSION),
			 "libmaxminddb", MMDB_lib_version(),
			 "libpcap", pcap_lib_version(),
			 "jansson", jansson_version_str(),
			 "nghttp2", ng ? ng->version_str : "unknown",
			 "http_parser", http_parser,
			 "libyaml", yaml_get_version_string());
}

static json_t *host_json(void)
{
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	struct utsname u;
	memset(&u, 0, sizeof u);
	uname(&u);
	struct passwd *pw = getpwuid(getuid());
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:I}", "hostname", host, "system", u.sysname,
			 "release", u.release, "version", u.version, "machine", u.machine, "user",
			 pw ? pw->pw_name : NULL, "uid", (json_int_t)getuid());
}

static json_t *text_or_null(const char *given, const char *profile)
{
	if (given && given[0])
		return json_string(given);
	return profile && profile[0] ? json_string(profile) : json_null();
}

/* Each fact with where it came from: the command line or the profile. */
static json_t *fact(const char *given, const char *profile)
{
	json_t *v = text_or_null(given, profile);
	if (json_is_null(v))
		return v;
	return json_pack("{s:o, s:s}", "value", v, "from", given && given[0] ? "command line" : "device profile");
}

static json_t *capture_json(const struct provenance_inputs *in)
{
	const struct audit_config *cfg = in->cfg;
	char first[40] = "", last[40] = "";
	if (in->totals && in->totals->ts_first) {
		pa_time_str(in->totals->ts_first, first, sizeof first);
		pa_time_str(in->totals->ts_last, last, sizeof last);
	}
	json_t *o = json_pack("{s:s, s:s?, s:s?, s:I}", "mode", cfg->live ? "live" : "files",
			      "first_packet", first[0] ? first : NULL, "last_packet",
			      last[0] ? last : NULL, "packets",
			      (json_int_t)(in->totals ? in->totals->packets : 0));
	/* Live only; null when reading files, so every field is always there. */
	const struct capture_loss *l = in->loss;
	json_object_set_new(o, "interface", cfg->live ? json_string(cfg->capture_interface ? cfg->capture_interface : "")
						      : json_null());
	json_object_set_new(o, "loss", cfg->live && l && l->known
		? json_pack("{s:I, s:I, s:I, s:I}", "received", (json_int_t)l->received, "kernel_drops",
			    (json_int_t)l->kernel_drops, "interface_drops", (json_int_t)l->interface_drops,
			    "evidence_packets_lost", (json_int_t)l->evidence_lost)
		: json_null());
	json_t *files = json_array();
	for (size_t i = 0; i < in->file_count; i++) {
		const struct input_file_info *f = &in->files[i];
		json_t *e = json_pack("{s:s, s:s?, s:I, s:b, s:s?}", "path", f->path, "format", f->format,
				      "records", (json_int_t)f->records, "read", !f->failed, "problem",
				      f->problem);
		json_object_set_new(e, "sha256", f->hash && f->hash->ok ? json_string(f->hash->sha256) : json_null());
		json_array_append_new(files, e);
	}
	json_object_set_new(o, "files", files);
	return o;
}

json_t *provenance_json(const struct provenance_inputs *in)
{
	const struct audit_config *cfg = in->cfg;
	const struct device_facts *p = in->profile;
	struct device_facts none;
	memset(&none, 0, sizeof none);
	if (!p)
		p = &none;
	const struct device_facts_arg *a = &cfg->facts;
	json_t *build = json_pack("{s:s, s:b, s:s, s:s}", "commit", PA_BUILD_COMMIT,
				  "uncommitted_changes", PA_BUILD_DIRTY, "type", PA_BUILD_TYPE,
				  "compiler", PA_COMPILER);
	return json_pack("{s:{s:s, s:o}, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o}}",
			 "privaudit", "version", PA_VERSION, "build", build,
			 "libraries", provenance_libraries(),
			 "host", host_json(),
			 "operator", text_or_null(cfg->operator_name, NULL),
			 "capture", capture_json(in),
			 "app", "package", fact(a->app_package, p->app_package),
			 "version", fact(a->app_version, p->app_version),
			 "apk_sha256", fact(a->apk_sha256, p->apk_sha256),
			 "phone", "model", fact(a->phone_model, p->phone_model),
			 "os_version", fact(a->os_version, p->os_version),
			 "platform", text_or_null(NULL, p->platform));
}

void provenance_print_versions(FILE *out)
{
	fprintf(out, "privaudit %s\nbuild: commit %s%s, %s, %s\nlibraries that decide results:\n",
		PA_VERSION, PA_BUILD_COMMIT, PA_BUILD_DIRTY ? " with uncommitted changes" : "",
		PA_BUILD_TYPE, PA_COMPILER);
	json_t *libs = provenance_libraries();
	const char *name;
	json_t *v;
	json_object_foreach(libs, name, v)
		fprintf(out, "  %-13s %s\n", name, json_is_string(v) ? json_string_value(v) : "unknown");
	json_decref(libs);
}
