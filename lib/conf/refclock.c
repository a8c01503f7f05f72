/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `refclock shm|sock|pps|phc|ptp ...` lines: chrony's refclock names and
 * options (refid, stratum, poll, offset, delay, precision, prefer,
 * noselect, trust, lock), and for the built-in PTP slave the DPDK port,
 * domain, transport and address. `refclock system` is conf.c's.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "conf_private.h"

#define REF_POLL_MIN -6
#define REF_POLL_MAX 12
#define REF_POLL_DEFAULT 4
#define REF_STRATUM_MAX 15
#define REF_SHM_UNIT_MAX 255
#define REF_ANNOUNCE_TIMEOUT_DEFAULT 3
#define REF_ANNOUNCE_TIMEOUT_MAX 255
/* Offsets and delays: chrony takes any double; a second covers every
 * sane correction (a TAI PHC is offset by -37 s, hence the larger one). */
#define REF_OFFSET_MAX_S 1000.0
#define REF_DELAY_MAX_S 1.0

static const struct {
	const char *name;
	enum dpn_conf_refclock_type type;
	const char *refid;	/* chrony's default, "%u" gets the unit */
} ref_types[] = {
	{ "shm", DPN_CONF_REFCLOCK_SHM, "SHM" },
	{ "sock", DPN_CONF_REFCLOCK_SOCK, "SOCK" },
	{ "pps", DPN_CONF_REFCLOCK_PPS, "PPS" },
	{ "phc", DPN_CONF_REFCLOCK_PHC, "PHC" },
	{ "ptp", DPN_CONF_REFCLOCK_PTP, "PTP" },
};

const char *
dpn_conf_refclock_type_str(enum dpn_conf_refclock_type t)
{
	unsigned int i;

	for (i = 0; i < sizeof(ref_types) / sizeof(ref_types[0]); i++)
		if (ref_types[i].type == t)
			return ref_types[i].name;
	return "?";
}

static bool
refid_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 4)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* A signed number of seconds in [-max, max]. */
static int
ref_seconds(struct conf_parser *p, const char *what, const char *word,
	    double min, double max, double *val)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(word, &end);
	if (end == word || *end != '\0' || errno != 0 || !isfinite(v))
		return conf_err(p, "refclock: %s '%s' is not a number of seconds",
				what, word);
	if (v < min || v > max)
		return conf_err(p, "refclock: %s must be %g..%g seconds, got '%s'",
				what, min, max, word);
	*val = v;
	return 0;
}

/* The device or path word of shm, sock, pps and phc. */
static int
parse_target(struct conf_parser *p, struct dpn_conf_refclock *rc,
	     const char *word)
{
	long val;

	switch (rc->type) {
	case DPN_CONF_REFCLOCK_SHM:
		if (conf_ranged(p, "refclock shm", "segment", word, 0,
				REF_SHM_UNIT_MAX, &val) < 0)
			return -1;
		rc->unit = val;
		return 0;
	case DPN_CONF_REFCLOCK_SOCK:
		/* sun_path holds 107 characters and a NUL. */
		if (word[0] != '/' || strlen(word) > 107)
			return conf_err(p, "refclock sock: '%s' must be an absolute path of at most 107 characters",
					word);
		break;
	case DPN_CONF_REFCLOCK_PPS:
	case DPN_CONF_REFCLOCK_PHC:
		if (word[0] != '/')
			return conf_err(p, "refclock %s: '%s' is not a device path (/dev/...)",
					dpn_conf_refclock_type_str(rc->type),
					word);
		break;
	default:
		return conf_err(p, "refclock: internal error");
	}
	if (strlen(word) >= sizeof(rc->path))
		return conf_err(p, "refclock: path too long");
	strcpy(rc->path, word);
	return 0;
}

/* `address A/P` of a PTP line: an IPv4 address of the port. */
static int
parse_ptp_address(struct conf_parser *p, struct dpn_conf_refclock *rc,
		  char *word)
{
	char *slash = strchr(word, '/');
	long val;

	if (slash == NULL)
		return conf_err(p, "refclock ptp: address '%s' needs a prefix length (A/P)",
				word);
	*slash = '\0';
	if (inet_pton(AF_INET, word, &rc->address) != 1)
		return conf_err(p, "refclock ptp: '%s' is not an IPv4 address (PTP over UDP is IPv4 here)",
				word);
	if (conf_ranged(p, "refclock ptp", "prefix length", slash + 1, 1, 32,
			&val) < 0)
		return -1;
	rc->prefix_len = val;
	rc->has_address = true;
	return 0;
}

