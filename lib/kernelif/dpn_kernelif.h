/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_KERNELIF_H
#define DPN_KERNELIF_H

/**
 * @file
 * The exception path: a TUN interface dpntpd owns, through which TCP to
 * a served address (NTS-KE's port) reaches the kernel's TCP stack, and
 * the kernel's answers leave by the DPDK port. DPDK's documented
 * replacement for KNI is a TAP or virtio-user port; a TUN carries IP
 * packets only, so the kernel needs no ARP on it: dpntpd's own
 * neighbour table gives the answers their Ethernet header. The operator
 * addresses the interface with the served addresses and routes the
 * answers through it (doc/guides/authentication.rst).
 */

#include <stdint.h>

#include "dpn_dataplane.h"

/**
 * Create (or attach to) TUN interface @p name, bring it up, and send TCP
 * to @p tcp_port of every served address through it. From the
 * management lcore, before the workers start.
 * @return 0, or -1 with a message in @p err.
 */
int dpn_kernelif_start(struct dpn_dataplane *dp, const char *name,
		       uint16_t tcp_port, char *err, size_t errlen);

/** From the management loop: send what the kernel wrote out of the
 * ports. @return the packets handled. */
unsigned int dpn_kernelif_poll(void);

/** Close the interface (the kernel removes it). */
void dpn_kernelif_stop(void);

#endif /* DPN_KERNELIF_H */
