/*
 * fuzz-device.c — the device-profile parser and the derivation of every
 * encoding (base64 alignments, URL, hex, hashes) on arbitrary bytes; when
 * the profile is valid, the derived literals are also scanned for.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "detect/detect.h"
#include "detect/detect_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	struct pa_diag diag = { .out = NULL };
	struct yaml_doc y;
	if (!yaml_doc_load_buffer(&y, "fuzz.yaml", data, size, &diag))
		return 0;
	struct detect_device dev;
	size_t good = 0, bad = 0;
	if (detect_device_parse(&y, &dev, &good, &bad, &diag)) {
		struct detect_literal *lits;
		size_t count;
		if (detect_device_literals(&dev, &lits, &count)) {
			for (size_t i = 0; i < count; i++)
				if (lits[i].len == 0 || lits[i].ident >= dev.ident_count)
					__builtin_trap();
			detect_literals_free(lits, count);
		}
		if (dev.has_location) {
			const char *enc;
			coords_match_lab(&dev, 0, dev.lat, 4, dev.lon, 4, false, &enc);
		}
	}
	detect_device_free(&dev);
	yaml_doc_free(&y);
	return 0;
}
