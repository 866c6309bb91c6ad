/* SPDX-License-Identifier: MIT
 *
 * Check tests for native/websocket_mask.c. Every implementation this CPU can
 * run is pinned in turn and compared byte for byte with the plain byte loop,
 * over every length up to 4096, many input and output misalignments, in
 * place, and on a buffer large enough to run the unrolled loops for a while.
 * Guard bytes around the output catch a kernel that writes past either end,
 * which a comparison of the output alone would miss.
 */
#include "websocket_mask.h"

#include "gale_check.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SWEEP 4096
#define GUARD 64
#define CANARY 0xA5
#define TIMEOUT_S 120

static const char *const impls[] = {"portable", "sse2", "avx2", "neon"};
#define N_IMPLS ((int)(sizeof impls / sizeof impls[0]))

/* Fixed seed: a failure reproduces on the next run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void rng_fill(unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (unsigned char)(rng_next() >> 56);
}

/* malloc() only promises 16 bytes; offsets must be relative to a 64-byte
 * boundary to reach every position in a 32-byte store. */
static unsigned char *alloc_aligned(size_t size, void **raw)
{
    uintptr_t p;

    *raw = malloc(size + 63);
    if (*raw == NULL)
        ck_abort_msg("out of memory allocating %zu bytes", size + 63);
    p = ((uintptr_t)*raw + 63) & ~(uintptr_t)63;
    return (unsigned char *)p;
}

static void run_case(const char *impl, size_t len, size_t in_off,
                     size_t out_off, int in_place)
{
    unsigned char mask[4];
    void *src_raw, *dst_raw, *want_raw;
    size_t dst_size = GUARD + out_off + len + GUARD, i;
    unsigned char *src = alloc_aligned(in_off + len, &src_raw);
    unsigned char *dst = alloc_aligned(dst_size, &dst_raw);
    unsigned char *want = alloc_aligned(len, &want_raw);
    unsigned char *in = src + in_off, *out = dst + GUARD + out_off;

    rng_fill(mask, sizeof mask);
    rng_fill(in, len);
    memset(dst, CANARY, dst_size);
    gale_websocket_mask_scalar(mask, in, want, len);
    if (in_place) {
        memcpy(out, in, len);
        in = out;
    }
    gale_websocket_mask(mask, in, out, len);

    /* Plain loops, one assertion each: in fork mode every passing ck_assert
     * is a write to the parent, which would dominate the run time. */
    for (i = 0; i < len && out[i] == want[i]; i++)
        ;
    if (i != len)
        ck_abort_msg("%s: len %zu, in+%zu, out+%zu%s: byte %zu is %02x, want %02x",
                     impl, len, in_off, out_off, in_place ? ", in place" : "",
                     i, out[i], want[i]);
    for (i = 0; i < GUARD + out_off && dst[i] == CANARY; i++)
        ;
    if (i != GUARD + out_off)
        ck_abort_msg("%s: len %zu, out+%zu: wrote %zu bytes before out", impl,
                     len, out_off, GUARD + out_off - i);
    for (i = GUARD + out_off + len; i < dst_size && dst[i] == CANARY; i++)
        ;
    if (i != dst_size)
        ck_abort_msg("%s: len %zu, out+%zu: wrote byte %zu past the end", impl,
                     len, out_off, i - (GUARD + out_off + len));
    free(src_raw);
    free(dst_raw);
    free(want_raw);
}

/* Returns the implementation name, or NULL if this CPU or build lacks it. */
static const char *pin(int index)
{
    if (gale_websocket_mask_select(impls[index]) != 0) {
        fprintf(stderr, "websocket_mask: %s not available here, skipped\n",
                impls[index]);
        return NULL;
    }
    ck_assert_str_eq(gale_websocket_mask_impl(), impls[index]);
    return impls[index];
}

/* Teardown: with CK_FORK=no a pin would outlive its test. */
static void unpin(void)
{
    gale_websocket_mask_select(NULL);
}

