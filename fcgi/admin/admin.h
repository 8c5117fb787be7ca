/*
 * admin.h - phonebill-admin's command modules (main.c parses the command
 * line and sets up the auth service's app; each module runs one command).
 */
#ifndef PB_ADMIN_H
#define PB_ADMIN_H

#include "app.h"

/* Print the usage; returns 2 (the exit status for a usage error). */
int admin_usage(void);

/* phonebill-admin dead-letters list|requeue ID|all|purge [ID|all]. */
int admin_dead_letters(struct pb_app *app, int argc, char **argv);

/* phonebill-admin rekey [--dry-run] [--batch N] [--config FILE]... */
int admin_rekey(struct pb_app *app, int argc, char **argv);

#endif
