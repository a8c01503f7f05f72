/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_FUZZ_JSON_H
#define DPN_FUZZ_JSON_H

/*
 * A strict JSON checker (RFC 8259) for what dpntpd prints with #json:
 * dpntpc and scripts parse it, so it must parse. Recursive descent over
 * a NUL-free buffer; depth bounded.
 */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct fuzz_json {
	const char *p, *end;
	unsigned int depth;
};

static bool fuzz_json_value(struct fuzz_json *j);

static inline void
fuzz_json_ws(struct fuzz_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static inline bool
fuzz_json_lit(struct fuzz_json *j, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n) != 0)
		return false;
	j->p += n;
	return true;
}

static inline bool
fuzz_json_string(struct fuzz_json *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	for (j->p++; j->p < j->end; j->p++) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (++j->p >= j->end)
			return false;
		if (*j->p == 'u') {
			int i;

			for (i = 0; i < 4; i++)
				if (++j->p >= j->end ||
				    strchr("0123456789abcdefABCDEF", *j->p) ==
				    NULL)
					return false;
		} else if (strchr("\"\\/bfnrt", *j->p) == NULL) {
			return false;
		}
	}
	return false;
}

static inline bool
fuzz_json_digits(struct fuzz_json *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static inline bool
fuzz_json_number(struct fuzz_json *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!fuzz_json_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!fuzz_json_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!fuzz_json_digits(j))
			return false;
	}
	return true;
}

static inline bool
fuzz_json_container(struct fuzz_json *j, char close, bool object)
{
	j->p++;
	fuzz_json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		fuzz_json_ws(j);
		if (object) {
			if (!fuzz_json_string(j))
				return false;
			fuzz_json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!fuzz_json_value(j))
			return false;
		fuzz_json_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == close) {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool
fuzz_json_value(struct fuzz_json *j)
{
	bool ok;

	fuzz_json_ws(j);
	if (j->p >= j->end || j->depth > 64)
		return false;
	switch (*j->p) {
	case '{':
	case '[':
		j->depth++;
		ok = fuzz_json_container(j, *j->p == '{' ? '}' : ']',
					 *j->p == '{');
		j->depth--;
		return ok;
	case '"':
		return fuzz_json_string(j);
	case 't':
		return fuzz_json_lit(j, "true");
	case 'f':
		return fuzz_json_lit(j, "false");
	case 'n':
		return fuzz_json_lit(j, "null");
	default:
		return fuzz_json_number(j);
	}
}

/* Is @p s (@p len bytes) one JSON object and nothing else but blanks? */
static inline bool
fuzz_json_object(const char *s, size_t len)
{
	struct fuzz_json j = { s, s + len, 0 };

	fuzz_json_ws(&j);
	if (j.p >= j.end || *j.p != '{' || !fuzz_json_value(&j))
		return false;
	fuzz_json_ws(&j);
	return j.p == j.end;
}

#endif /* DPN_FUZZ_JSON_H */
