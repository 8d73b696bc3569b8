/*
 * Extractors of the data layer: what LEBEN reads from a data file to describe it in the
 * hexahedron's "data features" facet, without keeping or sending the data itself.
 *   - tables (CSV/TSV): column types, missing values, distinct counts, min/max/mean/sd,
 *     quantiles and histograms;
 *   - HL7 FHIR R4 JSON (a Bundle or one resource): resource counts, codes, dates, patients;
 *   - text (clinical notes): encoding, length, language, frequent terms;
 *   - images (PNG, JPEG): dimensions, channels, bit depth, and 8-bit luma for perceptual hashing;
 *   - audio (WAV, FLAC, MP3, Ogg) and video (MP4, WebM/Matroska, AVI): duration, sample rate,
 *     channels, resolution and codecs from the container headers (media.c);
 *   - PDF documents: pages, document information and the text of every page (pdf.c, poppler);
 *   - the type detector every command uses (detect.c): libmagic's reading of the magic bytes
 *     first, then the extractor of that type confirms by parsing.
 * Every function is pure over the bytes given; malformed input gives an error whose message
 * names the byte offset (and line where that helps). Results convert to JSON (jansson).
 */
#ifndef LEBEN_DATA_EXTRACT_H
#define LEBEN_DATA_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"

/* ---- tables ------------------------------------------------------------------------------ */

enum lb_col_type {
	LB_COL_EMPTY,   /* every value missing */
	LB_COL_INTEGER, /* every present value an integer */
	LB_COL_REAL,    /* every present value a number */
	LB_COL_BOOLEAN, /* true/false, yes/no, t/f */
	LB_COL_DATE,    /* ISO 8601 date or date-time (YYYY-MM-DD...) */
	LB_COL_TEXT,    /* anything else */
};

#define LB_CSV_HIST_BINS 10
#define LB_CSV_TOP 5
#define LB_CSV_FREQ_MAX 1024

struct lb_csv_top {
	char *value;    /* owned */
	size_t count;
};

/* Profile of one column. Numbers are over present values only. */
struct lb_csv_column {
	char *name;                 /* owned; header text or "column N" */
	enum lb_col_type type;
	size_t count;               /* rows */
	size_t missing;             /* empty or a missing marker (NA, N/A, NaN, null, ?, ...) */
	size_t distinct;            /* distinct present values (exact, by 64-bit hash) */
	/* numeric columns (INTEGER, REAL, BOOLEAN as 0/1) */
	double min, max, mean, sd;  /* sd is the sample standard deviation (n-1) */
	double q25, median, q75;    /* linear interpolation between order statistics (numpy's) */
	double skew;                /* adjusted Fisher-Pearson sample skewness, 0 if n < 3 */
	size_t hist[LB_CSV_HIST_BINS]; /* equal-width bins over [min,max], last bin closed */
	double *values;             /* owned; the present numeric values in row order */
	size_t nvalues;
	double *cells;              /* owned; numeric columns: one per row, NAN where missing */
	/* text and date columns */
	char *min_text, *max_text;  /* owned; byte-wise smallest/largest present value */
	struct lb_csv_top top[LB_CSV_TOP]; /* most frequent values (ties: first seen) */
	size_t ntop;
	struct lb_csv_top *freq;    /* owned; every distinct value with its count (in no
				       particular order) when distinct <= LB_CSV_FREQ_MAX; else NULL */
	size_t nfreq;
	size_t max_length;          /* longest value in bytes */
};

struct lb_csv_options {
	char delimiter;   /* 0: detect among ',', ';', '\t', '|', ' ' */
	int header;       /* -1 detect, 0 no header row, 1 header row */
	size_t skip_rows; /* rows to drop before the header/data; leading rows whose field count
			     differs from the table's are dropped anyway (sklearn's layout) */
	size_t max_rows;  /* 0: no limit */
};

struct lb_csv_profile {
	char delimiter;
	bool has_header;
	size_t skipped_rows;        /* leading rows dropped */
	size_t rows;                /* data rows */
	size_t ragged_rows;         /* data rows with fewer or more fields than columns */
	struct lb_csv_column *cols; /* owned */
	size_t ncols;
	uint64_t *row_hash;         /* owned; 64-bit hash of each data row's cells (duplicates) */
};

