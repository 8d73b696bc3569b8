/*
 * A small raw DEFLATE decoder (RFC 1951) for deflated DICOM data sets (transfer syntax
 * 1.2.840.10008.1.2.1.99) and PNG-free uses, so the data layer needs no zlib. Canonical Huffman
 * decoding by code length counts (the method of Mark Adler's puff.c); every read is bounds
 * checked and the output is capped.
 */
#include <string.h>

#include "data/data_int.h"

struct inf {
	const uint8_t *in;
	size_t inlen, inpos;
	uint32_t bitbuf;
	int bitcnt;
	struct lb_buf out;
	int err;
};

struct huff {
	short count[16];  /* codes of each length */
	short symbol[320];/* symbols ordered by code */
};

static int bits(struct inf *s, int need)
{
	uint32_t v = s->bitbuf;
	while (s->bitcnt < need) {
		if (s->inpos >= s->inlen) {
			s->err = LB_ETRUNCATED;
			return 0;
		}
		v |= (uint32_t)s->in[s->inpos++] << s->bitcnt;
		s->bitcnt += 8;
	}
	s->bitbuf = v >> need;
	s->bitcnt -= need;
	return (int)(v & ((1u << need) - 1));
}

static int decode(struct inf *s, const struct huff *h)
{
	int code = 0, first = 0, index = 0;
	for (int len = 1; len < 16; len++) {
		code |= bits(s, 1);
		if (s->err)
			return -1;
		int count = h->count[len];
		if (code - count < first)
			return h->symbol[index + (code - first)];
		index += count;
		first += count;
		first <<= 1;
		code <<= 1;
	}
	s->err = LB_EMALFORMED;
	return -1;
}

/* Build a decoding table; returns 0 for a complete code, >0 incomplete, <0 over-subscribed. */
static int construct(struct huff *h, const short *length, int n)
{
	short offs[16];
	memset(h->count, 0, sizeof h->count);
	for (int sym = 0; sym < n; sym++)
		h->count[length[sym]]++;
	if (h->count[0] == n)
		return 0;
	int left = 1;
	for (int len = 1; len < 16; len++) {
		left <<= 1;
		left -= h->count[len];
		if (left < 0)
			return left;
	}
	offs[1] = 0;
	for (int len = 1; len < 15; len++)
		offs[len + 1] = (short)(offs[len] + h->count[len]);
	for (int sym = 0; sym < n; sym++)
		if (length[sym] != 0)
			h->symbol[offs[length[sym]]++] = (short)sym;
	return left;
}

