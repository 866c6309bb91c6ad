/* SPDX-License-Identifier: MIT
 *
 * Throughput of WebSocket masking on 1 MiB buffers, against memcpy() of the
 * same buffers measured in the same run: masking reads and writes the same
 * bytes as a copy, so memcpy is the ceiling and the ratio says how close each
 * implementation gets. Each figure is the best of several repetitions, which
 * filters out preemption and frequency ramps rather than averaging them in.
 * Prints numbers only; a benchmark that asserts on timings fails on a busy
 * machine, not on a slow change.
 *
 * Usage: mask_bench [repetitions]
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 199309L /* clock_gettime() under -std=c11 */
#endif
#include "websocket_mask.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

#define BUF_SIZE ((size_t)1 << 20)
/* Enough passes per timing that the clock's resolution does not matter. */
#define PASSES 16
#define DEFAULT_REPS 30

enum kernel { K_MEMCPY, K_MASK, K_SCALAR };

struct row {
    const char *label;
    enum kernel kernel;
    const char *impl; /* pinned implementation, NULL for the best */
    size_t out_off;   /* misaligns the output from a 64-byte boundary */
    int in_place;
};

static const struct row rows[] = {
    {"memcpy", K_MEMCPY, NULL, 0, 0},
    {"gale_websocket_mask", K_MASK, NULL, 0, 0},
    {"gale_websocket_mask, out+3", K_MASK, NULL, 3, 0},
    {"gale_websocket_mask, in place", K_MASK, NULL, 0, 1},
    {"  pinned avx2", K_MASK, "avx2", 0, 0},
    {"  pinned sse2", K_MASK, "sse2", 0, 0},
    {"  pinned neon", K_MASK, "neon", 0, 0},
    {"  pinned portable", K_MASK, "portable", 0, 0},
    {"gale_websocket_mask_scalar", K_SCALAR, NULL, 0, 0},
};

/* Read after every run so no compiler can drop the work as dead. */
static volatile unsigned char sink;

static double now_seconds(void)
{
#ifdef _WIN32
    LARGE_INTEGER freq, count;

    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&count);
    return (double)count.QuadPart / (double)freq.QuadPart;
#else
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#endif
}

static void run_once(const struct row *r, const unsigned char mask[4],
                     const unsigned char *src, unsigned char *dst)
{
    unsigned char *out = dst + r->out_off;
    const unsigned char *in = r->in_place ? out : src;
    int pass;

    for (pass = 0; pass < PASSES; pass++) {
        switch (r->kernel) {
        case K_MEMCPY:
            memcpy(out, in, BUF_SIZE);
            break;
        case K_MASK:
            gale_websocket_mask(mask, in, out, BUF_SIZE);
            break;
        case K_SCALAR:
            gale_websocket_mask_scalar(mask, in, out, BUF_SIZE);
            break;
        }
    }
    sink ^= out[BUF_SIZE / 2];
}

/* Best payload bytes per second over `reps` timings. */
static double measure(const struct row *r, int reps, const unsigned char mask[4],
                      const unsigned char *src, unsigned char *dst)
{
    double best = 0.0;
    int rep;

    run_once(r, mask, src, dst); /* warm caches, TLB and clocks */
    for (rep = 0; rep < reps; rep++) {
        double t0 = now_seconds(), rate;

        run_once(r, mask, src, dst);
        rate = (double)BUF_SIZE * PASSES / (now_seconds() - t0);
        if (rate > best)
            best = rate;
    }
    return best;
}

/* malloc() promises only 16 bytes; rows' offsets are from 64. */
static unsigned char *align64(unsigned char *p)
{
    return (unsigned char *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

int main(int argc, char **argv)
{
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    int reps = argc > 1 ? atoi(argv[1]) : DEFAULT_REPS;
    unsigned char *src_raw = malloc(BUF_SIZE + 64);
    unsigned char *dst_raw = malloc(BUF_SIZE + 128);
    unsigned char *src, *dst;
    double base = 0.0;
    size_t i;

    if (reps < 1) {
        fprintf(stderr, "usage: %s [repetitions >= 1]\n", argv[0]);
        return 2;
    }
    if (src_raw == NULL || dst_raw == NULL) {
        fprintf(stderr, "mask_bench: out of memory\n");
        return 1;
    }
    src = align64(src_raw);
    dst = align64(dst_raw);
    for (i = 0; i < BUF_SIZE; i++)
        src[i] = (unsigned char)(i * 131u + 7u);
    memset(dst, 0, BUF_SIZE + 64);

    printf("websocket_mask: %zu-byte buffers, best of %d x %d passes, "
           "best implementation here: %s\n",
           BUF_SIZE, reps, PASSES, gale_websocket_mask_impl());
    printf("%-32s %8s %10s\n", "kernel", "GB/s", "vs memcpy");
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        double rate;

        if (gale_websocket_mask_select(r->impl) != 0)
            continue; /* not on this CPU */
        rate = measure(r, reps, mask, src, dst);
        if (r->kernel == K_MEMCPY)
            base = rate;
        printf("%-32s %8.2f %10.2f\n", r->label, rate / 1e9, rate / base);
    }
    gale_websocket_mask_select(NULL);
    return 0;
}
