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

int lb_json_file_read(const char *path, unsigned flags, json_t **out, struct lb_errmsg *em)
{
	struct stat sb;
	*out = NULL;
	const char *what_to_do = (flags & LB_JSON_FILE_REQUIRED) ? "repair the file"
								  : "repair the file or move it away";
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT)
			return lb_errf(em, LB_EIO, "%s: %s", path, strerror(errno));
		if (flags & LB_JSON_FILE_REQUIRED)
			return lb_errf(em, LB_ENOTFOUND, "%s is missing", path);
		*out = json_object();
		return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
	}
	json_error_t je;
	json_t *j = json_load_file(path, (flags & LB_JSON_FILE_NO_DUPS) ? JSON_REJECT_DUPLICATES : 0,
				   &je);
	if (!j) {
		if (je.line < 0) /* jansson could not open or read it */
			return lb_errf(em, LB_EIO, "%s: %s", path, je.text);
		return lb_errf(em, LB_ECORRUPT, "%s: not JSON (line %d column %d: %s); %s", path,
			       je.line, je.column, je.text, what_to_do);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return lb_errf(em, LB_ECORRUPT, "%s: not a JSON object; %s", path, what_to_do);
	}
	*out = j;
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
