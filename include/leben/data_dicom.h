/*
 * DICOM Part 10 files: a parser for the file format (preamble + "DICM", the group-0002 file
 * meta information, explicit and implicit VR, little and big endian, deflated data sets,
 * sequences and items of defined or undefined length, encapsulated pixel data) and the DICOM
 * data dictionary (tag -> keyword, VR, VM) built from the standard's PS3.6 tables as shipped by
 * dcmtk. Pixel data is not decoded; its bytes are kept as they are in the file.
 *
 * Part of the data-asset layer (src/data/); no ledger dependency.
 */
#ifndef LEBEN_DATA_DICOM_H
#define LEBEN_DATA_DICOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/base.h"

/* ---- data dictionary -------------------------------------------------------------------- */

/* One dictionary entry. VR is the two-letter VR or, for tags whose VR depends on the data set,
 * one of dcmtk's pseudo-VRs: "ox" (OB or OW), "xs" (US or SS), "lt" (US, SS or OW),
 * "px" (pixel data, OB or OW), "up" (UL offset), "na" (item/delimiter tags). */
struct lb_dicom_dict_entry {
	uint32_t tag;        /* (group << 16) | element; for repeating groups the tag looked up */
	const char *vr;      /* borrowed, static */
	const char *keyword; /* borrowed, static, e.g. "PatientName" */
	const char *vm;      /* borrowed, static, e.g. "1-n" */
};

/* Look tag up in the built-in dictionary (generated from dcmtk's dicom.dic, including repeating
 * groups such as 60xx overlays). Group-length tags (gggg,0000) map to UL "GroupLength".
 * Returns false if the tag is unknown (private tags are never in it). */
bool lb_dicom_dict_lookup(uint32_t tag, struct lb_dicom_dict_entry *out);

/* Number of exact (non-range) entries in the built-in dictionary. */
size_t lb_dicom_dict_size(void);

/* A dictionary loaded from a file in dcmtk's dicom.dic layout (tab-separated
 * "(gggg,eeee) VR Keyword VM Version"); used to check or extend the built-in table. */
struct lb_dicom_dict;
/* Load path (at most 16 MiB). Caller frees with lb_dicom_dict_free. Syntax errors name the line. */
int lb_dicom_dict_load(const char *path, struct lb_dicom_dict **out, struct lb_errmsg *em);
void lb_dicom_dict_free(struct lb_dicom_dict *d);
/* Number of entries (exact and ranges) loaded. */
size_t lb_dicom_dict_count(const struct lb_dicom_dict *d);
/* Look tag up in a loaded dictionary; strings in out are borrowed until lb_dicom_dict_free. */
bool lb_dicom_dict_find(const struct lb_dicom_dict *d, uint32_t tag,
			struct lb_dicom_dict_entry *out);

/* ---- parsed files ----------------------------------------------------------------------- */

struct lb_dicom_item;

/* One data element. Value bytes point into the file's buffer (or its inflated copy) and are in
 * the byte order of the data set that holds the element. */
struct lb_dicom_elem {
	uint32_t tag;            /* (group << 16) | element */
	char vr[3];              /* VR as read (explicit) or resolved from the dictionary (implicit) */
	bool undefined_length;   /* length was 0xFFFFFFFF in the file */
	bool little_endian;      /* byte order of the value */
	size_t offset;           /* offset of the element's tag in the file (inflated stream offsets
				    are reported past the deflate start) */
	const uint8_t *value;    /* borrowed from the file; NULL for SQ; for encapsulated pixel data
				    the items up to (not including) the sequence delimiter */
	size_t length;           /* bytes at value */
	struct lb_dicom_item *items; /* owned; SQ items (NULL otherwise) */
	size_t nitems;
};

/* One sequence item: a nested data set. */
struct lb_dicom_item {
	struct lb_dicom_elem *elems; /* owned */
	size_t nelems;
	size_t offset;               /* offset of the item tag */
};

