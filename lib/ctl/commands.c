/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command table. As in testpmd, each command is a result struct of
 * tokens, a *_parsed callback that only dispatches, and an instance in
 * the table; the work is in the dpn_ctl_* functions that print to a FILE.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
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

/* Where the running command prints, and what `quit` means for it. */
static __thread FILE *ctl_out;
static __thread bool ctl_prompt;
/* What the running command may do and how it prints (DPN_CTL_*). */
static __thread unsigned int ctl_flags;
/* Set by a command that fails after parsing (e.g. no such port). */
static __thread char ctl_error[DPN_CONF_ERRLEN];
/* Set when the command was refused for want of privilege. */
static __thread bool ctl_denied;

/* Report a failed command: on the socket in the status line, on the
 * prompt as an error line. */
void
ctl_fail(const char *msg)
{
	if (ctl_prompt)
		fprintf(ctl_out, "error: %s\n", msg);
	else
		snprintf(ctl_error, sizeof(ctl_error), "%s", msg);
}

bool
ctl_admin_ok(const char *what)
{
	char msg[128];

	if (ctl_prompt || (ctl_flags & DPN_CTL_ADMIN) != 0)
		return true;
	snprintf(msg, sizeof(msg),
		 "'%s' requires root (read-only commands do not)", what);
	ctl_fail(msg);
	ctl_denied = true;
	return false;
}

bool
ctl_json(void)
{
	return !ctl_prompt && (ctl_flags & DPN_CTL_JSON) != 0;
}

void
ctl_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			/* Output is ASCII; anything else is escaped. */
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/*
 * The work.
 */

bool
ctl_port_valid(int port)
{
	if (port >= 0 && (unsigned int)port < dpn_runtime_get()->dp->nb_ports)
		return true;
	snprintf(ctl_error, sizeof(ctl_error),
		 "no port %d (ports 0..%u are in use)", port,
		 dpn_runtime_get()->dp->nb_ports - 1);
	return false;
}

static const char *const port_stat_names[] = {
	"rx_packets", "rx_bytes", "rx_missed", "rx_errors", "rx_nombuf",
	"tx_packets", "tx_bytes", "tx_errors",
};

static void
port_stats_print(FILE *f, const struct dpn_port *p, bool json)
{
	uint64_t v[CTL_PORT_STATS];
	unsigned int j;

	RTE_BUILD_BUG_ON(RTE_DIM(port_stat_names) != CTL_PORT_STATS);
	ctl_port_stats(p, v);
	if (json) {
		fprintf(f, "{\"port\": %u, \"name\": ", p->port_id);
		ctl_json_str(f, p->name);
		for (j = 0; j < RTE_DIM(v); j++)
			fprintf(f, ", \"%s\": %" PRIu64, port_stat_names[j], v[j]);
		fputc('}', f);
		return;
	}
	fprintf(f, "port %u (%s)\n", p->port_id, p->name);
	for (j = 0; j < RTE_DIM(v); j++)
		fprintf(f, "  %-11s %" PRIu64 "\n", port_stat_names[j], v[j]);
}

