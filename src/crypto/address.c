/*
 * Account addresses: 20 bytes of a domain-separated BLAKE2b-256 of the public key, written
 * as bech32m (BIP-350) with human-readable part "lb". The BCH checksum detects any error in
 * up to four characters, so a mistyped address is refused instead of losing credits.
 */
#include <ctype.h>
#include <string.h>

#include "leben/crypto.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
#define BECH32M_CONST 0x2bc830a3u

static uint32_t polymod_step(uint32_t pre)
{
	uint8_t b = (uint8_t)(pre >> 25);
	return ((pre & 0x1ffffff) << 5) ^ (-((b >> 0) & 1) & 0x3b6a57b2u) ^
	       (-((b >> 1) & 1) & 0x26508e6du) ^ (-((b >> 2) & 1) & 0x1ea119fau) ^
	       (-((b >> 3) & 1) & 0x3d4233ddu) ^ (-((b >> 4) & 1) & 0x2a1462b3u);
}

/* Checksum state after the expanded hrp. */
static uint32_t hrp_polymod(const char *hrp, size_t hlen)
{
	uint32_t chk = 1;
	for (size_t i = 0; i < hlen; i++)
		chk = polymod_step(chk) ^ ((uint8_t)hrp[i] >> 5);
	chk = polymod_step(chk);
	for (size_t i = 0; i < hlen; i++)
		chk = polymod_step(chk) ^ ((uint8_t)hrp[i] & 31);
	return chk;
}

static int charval(char c)
{
	const char *p = strchr(charset, tolower((unsigned char)c));
	return c && p ? (int)(p - charset) : -1;
}

bool lb_bech32m_is_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 8 || n > 90)
		return false;
	bool lower = false, upper = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 33 || s[i] > 126)
			return false;
		lower |= islower((unsigned char)s[i]) != 0;
		upper |= isupper((unsigned char)s[i]) != 0;
	}
	if (lower && upper)
		return false;
	const char *sep = strrchr(s, '1');
	if (!sep || sep == s || (size_t)(s + n - sep - 1) < 6)
		return false;
	size_t hlen = (size_t)(sep - s);
	char hrp[91];
	for (size_t i = 0; i < hlen; i++)
		hrp[i] = (char)tolower((unsigned char)s[i]);
	uint32_t chk = hrp_polymod(hrp, hlen);
	for (const char *p = sep + 1; *p; p++) {
		int v = charval(*p);
		if (v < 0)
			return false;
		chk = polymod_step(chk) ^ (uint32_t)v;
	}
	return chk == BECH32M_CONST;
}

void lb_addr_from_pubkey(uint8_t addr[LB_ADDR_LEN], const uint8_t pk[LB_PUBKEY_LEN])
{
	uint8_t h[LB_HASH_LEN];
	lb_hash_domain(h, "LEBEN-addr-v1", pk, LB_PUBKEY_LEN);
	memcpy(addr, h, LB_ADDR_LEN);
}

void lb_addr_encode(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t addr[LB_ADDR_LEN])
{
	uint8_t d[32];
	/* 160 bits regrouped into 32 five-bit values */
	uint32_t acc = 0;
	int bits = 0;
	size_t k = 0;
	for (size_t i = 0; i < LB_ADDR_LEN; i++) {
		acc = acc << 8 | addr[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			d[k++] = (acc >> bits) & 31;
		}
	}
	uint32_t chk = hrp_polymod("lb", 2);
	for (size_t i = 0; i < 32; i++)
		chk = polymod_step(chk) ^ d[i];
	for (int i = 0; i < 6; i++)
		chk = polymod_step(chk);
	chk ^= BECH32M_CONST;
	memcpy(out, "lb1", 3);
	for (size_t i = 0; i < 32; i++)
		out[3 + i] = charset[d[i]];
	for (int i = 0; i < 6; i++)
		out[35 + i] = charset[(chk >> (5 * (5 - i))) & 31];
	out[41] = 0;
}

int lb_addr_decode(uint8_t addr[LB_ADDR_LEN], const char *text, struct lb_errmsg *em)
{
	size_t n = strlen(text);
	if (n != LB_ADDR_TEXT_LEN || (strncmp(text, "lb1", 3) && strncmp(text, "LB1", 3)))
		return lb_errf(em, LB_EMALFORMED,
			       "'%.80s' is not a LEBEN address (expected 41 characters starting "
			       "with lb1)",
			       text);
	for (size_t i = 3; i < n; i++)
		if (charval(text[i]) < 0)
			return lb_errf(em, LB_EMALFORMED,
				       "address '%s': character %zu ('%c') cannot occur in an "
				       "address (no 1, b, i or o)",
				       text, i + 1, text[i]);
	if (!lb_bech32m_is_valid(text))
		return lb_errf(em, LB_ECHECKSUM,
			       "address '%s' has a wrong checksum: it was probably mistyped; "
			       "copy it again from its owner",
			       text);
	uint32_t acc = 0;
	int bits = 0;
	size_t k = 0;
	for (size_t i = 3; i < 35; i++) {
		acc = acc << 5 | (uint32_t)charval(text[i]);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			addr[k++] = (uint8_t)(acc >> bits);
		}
	}
	return LB_OK;
}
