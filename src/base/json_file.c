/*
 * JSON object files kept in a home directory: load or start empty, save atomically
 * (include/leben/json_file.h). The write goes through lb_file_write (temp file, fsync,
 * rename), so a reader sees the old file or the new one, never a part.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "leben/base.h"
#include "leben/json_file.h"

/* A missing file: an empty object, or LB_ENOTFOUND when it is required. */
static int missing(const char *path, unsigned flags, json_t **out, struct lb_errmsg *em)
{
	if (flags & LB_JSON_FILE_REQUIRED)
		return lb_errf(em, LB_ENOTFOUND, "%s is missing", path);
	*out = json_object();
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* What jansson parsed (j, or NULL with je), into *out when it is an object. */
static int parsed(const char *path, unsigned flags, json_t *j, const json_error_t *je,
		  json_t **out, struct lb_errmsg *em)
{
	const char *what_to_do = (flags & LB_JSON_FILE_REQUIRED) ? "repair the file"
								  : "repair the file or move it away";
	if (!j) {
		if (je->line < 0) /* jansson could not open or read it */
			return lb_errf(em, LB_EIO, "%s: %s", path, je->text);
		return lb_errf(em, LB_ECORRUPT, "%s: not JSON (line %d column %d: %s); %s", path,
			       je->line, je->column, je->text, what_to_do);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return lb_errf(em, LB_ECORRUPT, "%s: not a JSON object; %s", path, what_to_do);
	}
	*out = j;
	return LB_OK;
}

static size_t load_flags(unsigned flags)
{
	return (flags & LB_JSON_FILE_NO_DUPS) ? JSON_REJECT_DUPLICATES : 0;
}

int lb_json_file_read(const char *path, unsigned flags, json_t **out, struct lb_errmsg *em)
{
	struct stat sb;
	*out = NULL;
	if (stat(path, &sb) < 0)
		return errno == ENOENT ? missing(path, flags, out, em)
				       : lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
	json_error_t je;
	json_t *j = json_load_file(path, load_flags(flags), &je);
	return parsed(path, flags, j, &je, out, em);
}

int lb_json_file_read_text(const char *path, unsigned flags, size_t max, json_t **out,
			   uint8_t **text, size_t *len, struct lb_errmsg *em)
{
	*out = NULL;
	*text = NULL;
	*len = 0;
	uint8_t *t;
	size_t n;
	int rc = lb_file_read(path, max, &t, &n, em);
	if (rc == LB_ENOTFOUND)
		return missing(path, flags, out, em);
	if (rc)
		return rc;
	json_error_t je;
	json_t *j = json_loadb((const char *)t, n, load_flags(flags), &je);
	if ((rc = parsed(path, flags, j, &je, out, em))) {
		lb_free(t);
		return rc;
	}
	*text = t;
	*len = n;
	return LB_OK;
}

int lb_json_file_load(const char *path, json_t **out, struct lb_errmsg *em)
{
	return lb_json_file_read(path, 0, out, em);
}

int lb_json_file_save(const char *path, const json_t *o, struct lb_errmsg *em)
{
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!s)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_file_write(path, s, strlen(s), 0600, em);
	free(s);
	return rc;
}