int
dpn_ctl_show_port_stats(FILE *f, int port)
{
	bool json = ctl_json();
	unsigned int i, n = 0;

	if (port >= 0 && !ctl_port_valid(port))
		return -EINVAL;
	if (json)
		fputs("{\"ports\": [", f);
	for (i = 0; i < dpn_runtime_get()->dp->nb_ports; i++) {
		if (port >= 0 && (unsigned int)port != i)
			continue;
		if (json && n++ > 0)
			fputs(", ", f);
		port_stats_print(f, &dpn_runtime_get()->dp->ports[i], json);
	}
	if (json)
		fputs("]}\n", f);
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

/* Where T2 comes from on port @p pi, and how well it is mapped. */
static void
print_rx_stamps(FILE *f, const struct dpn_dataplane *dp, unsigned int pi)
{
	struct dpn_rx_stamp_info si;

	dpn_rx_stamp_info_get(dp, pi, &si);
	fprintf(f, "  rx_tstamp   %s", dpn_rx_stamp_source_name(si.source));
	if (si.hz != 0)
		fprintf(f, ", %.0f Hz, residual %.0f ns", si.hz,
			si.residual_ns);
	if (si.source == DPN_RX_STAMP_NIC_FIT)
		fprintf(f, ", rx_burst %.0f ns later, %" PRIu64 " restarts",
			si.delay_ns, si.restarts);
	fprintf(f, "\n  rx_stamped  %" PRIu64 " nic, %" PRIu64 " tsc\n",
		si.nb_nic, si.nb_tsc);
}

int
dpn_ctl_show_port_info(FILE *f, int port)
{
	unsigned int i;

	if (port >= 0 && !ctl_port_valid(port))
		return -EINVAL;
	for (i = 0; i < dpn_runtime_get()->dp->nb_ports; i++) {
		const struct dpn_port *p = &dpn_runtime_get()->dp->ports[i];
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
		fprintf(f, "  tx_vlan     %s\n",
			p->tx_vlan_sw ? "software" : "nic");
		fprintf(f, "  rx_cksum    %s\n",
			p->rx_cksum_offload ? "nic" : "software");
		print_rx_stamps(f, dpn_runtime_get()->dp, i);
		fprintf(f, "  tx_time     %s\n", p->tx_in_burst ?
			"T3 (frames leave inside tx_burst)" :
			"after tx_burst (interleaved)");
		print_addrs(f, &p->addrs);
	}
	return 0;
}

static void
stats_json(FILE *f, const struct dpn_stats *st)
{
	unsigned int j;

	fputc('{', f);
	for (j = 0; j < DPN_STAT_MAX; j++)
		fprintf(f, "%s\"%s\": %" PRIu64, j ? ", " : "",
			dpn_stats_name(j),
			__atomic_load_n(&st->c[j], __ATOMIC_RELAXED));
	fputc('}', f);
}

/* {"total": {...}, "lcores": [{"lcore": N, "busy_percent": X,
 * "counters": {...}}], "mgmt": {...}} */
static void
show_stats_json(FILE *f, const struct dpn_stats *total)
{
	struct dpn_dataplane *dp = dpn_runtime_get()->dp;
	unsigned int i;

	fputs("{\"total\": ", f);
	stats_json(f, total);
	fputs(", \"lcores\": [", f);
	for (i = 0; i < dp->nb_workers; i++) {
		fprintf(f, "%s{\"lcore\": %u, \"busy_percent\": %.1f, "
			"\"counters\": ", i ? ", " : "",
			dp->workers[i]->lcore_id,
			ctl_busy_percent(dp->workers[i]));
		stats_json(f, &dp->workers[i]->stats);
		fputc('}', f);
	}
	fputs("], \"mgmt\": ", f);
	stats_json(f, &dp->mgmt_stats);
	fputs("}\n", f);
}

void
dpn_ctl_show_stats(FILE *f)
{
	struct dpn_dataplane *dp = dpn_runtime_get()->dp;
	struct dpn_stats total, w_sum;
	unsigned int i, j;

	memset(&w_sum, 0, sizeof(w_sum));
	for (i = 0; i < dp->nb_workers; i++)
		for (j = 0; j < DPN_STAT_MAX; j++)
			w_sum.c[j] += __atomic_load_n(
				&dp->workers[i]->stats.c[j], __ATOMIC_RELAXED);
	for (j = 0; j < DPN_STAT_MAX; j++)
		total.c[j] = w_sum.c[j] + dp->mgmt_stats.c[j];
	if (ctl_json()) {
		show_stats_json(f, &total);
		return;
	}

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
	for (i = 0; i < dp->nb_workers; i++)
		fprintf(f, " %14.1f", ctl_busy_percent(dp->workers[i]));
	fprintf(f, " %14s\n", "");
}

void
dpn_ctl_show_config(FILE *f)
{
	char buf[8192];

	dpn_conf_format(dpn_runtime_get()->conf, buf, sizeof(buf));
	fprintf(f, "# %s\n%s", dpn_runtime_get()->config_path ? dpn_runtime_get()->config_path :
		"(built-in)", buf);
}

void
dpn_ctl_show_health(FILE *f)
{
	struct dpn_health_verdict v;
	char buf[2048];

	dpn_runtime_health_read(&v);
	if (ctl_json()) {
		dpn_health_json(&v, buf, sizeof(buf));
		fprintf(f, "%s\n", buf);
	} else {
		dpn_health_format(&v, buf, sizeof(buf));
		fputs(buf, f);
	}
}

void
dpn_ctl_show_sysinfo(FILE *f)
{
	if (ctl_json())
		dpn_sync_show_sysinfo_json(dpn_runtime_get()->sync, f);
	else
		dpn_sync_show_sysinfo(dpn_runtime_get()->sync, f);
}

void
dpn_ctl_show_peers(FILE *f)
{
	if (ctl_json())
		dpn_sync_show_peers_json(dpn_runtime_get()->sync, f);
	else
		dpn_sync_show_peers(dpn_runtime_get()->sync, f);
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
	for (pi = 0; pi < dpn_runtime_get()->dp->nb_ports; pi++) {
		n = dpn_dp_neigh_read(dpn_runtime_get()->dp, pi, e, DPN_NEIGH_TABLE_SIZE);
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

	n = dpn_dp_neigh_read(dpn_runtime_get()->dp, r->port_index, tmp, DPN_NEIGH_TABLE_SIZE);
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
	ret = dpn_dp_neigh_request(dpn_runtime_get()->dp, family, addr, 1000, &r, &rc);
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
	else if (strcmp(what, "xstats") == 0)
		dpn_ctl_show_port_xstats(ctl_out, port);
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
	TOKEN_STRING_INITIALIZER(struct cmd_port_all, what, "stats#xstats#info");
static cmdline_parse_token_string_t tok_pa_all =
	TOKEN_STRING_INITIALIZER(struct cmd_port_all, all, "all");

static cmdline_parse_inst_t cmd_port_all = {
	.f = cmd_port_all_parsed,
	.help_str = "show port stats|xstats|info [all]: counters, driver "
		"counters or setup of every port",
	.tokens = { (void *)&tok_pa_show, (void *)&tok_pa_port,
		    (void *)&tok_pa_what, (void *)&tok_pa_all, NULL },
};

/* `show port stats` without a port means all of them. */
static cmdline_parse_inst_t cmd_port_bare = {
	.f = cmd_port_all_parsed,
	.help_str = "show port stats|xstats|info: the same as with 'all'",
	.tokens = { (void *)&tok_pa_show, (void *)&tok_pa_port,
		    (void *)&tok_pa_what, NULL },
};

static cmdline_parse_token_string_t tok_pn_show =
	TOKEN_STRING_INITIALIZER(struct cmd_port_n, show, "show");
static cmdline_parse_token_string_t tok_pn_port =
	TOKEN_STRING_INITIALIZER(struct cmd_port_n, port, "port");
static cmdline_parse_token_string_t tok_pn_what =
	TOKEN_STRING_INITIALIZER(struct cmd_port_n, what, "stats#xstats#info");
static cmdline_parse_token_num_t tok_pn_id =
	TOKEN_NUM_INITIALIZER(struct cmd_port_n, id, RTE_UINT16);

static cmdline_parse_inst_t cmd_port_n = {
	.f = cmd_port_n_parsed,
	.help_str = "show port stats|xstats|info <port>: the same for one "
		"port",
	.tokens = { (void *)&tok_pn_show, (void *)&tok_pn_port,
		    (void *)&tok_pn_what, (void *)&tok_pn_id, NULL },
};

/* clear port stats [all|N] */

struct cmd_clear_all {
	cmdline_fixed_string_t clear;
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t stats;
	cmdline_fixed_string_t all;
};

struct cmd_clear_n {
	cmdline_fixed_string_t clear;
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t stats;
	uint16_t id;
};

static void
clear_cmd(int port)
{
	if (!ctl_admin_ok("clear port stats"))
		return;
	dpn_ctl_clear_port_stats(ctl_out, port);
	if (ctl_prompt && ctl_error[0] != '\0') {
		fprintf(ctl_out, "error: %s\n", ctl_error);
		ctl_error[0] = '\0';
	}
}

static void
cmd_clear_all_parsed(void *res, struct cmdline *cl, void *data)
{
	clear_cmd(-1);
}

static void
cmd_clear_n_parsed(void *res, struct cmdline *cl, void *data)
{
	clear_cmd(((struct cmd_clear_n *)res)->id);
}

static cmdline_parse_token_string_t tok_cl_clear =
	TOKEN_STRING_INITIALIZER(struct cmd_clear_n, clear, "clear");
static cmdline_parse_token_string_t tok_cl_port =
	TOKEN_STRING_INITIALIZER(struct cmd_clear_n, port, "port");
static cmdline_parse_token_string_t tok_cl_stats =
	TOKEN_STRING_INITIALIZER(struct cmd_clear_n, stats, "stats");
static cmdline_parse_token_string_t tok_cl_all =
	TOKEN_STRING_INITIALIZER(struct cmd_clear_all, all, "all");
static cmdline_parse_token_num_t tok_cl_id =
	TOKEN_NUM_INITIALIZER(struct cmd_clear_n, id, RTE_UINT16);

static cmdline_parse_inst_t cmd_clear_all = {
	.f = cmd_clear_all_parsed,
	.help_str = "clear port stats [all]: zero the ethdev counters and "
		"driver counters of every port",
	.tokens = { (void *)&tok_cl_clear, (void *)&tok_cl_port,
		    (void *)&tok_cl_stats, (void *)&tok_cl_all, NULL },
};

static cmdline_parse_inst_t cmd_clear_bare = {
	.f = cmd_clear_all_parsed,
	.help_str = "clear port stats: the same as with 'all'",
	.tokens = { (void *)&tok_cl_clear, (void *)&tok_cl_port,
		    (void *)&tok_cl_stats, NULL },
};

static cmdline_parse_inst_t cmd_clear_n = {
	.f = cmd_clear_n_parsed,
	.help_str = "clear port stats <port>: the same for one port",
	.tokens = { (void *)&tok_cl_clear, (void *)&tok_cl_port,
		    (void *)&tok_cl_stats, (void *)&tok_cl_id, NULL },
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
	else if (strcmp(what, "peers") == 0)
		dpn_ctl_show_peers(ctl_out);
	else
		dpn_ctl_show_sysinfo(ctl_out);
}

static cmdline_parse_token_string_t tok_s_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show, show, "show");
static cmdline_parse_token_string_t tok_s_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what,
				  "stats#config#sysinfo#peers");

static cmdline_parse_inst_t cmd_show = {
	.f = cmd_show_parsed,
	.help_str = "show stats|config|sysinfo|peers: request counters per lcore, "
		"the configuration in use, the served clock (ntpq -c rv), the "
		"sources (ntpq -p)",
	.tokens = { (void *)&tok_s_show, (void *)&tok_s_what, NULL },
};

struct cmd_word {
	cmdline_fixed_string_t word;
};

/* show lcores; show ptp; show refclocks */

static void
cmd_show_lcores_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_show_lcores(ctl_out);
}

