/* SPDX-License-Identifier: MIT
 *
 * WebSocket payload masking (RFC 6455, section 5.3): XOR every byte with a
 * 4-byte key that repeats from the first byte of the payload. This is the hot
 * loop of Tornado's websocket code; it is kept free of Python so that it can
 * be unit-tested and benchmarked on its own and linked into anything.
 *
 * The file owns the public entry point, a plain byte-loop reference, and the
 * run-time choice between SIMD implementations (AVX2/SSE2 on x86-64, NEON on
 * AArch64, 64-bit words elsewhere).
 */
#ifndef GALE_WEBSOCKET_MASK_H
#define GALE_WEBSOCKET_MASK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * out[i] = in[i] ^ mask[i % 4] for i in [0, len).
 *
 * `in` and `out` may be the same pointer (masking in place) but must not
 * otherwise overlap. Neither needs any particular alignment. Thread-safe; the
 * first call on a large buffer probes the CPU once.
 */
void gale_websocket_mask(const unsigned char mask[4], const unsigned char *in,
                         unsigned char *out, size_t len);

/* Same contract, one byte at a time: the reference for tests and benchmarks. */
void gale_websocket_mask_scalar(const unsigned char mask[4],
                                const unsigned char *in, unsigned char *out,
                                size_t len);

/*
 * Name of the implementation gale_websocket_mask() uses for large buffers:
 * "avx2", "sse2", "neon" or "portable".
 */
const char *gale_websocket_mask_impl(void);

/*
 * Pins gale_websocket_mask() to the named implementation so that tests and
 * benchmarks can reach the slower paths on a CPU that has the faster ones.
 * NULL restores the best one this CPU supports. Returns 0, or -1 (changing
 * nothing) if the name is unknown or the CPU or build cannot run it. Affects
 * every thread; not meant for production code.
 */
int gale_websocket_mask_select(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* GALE_WEBSOCKET_MASK_H */
