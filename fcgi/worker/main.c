/*
 * phonebill-worker - one per node: writes the history the services
 * handed off through Redis (lib/backoffice/handoff.h) to MariaDB, delivers
 * results to the MVNO AP and settles plan changes whose outcome was unknown.
 *
 *   phonebill-worker [--config-dir DIR] [--name NAME] [--log FILE]
 *   phonebill-worker [--config-dir DIR] status
 *
 * DIR holds the services' configuration files (auth.conf, bill.conf,
 * product.conf; default /etc/phonebill): each kind of record is written
 * with its own service's settings and MariaDB account.  NAME is this
 * worker's consumer name in the stream's group (default: the host name):
 * keep it stable per node, so that a restarted worker takes up its own
 * unfinished entries at once.  SIGTERM or SIGINT: finish the batch in
 * hand and exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "worker.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: phonebill-worker [--config-dir DIR] [--name NAME] "
	    "[--log FILE] [status]\n"
	    "  Writes handed-off history to MariaDB, delivers MVNO results,\n"
	    "  settles unknown plan-change outcomes.  One per node.\n"
	    "  --config-dir DIR  the services' auth.conf, bill.conf, "
	    "product.conf (/etc/phonebill)\n"
	    "  --name NAME       consumer name in the stream group (host "
	    "name)\n"
	    "  --log FILE        log file (default: standard error)\n"
	    "  status            print the backlog as JSON and exit\n"
	    "  --version, --help\n");
}

static void
periodic(struct wk *w, int64_t now)
{
	int s;

	if (now - w->last_periodic >= w->interval_ms) {
		w->last_periodic = now;
		for (s = 0; s < WK_NSINKS; s++)
			wk_sink_periodic(&w->sinks[s]);
	}
	if (now - w->last_report >= WK_REPORT_EVERY_MS) {
		w->last_report = now;
		wk_stream_report(w);
	}
}

static int
run(struct wk *w)
{
	long backoff = 100; /* ms after a failure, doubling to 2 s */
	long r;
	int s;
	int64_t now;

	while (wk_stream_init(w) != PB_OK && !stop_requested) {
		pb_log_msg(PB_LOG_WARN, "worker_waiting_for_redis",
		           pb_redis_last_error(w->redis));
		sleep_ms(1000);
	}
	pb_log_msg(PB_LOG_INFO, "worker_started", w->consumer);
	while (!stop_requested) {
		now = pb_clock_mono_ms();
		r = 0;
		if (now - w->last_claim >= WK_CLAIM_EVERY_MS) {
			w->last_claim = now;
			r = wk_stream_step(w, 1);
		}
		if (r >= 0)
			r = wk_stream_step(w, 0);
		for (s = 0; s < WK_NSINKS; s++)
			wk_sink_catch_up(&w->sinks[s]);
		periodic(w, pb_clock_mono_ms());
		if (r < 0) {
			sleep_ms(backoff);
			backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
		} else {
			backoff = 100;
		}
	}
	pb_log_msg(PB_LOG_INFO, "worker_stopped", w->consumer);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct wk w;
	const char *dir = "/etc/phonebill", *name = NULL, *log = NULL;
	int i, status_only = 0, rc = 1;
	struct sigaction sa;
	enum pb_log_level lvl = PB_LOG_INFO;
	char err[1024], host[64];

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config-dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			name = argv[++i];
		} else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			log = argv[++i];
		} else if (strcmp(argv[i], "status") == 0) {
			status_only = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("phonebill-worker %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (name == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			(void)pb_strlcpy(host, "worker", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	(void)pb_strlcpy(w.consumer, name, sizeof(w.consumer));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	if (wk_sinks_open(&w, dir, err, sizeof(err)) != PB_OK) {
		fprintf(stderr, "phonebill-worker: %s\n", err);
		pb_log_msg(PB_LOG_ERROR, "startup_failed", err);
		goto out;
	}
	/* the services' files name their own logs: this one has its own,
	 * at the bill service's log.level */
	if (pb_log_level_parse(
	        pb_config_get(w.sinks[1].app.cfg, "log.level", "info"), &lvl) !=
	    PB_OK)
		lvl = PB_LOG_INFO;
	if (log != NULL && pb_log_open_file("worker", log, lvl) != PB_OK) {
		fprintf(stderr, "phonebill-worker: cannot open %s\n", log);
		goto out;
	}
	if (log == NULL)
		pb_log_open("worker", STDERR_FILENO, lvl);
	w.interval_ms = 1000;
	{
		long v = 1000;

		if (pb_config_get_long(w.sinks[1].app.cfg, "worker.interval_ms",
		                       1000, 50, 60000, &v, err,
		                       sizeof(err)) == PB_OK)
			w.interval_ms = v;
	}
	if (!status_only && wk_sinks_start(&w, err, sizeof(err)) != PB_OK) {
		fprintf(stderr, "phonebill-worker: %s\n", err);
		pb_log_msg(PB_LOG_ERROR, "startup_failed", err);
		goto out;
	}
	rc = status_only ? wk_status(&w) : run(&w);
out:
	wk_sinks_close(&w);
	pb_log_close();
	return rc;
}
