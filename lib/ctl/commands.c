/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command table. As in testpmd, each command is a result struct of
 * tokens, a *_parsed callback that only dispatches, and an instance in
 * the table; the work is in the dpn_ctl_* functions that print to a FILE.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_ipaddr.h>
#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>
#include <cmdline_socket.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dpn_ctl.h"
#include "ctl_private.h"

static struct dpn_ctl_ctx *ctl;

/* Where the running command prints, and what `quit` means for it. */
static __thread FILE *ctl_out;
static __thread bool ctl_prompt;
/* Set by a command that fails after parsing (e.g. no such port). */
static __thread char ctl_error[DPN_CONF_ERRLEN];

void
dpn_ctl_init(struct dpn_ctl_ctx *ctx)
{
	ctl = ctx;
}

struct dpn_ctl_ctx *
dpn_ctl_ctx_get(void)
{
	return ctl;
}

/* Report a failed command: on the socket in the status line, on the
 * prompt as an error line. */
static void
ctl_fail(const char *msg)
{
	if (ctl_prompt)
		fprintf(ctl_out, "error: %s\n", msg);
	else
		snprintf(ctl_error, sizeof(ctl_error), "%s", msg);
}

/*
 * The work.
 */

static bool
port_valid(FILE *f, int port)
{
	RTE_SET_USED(f);
	if (port >= 0 && (unsigned int)port < ctl->dp->nb_ports)
		return true;
	snprintf(ctl_error, sizeof(ctl_error),
		 "no port %d (ports 0..%u are in use)", port,
		 ctl->dp->nb_ports - 1);
	return false;
}

int
dpn_ctl_show_port_stats(FILE *f, int port)
{
	unsigned int i;

	if (port >= 0 && !port_valid(f, port))
		return -EINVAL;
	for (i = 0; i < ctl->dp->nb_ports; i++) {
		const struct dpn_port *p = &ctl->dp->ports[i];
		struct rte_eth_stats st;

		if (port >= 0 && (unsigned int)port != i)
			continue;
		if (rte_eth_stats_get(p->port_id, &st) != 0)
			memset(&st, 0, sizeof(st));
		fprintf(f, "port %u (%s)\n", p->port_id, p->name);
		fprintf(f, "  rx_packets  %" PRIu64 "\n", st.ipackets);
		fprintf(f, "  rx_bytes    %" PRIu64 "\n", st.ibytes);
		fprintf(f, "  rx_missed   %" PRIu64 "\n", st.imissed);
		fprintf(f, "  rx_errors   %" PRIu64 "\n", st.ierrors);
		fprintf(f, "  rx_nombuf   %" PRIu64 "\n", st.rx_nombuf);
		fprintf(f, "  tx_packets  %" PRIu64 "\n", st.opackets);
		fprintf(f, "  tx_bytes    %" PRIu64 "\n", st.obytes);
		fprintf(f, "  tx_errors   %" PRIu64 "\n", st.oerrors);
	}
	return 0;
}

static void
print_addrs(FILE *f, const struct dpn_addrs *a)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned int i;

	static const uint8_t no_gw[16];

	for (i = 0; i < a->nb_v4; i++) {
		inet_ntop(AF_INET, &a->v4[i], buf, sizeof(buf));
		fprintf(f, "  address     %s/%u", buf, a->v4_prefix[i]);
		if (a->v4_vlan[i] != 0)
			fprintf(f, " vlan %u", a->v4_vlan[i]);
		if (a->v4_gw[i] != 0)
			fprintf(f, " gateway %s", inet_ntop(AF_INET,
				&a->v4_gw[i], buf, sizeof(buf)));
		fputc('\n', f);
	}
	for (i = 0; i < a->nb_v6; i++) {
		inet_ntop(AF_INET6, a->v6[i], buf, sizeof(buf));
		fprintf(f, "  address     %s/%u", buf, a->v6_prefix[i]);
		if (a->v6_vlan[i] != 0)
			fprintf(f, " vlan %u", a->v6_vlan[i]);
		if (memcmp(a->v6_gw[i], no_gw, 16) != 0)
			fprintf(f, " gateway %s", inet_ntop(AF_INET6,
				a->v6_gw[i], buf, sizeof(buf)));
		fputc('\n', f);
	}
}

