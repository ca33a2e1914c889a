/*
 * format_version.h — the format version of each output, written into every
 * record as "format_version" and pinned by its JSON Schema in docs/schema/.
 *
 * "MAJOR.MINOR" (docs/output.md, "Format versions"): MINOR goes up when a
 * field or a value of a closed vocabulary is added, so a reader that
 * ignores what it does not know keeps working; MAJOR goes up (MINOR back
 * to 0) when a field is removed or renamed, changes type, or a value
 * changes meaning or unit. Change the schema's "const" with the number.
 */
#ifndef PA_UTIL_FORMAT_VERSION_H
#define PA_UTIL_FORMAT_VERSION_H

#define PA_FORMAT_FLOWS "1.0"        /* flows.jsonl, docs/schema/flows.schema.json */
#define PA_FORMAT_OBSERVATIONS "1.0" /* observations.jsonl */
#define PA_FORMAT_FINDINGS "1.0"     /* findings.jsonl and report.json's findings[] */
#define PA_FORMAT_REPORT "1.0"       /* report.json */
#define PA_FORMAT_MANIFEST "3.0"     /* manifest.json (format 2 had an integer "format") */

#endif
