/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_TEST_RND_H
#define DPN_TEST_RND_H

/*
 * A seeded xorshift generator for tests that draw random inputs: the
 * same seed gives the same inputs on every run, so that a failure can
 * be reproduced. Not for anything that needs real randomness.
 */

#include <stdint.h>

/** The generator's state; a test sets it to choose its sequence. */
static uint64_t test_rnd_state = 0x9e3779b97f4a7c15ull;

/** The next 32 random bits. */
static inline uint32_t
rnd(void)
{
	test_rnd_state ^= test_rnd_state << 13;
	test_rnd_state ^= test_rnd_state >> 7;
	test_rnd_state ^= test_rnd_state << 17;
	return (uint32_t)(test_rnd_state >> 16);
}

#endif /* DPN_TEST_RND_H */
