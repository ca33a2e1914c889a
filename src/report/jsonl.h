/*
 * jsonl.h — a JSON Lines file in the output folder, written under a
 * temporary name and renamed into place when complete, so a file with the
 * final name is always whole. In live mode (flush_each) every line is
 * flushed as written and the file carries its final name from the start.
 */
#ifndef PA_JSONL_H
#define PA_JSONL_H

#include "privaudit.h"
#include "report/jsonw.h"

struct jsonl_out;
struct jsonl_out *jsonl_open(const char *dir, const char *name, bool flush_each, struct pa_error *err);
/* The writer for the next line, emptied: put one JSON value into it, then
 * jsonl_write(). It belongs to o. */
struct jsonw *jsonl_line(struct jsonl_out *o);
/* Ends the value built since jsonl_line() as one line: written with the
 * lines before it once 1 MiB has gathered (live: at once). */
void jsonl_write(struct jsonl_out *o);
uint64_t jsonl_lines(const struct jsonl_out *o);
/* Flushes, checks for write errors, renames into place; frees o. hash
 * (may be NULL) gets the SHA-256 and size of every byte written, taken as
 * the lines were written: the manifest records it without reading the file
 * back. */
struct pa_file_hash;
bool jsonl_close(struct jsonl_out *o, struct pa_file_hash *hash, struct pa_error *err);

#endif
