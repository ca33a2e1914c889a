/* thread.h — how privaudit starts its worker threads (scan, hasher). */
#ifndef PA_THREAD_H
#define PA_THREAD_H

#include <pthread.h>

/* pthread_create with every signal blocked in the new thread, so signals
 * (live mode's SIGINT, for one) stay with the main thread; the thread is
 * named `name` (at most 15 characters) for top -H and perf. Returns
 * pthread_create's result. */
int pa_thread_start(pthread_t *t, void *(*fn)(void *), void *arg, const char *name);

#endif
