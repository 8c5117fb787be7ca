/* cli.c - --version and --help for every program. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

void
pb_cli_version(const char *prog)
{
	printf("%s (phonebill) %s\n", prog, PACKAGE_VERSION);
}

int
pb_cli_std(int argc, char **argv, const char *prog, const char *help)
{
	if (argc < 2)
		return -1;
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		pb_cli_version(prog);
		return 0;
	}
	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s", help);
		return 0;
	}
	fprintf(stderr, "%s: unknown argument '%s'\n%s", prog, argv[1], help);
	return 2;
}
