/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpntpd: the daemon. EAL arguments first, then `--` and the
 * application's own options, as testpmd.
 *
 * The main lcore is the management lcore: it disciplines and publishes
 * the server clock and answers the slow path. Workers answer NTP.
 * Control (prompt, socket) runs in control threads.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "dpn_conf.h"
#include "dpn_ctl.h"
#include "dpn_dataplane.h"
#include "dpn_metrics.h"
#include "dpn_refclock.h"

#define IDLE_SLEEP_US 100

RTE_LOG_REGISTER(dpn_app_logtype, dpntp.app, INFO);
#define APP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_app_logtype, "dpntpd: " fmt "\n", \
		##__VA_ARGS__)

struct app_opts {
	const char *config;
	const char *ctl_socket;
	bool interactive;
	unsigned int nb_workers;	/* 0 = one per EAL worker lcore */
	unsigned int nb_lcores;		/* from --workers */
	unsigned int lcores[RTE_MAX_LCORE];
};

static struct dpn_dataplane dataplane;
static volatile sig_atomic_t hup_seen;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_seen = 1;
	else
		dataplane.quit = true;
}

static void
usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [options]\n"
	       "  --config FILE          ntp.conf-style configuration (required)\n"
	       "  -i, --interactive      command prompt on the terminal\n"
	       "  --control-socket PATH  unix socket for dpntpc (default %s;\n"
	       "                         'none' for no socket)\n"
	       "  --nb-workers N         worker lcores (default: every EAL worker lcore)\n"
	       "  --workers LIST         worker lcores by id, e.g. 1,2,5\n"
	       "  -h, --help             this text\n",
	       prog, DPN_CTL_DEFAULT_SOCKET);
}

static int
parse_uint(const char *s, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int
parse_lcore_list(struct app_opts *o, const char *arg)
{
	char buf[1024], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int id;

		if (parse_uint(tok, RTE_MAX_LCORE - 1, &id) != 0 ||
		    o->nb_lcores == RTE_MAX_LCORE)
			return -1;
		o->lcores[o->nb_lcores++] = id;
	}
	return o->nb_lcores == 0 ? -1 : 0;
}

static int
parse_args(struct app_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "control-socket", required_argument, NULL, 's' },
		{ "nb-workers", required_argument, NULL, 'n' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	o->ctl_socket = DPN_CTL_DEFAULT_SOCKET;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "ih", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->config = optarg;
			break;
		case 'i':
			o->interactive = true;
			break;
		case 's':
			o->ctl_socket = strcmp(optarg, "none") == 0 ?
				NULL : optarg;
			break;
		case 'n':
			if (parse_uint(optarg, RTE_MAX_LCORE, &o->nb_workers) ||
			    o->nb_workers == 0) {
				fprintf(stderr, "dpntpd: --nb-workers: '%s' is not a number from 1 to %d\n",
					optarg, RTE_MAX_LCORE);
				return -1;
			}
			break;
		case 'w':
			if (parse_lcore_list(o, optarg) != 0) {
				fprintf(stderr, "dpntpd: --workers: '%s' is not a list of lcore ids like 1,2,3\n",
					optarg);
				return -1;
			}
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dpntpd: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (o->config == NULL) {
		fprintf(stderr, "dpntpd: --config FILE is required\n");
		return -1;
	}
	return 0;
}

/* Decide which lcores are workers; 0 or -1 with a message. */
static int
choose_workers(struct app_opts *o)
{
	unsigned int i, avail = rte_lcore_count() - 1;
	int socket = rte_eth_dev_count_avail() > 0 ?
		rte_eth_dev_socket_id(0) : -1;

	if (o->nb_lcores > 0) {
		for (i = 0; i < o->nb_lcores; i++)
			if (!rte_lcore_is_enabled(o->lcores[i]) ||
			    o->lcores[i] == rte_get_main_lcore()) {
				fprintf(stderr, "dpntpd: --workers: lcore %u is not an EAL worker lcore (see -l/--lcores)\n",
					o->lcores[i]);
				return -1;
			}
		return 0;
	}
	if (avail == 0) {
		fprintf(stderr, "dpntpd: no worker lcore: give the EAL at least two lcores (e.g. -l 0,1)\n");
		return -1;
	}
	if (o->nb_workers == 0)
		o->nb_workers = avail;
	if (o->nb_workers > avail) {
		fprintf(stderr, "dpntpd: --nb-workers %u but the EAL has only %u worker lcore(s)\n",
			o->nb_workers, avail);
		return -1;
	}
	o->nb_lcores = dpn_placement_pick(socket < 0 ? 0 : socket,
					  o->nb_workers, o->lcores);
	return 0;
}

