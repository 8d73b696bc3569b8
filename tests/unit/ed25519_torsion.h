/* The points of order 2, 4 and 8 of edwards25519 (canonical encodings), for the Ed25519 batch
 * verification tests and fuzz harness. */
#ifndef LEBEN_TEST_ED25519_TORSION_H
#define LEBEN_TEST_ED25519_TORSION_H

static const char *const ed25519_torsion_hex[7] = {
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
};

#endif