static cmdline_parse_token_string_t tok_sl_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show, show, "show");
static cmdline_parse_token_string_t tok_sl_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "lcores");

static cmdline_parse_inst_t cmd_show_lcores = {
	.f = cmd_show_lcores_parsed,
	.help_str = "show lcores: each lcore's role, NUMA socket, the "
		"port queues it polls and how busy it is",
	.tokens = { (void *)&tok_sl_show, (void *)&tok_sl_what, NULL },
};

static void
cmd_show_ptp_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_show_ptp(ctl_out);
}

static cmdline_parse_token_string_t tok_sp_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "ptp");

static cmdline_parse_inst_t cmd_show_ptp = {
	.f = cmd_show_ptp_parsed,
	.help_str = "show ptp: the PTP slave's port state, master, offset, "
		"path delay and message counters",
	.tokens = { (void *)&tok_sl_show, (void *)&tok_sp_what, NULL },
};

static void
cmd_show_refclocks_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_show_refclocks(ctl_out);
}

static cmdline_parse_token_string_t tok_srf_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "refclocks");

static void
cmd_show_health_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_show_health(ctl_out);
}

static cmdline_parse_token_string_t tok_sh_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "health");

static cmdline_parse_inst_t cmd_show_health = {
	.f = cmd_show_health_parsed,
	.help_str = "show health: the health verdict (healthy or the "
		"reasons why not) and each check",
	.tokens = { (void *)&tok_sl_show, (void *)&tok_sh_what, NULL },
};