static void *
prompt_main(void *arg)
{
	RTE_SET_USED(arg);
	dpn_ctl_interact();
	dataplane.quit = true;
	return NULL;
}

/* The management lcore's loop: clock, slow path, signals. */
static void
manage(struct dpn_refclock_system *rs)
{
	while (!dataplane.quit) {
		unsigned int work = 0;

		if (dpn_refclock_system_poll(rs, dataplane.clock) != 0) {
			dpn_nic_clock_poll(&dataplane);
			work++;
		}
		work += dpn_slowpath_poll(&dataplane);
		if (hup_seen) {
			char err[DPN_CONF_ERRLEN];

			hup_seen = 0;
			err[0] = '\0';
			if (dpn_ctl_reload(err, sizeof(err)) != 0)
				APP_LOG(ERR, "SIGHUP: reload failed, running configuration kept: %s",
					err);
			else
				APP_LOG(NOTICE, "SIGHUP: configuration reloaded%s%s",
					err[0] ? ": " : "", err);
		}
		if (work == 0)
			rte_delay_us_sleep(IDLE_SLEEP_US);
	}
}

int
main(int argc, char **argv)
{
	static struct dpn_conf conf;
	static struct app_opts opts;
	struct dpn_refclock_system rs;
	struct dpn_ctl_ctx ctx;
	pthread_t prompt_thread;
	char err[DPN_CONF_ERRLEN];
	unsigned int i;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "dpntpd: cannot initialise DPDK: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	argv[0] = (char *)"dpntpd";
	if (parse_args(&opts, argc, argv) != 0)
		goto fail;
	if (dpn_conf_parse_file(&conf, opts.config, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto fail;
	}
	if (choose_workers(&opts) != 0)
		goto fail;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	ret = dpn_dataplane_init(&dataplane, &conf, opts.lcores,
				 opts.nb_lcores, err, sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		dpn_dataplane_fini(&dataplane);
		goto fail;
	}
	dpn_refclock_system_init(&rs, &conf.refclock_system);
	dpn_refclock_system_poll(&rs, dataplane.clock);
	APP_LOG(INFO, "reference: %s, precision %d",
		conf.refclock_system.enabled ? "system clock" :
		"none (serving unsynchronized: leap 3, stratum 16)",
		rs.precision);

	ctx = (struct dpn_ctl_ctx){ .dp = &dataplane, .conf = &conf,
		.config_path = opts.config, .refclock = &rs };
	dpn_ctl_init(&ctx);
	if (opts.ctl_socket != NULL &&
	    dpn_ctl_sock_start(opts.ctl_socket, err, sizeof(err)) != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		dpn_dataplane_fini(&dataplane);
		goto fail;
	}
	/* Telemetry may be off (--no-telemetry); metrics still work. */
	if (dpn_metrics_init(&ctx) != 0)
		APP_LOG(WARNING,
			"cannot register the /dpntp/ telemetry commands");
	if (dpn_metrics_http_start(&conf.metrics, err, sizeof(err)) != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		dpn_metrics_fini();
		dpn_ctl_sock_stop();
		dpn_dataplane_fini(&dataplane);
		goto fail;
	}

	for (i = 0; i < dataplane.nb_workers; i++)
		rte_eal_remote_launch(dpn_worker_main, dataplane.workers[i],
				      dataplane.workers[i]->lcore_id);
	APP_LOG(INFO, "serving with %u worker(s); control socket %s",
		dataplane.nb_workers,
		opts.ctl_socket ? opts.ctl_socket : "disabled");
	if (opts.interactive)
		rte_ctrl_thread_create(&prompt_thread, "dpntp-prompt", NULL,
				       prompt_main, NULL);

	manage(&rs);

	APP_LOG(INFO, "stopping");
	rte_eal_mp_wait_lcore();
	dpn_metrics_fini();
	dpn_ctl_sock_stop();
	dpn_dataplane_fini(&dataplane);
	dpn_conf_free(&conf);
	rte_eal_cleanup();
	/* The prompt thread may sit in a read on the terminal. */
	return 0;
fail:
	dpn_conf_free(&conf);
	rte_eal_cleanup();
	return 1;
}
