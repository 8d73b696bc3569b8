/*
 * Audio and video metadata from container headers, for the hexahedron's data features:
 * duration, sample rate, channels, resolution, frame rate and codec names, as the container
 * states them. Nothing is decoded. Containers: RIFF WAVE, FLAC, MP3 (ID3v2 skipped, first
 * frame header, Xing/Info/VBRI frame counts), Ogg (Vorbis, Opus, FLAC, Theora; duration from
 * the last page's granule position), ISO BMFF (MP4/MOV/M4A: mvhd, tkhd, mdhd, hdlr, stsd),
 * EBML (WebM/Matroska: Info, Tracks) and RIFF AVI (avih, strh, strf). Every length is checked
 * against what is left; damage is reported with its byte offset.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/data_extract.h"

#define MEDIA_MAX_DEPTH 16

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* Printable four-character code ("avc1"), trailing spaces and NULs cut. */
static void fourcc(char *out, size_t cap, const uint8_t *p)
{
	size_t k = 0;
	for (size_t i = 0; i < 4 && k + 1 < cap; i++)
		out[k++] = p[i] >= 0x20 && p[i] < 0x7F ? (char)p[i] : '?';
	while (k && (out[k - 1] == ' ' || out[k - 1] == '?'))
		k--;
	out[k] = 0;
}

static void set_codec(char *dst, const char *src)
{
	if (!dst[0])
		snprintf(dst, 24, "%s", src);
}

/* ---- RIFF: WAVE and AVI ------------------------------------------------------------------- */

static int read_wav(const uint8_t *d, size_t n, struct lb_media *m, struct lb_errmsg *em)
{
	size_t off = 12;
	bool fmt = false;
	uint32_t byte_rate = 0;
	snprintf(m->kind, sizeof m->kind, "audio");
	snprintf(m->container, sizeof m->container, "wav");
	while (off + 8 <= n) {
		uint32_t sz = le32(d + off + 4);
		const uint8_t *c = d + off + 8;
		size_t left = n - off - 8;
		if (!memcmp(d + off, "fmt ", 4)) {
			if (sz < 16 || sz > left)
				return lb_errf(em, sz > left ? LB_ETRUNCATED : LB_EMALFORMED,
					       "offset %zu: WAVE fmt chunk of %u bytes is %s", off, sz,
					       sz > left ? "cut short" : "too small");
			uint16_t tag = le16(c);
			if (tag == 0xFFFE && sz >= 40)
				tag = le16(c + 24); /* WAVE_FORMAT_EXTENSIBLE: the sub-format GUID */
			m->channels = le16(c + 2);
			m->sample_rate = le32(c + 4);
			byte_rate = le32(c + 8);
			m->bits = le16(c + 14);
			m->bitrate = byte_rate / 125;
			const char *name = tag == 1 ? "pcm" : tag == 3 ? "float" : tag == 6 ? "alaw"
					 : tag == 7 ? "mulaw" : tag == 0x55 ? "mp3" : tag == 2 ? "adpcm" : NULL;
			char other[24];
			snprintf(other, sizeof other, "0x%04x", tag);
			set_codec(m->audio_codec, name ? name : other);
			m->tracks = 1;
			fmt = true;
		} else if (!memcmp(d + off, "data", 4)) {
			if (!fmt)
				return lb_errf(em, LB_EMALFORMED,
					       "offset %zu: WAVE data chunk before its fmt chunk", off);
			/* a recorder that stopped early leaves a size past the end: count what is there */
			uint64_t bytes = sz == 0xFFFFFFFFu || sz > left ? left : sz;
			if (byte_rate)
				m->duration = (double)bytes / byte_rate;
			return LB_OK;
		}
		off += 8 + (uint64_t)sz + (sz & 1);
	}
	return lb_errf(em, fmt ? LB_ETRUNCATED : LB_EMALFORMED,
		       "offset %zu: the WAVE file has no %s chunk", n, fmt ? "data" : "fmt");
}

struct avi_state {
	uint32_t us_per_frame, frames;
	char last_type[5];   /* fccType of the last strh: "vids"/"auds" */
	uint32_t scale, rate;
};