static cmdline_parse_inst_t cmd_show_refclocks = {
	.f = cmd_show_refclocks_parsed,
	.help_str = "show refclocks: each reference clock's driver state, "
		"last offset, jitter, counters and selection",
	.tokens = { (void *)&tok_sl_show, (void *)&tok_srf_what, NULL },
};

/* set log level [TYPE] LEVEL */

struct cmd_log_level {
	cmdline_fixed_string_t set;
	cmdline_fixed_string_t log;
	cmdline_fixed_string_t level;
	cmdline_fixed_string_t arg1;
	cmdline_fixed_string_t arg2;
};

static void
log_level_cmd(const char *type, const char *level)
{
	char err[DPN_CONF_ERRLEN];

	if (!ctl_admin_ok("set log level"))
		return;
	if (dpn_ctl_set_log_level(ctl_out, type, level, err,
				  sizeof(err)) != 0)
		ctl_fail(err);
}

static void
cmd_log_level_parsed(void *res, struct cmdline *cl, void *data)
{
	log_level_cmd(NULL, ((struct cmd_log_level *)res)->arg1);
}

static void
cmd_log_type_level_parsed(void *res, struct cmdline *cl, void *data)
{
	const struct cmd_log_level *r = res;

	log_level_cmd(r->arg1, r->arg2);
}

