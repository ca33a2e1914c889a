/*
 * provenance.h — what an auditor needs to know about how a bundle came to
 * be: privaudit's version and build, the version of every library that
 * decided something (nDPI classifies, Hyperscan matches, OpenSSL decrypts and
 * hashes, libmaxminddb locates, libpcap captures, jansson, nghttp2,
 * http-parser and libyaml read), the host and its user, the operator
 * (--operator), the capture (files read, or the interface and its drops) and
 * the app and phone audited. The same object goes into manifest.json and
 * report.json ("provenance"); docs/output.md describes it.
 */
#ifndef PA_PROVENANCE_H
#define PA_PROVENANCE_H

#include <jansson.h>
#include <stdio.h>

#include "detect/detect.h"
#include "pipeline.h"

struct provenance_inputs {
	const struct audit_config *cfg;
	const struct device_facts *profile; /* the device profile's facts, or NULL */
	const struct input_file_info *files;
	size_t file_count;
	const struct audit_totals *totals;
	const struct capture_loss *loss;    /* live: what the capture point lost */
};

/* New reference. */
json_t *provenance_json(const struct provenance_inputs *in);

/* The library versions alone ({"ndpi": "4.2.0", ...}), new reference. */
json_t *provenance_libraries(void);

/* `privaudit --version`: the version on the first line ("privaudit X.Y.Z"),
 * then the build and the version of every library above, one a line. */
void provenance_print_versions(FILE *out);

#endif