static int walk_avi(const uint8_t *d, size_t start, size_t end, int depth, struct avi_state *st,
		    struct lb_media *m, struct lb_errmsg *em)
{
	if (depth > MEDIA_MAX_DEPTH)
		return lb_errf(em, LB_EMALFORMED, "offset %zu: AVI lists nested too deep", start);
	size_t off = start;
	while (off + 8 <= end) {
		uint32_t sz = le32(d + off + 4);
		const uint8_t *c = d + off + 8;
		if (sz > end - off - 8) {
			if (!memcmp(d + off, "LIST", 4) && off + 12 <= end && !memcmp(c, "movi", 4))
				return LB_OK; /* a cut movie list after the headers: the headers are read */
			return lb_errf(em, LB_ETRUNCATED, "offset %zu: AVI chunk '%.4s' of %u bytes "
				       "runs past the end of the file", off, (const char *)(d + off), sz);
		}
		if (!memcmp(d + off, "LIST", 4) && sz >= 4) {
			if (memcmp(c, "movi", 4)) {
				int rc = walk_avi(d, off + 12, off + 8 + sz, depth + 1, st, m, em);
				if (rc)
					return rc;
			}
		} else if (!memcmp(d + off, "avih", 4) && sz >= 40) {
			st->us_per_frame = le32(c);
			st->frames = le32(c + 16);
			m->tracks = le32(c + 24);
			m->width = le32(c + 32);
			m->height = le32(c + 36);
		} else if (!memcmp(d + off, "strh", 4) && sz >= 32) {
			memcpy(st->last_type, c, 4);
			st->last_type[4] = 0;
			if (!memcmp(c, "vids", 4)) {
				st->scale = le32(c + 20);
				st->rate = le32(c + 24);
				if (st->scale && !m->frame_rate)
					m->frame_rate = (double)st->rate / st->scale;
			}
		} else if (!memcmp(d + off, "strf", 4)) {
			if (!strcmp(st->last_type, "vids") && sz >= 40) {
				char cc[8];
				fourcc(cc, sizeof cc, c + 16);
				set_codec(m->video_codec, cc[0] ? cc : "raw");
				if (!m->width) {
					m->width = le32(c + 4);
					m->height = (uint32_t)labs((long)(int32_t)le32(c + 8));
				}
			} else if (!strcmp(st->last_type, "auds") && sz >= 16) {
				uint16_t tag = le16(c);
				const char *name = tag == 1 ? "pcm" : tag == 0x55 ? "mp3" : tag == 0xFF ||
						   tag == 0x1610 ? "aac" : tag == 0x2000 ? "ac3" : NULL;
				char other[24];
				snprintf(other, sizeof other, "0x%04x", tag);
				set_codec(m->audio_codec, name ? name : other);
				if (!m->sample_rate) {
					m->channels = le16(c + 2);
					m->sample_rate = le32(c + 4);
					m->bits = le16(c + 14);
				}
			}
		}
		off += 8 + (uint64_t)sz + (sz & 1);
	}
	return LB_OK;
}

static int read_avi(const uint8_t *d, size_t n, struct lb_media *m, struct lb_errmsg *em)
{
	struct avi_state st = {0};
	snprintf(m->container, sizeof m->container, "avi");
	size_t end = n;
	uint32_t riff = le32(d + 4);
	if ((uint64_t)riff + 8 < end)
		end = (size_t)riff + 8;
	int rc = walk_avi(d, 12, end, 0, &st, m, em);
	if (rc)
		return rc;
	if (!st.us_per_frame && !m->frame_rate && !m->width)
		return lb_errf(em, LB_EMALFORMED, "offset 12: the AVI file has no main header (avih)");
	if (!m->frame_rate && st.us_per_frame)
		m->frame_rate = 1e6 / st.us_per_frame;
	if (st.us_per_frame)
		m->duration = (double)st.frames * st.us_per_frame / 1e6;
	snprintf(m->kind, sizeof m->kind, "%s", m->width || m->video_codec[0] ? "video" : "audio");
	return LB_OK;
}

/* ---- FLAC --------------------------------------------------------------------------------- */

/* STREAMINFO at p (34 bytes). */
static void flac_streaminfo(const uint8_t *p, struct lb_media *m)
{
	m->sample_rate = (uint32_t)p[10] << 12 | (uint32_t)p[11] << 4 | p[12] >> 4;
	m->channels = ((p[12] >> 1) & 7) + 1;
	m->bits = (((uint32_t)(p[12] & 1) << 4) | p[13] >> 4) + 1;
	uint64_t total = (uint64_t)(p[13] & 15) << 32 | be32(p + 14);
	if (m->sample_rate)
		m->duration = (double)total / m->sample_rate;
	set_codec(m->audio_codec, "flac");
}

static int read_flac(const uint8_t *d, size_t n, struct lb_media *m, struct lb_errmsg *em)
{
	snprintf(m->kind, sizeof m->kind, "audio");
	snprintf(m->container, sizeof m->container, "flac");
	if (n < 4 + 4 + 34)
		return lb_errf(em, LB_ETRUNCATED, "offset %zu: the FLAC file ends before its stream "
			       "information", n);
	if ((d[4] & 0x7F) != 0 || ((uint32_t)d[5] << 16 | be16(d + 6)) < 34)
		return lb_errf(em, LB_EMALFORMED,
			       "offset 4: the first FLAC metadata block is not STREAMINFO");
	flac_streaminfo(d + 8, m);
	m->tracks = 1;
	if (!m->sample_rate)
		return lb_errf(em, LB_EMALFORMED, "offset 18: FLAC sample rate 0");
	return LB_OK;
}

