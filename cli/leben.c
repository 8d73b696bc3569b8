/*
 * The `leben` command: a table of subcommands (like git's commands[]) and the dispatcher.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"

static const struct cli_command commands[] = {
#define CLI_ROW_(name, fn, summary) {name, fn, summary},
	CLI_COMMAND_TABLE(CLI_ROW_)
#undef CLI_ROW_
};

static void usage(FILE *f)
{
	fprintf(f, "usage: leben <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'leben <command> --help' explains a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("leben %s\n", LEBEN_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			/* `leben node` reads these itself (its own certificate for the server) */
			if (strcmp(argv[1], "node") && cli_take_tls_options(&argc, argv))
				return 2;
			return commands[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "leben: '%s' is not a command. See 'leben --help'.\n", argv[1]);
	return 2;
}
