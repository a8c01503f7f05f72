/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_CONF_H
#define DPN_CONF_H

/**
 * @file
 * The ntp.conf-style configuration file: parsing and validation.
 *
 * DPDK-free. A file is parsed into a struct dpn_conf; any malformed or
 * unknown line fails the whole parse with "file:line: what is wrong" in
 * the caller's error buffer, so a reload can keep the old configuration.
 *
 * Grammar: one directive per line, words separated by blanks, '#' starts
 * a comment. Directives known so far:
 *
 *   listen port P address ADDR/PREFIX [vlan N] [gateway ADDR]
 *   refclock system [stratum N] [refid ID] [precision N]
 *   refclock shm N [perm 0NNN] OPTIONS          (chrony's names and
 *   refclock sock PATH OPTIONS                   options; see
 *   refclock pps DEVICE [clear] OPTIONS          struct dpn_conf_refclock)
 *   refclock phc DEVICE OPTIONS
 *   refclock ptp port P [domain D] [transport udp4|l2] [address A/P]
 *                [announce-timeout N] OPTIONS
 *   restrict ...                  (see dpn_acl.h; ntpd's syntax)
 *   discard [average A] [minimum M] [monitor N]   (ntpd's)
 *   clientlimit N                 (rate-limit slots per worker)
 *   xleavelimit N                 (interleaved mode: transmit times saved
 *                                  per worker; 0 = off)
 *   server|pool HOST [iburst] [burst] [prefer] [minpoll N] [maxpoll N]
 *                [noselect] [true] [version N]      (ntpd's)
 *   tinker [step S] [panic S] [stepout S]             (ntpd's)
 *   tos [minsane N] [minclock N] [maxdist S]          (ntpd's)
 *   driftfile PATH, leapfile PATH, leapsmear SECONDS, holdover SECONDS
 *   keys PATH, trustedkey ID...   (ntpd's; keys first, then trustedkey, then
 *                                  the server lines using them; trusted keys
 *                                  also sign replies to requests using them)
 *   authfail nak|drop             (a request failing authentication gets a
 *                                  crypto-NAK, as ntpd sends, or nothing)
 *   ntsservercert FILE, ntsserverkey FILE, ntsport N, ntsdumpdir DIR,
 *   ntsrotate SECONDS, ntsntpserver NAME, ntsbind ADDRESS,
 *   exceptionif NAME
 *                                 (chrony's NTS server; ntsbind: the kernel
 *                                  address NTS-KE listens on)
 *   metrics ADDRESS:PORT          (Prometheus endpoint; [IPv6]:PORT)
 *   health [maxoffset S] [maxdistance S] [stall MS] [drainfile PATH]
 *                                 (the health verdict's thresholds)
 */

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "dpn_acl.h"
#include "dpn_ntpauth.h"
#include "dpn_ratelimit.h"

#define DPN_CONF_MAX_LISTEN 64
#define DPN_CONF_ERRLEN 512
#define DPN_CONF_CLIENTLIMIT_DEFAULT 65536
#define DPN_CONF_CLIENTLIMIT_MAX (1u << 24)
/*
 * Interleaved mode keeps one transmit time per reply, so a client is
 * answered interleaved while fewer than this many replies of its worker
 * came between two of its requests: 65536 covers a client polling every
 * 64 s at 1,000 requests a second per worker.
 */
#define DPN_CONF_XLEAVELIMIT_DEFAULT 65536
#define DPN_CONF_XLEAVELIMIT_MAX (1u << 26)

/** An address served on a port (optionally on one 802.1Q VLAN). */
struct dpn_conf_listen {
	uint16_t port;		/**< DPDK port index (0 = first ethdev) */
	int family;		/**< AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint8_t prefix_len;	/**< on-link prefix length */
	uint16_t vlan;		/**< 0 = untagged, else 1..4094 */
	bool has_gateway;	/**< off-link destinations go to gateway */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} gateway;		/**< same family as addr; on link */
	unsigned int line;	/**< line it came from, for messages */
};

#define DPN_CONF_MAX_SERVERS 32
#define DPN_CONF_HOST_MAX 256
#define DPN_CONF_PATH_MAX 4096

/* Flags of a server/pool line. */
#define DPN_CONF_SRV_IBURST 0x01
#define DPN_CONF_SRV_BURST 0x02
#define DPN_CONF_SRV_PREFER 0x04
#define DPN_CONF_SRV_NOSELECT 0x08
#define DPN_CONF_SRV_TRUE 0x10