int
dpn_ctl_show_port_info(FILE *f, int port)
{
	unsigned int i;

	if (port >= 0 && !port_valid(f, port))
		return -EINVAL;
	for (i = 0; i < ctl->dp->nb_ports; i++) {
		const struct dpn_port *p = &ctl->dp->ports[i];
		struct rte_eth_dev_info info;
		struct rte_eth_link link;
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		if (port >= 0 && (unsigned int)port != i)
			continue;
		memset(&info, 0, sizeof(info));
		rte_eth_dev_info_get(p->port_id, &info);
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(p->port_id, &link);
		rte_ether_format_addr(mac, sizeof(mac), &p->mac);
		fprintf(f, "port %u (%s)\n", p->port_id, p->name);
		fprintf(f, "  driver      %s\n",
			info.driver_name ? info.driver_name : "?");
		fprintf(f, "  mac         %s\n", mac);
		fprintf(f, "  link        %s, %u Mbps\n",
			link.link_status ? "up" : "down", link.link_speed);
		fprintf(f, "  numa_node   %d\n", p->socket_id);
		fprintf(f, "  queues      %u RX/TX pairs\n", p->nb_queues);
		fprintf(f, "  rss         %s\n", p->rss_hf ? "ip" : "off");
		fprintf(f, "  tx_cksum    %s\n",
			p->tx_cksum_offload ? "nic" : "software");
		fprintf(f, "  rx_cksum    %s\n",
			p->rx_cksum_offload ? "nic" : "software");
		fprintf(f, "  rx_tstamp   %s\n", p->rx_timestamp ? "nic" : "tsc");
		print_addrs(f, &p->addrs);
	}
	return 0;
}

void
dpn_ctl_show_stats(FILE *f)
{
	struct dpn_dataplane *dp = ctl->dp;
	struct dpn_stats total, w_sum;
	unsigned int i, j;

	memset(&w_sum, 0, sizeof(w_sum));
	for (i = 0; i < dp->nb_workers; i++)
		for (j = 0; j < DPN_STAT_MAX; j++)
			w_sum.c[j] += __atomic_load_n(
				&dp->workers[i]->stats.c[j], __ATOMIC_RELAXED);
	for (j = 0; j < DPN_STAT_MAX; j++)
		total.c[j] = w_sum.c[j] + dp->mgmt_stats.c[j];

	fprintf(f, "%-24s %14s", "counter", "total");
	for (i = 0; i < dp->nb_workers; i++)
		fprintf(f, " %11s%-3u", "lcore", dp->workers[i]->lcore_id);
	fprintf(f, " %14s\n", "mgmt");
	for (j = 0; j < DPN_STAT_MAX; j++) {
		fprintf(f, "%-24s %14" PRIu64, dpn_stats_name(j), total.c[j]);
		for (i = 0; i < dp->nb_workers; i++)
			fprintf(f, " %14" PRIu64,
				__atomic_load_n(&dp->workers[i]->stats.c[j],
						__ATOMIC_RELAXED));
		fprintf(f, " %14" PRIu64 "\n", dp->mgmt_stats.c[j]);
	}
	fprintf(f, "%-24s %14s", "busy_percent", "");
	for (i = 0; i < dp->nb_workers; i++) {
		const struct dpn_worker *w = dp->workers[i];
		uint64_t tot = w->total_cycles;

		fprintf(f, " %14.1f",
			tot ? 100.0 * (double)w->busy_cycles / (double)tot : 0.0);
	}
	fprintf(f, " %14s\n", "");
}

void
dpn_ctl_show_config(FILE *f)
{
	char buf[8192];

	dpn_conf_format(ctl->conf, buf, sizeof(buf));
	fprintf(f, "# %s\n%s", ctl->config_path ? ctl->config_path :
		"(built-in)", buf);
}