/* ---- MP3 ---------------------------------------------------------------------------------- */

static int read_mp3(const uint8_t *d, size_t n, struct lb_media *m, struct lb_errmsg *em)
{
	static const uint16_t br[2][3][16] = {
		/* MPEG-1: layer I, II, III */
		{{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0},
		 {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0},
		 {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}},
		/* MPEG-2/2.5 */
		{{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0},
		 {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
		 {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}}};
	static const uint32_t sr[3] = {44100, 48000, 32000};
	size_t off = 0;
	snprintf(m->kind, sizeof m->kind, "audio");
	snprintf(m->container, sizeof m->container, "mp3");
	if (n >= 10 && !memcmp(d, "ID3", 3)) {
		if ((d[6] | d[7] | d[8] | d[9]) & 0x80)
			return lb_errf(em, LB_EMALFORMED, "offset 6: ID3v2 tag size is not syncsafe");
		size_t tag = (size_t)d[6] << 21 | (size_t)d[7] << 14 | (size_t)d[8] << 7 | d[9];
		off = 10 + tag + ((d[5] & 0x10) ? 10 : 0);
		if (off > n)
			return lb_errf(em, LB_ETRUNCATED, "offset 6: the ID3v2 tag (%zu bytes) runs past "
				       "the end of the file", tag);
	}
	/* the first frame header: sync, a valid version/layer/bitrate/rate, and the next frame
	 * where the length says (or the end of the file) */
	size_t limit = off + 65536 < n ? off + 65536 : n;
	for (; off + 4 <= limit; off++) {
		const uint8_t *h = d + off;
		if (h[0] != 0xFF || (h[1] & 0xE0) != 0xE0)
			continue;
		int ver = (h[1] >> 3) & 3, layer = (h[1] >> 1) & 3, bri = h[2] >> 4, sri = (h[2] >> 2) & 3;
		if (ver == 1 || layer == 0 || bri == 0 || bri == 15 || sri == 3)
			continue;
		int v1 = ver == 3, li = 3 - layer; /* layer bits 3 = I, 2 = II, 1 = III */
		uint32_t rate = sr[sri] >> (ver == 3 ? 0 : ver == 2 ? 1 : 2);
		uint32_t kbps = br[v1 ? 0 : 1][li][bri];
		uint32_t spf = li == 0 ? 384 : li == 1 || v1 ? 1152 : 576;
		uint32_t pad = (h[2] >> 1) & 1;
		size_t flen = li == 0 ? (12u * kbps * 1000 / rate + pad) * 4
				      : (size_t)spf / 8 * kbps * 1000 / rate + pad;
		if (flen < 4)
			continue;
		if (off + flen + 2 <= n && (d[off + flen] != 0xFF || (d[off + flen + 1] & 0xE0) != 0xE0))
			continue; /* not followed by another frame: a false sync */
		m->sample_rate = rate;
		m->channels = ((h[3] >> 6) & 3) == 3 ? 1 : 2;
		m->bitrate = kbps;
		m->tracks = 1;
		set_codec(m->audio_codec, li == 2 ? "mp3" : li == 1 ? "mp2" : "mp1");
		/* Xing/Info (after the side information) or VBRI (32 bytes in): the frame count */
		size_t side = v1 ? (m->channels == 1 ? 17 : 32) : (m->channels == 1 ? 9 : 17);
		uint64_t frames = 0;
		const uint8_t *x = h + 4 + side;
		if ((size_t)(x - d) + 12 <= n && (!memcmp(x, "Xing", 4) || !memcmp(x, "Info", 4)) &&
		    (be32(x + 4) & 1))
			frames = be32(x + 8);
		else if (off + 36 + 18 <= n && !memcmp(h + 36, "VBRI", 4))
			frames = be32(h + 36 + 14);
		if (frames)
			m->duration = (double)frames * spf / rate;
		else /* constant bit rate: the audio bytes over the rate */
			m->duration = (double)(n - off - (n >= 128 && !memcmp(d + n - 128, "TAG", 3) ? 128 : 0)) *
				      8 / (kbps * 1000.0);
		return LB_OK;
	}
	return lb_errf(em, LB_EMALFORMED, "offset %zu: no MPEG audio frame found", off);
}

/* ---- Ogg ---------------------------------------------------------------------------------- */

/* The first packet of the first page (the stream's identification header). */
static int read_ogg(const uint8_t *d, size_t n, struct lb_media *m, struct lb_errmsg *em)
{
	snprintf(m->container, sizeof m->container, "ogg");
	if (n < 27 || d[4] != 0)
		return lb_errf(em, n < 27 ? LB_ETRUNCATED : LB_EMALFORMED,
			       "offset 4: not an Ogg page header (version %d)", n > 4 ? d[4] : -1);
	size_t nseg = d[26], body = 27 + nseg;
	if (body > n)
		return lb_errf(em, LB_ETRUNCATED, "offset 26: the Ogg page's segment table runs past "
			       "the end");
	size_t plen = 0;
	for (size_t i = 0; i < nseg; i++) {
		plen += d[27 + i];
		if (d[27 + i] < 255)
			break;
	}
	if (plen > n - body)
		return lb_errf(em, LB_ETRUNCATED, "offset %zu: the first Ogg packet (%zu bytes) runs "
			       "past the end", body, plen);
	const uint8_t *p = d + body;
	double gran_rate = 0;
	uint64_t pre_skip = 0;
	int kfg_shift = -1; /* Theora: granule = key frame number << shift | frames since it */
	uint32_t serial = le32(d + 14);
	if (plen >= 30 && !memcmp(p, "\x01vorbis", 7)) {
		m->channels = p[11];
		m->sample_rate = le32(p + 12);
		m->bitrate = le32(p + 20) / 1000;
		set_codec(m->audio_codec, "vorbis");
		gran_rate = m->sample_rate;
		snprintf(m->kind, sizeof m->kind, "audio");
	} else if (plen >= 19 && !memcmp(p, "OpusHead", 8)) {
		m->channels = p[9];
		pre_skip = le16(p + 10);
		m->sample_rate = le32(p + 12);
		set_codec(m->audio_codec, "opus");
		gran_rate = 48000; /* Opus granules count 48 kHz samples whatever the input rate */
		snprintf(m->kind, sizeof m->kind, "audio");
	} else if (plen >= 51 && !memcmp(p, "\x7f" "FLAC", 5) && !memcmp(p + 9, "fLaC", 4)) {
		flac_streaminfo(p + 17, m);
		m->duration = 0; /* from the granules below */
		gran_rate = m->sample_rate;
		snprintf(m->kind, sizeof m->kind, "audio");
	} else if (plen >= 42 && !memcmp(p, "\x80theora", 7)) {
		m->width = (uint32_t)p[14] << 16 | (uint32_t)p[15] << 8 | p[16];
		m->height = (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
		uint32_t fn = be32(p + 22), fd = be32(p + 26);
		if (fd)
			m->frame_rate = (double)fn / fd;
		kfg_shift = (p[40] & 0x03) << 3 | p[41] >> 5;
		if (fn && fd)
			gran_rate = (double)fn / fd;
		set_codec(m->video_codec, "theora");
		snprintf(m->kind, sizeof m->kind, "video");
	} else {
		return lb_errf(em, LB_EUNSUPPORTED, "offset %zu: the Ogg stream is neither Vorbis, "
			       "Opus, FLAC nor Theora", body);
	}
	m->tracks = 1;
	/* the last page's granule position gives the length of an audio stream */
	if (gran_rate > 0) {
		size_t from = n > 65536 + 27 ? n - 65536 - 27 : 0;
		for (size_t off = n - 27 + 1; off-- > from;) {
			if (memcmp(d + off, "OggS", 4) || d[off + 4] != 0 || le32(d + off + 14) != serial)
				continue;
			uint64_t g = le64(d + off + 6);
			if (g == UINT64_MAX)
				continue; /* no packet ends on this page */
			if (kfg_shift >= 0) /* frames: key frame number + frames since (from 1) */
				g = kfg_shift < 64 ? (g >> kfg_shift) + (g & ((1ull << kfg_shift) - 1)) : 0;
			if (g >= pre_skip)
				m->duration = (double)(g - pre_skip) / gran_rate;
			break;
		}
	}
	return LB_OK;
}

/* ---- ISO BMFF (MP4, MOV, M4A) -------------------------------------------------------------- */

struct bmff_track {
	char handler[5];        /* "vide", "soun", ... */
	uint32_t timescale;
	uint64_t duration;
	uint32_t width, height; /* tkhd, 16.16 fixed point integer part */
	char codec[8];
	uint32_t channels, rate;
	uint32_t samples;       /* stts total, for the frame rate */
};

struct bmff_state {
	uint32_t timescale;
	uint64_t duration;
	struct bmff_track cur;
	bool in_track;
	uint32_t tracks;
	struct lb_media *m;
};

static void bmff_track_done(struct bmff_state *st)
{
	struct bmff_track *t = &st->cur;
	struct lb_media *m = st->m;
	st->tracks++;
	if (!strcmp(t->handler, "vide")) {
		if (!m->width && t->width) {
			m->width = t->width;
			m->height = t->height;
		}
		if (!m->video_codec[0] && t->codec[0])
			set_codec(m->video_codec, t->codec);
		if (!m->frame_rate && t->samples && t->duration && t->timescale)
			m->frame_rate = (double)t->samples * t->timescale / (double)t->duration;
	} else if (!strcmp(t->handler, "soun")) {
		if (!m->audio_codec[0] && t->codec[0])
			set_codec(m->audio_codec, t->codec);
		if (!m->sample_rate) {
			m->sample_rate = t->rate;
			m->channels = t->channels;
		}
	}
	memset(t, 0, sizeof *t);
}

/* MPEG-4 descriptor header in an esds box: tag and variable-length size. */
static bool mp4_desc(const uint8_t *p, size_t n, size_t *off, uint8_t *tag, size_t *len)
{
	if (*off >= n)
		return false;
	*tag = p[(*off)++];
	*len = 0;
	for (int i = 0; i < 4; i++) {
		if (*off >= n)
			return false;
		uint8_t b = p[(*off)++];
		*len = *len << 7 | (b & 0x7F);
		if (!(b & 0x80))
			return *len <= n - *off;
	}
	return false;
}

/* The channel configuration of the AAC AudioSpecificConfig in an esds box body (after its
 * version/flags); 0 if absent. The AudioSampleEntry's own channel count is a fixed 2 for
 * AAC, so this is where the real count is. */
static uint32_t esds_channels(const uint8_t *p, size_t n)
{
	size_t off = 4, len;
	uint8_t tag;
	if (!mp4_desc(p, n, &off, &tag, &len) || tag != 0x03 || off + 3 > n)
		return 0;
	uint8_t fl = p[off + 2];
	off += 3 + ((fl & 0x80) ? 2 : 0);
	if ((fl & 0x40) && off < n)
		off += 1 + p[off];
	off += (fl & 0x20) ? 2 : 0;
	if (!mp4_desc(p, n, &off, &tag, &len) || tag != 0x04 || len < 13)
		return 0;
	off += 13;
	if (!mp4_desc(p, n, &off, &tag, &len) || tag != 0x05 || len < 2)
		return 0;
	uint32_t bits = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
			(len > 2 ? (uint32_t)p[off + 2] << 8 : 0) | (len > 3 ? p[off + 3] : 0);
	int pos = 5; /* object type */
	if ((bits >> 27) == 31)
		pos += 6;
	if (pos + 4 > 32)
		return 0;
	uint32_t sfi = (bits >> (32 - pos - 4)) & 15;
	pos += 4;
	if (sfi == 15)
		return 0; /* explicit 24-bit rate: the channels lie beyond what was read */
	if (pos + 4 > 32)
		return 0;
	uint32_t ch = (bits >> (32 - pos - 4)) & 15;
	return ch == 7 ? 8 : ch >= 1 && ch <= 6 ? ch : 0;
}

static int walk_bmff(const uint8_t *d, size_t start, size_t end, int depth, struct bmff_state *st,
		     struct lb_errmsg *em)
{
	if (depth > MEDIA_MAX_DEPTH)
		return lb_errf(em, LB_EMALFORMED, "offset %zu: MP4 boxes nested too deep", start);
	size_t off = start;
	while (off + 8 <= end) {
		uint64_t sz = be32(d + off);
		size_t hdr = 8;
		const uint8_t *type = d + off + 4;
		if (sz == 1) {
			if (off + 16 > end)
				return lb_errf(em, LB_ETRUNCATED, "offset %zu: MP4 box header cut short", off);
			sz = be64(d + off + 8);
			hdr = 16;
		} else if (sz == 0) {
			sz = end - off; /* to the end of the file */
		}
		if (sz < hdr)
			return lb_errf(em, LB_EMALFORMED, "offset %zu: MP4 box '%.4s' declares %llu bytes",
				       off, (const char *)type, (unsigned long long)sz);
		if (sz > end - off) {
			if (!memcmp(type, "mdat", 4) || !memcmp(type, "free", 4))
				return LB_OK; /* media data cut short: the headers are what we read */
			return lb_errf(em, LB_ETRUNCATED, "offset %zu: MP4 box '%.4s' of %llu bytes runs "
				       "past the end of its parent", off, (const char *)type,
				       (unsigned long long)sz);
		}
		const uint8_t *c = d + off + hdr;
		size_t cl = (size_t)sz - hdr;
		int rc = LB_OK;
		if (!memcmp(type, "moov", 4) || !memcmp(type, "mdia", 4) || !memcmp(type, "minf", 4) ||
		    !memcmp(type, "stbl", 4) || !memcmp(type, "edts", 4)) {
			rc = walk_bmff(d, off + hdr, off + (size_t)sz, depth + 1, st, em);
		} else if (!memcmp(type, "trak", 4)) {
			memset(&st->cur, 0, sizeof st->cur);
			st->in_track = true;
			rc = walk_bmff(d, off + hdr, off + (size_t)sz, depth + 1, st, em);
			st->in_track = false;
			if (!rc)
				bmff_track_done(st);
		} else if (!memcmp(type, "mvhd", 4) && cl >= 4) {
			if (c[0] == 1 && cl >= 32) {
				st->timescale = be32(c + 20);
				st->duration = be64(c + 24);
			} else if (c[0] == 0 && cl >= 20) {
				st->timescale = be32(c + 12);
				st->duration = be32(c + 16);
			}
		} else if (!memcmp(type, "tkhd", 4) && st->in_track && cl >= 4) {
			size_t wo = c[0] == 1 ? 88 : 76;
			if (cl >= wo + 8) {
				st->cur.width = be32(c + wo) >> 16;
				st->cur.height = be32(c + wo + 4) >> 16;
			}
		} else if (!memcmp(type, "mdhd", 4) && st->in_track && cl >= 4) {
			if (c[0] == 1 && cl >= 32) {
				st->cur.timescale = be32(c + 20);
				st->cur.duration = be64(c + 24);
			} else if (c[0] == 0 && cl >= 20) {
				st->cur.timescale = be32(c + 12);
				st->cur.duration = be32(c + 16);
			}
		} else if (!memcmp(type, "hdlr", 4) && st->in_track && cl >= 12 && !st->cur.handler[0]) {
			/* the media handler (mdia) comes first; QuickTime's minf has a second one
			 * for the data reference ("alis", "url ") */
			memcpy(st->cur.handler, c + 8, 4);
			st->cur.handler[4] = 0;
		} else if (!memcmp(type, "stsd", 4) && st->in_track && cl >= 16) {
			/* version/flags, entry count, then the first entry: size, format */
			fourcc(st->cur.codec, sizeof st->cur.codec, c + 12);
			if (!strcmp(st->cur.handler, "soun") && cl >= 8 + 36) {
				/* SampleEntry (8) + AudioSampleEntry: reserved 8, channels, size, 4, rate */
				st->cur.channels = be16(c + 8 + 8 + 8 + 8);
				st->cur.rate = be32(c + 8 + 8 + 8 + 16) >> 16;
				/* child boxes of the entry after its 36 bytes: esds for AAC */
				size_t eend = 8 + (size_t)be32(c + 8);
				if (eend > cl)
					eend = cl;
				for (size_t b = 8 + 36; b + 8 <= eend;) {
					size_t bs = be32(c + b);
					if (bs < 8 || bs > eend - b)
						break;
					if (!memcmp(c + b + 4, "esds", 4)) {
						uint32_t ch = esds_channels(c + b + 8, bs - 8);
						if (ch)
							st->cur.channels = ch;
					}
					b += bs;
				}
			}
		} else if (!memcmp(type, "stts", 4) && st->in_track && cl >= 8) {
			uint32_t cnt = be32(c + 4);
			uint64_t total = 0;
			for (uint32_t i = 0; i < cnt && 8 + (size_t)i * 8 + 8 <= cl; i++)
				total += be32(c + 8 + (size_t)i * 8);
			st->cur.samples = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
		}
		if (rc)
			return rc;
		off += (size_t)sz;
	}
	return LB_OK;
}

static int read_bmff(const uint8_t *d, size_t n, struct lb_media *m, struct lb_errmsg *em)
{
	struct bmff_state st = {.m = m};
	/* the major brand says QuickTime or ISO/MP4 */
	snprintf(m->container, sizeof m->container, "%s",
		 n >= 12 && !memcmp(d + 8, "qt  ", 4) ? "mov" : "mp4");
	int rc = walk_bmff(d, 0, n, 0, &st, em);
	if (rc)
		return rc;
	if (!st.timescale && !st.tracks)
		return lb_errf(em, LB_EMALFORMED, "offset 0: the MP4 file has no movie header (moov)");
	if (st.timescale)
		m->duration = (double)st.duration / st.timescale;
	m->tracks = st.tracks;
	snprintf(m->kind, sizeof m->kind, "%s", m->width || m->video_codec[0] ? "video" : "audio");
	return LB_OK;
}

/* ---- EBML (WebM, Matroska) ----------------------------------------------------------------- */

/* EBML variable-length integer at d[*off] (id keeps its marker bit). */
static int ebml_vint(const uint8_t *d, size_t n, size_t *off, bool keep_marker, uint64_t *out,
		     bool *unknown)
{
	if (*off >= n || d[*off] == 0)
		return -1;
	int len = 1;
	while (!(d[*off] & (0x80 >> (len - 1))))
		len++;
	if (*off + (size_t)len > n)
		return -1;
	uint64_t v = keep_marker ? d[*off] : d[*off] & (0xFF >> len);
	bool all = v == (uint64_t)(0xFF >> len);
	for (int i = 1; i < len; i++) {
		v = v << 8 | d[*off + i];
		all = all && d[*off + i] == 0xFF;
	}
	if (unknown)
		*unknown = !keep_marker && all;
	*off += (size_t)len;
	*out = v;
	return 0;
}

static uint64_t ebml_uint(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n && i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static double ebml_float(const uint8_t *p, size_t n)
{
	if (n == 4) {
		uint32_t u = be32(p);
		float f;
		memcpy(&f, &u, 4);
		return f;
	}
	if (n == 8) {
		uint64_t u = be64(p);
		double f;
		memcpy(&f, &u, 8);
		return f;
	}
	return 0;
}

struct ebml_state {
	char doctype[16];
	uint64_t timecode_scale;
	double duration;
	uint64_t track_type;
	char codec[24];
	uint64_t width, height, channels;
	double rate;
	uint64_t default_duration; /* ns per frame of the current track */
	uint32_t tracks;
	bool seen_segment_info;
	struct lb_media *m;
};

static void ebml_track_done(struct ebml_state *st)
{
	struct lb_media *m = st->m;
	st->tracks++;
	if (st->track_type == 1) {
		set_codec(m->video_codec, st->codec);
		if (!m->width) {
			m->width = (uint32_t)st->width;
			m->height = (uint32_t)st->height;
		}
		if (!m->frame_rate && st->default_duration)
			m->frame_rate = 1e9 / (double)st->default_duration;
	} else if (st->track_type == 2) {
		set_codec(m->audio_codec, st->codec);
		if (!m->sample_rate) {
			m->sample_rate = st->rate > 0 && st->rate < 1e7 ? (uint32_t)st->rate : 0;
			m->channels = (uint32_t)(st->channels ? st->channels : 1);
		}
	}
	st->track_type = st->width = st->height = st->channels = st->default_duration = 0;
	st->rate = 0;
	st->codec[0] = 0;
}

static int walk_ebml(const uint8_t *d, size_t start, size_t end, int depth, struct ebml_state *st,
		     struct lb_errmsg *em)
{
	if (depth > MEDIA_MAX_DEPTH)
		return lb_errf(em, LB_EMALFORMED, "offset %zu: EBML elements nested too deep", start);
	size_t off = start;
	while (off < end) {
		size_t at = off;
		uint64_t id, size;
		bool unknown = false;
		if (ebml_vint(d, end, &off, true, &id, NULL) ||
		    ebml_vint(d, end, &off, false, &size, &unknown)) {
			if (depth == 0 && st->seen_segment_info)
				return LB_OK;
			return lb_errf(em, LB_EMALFORMED, "offset %zu: bad EBML element header", at);
		}
		bool master = id == 0x18538067 /* Segment */ || id == 0x1549A966 /* Info */ ||
			      id == 0x1654AE6B /* Tracks */ || id == 0xAE /* TrackEntry */ ||
			      id == 0xE0 /* Video */ || id == 0xE1 /* Audio */ ||
			      id == 0x1A45DFA3 /* EBML header */;
		if (unknown) {
			if (!master)
				return lb_errf(em, LB_EMALFORMED, "offset %zu: EBML element 0x%llX has an "
					       "unknown size", at, (unsigned long long)id);
			size = end - off;
		}
		if (size > end - off) {
			if (id == 0x1F43B675 /* Cluster */ || (master && id == 0x18538067)) {
				if (id == 0x1F43B675)
					return LB_OK; /* media data cut short after the headers */
				size = end - off;
			} else {
				return lb_errf(em, LB_ETRUNCATED, "offset %zu: EBML element 0x%llX of %llu "
					       "bytes runs past the end", at, (unsigned long long)id,
					       (unsigned long long)size);
			}
		}
		const uint8_t *c = d + off;
		size_t cl = (size_t)size;
		int rc = LB_OK;
		if (master) {
			rc = walk_ebml(d, off, off + cl, depth + 1, st, em);
			if (id == 0xAE && !rc)
				ebml_track_done(st);
			if (id == 0x1549A966)
				st->seen_segment_info = true;
		} else if (id == 0x4282 /* DocType */) {
			snprintf(st->doctype, sizeof st->doctype, "%.*s", (int)(cl < 15 ? cl : 15),
				 (const char *)c);
		} else if (id == 0x2AD7B1 /* TimecodeScale */) {
			st->timecode_scale = ebml_uint(c, cl);
		} else if (id == 0x4489 /* Duration */) {
			st->duration = ebml_float(c, cl);
		} else if (id == 0x83 /* TrackType */) {
			st->track_type = ebml_uint(c, cl);
		} else if (id == 0x86 /* CodecID */) {
			snprintf(st->codec, sizeof st->codec, "%.*s", (int)(cl < 23 ? cl : 23),
				 (const char *)c);
		} else if (id == 0x23E383 /* DefaultDuration */) {
			st->default_duration = ebml_uint(c, cl);
		} else if (id == 0xB0 /* PixelWidth */) {
			st->width = ebml_uint(c, cl);
		} else if (id == 0xBA /* PixelHeight */) {
			st->height = ebml_uint(c, cl);
		} else if (id == 0xB5 /* SamplingFrequency */) {
			st->rate = ebml_float(c, cl);
		} else if (id == 0x9F /* Channels */) {
			st->channels = ebml_uint(c, cl);
		} else if (id == 0x1F43B675 /* Cluster */ && st->tracks) {
			return LB_OK; /* the headers come before the first cluster */
		}
		if (rc)
			return rc;
		off += cl;
	}
	return LB_OK;
}

static int read_ebml(const uint8_t *d, size_t n, struct lb_media *m, struct lb_errmsg *em)
{
	struct ebml_state st = {.timecode_scale = 1000000, .m = m};
	int rc = walk_ebml(d, 0, n, 0, &st, em);
	if (rc)
		return rc;
	if (strcmp(st.doctype, "webm") && strcmp(st.doctype, "matroska"))
		return lb_errf(em, LB_EUNSUPPORTED, "offset 0: EBML document type \"%s\" is neither "
			       "webm nor matroska", st.doctype);
	snprintf(m->container, sizeof m->container, "%s", st.doctype[0] == 'w' ? "webm" : "mkv");
	if (st.duration > 0 && isfinite(st.duration))
		m->duration = st.duration * (double)st.timecode_scale / 1e9;
	m->tracks = st.tracks;
	snprintf(m->kind, sizeof m->kind, "%s", m->width || m->video_codec[0] ? "video" : "audio");
	return LB_OK;
}

/* ---- entry -------------------------------------------------------------------------------- */

int lb_media_read(const uint8_t *d, size_t n, struct lb_media *m, struct lb_errmsg *em)
{
	memset(m, 0, sizeof *m);
	int rc;
	if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WAVE", 4))
		rc = read_wav(d, n, m, em);
	else if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "AVI ", 4))
		rc = read_avi(d, n, m, em);
	else if (n >= 4 && !memcmp(d, "fLaC", 4))
		rc = read_flac(d, n, m, em);
	else if (n >= 4 && !memcmp(d, "OggS", 4))
		rc = read_ogg(d, n, m, em);
	else if (n >= 8 && !memcmp(d + 4, "ftyp", 4))
		rc = read_bmff(d, n, m, em);
	else if (n >= 4 && !memcmp(d, "\x1a\x45\xdf\xa3", 4))
		rc = read_ebml(d, n, m, em);
	else if ((n >= 3 && !memcmp(d, "ID3", 3)) || (n >= 2 && d[0] == 0xFF && (d[1] & 0xE0) == 0xE0))
		rc = read_mp3(d, n, m, em);
	else
		return lb_errf(em, LB_EUNSUPPORTED, "offset 0: not a WAV, FLAC, MP3, Ogg, MP4, WebM or "
			       "AVI file");
	if (!rc && (!isfinite(m->duration) || m->duration < 0 || m->duration > 1e9))
		m->duration = 0;
	if (!rc && (!isfinite(m->frame_rate) || m->frame_rate < 0 || m->frame_rate > 1e6))
		m->frame_rate = 0;
	return rc;
}

json_t *lb_media_json(const struct lb_media *m)
{
	json_t *j = json_pack("{s:s,s:s,s:f,s:I}", "kind", m->kind, "container", m->container,
			      "duration_s", round(m->duration * 1000) / 1000, "tracks",
			      (json_int_t)m->tracks);
	if (!j)
		return NULL;
	if (m->sample_rate || m->audio_codec[0]) {
		json_object_set_new(j, "sample_rate", json_integer(m->sample_rate));
		json_object_set_new(j, "channels", json_integer(m->channels));
		if (m->bits)
			json_object_set_new(j, "bits_per_sample", json_integer(m->bits));
		json_object_set_new(j, "audio_codec", json_string(m->audio_codec));
	}
	if (m->bitrate)
		json_object_set_new(j, "bitrate_kbps", json_integer(m->bitrate));
	if (m->width || m->video_codec[0]) {
		json_object_set_new(j, "width", json_integer(m->width));
		json_object_set_new(j, "height", json_integer(m->height));
		json_object_set_new(j, "video_codec", json_string(m->video_codec));
		if (m->frame_rate > 0)
			json_object_set_new(j, "frame_rate", json_real(round(m->frame_rate * 1000) / 1000));
	}
	return j;
}