/** An upstream association: `server HOST ...` or `pool HOST ...`. */
struct dpn_conf_server {
	char host[DPN_CONF_HOST_MAX];	/**< name or address as written */
	bool pool;		/**< several addresses from one name */
	int family;		/**< AF_INET/AF_INET6 (-4/-6), 0 = either */
	uint8_t flags;		/**< DPN_CONF_SRV_* */
	int8_t minpoll;		/**< log2 s, 3..17 (default 6) */
	int8_t maxpoll;		/**< log2 s, minpoll..17 (default 10) */
	uint8_t version;	/**< NTP version sent, 1..4 (default 4) */
	uint32_t key;		/**< symmetric key ID, 0 = none */
	unsigned int line;
};

/** `tinker` and `tos`: thresholds of the discipline and selection. */
struct dpn_conf_discipline {
	double step_s;		/**< slew below, step above (0.128) */
	double panic_s;		/**< refuse larger offsets (1000; 0 = never) */
	double stepout_s;	/**< a spike must last this long to step (300) */
	unsigned int minsane;	/**< survivors needed to synchronize (1) */
	unsigned int minclock;	/**< survivors clustering keeps (3) */
	double maxdist_s;	/**< root distance limit (1.5) */
	unsigned int holdover_s; /**< synchronized without a source (3600) */
	unsigned int leapsmear_s; /**< smear window, 0 = insert/delete */
	char driftfile[DPN_CONF_PATH_MAX];	/**< "" = none */
	char leapfile[DPN_CONF_PATH_MAX];	/**< "" = none */
};

/** `refclock system`: follow the host's CLOCK_REALTIME. */
struct dpn_conf_refclock_system {
	bool enabled;
	uint8_t stratum;	/**< stratum served, 1..15, default 1 */
	char refid[5];		/**< 1-4 ASCII chars, NUL padded; default "LOCL" */
	int8_t precision;	/**< log2 seconds; 0 = measure at start */
	unsigned int line;
};

#define DPN_CONF_MAX_REFCLOCKS 8

enum dpn_conf_refclock_type {
	DPN_CONF_REFCLOCK_SHM,
	DPN_CONF_REFCLOCK_SOCK,
	DPN_CONF_REFCLOCK_PPS,
	DPN_CONF_REFCLOCK_PHC,
	DPN_CONF_REFCLOCK_PTP,
};

enum dpn_conf_ptp_transport {
	DPN_CONF_PTP_UDP4,	/**< UDP/IPv4, ports 319/320, 224.0.1.129 */
	DPN_CONF_PTP_L2,	/**< Ethernet 0x88F7, 01-1B-19-00-00-00 */
};

/* Flags of a refclock line (chrony's options). */
#define DPN_CONF_REF_PREFER	0x01
#define DPN_CONF_REF_NOSELECT	0x02
#define DPN_CONF_REF_TRUST	0x04
#define DPN_CONF_REF_CLEAR	0x08	/**< pps: the clear edge */

/**
 * `refclock shm|sock|pps|phc|ptp ...`: a reference clock with chrony's
 * options. Offsets are what the reference's readings are corrected by
 * (added to the reference's time), the delay is its round trip as
 * selection sees it (half of it counts in the root distance).
 */
struct dpn_conf_refclock {
	enum dpn_conf_refclock_type type;
	char path[DPN_CONF_PATH_MAX];	/**< sock path, pps/phc device */
	unsigned int unit;		/**< shm segment number */
	unsigned int perm;		/**< shm permissions (0600) */
	/* ptp */
	uint16_t port;			/**< DPDK port index */
	uint8_t domain;			/**< 0..255 (0) */
	enum dpn_conf_ptp_transport transport;	/**< (udp4) */
	bool has_address;		/**< else the port's first IPv4 */
	struct in_addr address;		/**< our address for UDP */
	uint8_t prefix_len;
	unsigned int announce_timeout;	/**< announce intervals (3) */
	/* Every type. */
	char refid[5];		/**< NUL padded; default by type */
	uint8_t stratum;	/**< the reference's, 0..15 (0): served + 1 */
	int8_t poll;		/**< log2 s of one filtered sample (4) */
	int8_t precision;	/**< log2 s; 0 = the driver's */
	double offset_s;	/**< added to the reference's time */
	double delay_s;		/**< as chrony's `delay` (1e-9) */
	uint8_t flags;		/**< DPN_CONF_REF_* */
	char lock[5];		/**< pps: refid of the source numbering its
				  * seconds; "" = the served clock */
	unsigned int line;
};

/** "shm", "sock", "pps", "phc" or "ptp". */
const char *dpn_conf_refclock_type_str(enum dpn_conf_refclock_type t);

/** `metrics ADDR:PORT`: where /metrics is served over HTTP. */
struct dpn_conf_metrics {
	bool enabled;		/**< off unless a metrics line says where */
	int family;		/**< AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint16_t port;		/**< TCP port, host order */
	unsigned int line;
};