void
dpn_ctl_show_sysinfo(FILE *f)
{
	struct dpn_clock_snapshot s;
	const struct dpn_refclock_system *rs = ctl->refclock;
	const struct dpn_ntp_sysinfo *si = &s.sysinfo;
	uint32_t refid;
	char id[5];
	int i;

	dpn_clock_read(ctl->dp->clock, &s);
	refid = __builtin_bswap32(si->refid);
	for (i = 0; i < 4; i++) {
		char c = (char)(refid >> (24 - 8 * i));

		id[i] = (c >= 0x20 && c < 0x7f) ? c : '\0';
	}
	id[4] = '\0';
	fprintf(f, "synchronized    %s\n", s.synced ? "yes" : "no");
	fprintf(f, "reference       %s\n",
		rs->conf.enabled ? "system" : "none");
	fprintf(f, "leap            %u\n", si->leap);
	fprintf(f, "stratum         %u\n", si->stratum);
	fprintf(f, "refid           %s\n", id);
	fprintf(f, "precision       %d\n", si->precision);
	fprintf(f, "root_delay_ns   %" PRId64 "\n",
		dpn_ntp_short_to_ns(__builtin_bswap32(si->root_delay)));
	fprintf(f, "root_disp_ns    %" PRId64 "\n",
		dpn_ntp_short_to_ns(__builtin_bswap32(si->root_disp)));
	fprintf(f, "offset_ns       %" PRId64 "\n", rs->tracker.last_offset_ns);
	fprintf(f, "jitter_ns       %.0f\n", rs->tracker.jitter_ns);
	fprintf(f, "frequency_ppm   %.3f\n",
		(rs->tracker.ns_per_tick / rs->tracker.nominal_ns_per_tick -
		 1.0) * 1e6);
	fprintf(f, "samples         %" PRIu64 "\n", rs->samples);
	fprintf(f, "steps           %" PRIu64 "\n", rs->tracker.steps);
	fprintf(f, "generation      %" PRIu64 "\n", s.generation);
}

static void
neigh_header(FILE *f)
{
	fprintf(f, "%-4s %-39s %-4s %-17s %-10s %6s %6s\n", "port", "address",
		"vlan", "mac", "state", "age", "probes");
}

/* One entry, as `ip neigh` would say it; age: since it last changed or
 * was confirmed. */
static void
neigh_print(FILE *f, unsigned int port, const struct dpn_neigh_entry *e,
	    uint64_t now)
{
	char addr[INET6_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE], vlan[8];
	bool has_mac = e->state == DPN_NEIGH_REACHABLE ||
		e->state == DPN_NEIGH_STALE || e->state == DPN_NEIGH_PROBE;

	inet_ntop(e->family, e->addr, addr, sizeof(addr));
	if (has_mac)	/* lower case, as ip neigh and sysfs write it */
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4],
			 e->mac[5]);
	else
		snprintf(mac, sizeof(mac), "-");
	if (e->vlan != 0)
		snprintf(vlan, sizeof(vlan), "%u", e->vlan);
	else
		snprintf(vlan, sizeof(vlan), "-");
	fprintf(f, "%-4u %-39s %-4s %-17s %-10s %6" PRIu64 " %6u\n", port,
		addr, vlan, mac, dpn_neigh_state_name(e->state),
		(uint64_t)(now > e->updated_ns ?
			   (now - e->updated_ns) / DPN_NEIGH_NS_PER_S : 0),
		e->probes);
}

void
dpn_ctl_show_neighbors(FILE *f)
{
	uint64_t now = dpn_neigh_now_ns();
	struct dpn_neigh_entry *e;
	unsigned int pi;
	int i, n;

	/* A copy: the management lcore keeps changing the tables. */
	e = malloc(sizeof(*e) * DPN_NEIGH_TABLE_SIZE);
	if (e == NULL) {
		ctl_fail("out of memory");
		return;
	}
	neigh_header(f);
	for (pi = 0; pi < ctl->dp->nb_ports; pi++) {
		n = dpn_neigh_read(ctl->dp, pi, e, DPN_NEIGH_TABLE_SIZE);
		if (n < 0)
			fprintf(f, "port %u: table busy, try again\n", pi);
		for (i = 0; i < n; i++)
			neigh_print(f, pi, &e[i], now);
	}
	free(e);
}

/* Port @p r's entry for its next hop, copied into @p out; false if
 * there is none. @p tmp holds a copy of the whole table. */
static bool
neigh_entry_get(const struct dpn_route *r, struct dpn_neigh_entry *tmp,
		struct dpn_neigh_entry *out)
{
	size_t alen = r->family == AF_INET ? 4 : 16;
	int i, n;

