/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NTS server's management side. One mutex guards the master copy of
 * the keys: the NTS-KE thread seals cookies with it, the management lcore
 * rotates it. The workers never take it: they read their own copy,
 * published with RCU after each change.
 */

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include "dpn_ntsserver.h"

RTE_LOG_REGISTER(dpn_nts_logtype, dpntp.nts, INFO);
#define NTS_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_nts_logtype, "nts: " fmt "", \
		##__VA_ARGS__)

#define KE_POLL_MS 200	/* how soon the thread sees a stop */

static struct {
	bool on;
	struct dpn_dataplane *dp;
	struct dpn_conf_nts conf;
	char keys_path[DPN_CONF_PATH_MAX + 16];	/* "" : keys not saved */
	pthread_mutex_t lock;
	struct dpn_nts_keyring kr;	/* the master copy (lock) */
	struct dpn_nts_rng rng;		/* management's (lock) */
	struct dpn_nts_rng ke_rng;	/* the NTS-KE thread's own */
	double since;			/* monotonic s: current became current */
	uint64_t rotations;
	struct dpn_ntske_server *ke;
	pthread_t thread;
	volatile bool stop;
	volatile bool reload;	/* the certificate, by the NTS-KE thread */
} nts = { .lock = PTHREAD_MUTEX_INITIALIZER };

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Called by lib/ntske on its thread, for each cookie of a response. */
static int
make_cookie(void *arg, const uint8_t *c2s, const uint8_t *s2c, uint8_t *out,
	    size_t out_size)
{
	(void)arg;
	if (out_size < DPN_NTS_COOKIE_LEN)
		return -1;
	pthread_mutex_lock(&nts.lock);
	dpn_nts_cookie_seal(&nts.kr, &nts.ke_rng, c2s, s2c, out);
	pthread_mutex_unlock(&nts.lock);
	return DPN_NTS_COOKIE_LEN;
}

static void *
ke_main(void *arg)
{
	char err[512];

	(void)arg;
	while (!nts.stop) {
		dpn_ntske_server_poll(nts.ke, KE_POLL_MS);
		/* lib/ntske is used by this thread only: reload here. */
		if (nts.reload) {
			nts.reload = false;
			if (dpn_ntske_server_reload(nts.ke, nts.conf.cert,
						    nts.conf.key, err,
						    sizeof(err)) == 0)
				NTS_LOG(NOTICE, "certificate %s read again",
					nts.conf.cert);
			else
				NTS_LOG(ERR, "certificate not reloaded, the old one kept: %s",
					err);
		}
	}
	return NULL;
}

void
dpn_ntsserver_reload_cert(void)
{
	nts.reload = true;
}

/* Save the keys where chronyd would (under the lock). */
static void
save_keys(void)
{
	char err[256];

	if (nts.keys_path[0] == '\0')
		return;
	if (dpn_nts_keyring_save(&nts.kr, mono_s() - nts.since,
				 nts.keys_path, err, sizeof(err)) != 0)
		NTS_LOG(ERR, "cannot save the server keys: %s", err);
}

static int
listen_all(char *err, size_t errlen)
{
	const char *any[] = { "0.0.0.0", "::" };
	unsigned int i, ok = 0;

	if (nts.conf.bind[0] != '\0')
		return dpn_ntske_server_listen(nts.ke, nts.conf.bind,
					       nts.conf.port, err, errlen) < 0 ?
			-1 : 0;
	/* Both families; one may be missing (IPv6 turned off). */
	for (i = 0; i < 2; i++)
		if (dpn_ntske_server_listen(nts.ke, any[i], nts.conf.port, err,
					    errlen) >= 0)
			ok++;
	return ok > 0 ? 0 : -1;
}