/* A parsed file. `meta` is group 0002 (empty when the file has none), `elems` the data set. */
struct lb_dicom_file {
	bool has_preamble;           /* 128 bytes + "DICM" were present */
	char transfer_syntax[65];    /* UID from (0002,0010), or the one guessed when absent */
	bool explicit_vr;            /* data set encoding */
	bool little_endian;
	bool deflated;
	struct lb_dicom_item meta;   /* file meta information */
	struct lb_dicom_item body;   /* the data set */
	uint8_t *owned;              /* internal: buffers this file owns (input copy, inflated) */
	uint8_t *inflated;
	size_t inflated_len;
};

/* Limits for untrusted input. */
#define LB_DICOM_MAX_DEPTH 32        /* nested sequences */
#define LB_DICOM_MAX_ELEMS 2000000   /* elements in a file, all levels together */

/* Parse a Part 10 file held in memory. The bytes are copied, so data may be freed after the
 * call. Files without preamble/meta are accepted (encoding guessed as pydicom and dcmtk do)
 * when their first element is plausible (see lb_dicom_is_dataset); others are LB_EMALFORMED
 * "not a DICOM file" at offset 0.
 * Errors: LB_ETRUNCATED (file ends inside an element), LB_EMALFORMED (impossible lengths or
 * delimiters, unknown explicit VR), LB_ELIMIT, LB_EUNSUPPORTED; em names the byte offset.
 * On success the caller releases f with lb_dicom_file_release. */
int lb_dicom_parse(const uint8_t *data, size_t len, struct lb_dicom_file *f,
		   struct lb_errmsg *em);
/* True if data looks like DICOM: "DICM" at offset 128, a meta group at offset 0, or a bare data
 * set whose first element is plausible (group 0001..7FE0, length that fits) in implicit VR
 * little endian or explicit VR little/big endian. Used to recognise files without preamble. */
bool lb_dicom_is_dataset(const uint8_t *data, size_t len);
/* Read and parse path (at most max bytes); errors name the file and the offset. */
int lb_dicom_parse_file(const char *path, size_t max, struct lb_dicom_file *f,
			struct lb_errmsg *em);
void lb_dicom_file_release(struct lb_dicom_file *f);

/* Find an element by tag at the top level of meta or body (NULL if absent). Borrowed. */
const struct lb_dicom_elem *lb_dicom_find(const struct lb_dicom_file *f, uint32_t tag);
/* Element value as a trimmed string (text VRs) into out (NUL-terminated, truncated to cap).
 * Returns false if the element is absent or not a text VR. */
bool lb_dicom_get_string(const struct lb_dicom_file *f, uint32_t tag, char *out, size_t cap);
/* First numeric value of a US/SS/UL/SL/IS/DS element. */
bool lb_dicom_get_number(const struct lb_dicom_file *f, uint32_t tag, double *out);

/* True for VRs whose value is text (AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT). */
bool lb_dicom_vr_is_text(const char *vr);

/* Write the whole file as JSON (jansson-free text) into out: {"file_meta":[...],"dataset":[...]}
 * where each element is {"tag":"ggggeeee","vr":..,"keyword":..,"offset":..,"length":..,
 * "value":[..]} (text split on '\\', numbers decoded), or "items":[[...],...] for sequences,
 * or "blake2b":hex-256 of the value bytes for binary VRs. */
int lb_dicom_to_json(const struct lb_dicom_file *f, struct lb_buf *out);
/* Same as a human-readable dump, one element per line, indented by nesting level. */
int lb_dicom_to_text(const struct lb_dicom_file *f, struct lb_buf *out);

/* First frame of native (uncompressed) pixel data as 8-bit luma, scaled from the frame's
 * minimum..maximum (MONOCHROME1 inverted, RGB by BT.601 weights); caller frees *luma with
 * lb_free. Encapsulated (compressed) pixel data: LB_EUNSUPPORTED, except baseline JPEG
 * (1.2.840.10008.1.2.4.50), whose first fragment is decoded with libjpeg. */
int lb_dicom_luma(const struct lb_dicom_file *f, uint8_t **luma, uint32_t *w, uint32_t *h,
		  struct lb_errmsg *em);

#endif