/* Options only a PTP line has; 1 when @p key was one, 0 when not. */
static int
parse_ptp_option(struct conf_parser *p, struct dpn_conf_refclock *rc,
		 const char *key, char *value, bool *have_port)
{
	long val;

	if (strcmp(key, "port") == 0) {
		if (conf_ranged(p, "refclock ptp", "port", value, 0, 1023,
				&val) < 0)
			return -1;
		rc->port = val;
		*have_port = true;
	} else if (strcmp(key, "domain") == 0) {
		if (conf_ranged(p, "refclock ptp", "domain", value, 0, 255,
				&val) < 0)
			return -1;
		rc->domain = val;
	} else if (strcmp(key, "transport") == 0) {
		if (strcmp(value, "udp4") == 0)
			rc->transport = DPN_CONF_PTP_UDP4;
		else if (strcmp(value, "l2") == 0)
			rc->transport = DPN_CONF_PTP_L2;
		else
			return conf_err(p, "refclock ptp: transport must be udp4 or l2, got '%s'",
					value);
	} else if (strcmp(key, "address") == 0) {
		if (parse_ptp_address(p, rc, value) < 0)
			return -1;
	} else if (strcmp(key, "announce-timeout") == 0) {
		if (conf_ranged(p, "refclock ptp", "announce-timeout", value,
				2, REF_ANNOUNCE_TIMEOUT_MAX, &val) < 0)
			return -1;
		rc->announce_timeout = val;
	} else {
		return 0;
	}
	return 1;
}

static int
parse_common_option(struct conf_parser *p, struct dpn_conf_refclock *rc,
		    const char *key, const char *value)
{
	double d;
	long val;

	if (strcmp(key, "refid") == 0) {
		if (!refid_ok(value))
			return conf_err(p, "refclock: refid must be 1 to 4 printable ASCII characters, got '%s'",
					value);
		memset(rc->refid, 0, sizeof(rc->refid));
		memcpy(rc->refid, value, strlen(value));
	} else if (strcmp(key, "lock") == 0) {
		if (!refid_ok(value))
			return conf_err(p, "refclock: lock takes the refid of another refclock, got '%s'",
					value);
		memset(rc->lock, 0, sizeof(rc->lock));
		memcpy(rc->lock, value, strlen(value));
	} else if (strcmp(key, "stratum") == 0) {
		if (conf_ranged(p, "refclock", "stratum", value, 0,
				REF_STRATUM_MAX, &val) < 0)
			return -1;
		rc->stratum = val;
	} else if (strcmp(key, "poll") == 0) {
		if (conf_ranged(p, "refclock", "poll", value, REF_POLL_MIN,
				REF_POLL_MAX, &val) < 0)
			return -1;
		rc->poll = val;
	} else if (strcmp(key, "offset") == 0) {
		if (ref_seconds(p, "offset", value, -REF_OFFSET_MAX_S,
				REF_OFFSET_MAX_S, &d) < 0)
			return -1;
		rc->offset_s = d;
	} else if (strcmp(key, "delay") == 0) {
		if (ref_seconds(p, "delay", value, 0, REF_DELAY_MAX_S, &d) < 0)
			return -1;
		rc->delay_s = d;
	} else if (strcmp(key, "precision") == 0) {
		/* chrony's: in seconds; kept as the log2 that covers it. */
		if (ref_seconds(p, "precision", value, 1e-9, 1.0, &d) < 0)
			return -1;
		rc->precision = (int8_t)ceil(log2(d));
		if (rc->precision == 0)
			rc->precision = -1;
	} else {
		return conf_err(p, "refclock %s: unexpected word '%s'",
				dpn_conf_refclock_type_str(rc->type), key);
	}
	return 0;
}

static bool
is_flag(const char *key, struct dpn_conf_refclock *rc)
{
	if (strcmp(key, "prefer") == 0)
		rc->flags |= DPN_CONF_REF_PREFER;
	else if (strcmp(key, "noselect") == 0)
		rc->flags |= DPN_CONF_REF_NOSELECT;
	else if (strcmp(key, "trust") == 0)
		rc->flags |= DPN_CONF_REF_TRUST;
	else if (strcmp(key, "clear") == 0 &&
		 rc->type == DPN_CONF_REFCLOCK_PPS)
		rc->flags |= DPN_CONF_REF_CLEAR;
	else
		return false;
	return true;
}

