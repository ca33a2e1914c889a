/*
 * jsonl.h — a JSON Lines file in the output folder, written under a
 * temporary name and renamed into place when complete, so a file with the
 * final name is always whole. In live mode (flush_each) every line is
 * flushed as written and the file carries its final name from the start.
 */
#ifndef PA_JSONL_H
#define PA_JSONL_H

#include <jansson.h>

#include "privaudit.h"

struct jsonl_out;
struct jsonl_out *jsonl_open(const char *dir, const char *name, bool flush_each, struct pa_error *err);
/* Writes and releases j (steals the reference). */
void jsonl_write(struct jsonl_out *o, json_t *j);
uint64_t jsonl_lines(const struct jsonl_out *o);
/* Flushes, checks for write errors, renames into place; frees o. */
bool jsonl_close(struct jsonl_out *o, struct pa_error *err);

#endif
