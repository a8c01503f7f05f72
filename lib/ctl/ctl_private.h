/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CTL_PRIVATE_H
#define CTL_PRIVATE_H

/* Internal to lib/ctl: the daemon state the commands work on. */

#include "dpn_ctl.h"

struct dpn_ctl_ctx *dpn_ctl_ctx_get(void);

#endif /* CTL_PRIVATE_H */
