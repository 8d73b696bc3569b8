/*
 * Shared declarations of the `leben` command-line tool: the subcommand table and helpers
 * every subcommand uses. Only public headers (include/leben/) are used from cli/.
 */
#ifndef LEBEN_CLI_H
#define LEBEN_CLI_H

#define LEBEN_VERSION "0.1.0"

/* Each subcommand: int fn(int argc, char **argv) with argv[0] = the subcommand name;
 * returns the process exit status (0 ok, 1 failure, 2 usage error). */
#define CLI_COMMAND_TABLE(X)                                                               \
	X("version", cmd_version, "print the version")

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

#define CLI_DECL_(name, fn, summary) int fn(int argc, char **argv);
CLI_COMMAND_TABLE(CLI_DECL_)
#undef CLI_DECL_

#endif
