/*
 * JSON object files under a home directory (<home>/fhir/asset.json, <home>/data/assets.json):
 * loaded as an empty object when the file is not there yet, refused with the file's name when
 * it holds anything else (never silently replaced), written back atomically.
 */
#ifndef LEBEN_JSON_FILE_H
#define LEBEN_JSON_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/error.h"

/* The JSON object in path, new in *out (caller json_decref's it); a new empty object when the
 * file does not exist. LB_ECORRUPT (the file, where and why it does not parse, or that it is
 * not an object; the file is left as it is) or LB_EIO (cannot be read) with *out NULL.
 * lb_json_file_read(path, 0, out, em). */
int lb_json_file_load(const char *path, json_t **out, struct lb_errmsg *em);

/* Flags of lb_json_file_read. */
enum {
	/* the file must be there: a missing one is LB_ENOTFOUND naming it (no empty start), and a
	 * damaged one is to be repaired, not moved away */
	LB_JSON_FILE_REQUIRED = 1u << 0,
	/* a key written twice in one object is refused (LB_ECORRUPT, line and key named) */
	LB_JSON_FILE_NO_DUPS = 1u << 1,
};

/* lb_json_file_load with flags (LB_JSON_FILE_*): the same answers, and with
 * LB_JSON_FILE_REQUIRED, LB_ENOTFOUND "PATH is missing" for a file that is not there. */
int lb_json_file_read(const char *path, unsigned flags, json_t **out, struct lb_errmsg *em);

/* lb_json_file_read that also gives the file's bytes, for a file whose bytes count
 * (genesis.json: their hash is the network id): at most max bytes (LB_ETOOBIG over it), new
 * in *text (NUL-terminated, *len bytes; caller lb_free's it), NULL and 0 for a missing file
 * that is not required. */
int lb_json_file_read_text(const char *path, unsigned flags, size_t max, json_t **out,
			   uint8_t **text, size_t *len, struct lb_errmsg *em);

/* Write o (borrowed) to path, indented with sorted keys, atomically (temp file, fsync,
 * rename; mode 0600): when it fails, the old file is still there, unchanged. */
int lb_json_file_save(const char *path, const json_t *o, struct lb_errmsg *em);

#endif
