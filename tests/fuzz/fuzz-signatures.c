/*
 * fuzz-signatures.c — the signature-file parser and checker (YAML, entry
 * fields, regex pre-checks with Hyperscan) on arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Hyperscan compile time grows with pattern size: keep inputs small. */
	if (size > 4096)
		return 0;
	struct pa_diag diag = { .out = NULL };
	detect_check_buffer("fuzz.yaml", data, size, &diag);
	return 0;
}