	n = dpn_neigh_read(ctl->dp, r->port_index, tmp, DPN_NEIGH_TABLE_SIZE);
	for (i = 0; i < n; i++)
		if (tmp[i].family == r->family && tmp[i].vlan == r->vlan &&
		    memcmp(tmp[i].addr, &r->nexthop, alen) == 0) {
			*out = tmp[i];
			return true;
		}
	return false;
}

int
dpn_ctl_neigh_resolve(FILE *f, int family, const void *addr, char *err,
		      size_t errlen)
{
	/* Three probes a second apart, and a second for the last answer. */
	const unsigned int wait_ms = DPN_NEIGH_MAX_PROBES *
		(DPN_NEIGH_RETRANS_NS / 1000000) + 1000;
	char dst[INET6_ADDRSTRLEN], nh[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN];
	struct dpn_neigh_entry e, *tmp;
	struct dpn_route r;
	unsigned int waited;
	bool found = false;
	int ret, rc;

	inet_ntop(family, addr, dst, sizeof(dst));
	ret = dpn_neigh_request(ctl->dp, family, addr, 1000, &r, &rc);
	if (ret != 0) {
		snprintf(err, errlen,
			 "the management lcore did not take the request: %s",
			 strerror(-ret));
		return -1;
	}
	if (rc == -ENETUNREACH || rc == -EINVAL) {
		snprintf(err, errlen, rc == -EINVAL ?
			 "%s: not a unicast address, or our own" :
			 "%s: no listen prefix holds it and no listen line has a gateway",
			 dst);
		return -1;
	}
	inet_ntop(family, &r.nexthop, nh, sizeof(nh));
	inet_ntop(family, &r.src, src, sizeof(src));
	fprintf(f, "%s %s %s port %u vlan %u src %s\n", dst,
		r.on_link ? "on link, next hop" : "via gateway", nh,
		r.port_index, r.vlan, src);
	tmp = malloc(sizeof(*tmp) * DPN_NEIGH_TABLE_SIZE);
	if (tmp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Until the neighbour answers or is given up on. */
	for (waited = 0; waited <= wait_ms; waited += 50) {
		found = neigh_entry_get(&r, tmp, &e);
		if (rc == -ENOSPC ||
		    (found && (e.state == DPN_NEIGH_REACHABLE ||
			       e.state == DPN_NEIGH_FAILED)))
			break;
		usleep(50 * 1000);
	}
	free(tmp);
	if (found) {
		neigh_header(f);
		neigh_print(f, r.port_index, &e, dpn_neigh_now_ns());
	}
	if (found && e.state == DPN_NEIGH_REACHABLE)
		return 0;
	if (!found && rc == -ENOSPC)
		snprintf(err, errlen,
			 "%s: the neighbour table is full of pending entries",
			 nh);
	else if (found && e.state == DPN_NEIGH_FAILED)
		snprintf(err, errlen,
			 "%s: no answer to %u probes (FAILED; tried again after %llu s)",
			 nh, DPN_NEIGH_MAX_PROBES,
			 DPN_NEIGH_FAILED_NS / DPN_NEIGH_NS_PER_S);
	else
		snprintf(err, errlen, "%s: not resolved after %u ms", nh,
			 wait_ms);
	return -1;
}

/*
 * The command table.
 */

struct cmd_port_all {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t what;
	cmdline_fixed_string_t all;
};

struct cmd_port_n {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t what;
	uint16_t id;
};

static void
port_cmd(const char *what, int port)
{
	if (strcmp(what, "stats") == 0)
		dpn_ctl_show_port_stats(ctl_out, port);
	else
		dpn_ctl_show_port_info(ctl_out, port);
	/* The socket reports errors in its status line, the prompt here. */
	if (ctl_prompt && ctl_error[0] != '\0') {
		fprintf(ctl_out, "error: %s\n", ctl_error);
		ctl_error[0] = '\0';
	}
}

static void
cmd_port_all_parsed(void *res, struct cmdline *cl, void *data)
{
	port_cmd(((struct cmd_port_all *)res)->what, -1);
}

static void
cmd_port_n_parsed(void *res, struct cmdline *cl, void *data)
{
	const struct cmd_port_n *r = res;

	port_cmd(r->what, r->id);
}

static cmdline_parse_token_string_t tok_pa_show =
	TOKEN_STRING_INITIALIZER(struct cmd_port_all, show, "show");
static cmdline_parse_token_string_t tok_pa_port =
	TOKEN_STRING_INITIALIZER(struct cmd_port_all, port, "port");
static cmdline_parse_token_string_t tok_pa_what =
	TOKEN_STRING_INITIALIZER(struct cmd_port_all, what, "stats#info");
static cmdline_parse_token_string_t tok_pa_all =
	TOKEN_STRING_INITIALIZER(struct cmd_port_all, all, "all");

static cmdline_parse_inst_t cmd_port_all = {
	.f = cmd_port_all_parsed,
	.help_str = "show port stats|info all: counters or setup of every port",
	.tokens = { (void *)&tok_pa_show, (void *)&tok_pa_port, (void *)&tok_pa_what, (void *)&tok_pa_all,
		    NULL },
};

static cmdline_parse_token_string_t tok_pn_show =
	TOKEN_STRING_INITIALIZER(struct cmd_port_n, show, "show");
static cmdline_parse_token_string_t tok_pn_port =
	TOKEN_STRING_INITIALIZER(struct cmd_port_n, port, "port");
static cmdline_parse_token_string_t tok_pn_what =
	TOKEN_STRING_INITIALIZER(struct cmd_port_n, what, "stats#info");
static cmdline_parse_token_num_t tok_pn_id =
	TOKEN_NUM_INITIALIZER(struct cmd_port_n, id, RTE_UINT16);

static cmdline_parse_inst_t cmd_port_n = {
	.f = cmd_port_n_parsed,
	.help_str = "show port stats|info <port>: counters or setup of one port",
	.tokens = { (void *)&tok_pn_show, (void *)&tok_pn_port, (void *)&tok_pn_what, (void *)&tok_pn_id,
		    NULL },
};

struct cmd_show {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
};

static void
cmd_show_parsed(void *res, struct cmdline *cl, void *data)
{
	const char *what = ((struct cmd_show *)res)->what;

	if (strcmp(what, "stats") == 0)
		dpn_ctl_show_stats(ctl_out);
	else if (strcmp(what, "config") == 0)
		dpn_ctl_show_config(ctl_out);
	else
		dpn_ctl_show_sysinfo(ctl_out);
}

static cmdline_parse_token_string_t tok_s_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show, show, "show");
static cmdline_parse_token_string_t tok_s_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "stats#config#sysinfo");

