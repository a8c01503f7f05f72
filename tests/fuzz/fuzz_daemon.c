/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fake daemon of fuzz_ctl and fuzz_http (fuzz_daemon.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dpn_sync.h"
#include "fuzz.h"
#include "fuzz_daemon.h"
#include "test_rig.h"

#define EPOCH_NS 1795000000000000000LL

static const char keys_text[] =
	"1 MD5 secret\n"
	"7 SHA1 00112233445566778899aabbccddeeff01234567\n"
	"9 AES128CMAC 2b7e151628aed2a6abf7158809cf4f3c\n";

static const char conf_fmt[] =
	"listen port 0 address 198.18.0.1/24\n"
	"listen port 0 address 2001:db8::1/64 vlan 5\n"
	"refclock system stratum 1 refid GPS\n"
	"restrict default kod limited nomodify notrap nopeer noquery\n"
	"restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap\n"
	"restrict 2001:db8::/64 nomodify notrap\n"
	"restrict 198.18.0.66 ignore\n"
	"discard average 3 minimum 2 monitor 3000\n"
	"server 192.0.2.1 iburst\n"
	"keys %s\n"
	"trustedkey 1 7 9\n"
	"metrics 127.0.0.1:9123\n";

static char dir[64], conf_path[96], keys_path[96];
static struct dpn_dataplane dp;
static struct dpn_conf conf;
static struct dpn_sync *sy;
static struct dpn_refclock_system rs;
static struct dpn_runtime ctx;
static struct dpn_clock clock_pub;
static int ts_off;
static uint64_t ts_flag;

static void
put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

static void
cleanup(void)
{
	unlink(conf_path);
	unlink(keys_path);
	rmdir(dir);
}

/* What the management lcore would have published: a synchronized
 * clock following one of two servers, and a refclock line. */
static void
make_view(void)
{
	struct dpn_sync_view *v = &sy->view;
	struct dpn_source_conf c;
	unsigned int i;

	v->nb_sources = 3;
	for (i = 0; i < 3; i++) {
		dpn_source_conf_init(&c);
		if (i == 0) {
			snprintf(c.name, sizeof(c.name), "SHM(0)");
			c.type = DPN_SOURCE_TYPE_REFCLOCK;
			c.family = 0;
			c.minpoll = c.maxpoll = 4;
			snprintf(c.refid, sizeof(c.refid), "NMEA");
		} else {
			snprintf(c.name, sizeof(c.name), i == 2 ?
				 "2001:db8::123" : "192.0.2.1");
			c.family = i == 2 ? AF_INET6 : AF_INET;
			c.addr[0] = i == 2 ? 0x20 : 192;
		}
		if (dpn_source_init(&v->sources[i], &c, EPOCH_NS) != 0)
			abort();
		v->sources[i].reach = 0x7f;
		v->sources[i].stratum = i == 0 ? 0 : 2;
		v->sources[i].offset_ns = 12345 * (i + 1);
		v->sources[i].update_ns = EPOCH_NS - 1000000000LL;
		v->sources[i].state = i == 1 ? '*' : '+';
	}
	v->sel.sys_peer = 1;
	v->synced = true;
	v->stratum = 3;
	v->refid = 0xc0000201;
	v->now_ns = EPOCH_NS;
	v->freq_ppm = -3.5;
	v->nb_refclocks = 1;
	v->refclocks[0].conf.type = DPN_CONF_REFCLOCK_SHM;
	snprintf(v->refclocks[0].conf.refid,
		 sizeof(v->refclocks[0].conf.refid), "NMEA");
	v->refclocks[0].source_index = 0;
	v->refclocks[0].open = true;
}

void
fuzz_daemon_quiet(void)
{
	/* Port 0 is no ethdev: every read of it would log an error. */
	rte_log_set_level_pattern("*", RTE_LOG_ERR);
	rte_log_set_level_pattern("lib.ethdev", RTE_LOG_CRIT);
}

struct dpn_runtime *
fuzz_daemon_init(const char *prog)
{
	struct dpn_clock_snapshot snap;
	struct dpn_worker *w;
	char text[sizeof(conf_fmt) + 96], err[DPN_CONF_ERRLEN];
	struct dpn_nts_keyring kr;
	struct dpn_nts_rng rng;

	if (dpn_rig_eal_init(prog, 512) != 0)
		abort();
	fuzz_daemon_quiet();
	snprintf(dir, sizeof(dir), "/tmp/dpn_%s.XXXXXX", prog);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(conf_path, sizeof(conf_path), "%s/dpntpd.conf", dir);
	snprintf(keys_path, sizeof(keys_path), "%s/keys", dir);
	atexit(cleanup);
	put_file(keys_path, keys_text);
	snprintf(text, sizeof(text), conf_fmt, keys_path);
	put_file(conf_path, text);
	if (dpn_conf_parse_file(&conf, conf_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		abort();
	}

	dp.nb_ports = 1;
	dp.ports[0].port_id = 0;
	dp.ports[0].nb_queues = 1;
	snprintf(dp.ports[0].name, sizeof(dp.ports[0].name), "net_fuzz0");
	dp.ports[0].addrs.nb_v4 = 1;
	dp.ports[0].addrs.v4[0] = 0x010012c6;	/* 198.18.0.1 */
	dp.ports[0].addrs.v4_prefix[0] = 24;
	w = dpn_rig_worker(&dp.ports[0], &clock_pub, prog, 63, 1024, &ts_off,
			   &ts_flag);
	if (w == NULL)
		abort();
	w->stats.c[DPN_STAT_RX_PACKETS] = 1000;
	w->stats.c[DPN_STAT_NTP_SERVER_REPLIES] = 990;
	w->busy_cycles = 25;
	w->total_cycles = 100;
	dp.workers[0] = w;
	dp.nb_workers = 1;
	dp.clock = &clock_pub;
	memset(&snap, 0, sizeof(snap));
	snap.synced = true;
	dpn_ntp_sysinfo_set(&snap.sysinfo, true, 0, 3, -24, 2000000, 3000000,
			    0xc0000201, EPOCH_NS);
	dpn_clock_publish(&clock_pub, &snap);
	dp.qsbr = rte_zmalloc("fuzz_qsbr", rte_rcu_qsbr_get_memsize(1),
			      RTE_CACHE_LINE_SIZE);
	if (dp.qsbr == NULL || rte_rcu_qsbr_init(dp.qsbr, 1) != 0)
		abort();
	fuzz_daemon_reset();
	memset(&rng, 0, sizeof(rng));
	if (dpn_nts_rng_init(&rng) != 0)
		abort();
	dpn_nts_keyring_generate(&kr, &rng);
	if (dpn_dataplane_set_nts(&dp, &kr) != 0)
		abort();

	sy = calloc(1, sizeof(*sy));
	if (sy == NULL)
		abort();
	sy->dp = &dp;
	make_view();
	ctx.dp = &dp;
	ctx.conf = &conf;
	ctx.config_path = conf_path;
	ctx.refclock = &rs;
	ctx.sync = sy;
	dpn_runtime_init(&ctx);
	return &ctx;
}

void
fuzz_daemon_reset(void)
{
	struct dpn_conf *c = calloc(1, sizeof(*c));
	char err[DPN_CONF_ERRLEN];

	if (c == NULL || dpn_conf_parse_file(c, conf_path, err,
					     sizeof(err)) != 0 ||
	    dpn_dataplane_set_auth(&dp, &c->keys, c->trusted, c->nb_trusted,
				   !c->authfail_drop, err, sizeof(err)) != 0 ||
	    dpn_dataplane_set_acl(&dp, &c->acl, &c->discard, err,
				  sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_daemon_reset: %s\n", err);
		abort();
	}
	dpn_acl_ruleset_free(&conf.acl);
	conf.acl = c->acl;
	conf.discard = c->discard;
	conf.discard_line = c->discard_line;
	free(c);
}