/* What two refclocks cannot share (a socket path, a segment, a port). */
static int
check_clash(struct conf_parser *p, const struct dpn_conf_refclock *rc)
{
	const struct dpn_conf *conf = p->conf;
	unsigned int i;

	for (i = 0; i < conf->nb_refclocks; i++) {
		const struct dpn_conf_refclock *o = &conf->refclocks[i];

		if (o->type != rc->type)
			continue;
		if ((rc->type == DPN_CONF_REFCLOCK_SHM && o->unit == rc->unit) ||
		    (rc->type == DPN_CONF_REFCLOCK_PTP && o->port == rc->port) ||
		    (rc->type != DPN_CONF_REFCLOCK_SHM &&
		     rc->type != DPN_CONF_REFCLOCK_PTP &&
		     strcmp(o->path, rc->path) == 0))
			return conf_err(p, "refclock %s: the same %s as line %u",
					dpn_conf_refclock_type_str(rc->type),
					rc->type == DPN_CONF_REFCLOCK_PTP ?
					"port" : "source", o->line);
	}
	return 0;
}

int
dpn_conf_parse_refclock_driver(struct conf_parser *p, char **words,
			       int nb_words)
{
	struct dpn_conf *conf = p->conf;
	struct dpn_conf_refclock rc;
	bool have_port = false;
	unsigned int t;
	int i, first;

	for (t = 0; t < sizeof(ref_types) / sizeof(ref_types[0]); t++)
		if (strcasecmp(words[1], ref_types[t].name) == 0)
			break;
	if (t == sizeof(ref_types) / sizeof(ref_types[0]))
		return conf_err(p, "unsupported refclock type '%s' (expected system, shm, sock, pps, phc or ptp)",
				words[1]);
	if (conf->nb_refclocks >= DPN_CONF_MAX_REFCLOCKS)
		return conf_err(p, "refclock: too many refclock lines (at most %d)",
				DPN_CONF_MAX_REFCLOCKS);
	memset(&rc, 0, sizeof(rc));
	rc.type = ref_types[t].type;
	rc.line = p->line;
	rc.poll = REF_POLL_DEFAULT;
	rc.delay_s = 1e-9;
	rc.perm = 0600;
	rc.announce_timeout = REF_ANNOUNCE_TIMEOUT_DEFAULT;
	first = 2;
	if (rc.type != DPN_CONF_REFCLOCK_PTP) {
		if (nb_words < 3)
			return conf_err(p, "refclock %s: missing %s",
					ref_types[t].name,
					rc.type == DPN_CONF_REFCLOCK_SHM ?
					"segment number" : "path");
		if (parse_target(p, &rc, words[2]) < 0)
			return -1;
		first = 3;
	}
	if (rc.type == DPN_CONF_REFCLOCK_SHM || rc.type == DPN_CONF_REFCLOCK_PHC)
		snprintf(rc.refid, sizeof(rc.refid), "%.3s%u",
			 ref_types[t].refid, rc.unit % 10);
	else
		snprintf(rc.refid, sizeof(rc.refid), "%s", ref_types[t].refid);
	if (rc.type == DPN_CONF_REFCLOCK_PHC) {
		/* chrony's PHC refid: PHC and the device's number. */
		const char *d = rc.path + strlen(rc.path);

		while (d > rc.path && d[-1] >= '0' && d[-1] <= '9')
			d--;
		snprintf(rc.refid, sizeof(rc.refid), "PHC%.1s",
			 *d != '\0' ? d : "0");
	}

	for (i = first; i < nb_words; i++) {
		const char *key = words[i];
		char *value = i + 1 < nb_words ? words[i + 1] : NULL;
		int r;

		if (is_flag(key, &rc))
			continue;
		if (value == NULL)
			return conf_err(p, "refclock %s: missing value after '%s'",
					ref_types[t].name, key);
		i++;
		if (rc.type == DPN_CONF_REFCLOCK_SHM &&
		    strcmp(key, "perm") == 0) {
			char *end;
			unsigned long perm = strtoul(value, &end, 8);

			if (*end != '\0' || value[0] != '0' || perm > 0777)
				return conf_err(p, "refclock shm: perm must be octal 0000..0777, got '%s'",
						value);
			rc.perm = perm;
			continue;
		}
		if (rc.type == DPN_CONF_REFCLOCK_PTP) {
			r = parse_ptp_option(p, &rc, key, value, &have_port);
			if (r < 0)
				return -1;
			if (r > 0)
				continue;
		}
		if (parse_common_option(p, &rc, key, value) < 0)
			return -1;
	}
	if (rc.type == DPN_CONF_REFCLOCK_PTP && !have_port)
		return conf_err(p, "refclock ptp: missing 'port P' (the DPDK port of a listen line)");
	if (rc.type == DPN_CONF_REFCLOCK_PTP && rc.has_address &&
	    rc.transport != DPN_CONF_PTP_UDP4)
		return conf_err(p, "refclock ptp: 'address' is for transport udp4");
	if (rc.lock[0] != '\0' && rc.type != DPN_CONF_REFCLOCK_PPS &&
	    !(rc.type == DPN_CONF_REFCLOCK_SOCK))
		return conf_err(p, "refclock %s: lock is for pps (and sock pulses)",
				ref_types[t].name);
	if (check_clash(p, &rc) < 0)
		return -1;
	conf->refclocks[conf->nb_refclocks++] = rc;
	return 0;
}

