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
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
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
#include "dpn_kernelif.h"
#include "dpn_ntsserver.h"
#include "dpn_refclock.h"
#include "dpn_sync.h"

#define IDLE_SLEEP_US 100

RTE_LOG_REGISTER(dpn_app_logtype, dpntp.app, INFO);
#define APP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_app_logtype, "dpntpd: " fmt "\n", \
		##__VA_ARGS__)

struct app_opts {
	const char *config;
	const char *ctl_socket;
	gid_t ctl_gid;			/* the control socket's group */
	const char *cmdline_file;	/* commands to run after start */
	bool interactive;
	bool allow_big_step;		/* -g, as ntpd */
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
	       "  --control-group NAME   the socket's group, whose members may\n"
	       "                         run read-only commands (default root)\n"
	       "  --cmdline-file FILE    run the commands in FILE after start\n"
	       "  --nb-workers N         worker lcores (default: every EAL worker lcore)\n"
	       "  --workers LIST         worker lcores by id, e.g. 1,2,5\n"
	       "  -g, --allow-big-step   accept a first offset above the panic\n"
	       "                         threshold (tinker panic), as ntpd -g\n"
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

/* A group name (or number) for the control socket. */
static int
parse_group(const char *name, gid_t *gid)
{
	struct group *gr;
	unsigned int id;

	errno = 0;
	gr = getgrnam(name);
	if (gr != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (parse_uint(name, UINT32_MAX - 1, &id) == 0) {
		*gid = (gid_t)id;
		return 0;
	}
	fprintf(stderr, "dpntpd: --control-group: no group '%s'%s%s\n", name,
		errno ? ": " : "", errno ? strerror(errno) : "");
	return -1;
}

static int
parse_args(struct app_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "control-socket", required_argument, NULL, 's' },
		{ "control-group", required_argument, NULL, 'G' },
		{ "cmdline-file", required_argument, NULL, 'f' },
		{ "nb-workers", required_argument, NULL, 'n' },
		{ "workers", required_argument, NULL, 'w' },
		{ "allow-big-step", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	o->ctl_socket = DPN_CTL_DEFAULT_SOCKET;
	o->ctl_gid = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "igh", longopts, NULL)) != -1) {
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
		case 'G':
			if (parse_group(optarg, &o->ctl_gid) != 0)
				return -1;
			break;
		case 'f':
			if (access(optarg, R_OK) != 0) {
				fprintf(stderr, "dpntpd: --cmdline-file: %s: %s\n",
					optarg, strerror(errno));
				return -1;
			}
			o->cmdline_file = optarg;
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
		case 'g':
			o->allow_big_step = true;
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

/*
 * DPDK's log stream writes each line to stderr and to syslog (ident
 * "dpntpd", facility daemon or the EAL's --syslog FACILITY). Under
 * systemd both copies would reach the journal: when stderr is the
 * journal (JOURNAL_STREAM names it, see systemd.exec(5)), keep only the
 * syslog copy, whose priority is the line's level.
 */
static ssize_t
syslog_write(void *cookie, const char *buf, size_t size)
{
	RTE_SET_USED(cookie);
	syslog(rte_log_cur_msg_loglevel() - 1, "%.*s", (int)size, buf);
	return (ssize_t)size;
}

static void
log_setup(void)
{
	cookie_io_functions_t io = { .write = syslog_write };
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	FILE *f;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0 ||
	    (unsigned long long)st.st_dev != dev ||
	    (unsigned long long)st.st_ino != ino)
		return;
	f = fopencookie(NULL, "w", io);
	if (f != NULL)
		rte_openlog_stream(f);
}

/* Which lcore does what, on which NUMA socket and CPU(s) it is pinned
 * to (--lcores maps lcore ids to other CPUs). */
static void
log_lcores(void)
{
	unsigned int lcore = rte_get_main_lcore(), i, j;
	char cpus[64];

	dpn_lcore_cpus_format(lcore, cpus, sizeof(cpus));
	APP_LOG(INFO, "lcore %u: main (clock, slow path), socket %u, cpu %s",
		lcore, rte_lcore_to_socket_id(lcore), cpus);
	for (i = 0; i < dataplane.nb_workers; i++) {
		const struct dpn_worker *w = dataplane.workers[i];
		char polls[256];
		int len = 0;

		polls[0] = '\0';
		for (j = 0; j < w->nb_rxq && len < (int)sizeof(polls); j++)
			len += snprintf(polls + len, sizeof(polls) - len,
					"%s port %u queue %u", j ? "," : "",
					w->rxq[j].port_id, w->rxq[j].queue_id);
		dpn_lcore_cpus_format(w->lcore_id, cpus, sizeof(cpus));
		APP_LOG(INFO, "lcore %u: worker, socket %u, cpu %s, polls%s",
			w->lcore_id, rte_lcore_to_socket_id(w->lcore_id),
			cpus, polls);
	}
}

static void *
prompt_main(void *arg)
{
	RTE_SET_USED(arg);
	dpn_ctl_interact();
	dataplane.quit = true;
	return NULL;
}