static cmdline_parse_inst_t cmd_show = {
	.f = cmd_show_parsed,
	.help_str = "show stats|config|sysinfo: request counters per lcore, "
		"the configuration in use, the served clock",
	.tokens = { (void *)&tok_s_show, (void *)&tok_s_what, NULL },
};

struct cmd_word {
	cmdline_fixed_string_t word;
};

/* reload */

static void
cmd_reload_parsed(void *res, struct cmdline *cl, void *data)
{
	char err[DPN_CONF_ERRLEN];

	err[0] = '\0';
	if (dpn_ctl_reload(err, sizeof(err)) != 0)
		ctl_fail(err);
	else
		fprintf(ctl_out, "reloaded %s%s%s\n", ctl->config_path,
			err[0] ? ": " : "", err);
}

static cmdline_parse_token_string_t tok_reload =
	TOKEN_STRING_INITIALIZER(struct cmd_word, word, "reload");

static cmdline_parse_inst_t cmd_reload = {
	.f = cmd_reload_parsed,
	.help_str = "reload: re-read the configuration file's restrict and "
		"discard lines (an error keeps the running rules)",
	.tokens = { (void *)&tok_reload, NULL },
};

/* restrict add|del WORDS */

struct cmd_restrict {
	cmdline_fixed_string_t restrict_;
	cmdline_fixed_string_t op;
	cmdline_multi_string_t words;
};

static void
cmd_restrict_parsed(void *res, struct cmdline *cl, void *data)
{
	const struct cmd_restrict *r = res;
	char err[DPN_CONF_ERRLEN];
	bool add = strcmp(r->op, "add") == 0;

	if (dpn_ctl_restrict_change(add, r->words, err, sizeof(err)) != 0)
		ctl_fail(err);
	else
		fprintf(ctl_out, "%s: restrict %s\n",
			add ? "added" : "deleted", r->words);
}