#define LOG_LEVELS "emerg#alert#crit#err#warning#notice#info#debug"

static cmdline_parse_token_string_t tok_ll_set =
	TOKEN_STRING_INITIALIZER(struct cmd_log_level, set, "set");
static cmdline_parse_token_string_t tok_ll_log =
	TOKEN_STRING_INITIALIZER(struct cmd_log_level, log, "log");
static cmdline_parse_token_string_t tok_ll_level =
	TOKEN_STRING_INITIALIZER(struct cmd_log_level, level, "level");
static cmdline_parse_token_string_t tok_ll_word =
	TOKEN_STRING_INITIALIZER(struct cmd_log_level, arg1, NULL);
static cmdline_parse_token_string_t tok_ll_word2 =
	TOKEN_STRING_INITIALIZER(struct cmd_log_level, arg2, NULL);

/*
 * The level word: Tab completes the level names, but any word parses,
 * so that a bad level gets a message that names the good ones rather
 * than "bad arguments" (two instances, one per spelling, would make
 * every good line ambiguous).
 */
static int
parse_any_word(cmdline_parse_token_hdr_t *tk, const char *buf, void *res,
	       unsigned int ressize)
{
	RTE_SET_USED(tk);
	return cmdline_parse_string((cmdline_parse_token_hdr_t *)&tok_ll_word,
				    buf, res, ressize);
}

