/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path through a TUN interface (see dpn_kernelif.h).
 * Everything here runs on the management lcore: the slow path hands
 * TCP over (kernel_rx), the management loop reads the kernel's answers
 * (dpn_kernelif_poll); the file descriptor is non-blocking, so neither
 * ever waits on the kernel.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dpn_kernelif.h"

#define POLL_MAX 32		/* packets from the kernel per poll */
#define PKT_MAX 2048

static struct {
	struct dpn_dataplane *dp;
	int fd;
} kif = { .fd = -1 };

/* The IP packet in @p m (after its Ethernet header), its IP length. */
static unsigned int
ip_len_of(const struct rte_mbuf *m, const uint8_t *ip)
{
	unsigned int avail = m->pkt_len - m->l2_len, len;

	if (avail < 1)
		return 0;
	if ((ip[0] >> 4) == 4 && avail >= sizeof(struct rte_ipv4_hdr))
		len = (unsigned int)(ip[2] << 8 | ip[3]);
	else if ((ip[0] >> 4) == 6 && avail >= sizeof(struct rte_ipv6_hdr))
		len = sizeof(struct rte_ipv6_hdr) + (unsigned int)(ip[4] << 8 | ip[5]);
	else
		return 0;
	return len <= avail ? len : 0;
}

/* From the slow path: TCP for the kernel. */
static void
kernel_rx(void *arg, unsigned int port_index, struct rte_mbuf *m)
{
	struct dpn_dataplane *dp = arg;
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *,
						    m->l2_len);
	unsigned int len = m->nb_segs == 1 ? ip_len_of(m, ip) : 0;

	(void)port_index;
	/* A full queue in the kernel drops it, as a NIC would. */
	if (len != 0 && write(kif.fd, ip, len) == (ssize_t)len)
		dp->mgmt_stats.c[DPN_STAT_KERNEL_RX]++;
	else
		dp->mgmt_stats.c[DPN_STAT_KERNEL_DROPPED]++;
	rte_pktmbuf_free(m);
}

/* One packet the kernel sent: out of the port its destination is on. */
static void
kernel_tx(struct dpn_dataplane *dp, const uint8_t *pkt, unsigned int len)
{
	struct rte_ether_addr mac;
	struct dpn_route r;
	struct rte_mbuf *m;
	int family;
	void *d;

	if ((pkt[0] >> 4) == 4 && len >= sizeof(struct rte_ipv4_hdr))
		family = AF_INET;
	else if ((pkt[0] >> 4) == 6 && len >= sizeof(struct rte_ipv6_hdr))
		family = AF_INET6;
	else
		goto drop;
	if (dpn_route_lookup(dp, family, family == AF_INET ? pkt + 16 :
			     pkt + 24, &r) != 0 ||
	    dpn_dp_neigh_resolve(dp, &r, &mac) != 0)
		goto drop;	/* unresolved: TCP sends it again */
	m = dpn_mgmt_alloc(dp, r.port_index);
	if (m == NULL)
		goto drop;
	if (dpn_mgmt_eth_init(dp, m, &r, &mac, family == AF_INET ?
			      RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6) == NULL ||
	    (d = rte_pktmbuf_append(m, (uint16_t)len)) == NULL) {
		rte_pktmbuf_free(m);
		goto drop;
	}
	memcpy(d, pkt, len);
	if (dpn_mgmt_tx(dp, r.port_index, m) != 0)
		goto drop;
	dp->mgmt_stats.c[DPN_STAT_KERNEL_TX]++;
	return;
drop:
	dp->mgmt_stats.c[DPN_STAT_KERNEL_DROPPED]++;
}

unsigned int
dpn_kernelif_poll(void)
{
	uint8_t buf[PKT_MAX];
	unsigned int n;

	if (kif.fd < 0)
		return 0;
	for (n = 0; n < POLL_MAX; n++) {
		ssize_t len = read(kif.fd, buf, sizeof(buf));

		if (len <= 0)
			break;
		kernel_tx(kif.dp, buf, (unsigned int)len);
	}
	return n;
}

int
dpn_kernelif_start(struct dpn_dataplane *dp, const char *name,
		   uint16_t tcp_port, char *err, size_t errlen)
{
	struct ifreq ifr;
	unsigned int i;
	int s;

	kif.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (kif.fd < 0) {
		snprintf(err, errlen, "exceptionif %s: /dev/net/tun: %s", name,
			 strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(kif.fd, TUNSETIFF, &ifr) != 0) {
		snprintf(err, errlen, "exceptionif %s: TUNSETIFF: %s", name,
			 strerror(errno));
		goto fail;
	}
	/* Up, so that the operator only adds addresses and routes. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)) != 0) {
		snprintf(err, errlen, "exceptionif %s: cannot bring it up: %s",
			 name, strerror(errno));
		if (s >= 0)
			close(s);
		goto fail;
	}
	close(s);
	kif.dp = dp;
	dp->kernel_rx = kernel_rx;
	dp->kernel_rx_arg = dp;
	for (i = 0; i < dp->nb_ports; i++)
		dp->ports[i].kernel_tcp_port = rte_cpu_to_be_16(tcp_port);
	return 0;
fail:
	close(kif.fd);
	kif.fd = -1;
	return -1;
}

void
dpn_kernelif_stop(void)
{
	if (kif.fd < 0)
		return;
	close(kif.fd);
	kif.fd = -1;
}
