/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>

#include "dpn_err.h"

int
dpn_verr(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err != NULL && errlen != 0)
		vsnprintf(err, errlen, fmt, ap);
	return -1;
}

int
dpn_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dpn_verr(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
