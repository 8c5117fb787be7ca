/*
 * cli.h - the command-line options every phonebill program answers
 * (issue 15): --version and --help.
 *
 * The FastCGI programs are started by the web server without arguments
 * (the listening socket on fd 0); an operator who runs one by hand gets
 * its version or a short help instead of a startup_failed line.
 * pb_cli_std returns -1 when argv holds no option (the program goes on),
 * otherwise the exit status: 0 after --version or --help (printed on
 * stdout), 2 for anything else (the help on stderr).
 */
#ifndef PB_CLI_H
#define PB_CLI_H

int pb_cli_std(int argc, char **argv, const char *prog, const char *help);

/* "phonebill-x 0.1.0" on stdout. */
void pb_cli_version(const char *prog);

#endif
