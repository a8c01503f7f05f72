/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's running state and the changes made to it while it runs:
 * reload, `restrict add|del`, and the walks over the published rule and
 * key tables that the control socket, the metrics and telemetry read.
 * Changes build a new rule table (or key table) off the workers and
 * publish it with RCU (dpn_dataplane_set_acl, dpn_dataplane_set_auth);
 * one mutex orders the control threads, the metrics threads and the
 * management lcore among themselves, never the workers, and keeps
 * readers of the tables' counters from a table being freed.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpn_ntsserver.h"
#include "dpn_runtime.h"

#define MAX_WORDS 64
#define MAX_RULES_PER_LINE 64

static pthread_mutex_t rt_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct dpn_runtime *rt;

void
dpn_runtime_init(struct dpn_runtime *r)
{
	rt = r;
}

struct dpn_runtime *
dpn_runtime_get(void)
{
	return rt;
}

void
dpn_runtime_lock(void)
{
	pthread_mutex_lock(&rt_mutex);
}

void
dpn_runtime_unlock(void)
{
	pthread_mutex_unlock(&rt_mutex);
}

bool
dpn_runtime_trylock(void)
{
	return pthread_mutex_trylock(&rt_mutex) == 0;
}

/* Did the upstream side's lines change (line numbers aside)? */
static bool
upstream_changed(const struct dpn_conf *a, const struct dpn_conf *b)
{
	unsigned int i;

	if (a->nb_servers != b->nb_servers ||
	    memcmp(&a->disc, &b->disc, sizeof(a->disc)) != 0 ||
	    strcmp(a->keys_path, b->keys_path) != 0 ||
	    memcmp(&a->keys, &b->keys, sizeof(a->keys)) != 0 ||
	    a->nb_trusted != b->nb_trusted ||
	    memcmp(a->trusted, b->trusted,
		   a->nb_trusted * sizeof(a->trusted[0])) != 0)
		return true;
	for (i = 0; i < a->nb_servers; i++) {
		struct dpn_conf_server x = a->servers[i], y = b->servers[i];

		x.line = y.line = 0;
		if (memcmp(&x, &y, sizeof(x)) != 0)
			return true;
	}
	return false;
}

