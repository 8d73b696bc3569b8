/* libFuzzer harness for the address parser: arbitrary text must never crash it, and any text
 * it accepts encodes back to itself in lower case (one canonical text per address). */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leben/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], lower[256], back[LB_ADDR_TEXT_LEN + 1];
	uint8_t addr[LB_ADDR_LEN];
	size_t i;

	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lb_addr_decode(addr, text, NULL) != 0)
		return 0;
	for (i = 0; text[i]; i++)
		lower[i] = (char)tolower((unsigned char)text[i]);
	lower[i] = '\0';
	lb_addr_encode(back, addr);
	if (strcmp(back, lower) != 0)
		abort();
	return 0;
}
