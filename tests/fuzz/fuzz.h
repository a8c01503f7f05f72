/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_FUZZ_H
#define DPN_FUZZ_H

/*
 * What the fuzz targets share. Each target defines LLVMFuzzerTestOneInput
 * (and LLVMFuzzerInitialize when it needs set-up) and is linked either
 * with libFuzzer (-Dfuzz=true, clang) or with fuzz_replay.c, which runs
 * it over every file of its corpus as an ordinary unit test.
 *
 * A target checks invariants, not only that nothing crashed: a broken
 * one is reported and abort()s, which both drivers count as a finding.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define DPN_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(DPN_FUZZ_ASAN)
#define DPN_FUZZ_ASAN 1
#endif

#ifdef DPN_FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define FUZZ_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define FUZZ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FUZZ_POISON(p, n) ((void)(p), (void)(n))
#define FUZZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s: ",	\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A little reader over the input, for targets whose input has parts. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t v = fuzz_u8(in);

	return (uint16_t)(v << 8 | fuzz_u8(in));
}

/* Up to @p max bytes (fewer at the end of the input). */
static inline const uint8_t *
fuzz_bytes(struct fuzz_in *in, size_t max, size_t *got)
{
	const uint8_t *p = in->p;

	*got = max < in->n ? max : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

#endif /* DPN_FUZZ_H */