static cmdline_parse_token_string_t tok_r_restrict =
	TOKEN_STRING_INITIALIZER(struct cmd_restrict, restrict_, "restrict");
static cmdline_parse_token_string_t tok_r_op =
	TOKEN_STRING_INITIALIZER(struct cmd_restrict, op, "add#del");
static cmdline_parse_token_string_t tok_r_words =
	TOKEN_STRING_INITIALIZER(struct cmd_restrict, words, TOKEN_STRING_MULTI);

static cmdline_parse_inst_t cmd_restrict = {
	.f = cmd_restrict_parsed,
	.help_str = "restrict add|del ADDRESS [mask MASK] [flags]: change the "
		"running rules (as a restrict line; del matches address and "
		"mask)",
	.tokens = { (void *)&tok_r_restrict, (void *)&tok_r_op,
		    (void *)&tok_r_words, NULL },
};

/* show restrict; show clients [N] */

static void
cmd_show_restrict_parsed(void *res, struct cmdline *cl, void *data)
{
	if (strcmp(((struct cmd_show *)res)->what, "restrict") == 0)
		dpn_ctl_show_restrict(ctl_out);
	else
		dpn_ctl_show_clients(ctl_out, 10);
}

static cmdline_parse_token_string_t tok_sr_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show, show, "show");
static cmdline_parse_token_string_t tok_sr_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "restrict#clients");

static cmdline_parse_inst_t cmd_show_restrict = {
	.f = cmd_show_restrict_parsed,
	.help_str = "show restrict|clients: rules in match order with hits, "
		"drops and KoDs; the 10 busiest rate-limited clients",
	.tokens = { (void *)&tok_sr_show, (void *)&tok_sr_what, NULL },
};

struct cmd_show_n {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
	uint32_t n;
};

static void
cmd_show_clients_n_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_show_clients(ctl_out, ((struct cmd_show_n *)res)->n);
}

static cmdline_parse_token_string_t tok_sc_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show_n, show, "show");
static cmdline_parse_token_string_t tok_sc_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show_n, what, "clients");
static cmdline_parse_token_num_t tok_sc_n =
	TOKEN_NUM_INITIALIZER(struct cmd_show_n, n, RTE_UINT32);

static cmdline_parse_inst_t cmd_show_clients_n = {
	.f = cmd_show_clients_n_parsed,
	.help_str = "show clients <N>: the N busiest rate-limited clients "
		"(at most 1000)",
	.tokens = { (void *)&tok_sc_show, (void *)&tok_sc_what,
		    (void *)&tok_sc_n, NULL },
};

/* show neighbors|neigh */

static void
cmd_show_neigh_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_show_neighbors(ctl_out);
}

static cmdline_parse_token_string_t tok_sn_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show, show, "show");
static cmdline_parse_token_string_t tok_sn_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "neighbors#neigh");

static cmdline_parse_inst_t cmd_show_neigh = {
	.f = cmd_show_neigh_parsed,
	.help_str = "show neighbors|neigh: the ARP and NDP neighbour tables "
		"(address, VLAN, MAC, state, age in s, probes)",
	.tokens = { (void *)&tok_sn_show, (void *)&tok_sn_what, NULL },
};

/* neigh resolve ADDR */

struct cmd_neigh_resolve {
	cmdline_fixed_string_t neigh;
	cmdline_fixed_string_t resolve;
	cmdline_ipaddr_t addr;
};

static void
cmd_neigh_resolve_parsed(void *res, struct cmdline *cl, void *data)
{
	const struct cmd_neigh_resolve *r = res;
	char err[DPN_CONF_ERRLEN];

	if (dpn_ctl_neigh_resolve(ctl_out, r->addr.family, &r->addr.addr,
				  err, sizeof(err)) != 0)
		ctl_fail(err);
}

static cmdline_parse_token_string_t tok_nr_neigh =
	TOKEN_STRING_INITIALIZER(struct cmd_neigh_resolve, neigh, "neigh");
static cmdline_parse_token_string_t tok_nr_resolve =
	TOKEN_STRING_INITIALIZER(struct cmd_neigh_resolve, resolve, "resolve");