/* The management lcore's loop: clock, slow path, neighbours, signals. */
static void
manage(struct dpn_sync *sy)
{
	while (!dataplane.quit) {
		unsigned int work = 0;

		work += dpn_sync_poll(sy);
		work += dpn_slowpath_poll(&dataplane);
		work += dpn_dp_neigh_poll(&dataplane, dpn_neigh_now_ns());
		work += dpn_ntsserver_poll();
		work += dpn_kernelif_poll();
		work += dpn_runtime_health_poll();
		if (hup_seen) {
			char err[DPN_CONF_ERRLEN];

			hup_seen = 0;
			err[0] = '\0';
			if (dpn_runtime_reload(err, sizeof(err)) != 0)
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

/* SIGINT and SIGTERM stop dpntpd, SIGHUP reloads its configuration. */
static int
signals_setup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	unsigned int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* As signal() did with glibc: blocking calls go on. */
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < RTE_DIM(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			fprintf(stderr, "dpntpd: sigaction: %s\n",
				strerror(errno));
			return -1;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct dpn_conf conf;
	static struct app_opts opts;
	static struct dpn_sync sync;
	struct dpn_refclock_system rs;
	struct dpn_runtime ctx;
	pthread_t prompt_thread;
	char err[DPN_CONF_ERRLEN];
	unsigned int i;
	int ret, status = 1;

	/* Before the EAL, so that its own lines are not doubled either. */
	log_setup();
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
		goto out_conf;
	if (dpn_conf_parse_file(&conf, opts.config, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto out_conf;
	}
	if (choose_workers(&opts) != 0 || signals_setup() != 0)
		goto out_conf;

	/*
	 * Each step that fails leaves nothing of its own behind; what came
	 * before it is undone below, in the reverse order, as on the way out
	 * (the upstream client's resolver thread, the control socket's, the
	 * metrics server's must be stopped before what they use goes).
	 */
	ret = dpn_dataplane_init(&dataplane, &conf, opts.lcores,
				 opts.nb_lcores, err, sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		goto out_dataplane;	/* it may be half made */
	}
	dpn_refclock_system_init(&rs, &conf.refclock_system);
	if (dpn_sync_init(&sync, &dataplane, &conf, &rs, opts.allow_big_step,
			  err, sizeof(err)) != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		goto out_dataplane;
	}
	APP_LOG(INFO, "reference: %s; %u other refclock(s); %u server/pool line(s); precision %d",
		conf.refclock_system.enabled ? "system clock" : "none",
		conf.nb_refclocks, conf.nb_servers, rs.precision);
	if (!conf.refclock_system.enabled && conf.nb_servers == 0 &&
	    conf.nb_refclocks == 0)
		APP_LOG(WARNING, "no refclock and no server: serving unsynchronized (leap 3, stratum 16)");

	ctx = (struct dpn_runtime){ .dp = &dataplane, .conf = &conf,
		.config_path = opts.config, .refclock = &rs, .sync = &sync };
	dpn_runtime_init(&ctx);
	if (opts.ctl_socket != NULL &&
	    dpn_ctl_sock_start(opts.ctl_socket, opts.ctl_gid, err,
			       sizeof(err)) != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		goto out_sync;
	}
	/* Telemetry may be off (--no-telemetry); metrics still work. */
	if (dpn_metrics_init(&ctx) != 0)
		APP_LOG(WARNING,
			"cannot register the /dpntp/ telemetry commands");
	if (dpn_metrics_http_start(&conf.metrics, err, sizeof(err)) != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		goto out_metrics;
	}
	/* NTS as configured, or not at all: no half-secured service. */
	if (dpn_ntsserver_start(&dataplane, &conf.nts, err, sizeof(err)) != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		goto out_nts;	/* it may have started its thread */
	}
	if (conf.nts.exception_if_line != 0 &&
	    dpn_kernelif_start(&dataplane, conf.nts.exception_if,
			       conf.nts.port, err, sizeof(err)) != 0) {
		fprintf(stderr, "dpntpd: %s\n", err);
		goto out_nts;
	}

	for (i = 0; i < dataplane.nb_workers; i++)
		rte_eal_remote_launch(dpn_worker_main, dataplane.workers[i],
				      dataplane.workers[i]->lcore_id);
	log_lcores();
	APP_LOG(INFO, "serving with %u worker(s); control socket %s",
		dataplane.nb_workers,
		opts.ctl_socket ? opts.ctl_socket : "disabled");
	if (opts.cmdline_file != NULL) {
		ret = dpn_ctl_run_file(opts.cmdline_file);
		fflush(stdout);
		if (ret < 0)
			APP_LOG(ERR, "%s: %s", opts.cmdline_file,
				strerror(errno));
		else if (ret > 0)
			APP_LOG(WARNING, "%s: %d command(s) failed",
				opts.cmdline_file, ret);
	}
	if (opts.interactive)
		rte_ctrl_thread_create(&prompt_thread, "dpntp-prompt", NULL,
				       prompt_main, NULL);

	manage(&sync);

	APP_LOG(INFO, "stopping");
	rte_eal_mp_wait_lcore();
	status = 0;
	dpn_kernelif_stop();
out_nts:
	dpn_ntsserver_stop();
out_metrics:
	dpn_metrics_fini();
	dpn_ctl_sock_stop();
out_sync:
	dpn_sync_fini(&sync);
out_dataplane:
	dpn_dataplane_fini(&dataplane);
out_conf:
	dpn_conf_free(&conf);
	rte_eal_cleanup();
	/* The prompt thread may sit in a read on the terminal. */
	return status;
}
