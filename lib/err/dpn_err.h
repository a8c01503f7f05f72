/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_ERR_H
#define DPN_ERR_H

/**
 * @file
 * The one way the libraries report an error to their caller: a message
 * formatted into the caller's buffer ("file:line: what", by convention),
 * and -1 to return.
 */

#include <stdarg.h>
#include <stddef.h>

/**
 * Format @p fmt into @p err (@p errlen bytes, truncated; nothing if @p err
 * is NULL or @p errlen is 0). @return -1, for `return dpn_err(...)`.
 */
int dpn_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** dpn_err() with a va_list (for wrappers that add a prefix). */
int dpn_verr(char *err, size_t errlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif /* DPN_ERR_H */