int
dpn_ntsserver_start(struct dpn_dataplane *dp, const struct dpn_conf_nts *conf,
		    char *err, size_t errlen)
{
	struct dpn_ntske_params p;
	double age = 0;

	if (conf->cert_line == 0)
		return 0;
	nts.dp = dp;
	nts.conf = *conf;
	if (dpn_nts_rng_init(&nts.rng) != 0 ||
	    dpn_nts_rng_init(&nts.ke_rng) != 0) {
		snprintf(err, errlen, "nts: getrandom failed");
		return -1;
	}
	nts.keys_path[0] = '\0';
	if (conf->dumpdir_line != 0)
		snprintf(nts.keys_path, sizeof(nts.keys_path), "%s/ntskeys",
			 conf->dumpdir);
	if (nts.keys_path[0] != '\0' && access(nts.keys_path, F_OK) == 0) {
		/* A fleet's shared file that does not read is an error:
		 * new keys here would have this server refuse (NTSN) every
		 * cookie the others issue. */
		if (dpn_nts_keyring_load(&nts.kr, &age, nts.keys_path, err,
					 errlen) != 0)
			return -1;
		NTS_LOG(INFO, "server keys read from %s (current %08X, %.0f s old)",
			nts.keys_path, nts.kr.k[nts.kr.current].id, age);
	} else {
		if (nts.keys_path[0] != '\0')
			NTS_LOG(NOTICE, "no %s: new server keys", nts.keys_path);
		else
			NTS_LOG(WARNING, "no ntsdumpdir: server keys are new at each start, and clients must re-key after a restart");
		dpn_nts_keyring_generate(&nts.kr, &nts.rng);
		age = 0;
	}
	nts.since = mono_s() - age;
	save_keys();
	if (dpn_dataplane_set_nts(dp, &nts.kr) != 0) {
		snprintf(err, errlen, "nts: out of memory for the keys");
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.ntp_server = conf->ntp_server_line != 0 ? conf->ntp_server : NULL;
	p.make_cookie = make_cookie;
	p.nb_cookies = DPN_NTS_MAX_COOKIES;
	nts.ke = dpn_ntske_server_create(conf->cert, conf->key, &p, err,
					 errlen);
	if (nts.ke == NULL || listen_all(err, errlen) != 0)
		goto fail;
	nts.stop = false;
	if (pthread_create(&nts.thread, NULL, ke_main, NULL) != 0) {
		snprintf(err, errlen, "nts: cannot start the NTS-KE thread");
		goto fail;
	}
	pthread_mutex_lock(&nts.lock);
	nts.on = true;
	pthread_mutex_unlock(&nts.lock);
	NTS_LOG(INFO, "NTS-KE on %s port %u; NTP %s; keys rotate %s",
		conf->bind[0] ? conf->bind : "every address", conf->port,
		p.ntp_server ? p.ntp_server : "at the same address",
		conf->rotate_s ? "as ntsrotate says" : "never (ntsrotate 0)");
	return 0;
fail:
	dpn_ntske_server_free(nts.ke);
	nts.ke = NULL;
	dpn_dataplane_set_nts(dp, NULL);
	return -1;
}

unsigned int
dpn_ntsserver_poll(void)
{
	struct dpn_nts_keyring copy;
	double now;

	if (!nts.on || nts.conf.rotate_s == 0)
		return 0;
	now = mono_s();
	if (now - nts.since < nts.conf.rotate_s)
		return 0;
	pthread_mutex_lock(&nts.lock);
	dpn_nts_keyring_rotate(&nts.kr, &nts.rng);
	nts.since = now;
	nts.rotations++;
	copy = nts.kr;
	save_keys();
	pthread_mutex_unlock(&nts.lock);
	if (dpn_dataplane_set_nts(nts.dp, &copy) != 0)
		NTS_LOG(ERR, "rotation: out of memory, the workers keep the old keys");
	else
		NTS_LOG(INFO, "server keys rotated (current %08X)",
			copy.k[copy.current].id);
	explicit_bzero(&copy, sizeof(copy));
	return 1;
}

/* From control and metrics threads: under the lock, so that a stop
 * (which clears `on` under it first) never frees what is being read. */
void
dpn_ntsserver_info(struct dpn_ntsserver_info *info)
{
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&nts.lock);
	if (nts.on) {
		info->enabled = true;
		info->current_id = nts.kr.k[nts.kr.current].id;
		info->key_age_s = mono_s() - nts.since;
		info->rotations = nts.rotations;
		info->rotate_s = nts.conf.rotate_s;
		info->sessions = dpn_ntske_server_sessions(nts.ke);
		dpn_ntske_server_stats(nts.ke, &info->ke);
	}
	pthread_mutex_unlock(&nts.lock);
}

void
dpn_ntsserver_stop(void)
{
	bool was_on;

	pthread_mutex_lock(&nts.lock);
	was_on = nts.on;
	nts.on = false;
	pthread_mutex_unlock(&nts.lock);
	if (!was_on)
		return;
	nts.stop = true;
	pthread_join(nts.thread, NULL);
	dpn_ntske_server_free(nts.ke);
	nts.ke = NULL;
	pthread_mutex_lock(&nts.lock);
	save_keys();
	explicit_bzero(&nts.kr, sizeof(nts.kr));
	pthread_mutex_unlock(&nts.lock);
}