int
dpn_runtime_reload(char *err, size_t errlen)
{
	struct dpn_runtime *ctx = rt;
	struct dpn_conf *nc;
	int ret = -1;

	/* A renewed NTS certificate is read again whatever the file says
	 * (the NTS-KE thread does it, and logs how it went). */
	dpn_ntsserver_reload_cert();
	nc = calloc(1, sizeof(*nc));
	if (nc == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (dpn_conf_parse_file(nc, ctx->config_path, err, errlen) != 0) {
		free(nc);
		return -1;
	}
	pthread_mutex_lock(&rt_mutex);
	/* The server's keys first: they can only fail for memory, and then
	 * nothing has changed. The upstream side keeps its keys until a
	 * restart (its polls were set up with them). */
	if (dpn_dataplane_set_auth(ctx->dp, &nc->keys, nc->trusted,
				   nc->nb_trusted, !nc->authfail_drop, err,
				   errlen) == 0 &&
	    dpn_dataplane_set_acl(ctx->dp, &nc->acl, &nc->discard, err,
				  errlen) == 0) {
		/* The running configuration takes the new rules. */
		struct dpn_acl_ruleset old = ctx->conf->acl;

		ctx->conf->acl = nc->acl;
		ctx->conf->discard = nc->discard;
		ctx->conf->discard_line = nc->discard_line;
		/* The health verdict takes its thresholds from here. */
		ctx->conf->health = nc->health;
		nc->acl = old;
		ret = 0;
	}
	pthread_mutex_unlock(&rt_mutex);
	if (ret == 0 && (nc->nb_listen != ctx->conf->nb_listen ||
			 memcmp(nc->listen, ctx->conf->listen,
				sizeof(nc->listen[0]) * nc->nb_listen) != 0 ||
			 memcmp(&nc->refclock_system,
				&ctx->conf->refclock_system,
				sizeof(nc->refclock_system)) != 0 ||
			 nc->nb_refclocks != ctx->conf->nb_refclocks ||
			 memcmp(nc->refclocks, ctx->conf->refclocks,
				sizeof(nc->refclocks[0]) *
				nc->nb_refclocks) != 0 ||
			 nc->clientlimit != ctx->conf->clientlimit ||
			 nc->xleavelimit != ctx->conf->xleavelimit ||
			 memcmp(&nc->metrics, &ctx->conf->metrics,
				sizeof(nc->metrics)) != 0 ||
			 upstream_changed(nc, ctx->conf)))
		snprintf(err, errlen,
			 "listen, refclock, server, pool, keys for upstream polls, tinker, tos, driftfile, leapfile, leapsmear, holdover, metrics, clientlimit and xleavelimit changes need a restart; restrict, discard, health and the keys clients use (keys, trustedkey, authfail) applied");
	dpn_conf_free(nc);
	free(nc);
	return ret;
}

int
dpn_runtime_restrict_change(bool add, const char *text, char *err, size_t errlen)
{
	struct dpn_runtime *ctx = rt;
	struct dpn_acl_rule rules[MAX_RULES_PER_LINE];
	struct dpn_acl_ruleset rs;
	char buf[DPN_RUNTIME_MAX_LINE + 1], *words[MAX_WORDS], *save = NULL, *w;
	int nb = 0, n, i, ret = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (w = strtok_r(buf, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save)) {
		if (nb == MAX_WORDS) {
			snprintf(err, errlen, "too many words");
			return -1;
		}
		words[nb++] = w;
	}
	n = dpn_acl_parse(words, nb, rules, MAX_RULES_PER_LINE, err, errlen);
	if (n < 0)
		return -1;

	pthread_mutex_lock(&rt_mutex);
	dpn_acl_ruleset_init(&rs);
	if (dpn_acl_ruleset_copy(&rs, &ctx->conf->acl) != 0) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
	}
	for (i = 0; ret == 0 && i < n; i++) {
		rules[i].line = 0;
		if (add) {
			ret = dpn_acl_ruleset_add(&rs, &rules[i]);
			if (ret != 0)
				snprintf(err, errlen, "out of memory");
		} else {
			ret = dpn_acl_ruleset_del(&rs, &rules[i]);
			if (ret != 0)
				snprintf(err, errlen,
					 "no such restrict rule (see 'show restrict')");
		}
	}
	if (ret == 0)
		dpn_acl_ruleset_sort(&rs);
	if (ret == 0 && dpn_dataplane_set_acl(ctx->dp, &rs,
					      &ctx->conf->discard, err,
					      errlen) != 0)
		ret = -1;
	if (ret == 0) {
		struct dpn_acl_ruleset old = ctx->conf->acl;

		ctx->conf->acl = rs;
		rs = old;
	}
	dpn_acl_ruleset_free(&rs);
	pthread_mutex_unlock(&rt_mutex);
	return ret == 0 ? 0 : -1;
}

unsigned int
dpn_runtime_restrict_walk(void (*fn)(void *arg, const char *rule,
				 const struct dpn_acl_counters *c),
		      void *arg, unsigned int max)
{
	struct dpn_runtime *ctx = rt;
	const struct dpn_acl_table *t;
	char line[256];
	unsigned int i, nb;

	pthread_mutex_lock(&rt_mutex);
	t = dpn_dataplane_acl(ctx->dp);
	nb = t->rules.nb;
	for (i = 0; i < nb && i < max; i++) {
		struct dpn_acl_counters c;

		dpn_dataplane_acl_counters(ctx->dp, i, &c);
		dpn_acl_format(&t->rules.rules[i], line, sizeof(line));
		fn(arg, line, &c);
	}
	pthread_mutex_unlock(&rt_mutex);
	return nb;
}

unsigned int
dpn_runtime_auth_walk(void (*fn)(void *arg, uint32_t id, const char *type,
			     const struct dpn_auth_counters *c),
		  void *arg, unsigned int max, bool *nak)
{
	struct dpn_runtime *ctx = rt;
	const struct dpn_auth_table *t;
	unsigned int i, nb = 0;

	/* Reloads replace (and free) the table under this lock. */
	pthread_mutex_lock(&rt_mutex);
	t = dpn_dataplane_auth(ctx->dp);
	if (nak != NULL)
		*nak = t == NULL || t->nak;	/* authfail's default */
	if (t != NULL)
		nb = t->nb_keys;
	for (i = 0; i < nb && i < max; i++) {
		const struct dpn_ntpauth_key *k =
			dpn_ntpauth_server_key(t->keys, i);
		struct dpn_auth_counters c;

		dpn_auth_table_key_counters(t, i, &c);
		fn(arg, k->id, dpn_ntpauth_type_str(k->type), &c);
	}
	pthread_mutex_unlock(&rt_mutex);
	return nb;
}