#define DPN_CONF_HEALTH_MAXOFFSET_DEFAULT 0.1	/**< s */
#define DPN_CONF_HEALTH_MAXDISTANCE_DEFAULT 1.5	/**< s: ntpd's MAXDIST */
#define DPN_CONF_HEALTH_STALL_DEFAULT 1000	/**< ms */

/** `health ...`: when the health verdict says unhealthy. */
struct dpn_conf_health {
	double maxoffset_s;	/**< |offset| over this fails */
	double maxdistance_s;	/**< root distance over this fails */
	unsigned int stall_ms;	/**< a worker loop still this long fails */
	char drainfile[DPN_CONF_PATH_MAX];	/**< exists: fails; "" none */
	unsigned int line;
};

#define DPN_CONF_NTS_PORT_DEFAULT 4460
#define DPN_CONF_NTS_ROTATE_DEFAULT 604800	/**< chrony's: a week */

/** The NTS server (chrony's directives); on when a certificate is given. */
struct dpn_conf_nts {
	char cert[DPN_CONF_PATH_MAX];		/**< `ntsservercert` */
	char key[DPN_CONF_PATH_MAX];		/**< `ntsserverkey` */
	char dumpdir[DPN_CONF_PATH_MAX];	/**< `ntsdumpdir`: ntskeys */
	char ntp_server[256];			/**< `ntsntpserver` */
	char bind[64];				/**< `ntsbind`: "" = any */
	uint16_t port;				/**< `ntsport` */
	uint32_t rotate_s;			/**< `ntsrotate`, 0 = never */
	unsigned int cert_line, key_line, dumpdir_line, ntp_server_line;
	unsigned int bind_line;
	/** `exceptionif NAME`: a TUN interface through which TCP to
	 * ntsport of the served addresses reaches the kernel's NTS-KE */
	char exception_if[16];
	unsigned int exception_if_line;
};

struct dpn_conf {
	unsigned int nb_listen;
	struct dpn_conf_listen listen[DPN_CONF_MAX_LISTEN];
	struct dpn_conf_refclock_system refclock_system;
	unsigned int nb_refclocks;
	struct dpn_conf_refclock refclocks[DPN_CONF_MAX_REFCLOCKS];
	struct dpn_acl_ruleset acl;	/**< restrict lines, merged */
	struct dpn_rl_params discard;	/**< ntpd defaults unless set */
	unsigned int discard_line;	/**< 0 if no discard line */
	unsigned int clientlimit;	/**< rate-limit slots per worker */
	unsigned int xleavelimit;	/**< interleaved: saved per worker */
	unsigned int nb_servers;
	struct dpn_conf_server servers[DPN_CONF_MAX_SERVERS];
	struct dpn_conf_discipline disc;
	struct dpn_conf_metrics metrics;
	struct dpn_conf_health health;
	char keys_path[DPN_CONF_PATH_MAX];	/**< `keys`, "" = none */
	struct dpn_ntpauth_keys keys;		/**< read from it */
	unsigned int nb_trusted;
	uint32_t trusted[DPN_NTPAUTH_MAX_KEYS];	/**< `trustedkey` */
	/** `authfail drop`: requests that fail authentication get no
	 * reply (default `nak`: a crypto-NAK, as ntpd sends) */
	bool authfail_drop;
	struct dpn_conf_nts nts;
};

/** Fill @p conf with defaults (nothing listening, no reference, no
 * restrict rules, ntpd's discard defaults, the default clientlimit). */
void dpn_conf_init(struct dpn_conf *conf);

/** Free what a parse allocated (the rule set); @p conf can then be
 * initialised or parsed into again. */
void dpn_conf_free(struct dpn_conf *conf);

/**
 * Parse the file at @p path into @p conf (which is initialised first, so
 * free a previously parsed conf before parsing into it again). On error
 * nothing stays allocated.
 * @return 0, or -1 with "path:line: message" (or "path: strerror") in err.
 */
int dpn_conf_parse_file(struct dpn_conf *conf, const char *path,
			char *err, size_t errlen);

/**
 * Parse configuration text held in memory; @p name is used in messages.
 * Same contract as dpn_conf_parse_file().
 */
int dpn_conf_parse_string(struct dpn_conf *conf, const char *name,
			  const char *text, char *err, size_t errlen);

/**
 * Write @p conf back as configuration text (what `show config` prints).
 * @return number of characters that would have been written (snprintf).
 */
int dpn_conf_format(const struct dpn_conf *conf, char *buf, size_t len);

#endif /* DPN_CONF_H */
