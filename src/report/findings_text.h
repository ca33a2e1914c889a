/*
 * findings_text.h — findings as lines of text: the live mode's line per new
 * finding, and the findings part of the end-of-run summary.
 */
#ifndef PA_FINDINGS_TEXT_H
#define PA_FINDINGS_TEXT_H

#include <stdio.h>

#include "policy/findings.h"

/* "F0003 15:20:24Z conclusive  residency  imei -> host (Xiaomi push, foreign:SG) [clause 3.1]" */
void finding_line(const struct finding *f, char *buf, size_t len);
/* Findings, promise verdicts and what could not be inspected. */
void findings_print(const struct findings *fs, FILE *out);

#endif