static struct cmdline_token_ops level_token_ops = {
	.parse = parse_any_word,
	.complete_get_nb = cmdline_complete_get_nb_string,
	.complete_get_elt = cmdline_complete_get_elt_string,
	.get_help = cmdline_get_help_string,
};

static cmdline_parse_token_string_t tok_ll_known = {
	.hdr = {
		.ops = &level_token_ops,
		.offset = offsetof(struct cmd_log_level, arg1),
	},
	.string_data = { .str = LOG_LEVELS },
};

static cmdline_parse_inst_t cmd_log_level = {
	.f = cmd_log_level_parsed,
	.help_str = "set log level emerg|alert|crit|err|warning|notice|info|"
		"debug: level of dpntpd's own logs (dpntp.*)",
	.tokens = { (void *)&tok_ll_set, (void *)&tok_ll_log,
		    (void *)&tok_ll_level, (void *)&tok_ll_known, NULL },
};

static cmdline_parse_inst_t cmd_log_type_level = {
	.f = cmd_log_type_level_parsed,
	.help_str = "set log level TYPE LEVEL: level of the DPDK log types "
		"matching TYPE (a glob: pmd.net.*, dpntp.app, eal)",
	.tokens = { (void *)&tok_ll_set, (void *)&tok_ll_log,
		    (void *)&tok_ll_level, (void *)&tok_ll_word,
		    (void *)&tok_ll_word2, NULL },
};

/* reload */

static void
cmd_reload_parsed(void *res, struct cmdline *cl, void *data)
{
	char err[DPN_CONF_ERRLEN];

	if (!ctl_admin_ok("reload"))
		return;
	err[0] = '\0';
	if (dpn_runtime_reload(err, sizeof(err)) != 0)
		ctl_fail(err);
	else
		fprintf(ctl_out, "reloaded %s%s%s\n", dpn_runtime_get()->config_path,
			err[0] ? ": " : "", err);
}

static cmdline_parse_token_string_t tok_reload =
	TOKEN_STRING_INITIALIZER(struct cmd_word, word, "reload");

static cmdline_parse_inst_t cmd_reload = {
	.f = cmd_reload_parsed,
	.help_str = "reload: re-read the configuration file's restrict, "
		"discard, keys, trustedkey and authfail lines (an error "
		"keeps the running ones)",
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

	if (!ctl_admin_ok(add ? "restrict add" : "restrict del"))
		return;
	if (dpn_runtime_restrict_change(add, r->words, err, sizeof(err)) != 0)
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

/* show auth */

static void
cmd_show_auth_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_show_auth(ctl_out);
}

static cmdline_parse_token_string_t tok_sa_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "auth");

static cmdline_parse_inst_t cmd_show_auth = {
	.f = cmd_show_auth_parsed,
	.help_str = "show auth: trusted keys (ID, type) with requests, good "
		"and bad MACs and signed replies per key, what failing "
		"requests get, and the authentication counters",
	.tokens = { (void *)&tok_sr_show, (void *)&tok_sa_what, NULL },
};

/* show nts */

static void
cmd_show_nts_parsed(void *res, struct cmdline *cl, void *data)
{
	dpn_ctl_show_nts(ctl_out);
}

static cmdline_parse_token_string_t tok_snts_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show, what, "nts");

