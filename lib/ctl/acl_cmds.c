/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What restrict, rate limiting and the server's keys look like: `show
 * restrict`, `show clients`, `show auth` and `show nts`. The changes
 * themselves (reload, `restrict add|del`) are lib/runtime's; these read
 * the tables under its lock, which keeps a table from being freed while
 * its counters are read.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "dpn_ctl.h"
#include "dpn_ntsserver.h"
#include "ctl_private.h"

#define MAX_WORDS 64
#define MAX_RULES_PER_LINE 64
#define MAX_CLIENTS_SHOWN 1000

void
dpn_ctl_show_restrict(FILE *f)
{
	struct dpn_runtime *ctx = dpn_runtime_get();
	const struct dpn_acl_table *t;
	bool json = ctl_json();
	char line[256];
	unsigned int i;

	dpn_runtime_lock();
	t = dpn_dataplane_acl(ctx->dp);
	if (json)
		fputs("{\"rules\": [", f);
	else
		fprintf(f, "%12s %12s %12s  %s\n", "hits", "drops", "kods",
			"rule");
	for (i = 0; i < t->rules.nb; i++) {
		struct dpn_acl_counters c;

		dpn_dataplane_acl_counters(ctx->dp, i, &c);
		dpn_acl_format(&t->rules.rules[i], line, sizeof(line));
		if (json) {
			fprintf(f, "%s{\"hits\": %" PRIu64 ", \"drops\": %"
				PRIu64 ", \"kods\": %" PRIu64 ", \"rule\": ",
				i ? ", " : "", c.hits, c.drops, c.kods);
			ctl_json_str(f, line);
			fputc('}', f);
		} else {
			fprintf(f, "%12" PRIu64 " %12" PRIu64 " %12" PRIu64
				"  %s\n", c.hits, c.drops, c.kods, line);
		}
	}
	if (json)
		fprintf(f, "], \"discard\": {\"average\": %d, \"minimum\": %u, "
			"\"monitor\": %u}}\n", t->discard.average_log2,
			t->discard.minimum_s, t->discard.monitor);
	else
		fprintf(f, "# %u rules; discard average %d minimum %u "
			"monitor %u\n", t->rules.nb, t->discard.average_log2,
			t->discard.minimum_s, t->discard.monitor);
	dpn_runtime_unlock();
}

/* One trusted key as `show auth` prints it (never its material). */
struct auth_row {
	uint32_t id;
	const char *type;
	struct dpn_auth_counters c;
};

struct auth_rows {
	unsigned int nb;
	struct auth_row row[DPN_NTPAUTH_MAX_KEYS];
};

static void
auth_row_add(void *arg, uint32_t id, const char *type,
	     const struct dpn_auth_counters *c)
{
	struct auth_rows *r = arg;

	r->row[r->nb++] = (struct auth_row){ .id = id, .type = type, .c = *c };
}

/* A stats counter summed over the workers and the management lcore, as
 * `show stats` sums its total. */
static uint64_t
stat_total(const struct dpn_dataplane *dp, enum dpn_stats_id id)
{
	uint64_t v = __atomic_load_n(&dp->mgmt_stats.c[id], __ATOMIC_RELAXED);
	unsigned int i;

	for (i = 0; i < dp->nb_workers; i++)
		v += __atomic_load_n(&dp->workers[i]->stats.c[id],
				     __ATOMIC_RELAXED);
	return v;
}

void
dpn_ctl_show_auth(FILE *f)
{
	static const struct {
		const char *text;	/* label of the text output */
		const char *json;	/* key of the JSON output */
		enum dpn_stats_id id;
	} totals[] = {
		{ "unknown key", "unknown_key", DPN_STAT_NTP_AUTH_UNKNOWN_KEY },
		{ "bad MAC", "bad_mac", DPN_STAT_NTP_AUTH_BAD_MAC },
		{ "crypto-NAKs sent", "naks_sent", DPN_STAT_NTP_AUTH_NAK },
		{ "dropped", "dropped", DPN_STAT_NTP_AUTH_DROPPED },
		{ "signed replies", "signed_replies", DPN_STAT_NTP_AUTH_SIGNED },
	};
	struct dpn_runtime *ctx = dpn_runtime_get();
	struct auth_rows *r = calloc(1, sizeof(*r));
	bool json = ctl_json(), nak;
	unsigned int i, nb;

	if (r == NULL) {
		ctl_fail("out of memory");
		return;
	}
	/* Copied under the lock, printed after it. */
	nb = dpn_runtime_auth_walk(auth_row_add, r, DPN_NTPAUTH_MAX_KEYS, &nak);
	if (json) {
		fprintf(f, "{\"trusted_keys\": %u, \"authfail\": \"%s\", "
			"\"keys\": [", nb, nak ? "nak" : "drop");
		for (i = 0; i < r->nb; i++)
			fprintf(f, "%s{\"key\": %" PRIu32 ", \"type\": \"%s\", "
				"\"requests\": %" PRIu64 ", \"good\": %" PRIu64
				", \"bad\": %" PRIu64 ", \"replies\": %" PRIu64
				"}", i ? ", " : "", r->row[i].id,
				r->row[i].type, r->row[i].c.requests,
				r->row[i].c.good, r->row[i].c.bad,
				r->row[i].c.replies);
		fputc(']', f);
		for (i = 0; i < RTE_DIM(totals); i++)
			fprintf(f, ", \"%s\": %" PRIu64, totals[i].json,
				stat_total(ctx->dp, totals[i].id));
		fputs("}\n", f);
	} else {
		fprintf(f, "%u trusted keys; %s\n", nb,
			nak ? "authfail nak: crypto-NAK" :
			"authfail drop: no reply");
		fprintf(f, "%8s %-10s %12s %12s %12s %12s\n", "key", "type",
			"requests", "good", "bad", "replies");
		for (i = 0; i < r->nb; i++)
			fprintf(f, "%8" PRIu32 " %-10s %12" PRIu64 " %12" PRIu64
				" %12" PRIu64 " %12" PRIu64 "\n", r->row[i].id,
				r->row[i].type, r->row[i].c.requests,
				r->row[i].c.good, r->row[i].c.bad,
				r->row[i].c.replies);
		for (i = 0; i < RTE_DIM(totals); i++)
			fprintf(f, "%-16s %12" PRIu64 "\n", totals[i].text,
				stat_total(ctx->dp, totals[i].id));
	}
	free(r);
}

/*
 * `show nts`: the NTS server's key (its ID, never its material), the
 * NTS-KE counters, and the per-packet NTS counters summed over the
 * lcores as `show stats` sums them.
 */
void
dpn_ctl_show_nts(FILE *f)
{
	static const struct {
		const char *text;	/* label of the text output */
		const char *json;	/* key of the JSON output */
		enum dpn_stats_id id;
	} totals[] = {
		{ "NTS replies", "replies", DPN_STAT_NTP_NTS_REPLIES },
		{ "NTS NAKs", "naks", DPN_STAT_NTP_NTS_NAK },
		{ "malformed", "malformed", DPN_STAT_NTP_NTS_MALFORMED },
		{ "NTS off", "off", DPN_STAT_NTP_NTS_OFF },
		{ "no room", "no_room", DPN_STAT_NTP_NTS_NO_ROOM },
	};
	struct dpn_runtime *ctx = dpn_runtime_get();
	struct dpn_ntsserver_info in;
	bool json = ctl_json();
	uint64_t age;
	unsigned int i;

	dpn_ntsserver_info(&in);
	if (!in.enabled) {
		fputs(json ? "{\"enabled\": false}\n" :
		      "NTS off (no ntsservercert)\n", f);
		return;
	}
	age = in.key_age_s > 0 ? (uint64_t)in.key_age_s : 0;
	if (json) {
		fprintf(f, "{\"enabled\": true, \"current_key\": \"%08" PRIX32
			"\", \"key_age_s\": %" PRIu64 ", \"rotate_s\": %" PRIu32
			", \"rotations\": %" PRIu64 ", \"ke\": {\"sessions\": %u"
			", \"handshakes\": %" PRIu64
			", \"handshake_failures\": %" PRIu64
			", \"served\": %" PRIu64 ", \"bad_requests\": %" PRIu64
			", \"internal_errors\": %" PRIu64
			", \"timeouts\": %" PRIu64 ", \"aborted\": %" PRIu64
			", \"cookies\": %" PRIu64 "}",
			in.current_id, age, in.rotate_s, in.rotations,
			in.sessions, in.ke.handshakes,
			in.ke.handshake_failures, in.ke.served,
			in.ke.bad_requests, in.ke.internal_errors,
			in.ke.timeouts, in.ke.aborted, in.ke.cookies);
		for (i = 0; i < RTE_DIM(totals); i++)
			fprintf(f, ", \"%s\": %" PRIu64, totals[i].json,
				stat_total(ctx->dp, totals[i].id));
		fputs("}\n", f);
		return;
	}
	fprintf(f, "NTS on; current key %08" PRIX32 " (age %" PRIu64 " s, ",
		in.current_id, age);
	if (in.rotate_s != 0)
		fprintf(f, "rotate every %" PRIu32 " s", in.rotate_s);
	else
		fputs("rotate never", f);
	fprintf(f, "), rotations %" PRIu64 "\n", in.rotations);
	fprintf(f, "NTS-KE: sessions open %u, handshakes %" PRIu64
		", handshake failures %" PRIu64 ", served %" PRIu64
		", bad requests %" PRIu64 ", internal errors %" PRIu64
		", timeouts %" PRIu64 ", aborted %" PRIu64
		", cookies issued %" PRIu64 "\n",
		in.sessions, in.ke.handshakes, in.ke.handshake_failures,
		in.ke.served, in.ke.bad_requests, in.ke.internal_errors,
		in.ke.timeouts, in.ke.aborted, in.ke.cookies);
	for (i = 0; i < RTE_DIM(totals); i++)
		fprintf(f, "%s %" PRIu64 "\n", totals[i].text,
			stat_total(ctx->dp, totals[i].id));
}

static void
key_str(const uint8_t *key, char *buf, size_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };

	if (memcmp(key, mapped, 12) == 0)
		inet_ntop(AF_INET, key + 12, buf, len);
	else
		inet_ntop(AF_INET6, key, buf, len);
}

void
dpn_ctl_show_clients(FILE *f, unsigned int n)
{
	struct dpn_runtime *ctx = dpn_runtime_get();
	struct dpn_dataplane *dp = ctx->dp;
	struct dpn_clock_snapshot s;
	struct dpn_rl_client *top;
	bool json = ctl_json();
	unsigned int i, nb = 0, total = 0;
	uint32_t now;

	if (n == 0 || n > MAX_CLIENTS_SHOWN)
		n = n == 0 ? 10 : MAX_CLIENTS_SHOWN;
	top = calloc(n, sizeof(*top));
	if (top == NULL)
		return;
	dpn_clock_read(dp->clock, &s);
	now = (uint32_t)((uint64_t)dpn_clock_model_ns(&s.tsc, rte_rdtsc()) >>
			 DPN_RL_UNIT_SHIFT);
	/*
	 * The workers keep writing their tables while we read them: a line
	 * can be a moment old, never harmful (the tables never move).
	 */
	for (i = 0; i < dp->nb_workers; i++) {
		dpn_rl_top(&dp->workers[i]->rl, now, top, &nb, n);
		total += dpn_rl_count(&dp->workers[i]->rl);
	}
	if (json)
		fputs("{\"clients\": [", f);
	else
		fprintf(f, "%-40s %10s %10s %9s %8s %s\n", "client",
			"requests", "limited", "score_s", "last_s", "state");
	for (i = 0; i < nb; i++) {
		char addr[INET6_ADDRSTRLEN];
		double score_s = (double)top[i].score * DPN_RL_UNIT_NS / 1e9;
		double last_s = (double)(uint32_t)(now - top[i].last) *
			DPN_RL_UNIT_NS / 1e9;
		const char *state = top[i].in_penalty ? "limited" : "ok";

		key_str(top[i].key, addr, sizeof(addr));
		if (json)
			fprintf(f, "%s{\"client\": \"%s\", \"requests\": %u, "
				"\"limited\": %u, \"score_s\": %.1f, "
				"\"last_s\": %.1f, \"state\": \"%s\"}",
				i ? ", " : "", addr, top[i].hits,
				top[i].limited, score_s, last_s, state);
		else
			fprintf(f, "%-40s %10u %10u %9.1f %8.1f %s\n", addr,
				top[i].hits, top[i].limited, score_s, last_s,
				state);
	}
	if (json)
		fprintf(f, "], \"tracked\": %u}\n", total);
	else
		fprintf(f, "# %u clients tracked (only `restrict ... limited` "
			"clients are)\n", total);
	free(top);
}
