/* atomic_file.c — write to a temporary, fsync, rename (atomic_file.h). */
#include "util/atomic_file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

bool pa_atomic_tmp_name(const char *path, unsigned flags, char *tmp, size_t n)
{
	/* The temporary sits in the same folder as the final file: rename(2)
	 * is atomic only inside one file system. A leading dot keeps it out
	 * of `ls` and of globs over the output folder. */
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	const char *name = slash ? slash + 1 : path;
	int len;
	if (flags & PA_ATOMIC_SHARED)
		len = snprintf(tmp, n, "%.*s.%s.%ld.tmp", dir_len, path, name, (long)getpid());
	else
		len = snprintf(tmp, n, "%.*s.%s.tmp", dir_len, path, name);
	return len >= 0 && (size_t)len < n;
}

bool pa_atomic_open(struct pa_atomic_file *af, const char *path, unsigned flags,
		    struct pa_error *err)
{
	af->f = NULL;
	size_t len = strlen(path);
	if (len >= sizeof af->path || !pa_atomic_tmp_name(path, flags, af->tmp, sizeof af->tmp)) {
		pa_error_set(err, "%s: path too long", path);
		return false;
	}
	memcpy(af->path, path, len + 1);
	af->f = fopen(af->tmp, "w");
	if (!af->f) {
		pa_error_set(err, "%s: %s", af->tmp, strerror(errno));
		return false;
	}
	return true;
}

bool pa_atomic_commit(struct pa_atomic_file *af, bool written_ok, struct pa_error *err)
{
	/* errno of the first step that failed; a write the caller saw fail
	 * left its own errno, which the flush usually repeats. */
	int why = written_ok ? 0 : (errno ? errno : EIO);
	if (fflush(af->f) != 0 && !why)
		why = errno;
	if (!why && fsync(fileno(af->f)) != 0)
		why = errno;
	if (fclose(af->f) != 0 && !why)
		why = errno;
	af->f = NULL;
	if (!why && rename(af->tmp, af->path) != 0)
		why = errno;
	if (why) {
		pa_error_set(err, "%s: cannot write: %s", af->path, strerror(why));
		unlink(af->tmp);
		return false;
	}
	return true;
}

void pa_atomic_abort(struct pa_atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	af->f = NULL;
	unlink(af->tmp);
}

bool pa_atomic_rename(const char *tmp, const char *path, bool written_ok, struct pa_error *err)
{
	if (written_ok && rename(tmp, path) == 0)
		return true;
	if (written_ok)
		pa_error_set(err, "%s: cannot rename: %s", path, strerror(errno));
	unlink(tmp);
	return false;
}

bool pa_atomic_write(const char *path, const void *data, size_t len, unsigned flags,
		     struct pa_error *err)
{
	struct pa_atomic_file af;
	if (!pa_atomic_open(&af, path, flags, err))
		return false;
	bool ok = fwrite(data, 1, len, af.f) == len;
	return pa_atomic_commit(&af, ok, err);
}