START_TEST(test_rfc6455_example)
{
    /* RFC 6455, section 5.7: a masked "Hello". Checks the reference too. */
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    static const unsigned char want[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
    unsigned char got[5];

    gale_websocket_mask_scalar(mask, (const unsigned char *)"Hello", got, 5);
    ck_assert_mem_eq(got, want, 5);
    gale_websocket_mask(mask, (const unsigned char *)"Hello", got, 5);
    ck_assert_mem_eq(got, want, 5);
}
END_TEST

START_TEST(test_select)
{
    const char *best;

    ck_assert_int_eq(gale_websocket_mask_select(NULL), 0);
    best = gale_websocket_mask_impl();
#if defined(__x86_64__) || defined(_M_X64)
#if defined(__GNUC__) || defined(__clang__)
    ck_assert_msg(strcmp(best, "avx2") == 0 || strcmp(best, "sse2") == 0,
                  "x86-64 should use SIMD, got %s", best);
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
    ck_assert_str_eq(best, "neon");
#endif
    ck_assert_int_eq(gale_websocket_mask_select("no-such-impl"), -1);
    ck_assert_str_eq(gale_websocket_mask_impl(), best);
    ck_assert_int_eq(gale_websocket_mask_select("portable"), 0);
    ck_assert_str_eq(gale_websocket_mask_impl(), "portable");
    ck_assert_int_eq(gale_websocket_mask_select(NULL), 0);
    ck_assert_str_eq(gale_websocket_mask_impl(), best);
}
END_TEST

START_TEST(test_every_length)
{
    static const size_t offsets[][2] = {{0, 0}, {1, 0}, {0, 3}, {13, 7}, {8, 17}};
    const char *impl = pin(_i);
    size_t len, j;

    if (impl == NULL)
        return;
    for (len = 0; len <= MAX_SWEEP; len++) {
        for (j = 0; j < sizeof offsets / sizeof offsets[0]; j++)
            run_case(impl, len, offsets[j][0], offsets[j][1], 0);
        run_case(impl, len, rng_next() % 16, rng_next() % 32, 0);
    }
}
END_TEST

START_TEST(test_every_alignment)
{
    /* Short lengths straddle the SIMD threshold; the rest end at each
     * remainder of the unrolled loops. */
    static const size_t extra[] = {255, 256, 257, 1000, 1031, 4096 + 127};
    const char *impl = pin(_i);
    size_t in_off, out_off, len, j;

    if (impl == NULL)
        return;
    for (in_off = 0; in_off < 16; in_off++) {
        for (out_off = 0; out_off < 32; out_off++) {
            for (len = 0; len <= 160; len++)
                run_case(impl, len, in_off, out_off, 0);
            for (j = 0; j < sizeof extra / sizeof extra[0]; j++)
                run_case(impl, extra[j], in_off, out_off, 0);
        }
    }
}
END_TEST

START_TEST(test_in_place)
{
    const char *impl = pin(_i);
    size_t len, off;

    if (impl == NULL)
        return;
    for (len = 0; len <= MAX_SWEEP; len++)
        run_case(impl, len, 0, len % 32, 1);
    for (off = 0; off < 32; off++)
        run_case(impl, 65536 + off, 0, off, 1);
}
END_TEST

START_TEST(test_large)
{
    const size_t len = (1u << 20) + 7;
    const char *impl = pin(_i);

    if (impl == NULL)
        return;
    run_case(impl, len, 0, 0, 0);
    run_case(impl, len, 3, 5, 0);
    run_case(impl, len, 0, 31, 1);
}
END_TEST

static Suite *mask_suite(void)
{
    Suite *s = suite_create("websocket_mask");
    TCase *basics = tcase_create("basics");
    TCase *sweep = tcase_create("sweep");

    tcase_add_test(basics, test_rfc6455_example);
    tcase_add_test(basics, test_select);
    suite_add_tcase(s, basics);

    /* One run per implementation name; _i indexes impls[]. */
    tcase_set_timeout(sweep, TIMEOUT_S);
    tcase_add_checked_fixture(sweep, NULL, unpin);
    tcase_add_loop_test(sweep, test_every_length, 0, N_IMPLS);
    tcase_add_loop_test(sweep, test_every_alignment, 0, N_IMPLS);
    tcase_add_loop_test(sweep, test_in_place, 0, N_IMPLS);
    tcase_add_loop_test(sweep, test_large, 0, N_IMPLS);
    suite_add_tcase(s, sweep);
    return s;
}

int main(void)
{
    return gale_check_run(mask_suite());
}