static cmdline_parse_token_ipaddr_t tok_nr_addr =
	TOKEN_IPADDR_INITIALIZER(struct cmd_neigh_resolve, addr);

static cmdline_parse_inst_t cmd_neigh_resolve = {
	.f = cmd_neigh_resolve_parsed,
	.help_str = "neigh resolve ADDR: route ADDR, resolve its next hop "
		"(ARP or NDP, up to 4 s) and show the neighbour entry",
	.tokens = { (void *)&tok_nr_neigh, (void *)&tok_nr_resolve,
		    (void *)&tok_nr_addr, NULL },
};

static void
cmd_help_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_help(ctl_out);
}

static cmdline_parse_token_string_t tok_help =
	TOKEN_STRING_INITIALIZER(struct cmd_word, word, "help");

static cmdline_parse_inst_t cmd_help = {
	.f = cmd_help_parsed,
	.help_str = "help: this list",
	.tokens = { (void *)&tok_help, NULL },
};

static void
cmd_quit_parsed(void *res, struct cmdline *cl, void *data)
{
	if (ctl_prompt) {
		ctl->dp->quit = true;
		cmdline_quit(cl);
	}
}

static cmdline_parse_token_string_t tok_quit =
	TOKEN_STRING_INITIALIZER(struct cmd_word, word, "quit");

static cmdline_parse_inst_t cmd_quit = {
	.f = cmd_quit_parsed,
	.help_str = "quit: stop dpntpd (on the prompt) or end the session",
	.tokens = { (void *)&tok_quit, NULL },
};

static cmdline_parse_ctx_t main_ctx[] = {
	&cmd_port_all,
	&cmd_port_n,
	&cmd_show,
	&cmd_show_restrict,
	&cmd_show_clients_n,
	&cmd_show_neigh,
	&cmd_neigh_resolve,
	&cmd_restrict,
	&cmd_reload,
	&cmd_help,
	&cmd_quit,
	NULL,
};

void
dpn_ctl_help(FILE *f)
{
	unsigned int i;

	fprintf(f, "Commands:\n");
	for (i = 0; main_ctx[i] != NULL; i++)
		fprintf(f, "  %s\n", main_ctx[i]->help_str);
}

int
dpn_ctl_run_line(const char *line, int out_fd, char *err, size_t errlen)
{
	char buf[DPN_CTL_MAX_LINE + 2];
	struct cmdline *cl;
	size_t len = strlen(line);
	int fd, ret;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > DPN_CTL_MAX_LINE) {
		snprintf(err, errlen, "command longer than %d bytes",
			 DPN_CTL_MAX_LINE);
		return -1;
	}
	memcpy(buf, line, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';

	fd = dup(out_fd);
	ctl_out = fd < 0 ? NULL : fdopen(fd, "w");
	if (ctl_out == NULL) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctl_prompt = false;
	ctl_error[0] = '\0';
	cl = cmdline_new(main_ctx, "", -1, -1);
	if (cl == NULL) {
		fclose(ctl_out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = cmdline_parse(cl, buf);
	cmdline_free(cl);
	fclose(ctl_out);
	ctl_out = NULL;

	/* cmdline_parse() returns the length parsed on success. */
	if (ret >= 0 && ctl_error[0] != '\0') {
		snprintf(err, errlen, "%s", ctl_error);
		return -1;
	}
	if (ret >= 0)
		return 0;
	switch (ret) {
	case CMDLINE_PARSE_AMBIGUOUS:
		snprintf(err, errlen, "ambiguous command");
		break;
	case CMDLINE_PARSE_BAD_ARGS:
		snprintf(err, errlen, "bad arguments (try 'help')");
		break;
	default:
		snprintf(err, errlen, "unknown command (try 'help')");
		break;
	}
	return -1;
}

void
dpn_ctl_interact(void)
{
	struct cmdline *cl;

	cl = cmdline_stdin_new(main_ctx, "dpntp> ");
	if (cl == NULL)
		return;
	ctl_out = stdout;
	ctl_prompt = true;
	cmdline_interact(cl);
	cmdline_stdin_exit(cl);
	fflush(stdout);
	ctl_out = NULL;
}
