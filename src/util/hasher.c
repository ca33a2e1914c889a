/*
 * hasher.c — the input files' SHA-256 on a worker thread, in queue order,
 * and the check that the file did not change while it was audited.
 */
#include "util/hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/thread.h"

/* What identifies a file's contents without reading them. */
struct file_id {
	bool known;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
};

struct pa_hash_job {
	struct pa_hasher *h;
	char *path;
	/* Written by the caller's thread only. */
	struct file_id reader_open, reader_end;
	/* Written by the worker before done is set (under the lock). */
	struct file_id hash_start, hash_end;
	struct pa_file_hash result;
	bool done;
};

struct pa_hasher {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t done; /* a job was hashed */
	struct pa_hash_job **jobs;
	size_t count, next;  /* next: the first job the worker has not taken */
	bool stop;
	bool started;        /* a thread was asked for */
	bool threaded;       /* and runs; otherwise jobs are hashed when waited for */
	pthread_t thread;
};

static void file_id_of(int fd, struct file_id *id)
{
	struct stat st;
	memset(id, 0, sizeof *id);
	if (fd < 0 || fstat(fd, &st) != 0)
		return;
	*id = (struct file_id){.known = true, .dev = st.st_dev, .ino = st.st_ino,
			       .size = st.st_size, .mtim = st.st_mtim};
}

static void hash_one(struct pa_hash_job *j)
{
	struct pa_file_hash *r = &j->result;
	int fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pa_error_set(&r->error, "%s: %s", j->path, strerror(errno));
		return;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	file_id_of(fd, &j->hash_start);
	r->ok = pa_sha256_fd(fd, j->path, r->sha256, &r->size, &r->error);
	file_id_of(fd, &j->hash_end);
	close(fd);
}

static void *worker(void *arg)
{
	struct pa_hasher *h = arg;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->stop && h->next == h->count)
			pthread_cond_wait(&h->work, &h->lock);
		if (h->stop)
			break;
		struct pa_hash_job *j = h->jobs[h->next++];
		pthread_mutex_unlock(&h->lock);
		hash_one(j);
		pthread_mutex_lock(&h->lock);
		j->done = true;
		pthread_cond_broadcast(&h->done);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void start_worker(struct pa_hasher *h)
{
	h->threaded = pa_thread_start(&h->thread, worker, h, "privaudit-hash") == 0;
	h->started = true;
}

struct pa_hasher *pa_hasher_new(void)
{
	struct pa_hasher *h = pa_xcalloc(1, sizeof *h);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->done, NULL);
	return h;
}

struct pa_hash_job *pa_hasher_add(struct pa_hasher *h, const char *path, int reader_fd)
{
	struct pa_hash_job *j = pa_xcalloc(1, sizeof *j);
	j->h = h;
	j->path = pa_xstrdup(path);
	file_id_of(reader_fd, &j->reader_open);
	pthread_mutex_lock(&h->lock);
	h->jobs = pa_xrealloc(h->jobs, (h->count + 1) * sizeof *h->jobs);
	h->jobs[h->count++] = j;
	if (!h->started)
		start_worker(h);
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->lock);
	return j;
}

void pa_hash_job_reader_done(struct pa_hash_job *j, int reader_fd)
{
	file_id_of(reader_fd, &j->reader_end);
}

/* Why two looks at the file differ, or false when they agree. */
static bool id_differs(const struct file_id *a, const struct file_id *b, char *why, size_t n)
{
	if (a->dev != b->dev || a->ino != b->ino) {
		snprintf(why, n, "replaced by another file while it was audited (inode %llu, then %llu)",
			 (unsigned long long)a->ino, (unsigned long long)b->ino);
		return true;
	}
	if (a->size != b->size) {
		snprintf(why, n, "changed while it was audited (size %lld, then %lld bytes)",
			 (long long)a->size, (long long)b->size);
		return true;
	}
	if (a->mtim.tv_sec != b->mtim.tv_sec || a->mtim.tv_nsec != b->mtim.tv_nsec) {
		snprintf(why, n, "changed while it was audited (modified at %lld.%09ld, then %lld.%09ld)",
			 (long long)a->mtim.tv_sec, a->mtim.tv_nsec, (long long)b->mtim.tv_sec,
			 b->mtim.tv_nsec);
		return true;
	}
	return false;
}

/* The four looks in time order, each against the one before it. */
static void check(struct pa_hash_job *j)
{
	struct pa_file_hash *r = &j->result;
	r->changed = false;
	r->problem[0] = 0;
	const struct file_id *looks[] = {&j->reader_open, &j->hash_start, &j->hash_end, &j->reader_end};
	const struct file_id *prev = NULL;
	for (size_t i = 0; i < sizeof looks / sizeof looks[0] && !r->changed; i++) {
		if (!looks[i]->known)
			continue;
		if (prev)
			r->changed = id_differs(prev, looks[i], r->problem, sizeof r->problem);
		prev = looks[i];
	}
	if (!r->changed && j->hash_start.known && (uint64_t)j->hash_start.size != r->size) {
		snprintf(r->problem, sizeof r->problem,
			 "changed while it was hashed (size %lld, %llu bytes read)",
			 (long long)j->hash_start.size, (unsigned long long)r->size);
		r->changed = true;
	}
}

const struct pa_file_hash *pa_hash_job_wait(struct pa_hash_job *j)
{
	struct pa_hasher *h = j->h;
	if (h->threaded) {
		pthread_mutex_lock(&h->lock);
		while (!j->done)
			pthread_cond_wait(&h->done, &h->lock);
		pthread_mutex_unlock(&h->lock);
	} else if (!j->done) {
		hash_one(j); /* no thread could be started */
		j->done = true;
	}
	if (j->result.ok)
		check(j); /* again: the reader may have finished since */
	return &j->result;
}

void pa_hasher_free(struct pa_hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->lock);
	if (h->threaded)
		pthread_join(h->thread, NULL);
	for (size_t i = 0; i < h->count; i++) {
		free(h->jobs[i]->path);
		free(h->jobs[i]);
	}
	free(h->jobs);
	pthread_cond_destroy(&h->done);
	pthread_cond_destroy(&h->work);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
