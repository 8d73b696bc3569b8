/* `leben version`: print the program version. */
#include <stdio.h>

#include "cli.h"

int cmd_version(int argc, char **argv)
{
	printf("leben %s\n", LEBEN_VERSION);
	return 0;
}
