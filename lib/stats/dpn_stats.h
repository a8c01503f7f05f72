/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_STATS_H
#define DPN_STATS_H

/**
 * @file
 * Named counters. One X-macro lists every counter once (id, name, help);
 * the CLI, the control socket and, later, /metrics and telemetry all read
 * names and help texts from here.
 *
 * Each lcore owns one struct dpn_stats and is its only writer; readers
 * sum them on demand (dpn_stats_sum). Plain 64-bit stores are atomic on
 * the CPUs DPDK supports, so a reader sees a recent value, never a torn
 * one. DPDK-free.
 */

#include <stdint.h>

/*
 * The DROP_NTP_* block follows enum dpn_ntp_verdict (lib/ntp) in order,
 * so a verdict maps to its counter by addition.
 */
#define DPN_STATS_COUNTERS(X) \
	X(RX_PACKETS, rx_packets, "packets received from the port") \
	X(TX_PACKETS, tx_packets, "packets sent to the port") \
	X(TX_FAILED, tx_failed, "packets the port refused to send") \
	X(NTP_SERVER_REPLIES, ntp_server_replies, \
	  "mode 4 replies to client (mode 3) requests") \
	X(NTP_REQUESTS_CLIENT_V1, ntp_requests_client_v1, \
	  "client (mode 3) requests of NTP version 1 accepted for judging") \
	X(NTP_REQUESTS_CLIENT_V2, ntp_requests_client_v2, \
	  "client (mode 3) requests of NTP version 2 accepted for judging") \
	X(NTP_REQUESTS_CLIENT_V3, ntp_requests_client_v3, \
	  "client (mode 3) requests of NTP version 3 accepted for judging") \
	X(NTP_REQUESTS_CLIENT_V4, ntp_requests_client_v4, \
	  "client (mode 3) requests of NTP version 4 accepted for judging") \
	X(NTP_REQUESTS_SYMMETRIC_V1, ntp_requests_symmetric_v1, \
	  "symmetric active (mode 1) requests of NTP version 1") \
	X(NTP_REQUESTS_SYMMETRIC_V2, ntp_requests_symmetric_v2, \
	  "symmetric active (mode 1) requests of NTP version 2") \
	X(NTP_REQUESTS_SYMMETRIC_V3, ntp_requests_symmetric_v3, \
	  "symmetric active (mode 1) requests of NTP version 3") \
	X(NTP_REQUESTS_SYMMETRIC_V4, ntp_requests_symmetric_v4, \
	  "symmetric active (mode 1) requests of NTP version 4") \
	X(NTP_REQUESTS_CONTROL, ntp_requests_control, \
	  "control (mode 6, ntpq) requests accepted for judging; those " \
	  "restrict and the rate limit let through go to the management " \
	  "lcore (slow_queued)") \
	X(NTP_SYMMETRIC_REPLIES, ntp_symmetric_replies, \
	  "mode 2 replies to symmetric active (mode 1) requests") \
	X(NTP_TRUNCATED, ntp_truncated, \
	  "requests with extension fields given a 48-byte reply") \
	X(NTP_AUTH_SIGNED, ntp_auth_signed, \
	  "replies signed with the trusted key of their request, among the " \
	  "server and symmetric replies") \
	X(NTP_AUTH_UNKNOWN_KEY, ntp_auth_unknown_key, \
	  "requests with a MAC under a key ID that is not trusted") \
	X(NTP_AUTH_BAD_MAC, ntp_auth_bad_mac, \
	  "requests with a trusted key ID whose MAC did not verify") \
	X(NTP_AUTH_NAK, ntp_auth_nak, \
	  "crypto-NAKs sent for requests that failed authentication " \
	  "(authfail nak)") \
	X(NTP_AUTH_DROPPED, ntp_auth_dropped, \
	  "requests that failed authentication dropped (authfail drop)") \
	X(NTP_NTS_REPLIES, ntp_nts_replies, \
	  "NTS replies (RFC 8915) with fresh cookies, among the server " \
	  "replies") \
	X(NTP_NTS_NAK, ntp_nts_nak, \
	  "NTS NAKs (kiss code NTSN) sent for a cookie that did not open " \
	  "or an authenticator that did not verify") \
	X(NTP_NTS_MALFORMED, ntp_nts_malformed, \
	  "requests with extension fields that cannot be walked (RFC " \
	  "7822) or NTS fields not as RFC 8915 says, dropped") \
	X(NTP_NTS_OFF, ntp_nts_off, \
	  "NTS requests dropped because NTS is not configured") \
	X(NTP_NTS_NO_ROOM, ntp_nts_no_room, \
	  "NTS requests too short for a reply with one cookie, dropped") \
	X(NTP_INTERLEAVED_REPLIES, ntp_interleaved_replies, \
	  "interleaved mode 4 replies (RFC 9769), among the server replies") \
	X(NTP_INTERLEAVED_MISSES, ntp_interleaved_misses, \
	  "interleaved requests whose earlier reply was gone or its transmit time used or unknown: answered basic") \
	X(RX_STAMP_NIC, rx_stamp_nic, \
	  "requests whose receive time (T2) is the port's stamp mapped onto the served clock") \
	X(RX_STAMP_TSC, rx_stamp_tsc, \
	  "requests whose receive time (T2) is the TSC read at rx_burst") \
	X(DROP_NTP_SHORT, drop_ntp_short, "NTP payload shorter than 48 bytes") \
	X(DROP_NTP_VERSION, drop_ntp_version, "NTP version 0 or above 4") \
	X(DROP_NTP_MODE0, drop_ntp_mode0, "NTP mode 0 (reserved)") \
	X(DROP_NTP_MODE2, drop_ntp_mode2, "NTP mode 2 (symmetric passive)") \
	X(DROP_NTP_MODE4, drop_ntp_mode4, \
	  "NTP mode 4 (server) packets that answer none of our requests") \
	X(DROP_NTP_MODE5, drop_ntp_mode5, "NTP mode 5 (broadcast)") \
	X(DROP_NTP_MODE6, drop_ntp_mode6, \
	  "NTP mode 6 (control); none since mode 6 is answered (kept " \
	  "for the verdict numbering)") \
	X(DROP_NTP_MODE7, drop_ntp_mode7, "NTP mode 7 (private)") \
	X(DROP_NTP_ZERO_XMT, drop_ntp_zero_xmt, \
	  "NTP request with a zero transmit timestamp") \
	X(DROP_IP_FRAGMENT, drop_ip_fragment, "IPv4 or IPv6 fragments") \
	X(DROP_IPV4_CHECKSUM, drop_ipv4_checksum, "bad IPv4 header checksum") \
	X(DROP_IP_HEADER, drop_ip_header, \
	  "malformed IP header (length, version, options, extension headers)") \
	X(DROP_UDP_LENGTH, drop_udp_length, \
	  "UDP length inconsistent with the IP length") \
	X(DROP_UDP_CHECKSUM, drop_udp_checksum, "bad UDP checksum") \
	X(DROP_UDP_PORT, drop_udp_port, "UDP to a port other than 123") \
	X(DROP_NOT_LOCAL, drop_not_local, \
	  "IP packets for an address, VLAN or MAC the port does not serve") \
	X(DROP_BAD_SOURCE, drop_bad_source, \
	  "requests from a source that must not be answered (multicast, " \
	  "broadcast, loopback, unspecified, our own address, port 0)") \
	X(DROP_PROTO, drop_proto, "IP protocols other than UDP and ICMP") \
	X(DROP_L2, drop_l2, "frames that are not IPv4, IPv6 or ARP, or runts") \
	X(ACL_IGNORE, acl_ignore, "requests dropped by restrict ignore") \
	X(ACL_NOSERVE, acl_noserve, "requests dropped by restrict noserve") \
	X(ACL_NOQUERY, acl_noquery, \
	  "mode 6/7 requests dropped by restrict noquery") \
	X(ACL_NOPEER, acl_nopeer, \
	  "symmetric active requests dropped by restrict nopeer") \
	X(ACL_NOTRUST, acl_notrust, \
	  "unauthenticated requests dropped by restrict notrust") \
	X(ACL_VERSION, acl_version, \
	  "requests of another version than 4 dropped by restrict version") \
	X(RATE_LIMITED, rate_limited, \
	  "requests over the discard limits of a restrict limited rule") \
	X(KOD_SENT, kod_sent, "KoD RATE packets sent (restrict kod limited)") \
	X(SLOW_QUEUED, slow_queued, \
	  "ARP, NDP, ICMP, control (mode 6) and other packets passed to " \
	  "the management lcore") \
	X(SLOW_RING_FULL, slow_ring_full, \
	  "slow-path packets dropped because the ring was full") \
	X(ARP_REPLIES, arp_replies, "ARP replies sent") \
	X(NDP_ADVERTS, ndp_adverts, "IPv6 neighbour advertisements sent") \
	X(ICMP_ECHO_REPLIES, icmp_echo_replies, \
	  "ICMP and ICMPv6 echo replies sent") \
	X(SLOW_IGNORED, slow_ignored, \
	  "ARP/NDP/ICMP packets that needed no answer") \
	X(SLOW_ANSWER_RING_FULL, slow_answer_ring_full, \
	  "ARP/NDP/ICMP answers dropped because the ring back to the " \
	  "worker was full") \
	X(NEIGH_HEARD, neigh_heard, \
	  "ARP replies and neighbour advertisements learnt from") \
	X(NEIGH_UPDATES, neigh_updates, \
	  "neighbour table entries created or changed by what was heard") \
	X(NEIGH_PROBES, neigh_probes, \
	  "ARP requests and neighbour solicitations sent") \
	X(LINK_DOWN, link_down, \
	  "times a port's link went down (its neighbours are forgotten)") \
	X(LINK_UP, link_up, "times a port's link came back up") \
	X(KERNEL_RX, kernel_rx, \
	  "TCP packets handed to the kernel through the exception path " \
	  "(NTS-KE to a served address)") \
	X(KERNEL_TX, kernel_tx, \
	  "packets from the kernel sent out of a port (exception path)") \
	X(KERNEL_DROPPED, kernel_dropped, \
	  "exception-path packets dropped (no path, no route, next hop " \
	  "unresolved, no mbuf, ring full, kernel busy)") \
	X(MGMT_TX, mgmt_tx, \
	  "frames built by the management lcore handed to a worker") \
	X(MGMT_TX_FAILED, mgmt_tx_failed, \
	  "frames of the management lcore dropped (ring full, no mbuf)") \
	X(NTP_UPSTREAM_REQUESTS, ntp_upstream_requests, \
	  "client requests sent to upstream servers") \
	X(NTP_UPSTREAM_UNSENT, ntp_upstream_unsent, \
	  "polls of upstream servers that could not be sent (no route, " \
	  "next hop not answering, no mbuf, ring full)") \
	X(NTP_UPSTREAM_REPLIES, ntp_upstream_replies, \
	  "upstream servers' replies accepted") \
	X(NTP_UPSTREAM_BAD, ntp_upstream_bad, \
	  "upstream servers' replies refused (bogus, duplicate, KoD, " \
	  "unsynchronized, malformed)") \
	X(NTP_CTL_ANSWERS, ntp_ctl_answers, \
	  "control (mode 6) requests answered with data (ntpq)") \
	X(NTP_CTL_REFUSED, ntp_ctl_refused, \
	  "control requests refused: writes, unknown opcodes, " \
	  "associations or variables (an error answer), the MRU list " \
	  "(no answer)") \
	X(NTP_CTL_MALFORMED, ntp_ctl_malformed, \
	  "control requests not answered: short, count beyond the " \
	  "packet, a response or a fragment") \
	X(NTP_CTL_FRAGMENTS, ntp_ctl_fragments, \
	  "control response fragments sent") \
	X(NTP_CTL_TRUNCATED, ntp_ctl_truncated, \
	  "control answers cut at the size cap (variables left out)") \
	X(NTP_CTL_UNSENT, ntp_ctl_unsent, \
	  "control response fragments lost (no mbuf, ring full)")

enum dpn_stats_id {
#define DPN_STATS_ENUM(id, name, help) DPN_STAT_##id,
	DPN_STATS_COUNTERS(DPN_STATS_ENUM)
#undef DPN_STATS_ENUM
	DPN_STAT_MAX
};

/** One lcore's counters, alone on its cache lines. */
struct dpn_stats {
	uint64_t c[DPN_STAT_MAX];
} __attribute__((aligned(64)));

/** Counter name as shown to users ("rx_packets"). */
const char *dpn_stats_name(enum dpn_stats_id id);

/** One-line description of a counter. */
const char *dpn_stats_help(enum dpn_stats_id id);

/** Look a counter up by name; -1 if there is none. */
int dpn_stats_lookup(const char *name);

/** out = sum of @p n per-lcore blocks. */
void dpn_stats_sum(const struct dpn_stats *blocks, unsigned int n,
		   struct dpn_stats *out);

#endif /* DPN_STATS_H */