static const short lbase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
				 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const short lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
			       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const short dbase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
				33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
				1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const short dext[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
			       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static int codes(struct inf *s, const struct huff *lencode, const struct huff *distcode)
{
	for (;;) {
		int sym = decode(s, lencode);
		if (s->err)
			return s->err;
		if (sym < 256) {
			int rc = lb_buf_addc(&s->out, (uint8_t)sym);
			if (rc)
				return rc;
		} else if (sym == 256) {
			return LB_OK;
		} else {
			sym -= 257;
			if (sym >= 29)
				return LB_EMALFORMED;
			size_t len = (size_t)(lbase[sym] + bits(s, lext[sym]));
			int ds = decode(s, distcode);
			if (s->err)
				return s->err;
			if (ds >= 30)
				return LB_EMALFORMED;
			size_t dist = (size_t)(dbase[ds] + bits(s, dext[ds]));
			if (s->err)
				return s->err;
			if (dist > s->out.len)
				return LB_EMALFORMED;
			int rc = lb_buf_reserve(&s->out, len);
			if (rc)
				return rc;
			for (size_t i = 0; i < len; i++) {
				s->out.data[s->out.len] = s->out.data[s->out.len - dist];
				s->out.len++;
			}
			s->out.data[s->out.len] = 0;
		}
	}
}

static int stored(struct inf *s)
{
	s->bitbuf = 0;
	s->bitcnt = 0;
	if (s->inlen - s->inpos < 4)
		return LB_ETRUNCATED;
	const uint8_t *p = s->in + s->inpos;
	unsigned len = (unsigned)(p[0] | p[1] << 8), nlen = (unsigned)(p[2] | p[3] << 8);
	if (len != (~nlen & 0xffff))
		return LB_EMALFORMED;
	s->inpos += 4;
	if (s->inlen - s->inpos < len)
		return LB_ETRUNCATED;
	int rc = len ? lb_buf_add(&s->out, s->in + s->inpos, len) : LB_OK;
	s->inpos += len;
	return rc;
}

static int fixed(struct inf *s)
{
	struct huff lc, dc;
	{
		short lengths[288];
		int i;
		for (i = 0; i < 144; i++)
			lengths[i] = 8;
		for (; i < 256; i++)
			lengths[i] = 9;
		for (; i < 280; i++)
			lengths[i] = 7;
		for (; i < 288; i++)
			lengths[i] = 8;
		construct(&lc, lengths, 288);
		for (i = 0; i < 30; i++)
			lengths[i] = 5;
		construct(&dc, lengths, 30);
	}
	return codes(s, &lc, &dc);
}

static int dynamic(struct inf *s)
{
	static const short order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
					 11, 4,  12, 3, 13, 2, 14, 1, 15};
	short lengths[320];
	struct huff lc, dc;
	int nlen = bits(s, 5) + 257, ndist = bits(s, 5) + 1, ncode = bits(s, 4) + 4;
	if (s->err)
		return s->err;
	if (nlen > 286 || ndist > 30)
		return LB_EMALFORMED;
	int index;
	for (index = 0; index < ncode; index++)
		lengths[order[index]] = (short)bits(s, 3);
	for (; index < 19; index++)
		lengths[order[index]] = 0;
	if (s->err)
		return s->err;
	if (construct(&lc, lengths, 19) != 0)
		return LB_EMALFORMED;
	index = 0;
	while (index < nlen + ndist) {
		int sym = decode(s, &lc);
		if (s->err)
			return s->err;
		if (sym < 16) {
			lengths[index++] = (short)sym;
		} else {
			short len = 0;
			int rep;
			if (sym == 16) {
				if (index == 0)
					return LB_EMALFORMED;
				len = lengths[index - 1];
				rep = 3 + bits(s, 2);
			} else if (sym == 17) {
				rep = 3 + bits(s, 3);
			} else {
				rep = 11 + bits(s, 7);
			}
			if (s->err)
				return s->err;
			if (index + rep > nlen + ndist)
				return LB_EMALFORMED;
			while (rep--)
				lengths[index++] = len;
		}
	}
	if (lengths[256] == 0)
		return LB_EMALFORMED;
	int err = construct(&lc, lengths, nlen);
	if (err < 0 || (err > 0 && nlen - lc.count[0] != 1))
		return LB_EMALFORMED;
	err = construct(&dc, lengths + nlen, ndist);
	if (err < 0 || (err > 0 && ndist - dc.count[0] != 1))
		return LB_EMALFORMED;
	return codes(s, &lc, &dc);
}

int data_inflate_raw(const uint8_t *in, size_t inlen, size_t max, uint8_t **out, size_t *outlen)
{
	struct inf s = {.in = in, .inlen = inlen};
	lb_buf_init(&s.out, max);
	int last, rc;
	do {
		last = bits(&s, 1);
		int type = bits(&s, 2);
		if (s.err) {
			rc = s.err;
			break;
		}
		if (type == 0)
			rc = stored(&s);
		else if (type == 1)
			rc = fixed(&s);
		else if (type == 2)
			rc = dynamic(&s);
		else
			rc = LB_EMALFORMED;
	} while (!rc && !last);
	if (rc) {
		lb_buf_release(&s.out);
		return rc;
	}
	if (!s.out.data && lb_buf_reserve(&s.out, 1)) /* empty stream: still return a buffer */
		return LB_ENOMEM;
	*out = lb_buf_detach(&s.out, outlen);
	return LB_OK;
}