static cmdline_parse_inst_t cmd_show_nts = {
	.f = cmd_show_nts_parsed,
	.help_str = "show nts: NTS (RFC 8915): the current server key's ID, "
		"age and rotations, NTS-KE sessions and counters (handshakes, "
		"failures, cookies issued) and the NTS packet counters",
	.tokens = { (void *)&tok_sr_show, (void *)&tok_snts_what, NULL },
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
		dpn_runtime_get()->dp->quit = true;
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
	&cmd_port_bare,
	&cmd_port_n,
	&cmd_clear_all,
	&cmd_clear_bare,
	&cmd_clear_n,
	&cmd_show,
	&cmd_show_lcores,
	&cmd_show_restrict,
	&cmd_show_clients_n,
	&cmd_show_auth,
	&cmd_show_nts,
	&cmd_show_neigh,
	&cmd_neigh_resolve,
	&cmd_show_ptp,
	&cmd_show_refclocks,
	&cmd_show_health,
	&cmd_restrict,
	&cmd_reload,
	&cmd_log_level,
	&cmd_log_type_level,
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
		/* Other spellings (an optional last word) are not listed. */
		if (main_ctx[i] != &cmd_port_bare &&
		    main_ctx[i] != &cmd_clear_bare)
			fprintf(f, "  %s\n", main_ctx[i]->help_str);
	fprintf(f, "Commands that change state (clear, restrict, reload, "
		"set) need root on the control socket.\n");
}

/* Parse and run @p buf (one line ending in '\n'); output to ctl_out. */
static int
run_parsed(const char *buf, char *err, size_t errlen)
{
	struct cmdline *cl;
	int ret;

	ctl_error[0] = '\0';
	cl = cmdline_new(main_ctx, "", -1, -1);
	if (cl == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = cmdline_parse(cl, buf);
	cmdline_free(cl);

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

/*
 * JSON mode: the output is caught in memory; a command that printed no
 * JSON object of its own (the first character is not '{') gets its text
 * wrapped as {"output": "..."}.
 */
static void
json_flush(FILE *out, char *text, size_t len)
{
	if (len > 0 && text[0] == '{') {
		fwrite(text, 1, len, out);
		return;
	}
	fputs("{\"output\": ", out);
	ctl_json_str(out, text);
	fputs("}\n", out);
}

int
dpn_ctl_run_line(const char *line, int out_fd, unsigned int flags,
		 char *err, size_t errlen)
{
	char buf[DPN_CTL_MAX_LINE + 2];
	size_t len, plen = strlen(DPN_CTL_JSON_PREFIX);
	char *text = NULL;
	size_t text_len = 0;
	FILE *out;
	int fd, ret;

	if (strncmp(line, DPN_CTL_JSON_PREFIX, plen) == 0) {
		line += plen;
		flags |= DPN_CTL_JSON;
	}
	len = strlen(line);
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
	out = fd < 0 ? NULL : fdopen(fd, "w");
	if (out == NULL) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctl_out = (flags & DPN_CTL_JSON) ? open_memstream(&text, &text_len) :
		out;
	if (ctl_out == NULL) {
		fclose(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctl_prompt = false;
	ctl_flags = flags;
	ctl_denied = false;
	ret = run_parsed(buf, err, errlen);
	if (ret != 0 && ctl_denied)
		ret = -EACCES;
	if (ctl_out != out) {
		fclose(ctl_out);
		if (ret == 0)
			json_flush(out, text, text_len);
		free(text);
	}
	fclose(out);
	ctl_out = NULL;
	ctl_flags = 0;
	return ret;
}

int
dpn_ctl_run_file(const char *path)
{
	char line[DPN_CTL_MAX_LINE + 2], err[DPN_CONF_ERRLEN];
	unsigned int lineno = 0;
	int failed = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = line;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			fprintf(stderr, "%s:%u: error: line longer than %d bytes\n",
				path, lineno, DPN_CTL_MAX_LINE);
			failed++;
			continue;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '#')
			continue;
		fflush(stdout);
		if (dpn_ctl_run_line(p, STDOUT_FILENO, DPN_CTL_ADMIN, err,
				     sizeof(err)) == 0)
			continue;
		fprintf(stderr, "%s:%u: error: %s\n", path, lineno, err);
		failed++;
	}
	fclose(f);
	return failed;
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
	ctl_flags = DPN_CTL_ADMIN;
	cmdline_interact(cl);
	cmdline_stdin_exit(cl);
	fflush(stdout);
	ctl_out = NULL;
}