/* Profile CSV text. opt may be NULL (detect everything). LB_EMALFORMED for an unterminated
 * quote or a NUL byte (message gives line and byte offset); an empty input gives a
 * profile of 0 columns and 0 rows; a single line of distinct non-numeric cells is a header
 * (0 rows) unless opt says otherwise. */
int lb_csv_profile(const char *text, size_t len, const struct lb_csv_options *opt,
		   struct lb_csv_profile *out, struct lb_errmsg *em);
void lb_csv_profile_release(struct lb_csv_profile *p);
const char *lb_col_type_name(enum lb_col_type t);
/* JSON view (caller releases with json_decref); NULL on allocation failure. */
json_t *lb_csv_profile_json(const struct lb_csv_profile *p);

/* ---- FHIR R4 JSON ------------------------------------------------------------------------ */

struct lb_fhir_count {
	char *key;    /* owned: resource type, or "system|code" */
	size_t count;
};

struct lb_fhir_summary {
	size_t resources;                 /* resources read (entries of a Bundle, or 1) */
	struct lb_fhir_count *types;      /* owned; resources per type, sorted by name */
	size_t ntypes;
	struct lb_fhir_count *codes;      /* owned; every Coding system|code seen, sorted */
	size_t ncodes;
	size_t patients;                  /* distinct patients: Patient resources and references */
	char first_date[40], last_date[40]; /* earliest/latest FHIR date or dateTime, "" if none */
	char bundle_type[32];             /* Bundle.type, "" for a single resource */
};

/* Summarise a Bundle or a single resource of the types LEBEN reads (Patient, Observation,
 * Condition, Encounter, Consent, Provenance, AuditEvent; other types are counted too).
 * LB_EMALFORMED for invalid JSON (byte offset, line, column), LB_EINVALID for JSON that is not
 * FHIR (no resourceType, bad Bundle entries, dates that are not FHIR dates). */
int lb_fhir_summarise(const char *text, size_t len, struct lb_fhir_summary *out,
		      struct lb_errmsg *em);
void lb_fhir_summary_release(struct lb_fhir_summary *s);
json_t *lb_fhir_summary_json(const struct lb_fhir_summary *s);

/* ---- text -------------------------------------------------------------------------------- */

struct lb_text_profile {
	bool utf8;             /* the bytes are valid UTF-8 */
	size_t bytes, chars, words, lines;
	char language[4];      /* ISO 639-1 guess from stop words ("en", "fr", "de", "es", "it",
				  "nl", "pt"), "" if unknown */
	char *terms[10];       /* owned; most frequent words of 4+ letters that are not stop words */
	size_t term_counts[10];
	size_t nterms;
};

/* LB_EMALFORMED if the text contains NUL bytes (binary data). */
int lb_text_profile(const char *text, size_t len, struct lb_text_profile *out,
		    struct lb_errmsg *em);
void lb_text_profile_release(struct lb_text_profile *p);
json_t *lb_text_profile_json(const struct lb_text_profile *p);

/* ---- images ------------------------------------------------------------------------------ */

struct lb_image {
	char format[8];   /* "png" or "jpeg" */
	uint32_t width, height;
	int channels;     /* in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA/CMYK */
	int bit_depth;    /* per channel, in the file */
	uint8_t *luma;    /* owned; width*height 8-bit luma (ITU-R BT.601), or NULL if not asked */
};

#define LB_IMAGE_MAX_PIXELS (100u * 1000u * 1000u)

/* Read a PNG or JPEG image (detected from its signature). With want_luma the pixels are
 * decoded to luma. LB_EUNSUPPORTED for other formats, LB_EMALFORMED/LB_ETRUNCATED for damaged
 * files, LB_ELIMIT above LB_IMAGE_MAX_PIXELS. */
int lb_image_read(const uint8_t *data, size_t len, bool want_luma, struct lb_image *out,
		  struct lb_errmsg *em);
void lb_image_release(struct lb_image *img);
json_t *lb_image_json(const struct lb_image *img);