/* Checks that need the whole file: PTP ports and lock names. */
int
dpn_conf_refclock_finish(struct conf_parser *p)
{
	const struct dpn_conf *conf = p->conf;
	unsigned int i, j;

	for (i = 0; i < conf->nb_refclocks; i++) {
		const struct dpn_conf_refclock *rc = &conf->refclocks[i];
		bool found = false;

		p->line = rc->line;
		if (rc->type == DPN_CONF_REFCLOCK_PTP) {
			for (j = 0; j < conf->nb_listen; j++)
				if (conf->listen[j].port == rc->port &&
				    (conf->listen[j].family == AF_INET ||
				     rc->transport == DPN_CONF_PTP_L2))
					found = true;
			if (!found)
				return conf_err(p, "refclock ptp: port %u has no listen line%s",
						rc->port,
						rc->transport == DPN_CONF_PTP_UDP4 ?
						" with an IPv4 address (transport udp4 needs one)" :
						"");
		}
		if (rc->lock[0] != '\0') {
			for (j = 0; j < conf->nb_refclocks; j++)
				if (j != i && strncmp(conf->refclocks[j].refid,
						      rc->lock, 4) == 0)
					found = true;
			if (!found)
				return conf_err(p, "refclock %s: lock %s names no other refclock's refid",
						dpn_conf_refclock_type_str(rc->type),
						rc->lock);
		}
	}
	return 0;
}

void
dpn_conf_refclock_format(const struct dpn_conf *conf, char *buf, size_t len,
			 int *off)
{
	unsigned int i;

	for (i = 0; i < conf->nb_refclocks; i++) {
		const struct dpn_conf_refclock *rc = &conf->refclocks[i];
		const char *name = dpn_conf_refclock_type_str(rc->type);

		if (rc->type == DPN_CONF_REFCLOCK_SHM)
			conf_append(buf, len, off, "refclock shm %u perm 0%o",
				    rc->unit, rc->perm);
		else if (rc->type == DPN_CONF_REFCLOCK_PTP)
			conf_append(buf, len, off, "refclock ptp port %u domain %u transport %s",
				    rc->port, rc->domain,
				    rc->transport == DPN_CONF_PTP_L2 ? "l2" :
				    "udp4");
		else
			conf_append(buf, len, off, "refclock %s %s", name,
				    rc->path);
		if (rc->has_address) {
			char text[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &rc->address, text, sizeof(text));
			conf_append(buf, len, off, " address %s/%u", text,
				    rc->prefix_len);
		}
		if (rc->type == DPN_CONF_REFCLOCK_PTP &&
		    rc->announce_timeout != REF_ANNOUNCE_TIMEOUT_DEFAULT)
			conf_append(buf, len, off, " announce-timeout %u",
				    rc->announce_timeout);
		conf_append(buf, len, off, " refid %.4s stratum %u poll %d",
			    rc->refid, rc->stratum, rc->poll);
		if (rc->offset_s != 0)
			conf_append(buf, len, off, " offset %.9g", rc->offset_s);
		if (rc->delay_s != 1e-9)
			conf_append(buf, len, off, " delay %.9g", rc->delay_s);
		/* %.17g: a power of two must read back as itself (%.9g
		 * rounds 2^-29 up, and the parse would take 2^-28). */
		if (rc->precision != 0)
			conf_append(buf, len, off, " precision %.17g",
				    ldexp(1.0, rc->precision));
		if (rc->lock[0] != '\0')
			conf_append(buf, len, off, " lock %.4s", rc->lock);
		if (rc->flags & DPN_CONF_REF_CLEAR)
			conf_append(buf, len, off, " clear");
		if (rc->flags & DPN_CONF_REF_PREFER)
			conf_append(buf, len, off, " prefer");
		if (rc->flags & DPN_CONF_REF_NOSELECT)
			conf_append(buf, len, off, " noselect");
		if (rc->flags & DPN_CONF_REF_TRUST)
			conf_append(buf, len, off, " trust");
		conf_append(buf, len, off, "\n");
	}
}