/* ---- type detection (detect.c) ------------------------------------------------------------ */

/* Types LEBEN registers, as --type and lb_data_detect name them. */
#define LB_DATA_TYPES "dicom, csv, fhir, text, image, audio, video, pdf"

struct lb_detected {
	char type[8];     /* one of LB_DATA_TYPES ("csv" for tables) */
	char mime[96];    /* libmagic's MIME type ("audio/x-wav"), or "" without libmagic */
	char what[200];   /* libmagic's description of the content ("RIFF (little-endian) ...") */
};

/* Decide the type of a file from its bytes: the magic bytes first (libmagic's database,
 * DICM at offset 128 before it), then the text family by content (a JSON object is FHIR, a
 * .csv/.tsv name or text/csv is a table, other text is a note) and, for binary data libmagic
 * does not name, a bare DICOM data set (lb_dicom_is_dataset) or a .dcm name. name (may be
 * NULL) is only used for the suffix. The extractor of the type found confirms by parsing.
 * LB_EUNSUPPORTED for a type LEBEN does not register and LB_EINVALID for an empty file, with
 * a message saying what the file is, which types LEBEN registers and what to do; out->mime
 * and out->what are filled in every case. */
int lb_data_detect(const char *name, const uint8_t *d, size_t n, struct lb_detected *out,
		   struct lb_errmsg *em);
/* A --type value: "table" is accepted for "csv". Returns the canonical name or NULL. */
const char *lb_data_type_name(const char *type);

/* ---- audio and video (media.c) ------------------------------------------------------------ */

struct lb_media {
	char kind[8];            /* "audio" or "video" (a container with a video track) */
	char container[8];       /* "wav", "flac", "mp3", "ogg", "mp4", "mov", "webm", "mkv", "avi" */
	double duration;         /* seconds; 0 if the container does not say */
	uint32_t sample_rate;    /* Hz of the first audio stream, 0 if none */
	uint32_t channels;       /* of the first audio stream */
	uint32_t bits;           /* bits per sample where the container says (WAV, FLAC), else 0 */
	uint32_t bitrate;        /* kbit/s where the container says (MP3 frames, WAV), else 0 */
	uint32_t width, height;  /* of the first video stream, 0 if none */
	double frame_rate;       /* frames per second where the container says, else 0 */
	char audio_codec[24];    /* as the container names it: "pcm", "mp3", "vorbis", "opus",
				    "flac", "mp4a", "A_OPUS", ...; "" if none */
	char video_codec[24];    /* "avc1", "hev1", "V_VP8", "V_VP9", "H264", "MJPG", "theora", ... */
	uint32_t tracks;         /* streams the container lists */
};

/* Read the container headers of a WAV, FLAC, MP3, Ogg (Vorbis, Opus, FLAC, Theora), MP4/MOV
 * (ISO BMFF), WebM/Matroska or AVI file. Nothing is decoded. LB_EUNSUPPORTED for other data,
 * LB_EMALFORMED/LB_ETRUNCATED with the byte offset for damaged headers. */
int lb_media_read(const uint8_t *d, size_t n, struct lb_media *out, struct lb_errmsg *em);
json_t *lb_media_json(const struct lb_media *m);

/* ---- PDF (pdf.c, poppler) ----------------------------------------------------------------- */

struct lb_pdf {
	uint32_t pages;
	char *text;              /* owned; UTF-8 text of the pages, each page ended by '\f' */
	size_t text_len;
	size_t words;            /* words in text (data_next_word's notion) */
	char title[256], author[256], subject[256], keywords[256], creator[256], producer[256];
	char version[16];        /* "PDF-1.7" */
	int64_t created;         /* creation date, seconds since the epoch, -1 if none */
};

/* Open a PDF from memory with poppler and extract its pages' text. LB_EMALFORMED for data
 * poppler cannot open, LB_EUNAUTH for an encrypted PDF that needs a password. Release with
 * lb_pdf_release. */
int lb_pdf_read(const uint8_t *d, size_t n, struct lb_pdf *out, struct lb_errmsg *em);
void lb_pdf_release(struct lb_pdf *p);
json_t *lb_pdf_json(const struct lb_pdf *p);

#endif
