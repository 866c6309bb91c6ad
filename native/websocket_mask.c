/* SPDX-License-Identifier: MIT
 *
 * WebSocket masking kernels and the run-time choice between them (see
 * websocket_mask.h for the contract).
 *
 * Every kernel has the same shape: it masks whole vectors from the start of
 * its range with a key already rotated to that start, and returns how many
 * bytes it did, always a multiple of 4 so the key phase of the rest is
 * unchanged. gale_websocket_mask() does a few bytes by hand to align the
 * stores, hands the middle to the best kernel, and finishes the tail with
 * 64-bit words and then bytes. Loads and stores are unaligned-safe
 * throughout, so no kernel cares about alignment for correctness.
 *
 * x86-64 SIMD needs GNU C (gcc, clang, zig cc): SSE2 is the x86-64 baseline
 * and needs no check; AVX2 is compiled with a target attribute and used only
 * when CPUID says both the CPU and the OS (XCR0) support it. We read CPUID
 * ourselves instead of calling __builtin_cpu_supports() because the latter
 * needs __cpu_model from libgcc or compiler-rt, which zig's compiler-rt
 * lacked until recently (ziglang/zig#18074); <cpuid.h> is header-only.
 * AArch64 always has NEON. Other CPUs and compilers get the word loop.
 */
#include "websocket_mask.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MASK_X86 1
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__aarch64__) || defined(_M_ARM64)
#define MASK_NEON 1
#include <arm_neon.h>
#endif

/* Below this, aligning and dispatching cost more than the vectors save. */
#define SIMD_MIN 64
/* A power of two: stores go to 32-byte boundaries, one AVX2 register. */
#define STORE_ALIGN 32

enum level { LEVEL_PORTABLE, LEVEL_SSE2, LEVEL_AVX2, LEVEL_NEON, LEVEL_COUNT };

static const char *const level_names[LEVEL_COUNT] = {"portable", "sse2", "avx2",
                                                     "neon"};

/* -1 until the first large call probes the CPU or a test pins a level. */
static atomic_int chosen_level = -1;

/* k[j] is the key byte that applies `offset + j` bytes into the payload. */
static void rotate_key(unsigned char k[4], const unsigned char mask[4],
                       size_t offset)
{
    size_t j;

    for (j = 0; j < 4; j++)
        k[j] = mask[(offset + j) & 3];
}

static size_t mask_words(const unsigned char k[4], const unsigned char *in,
                         unsigned char *out, size_t len)
{
    unsigned char k8[8];
    uint64_t kw, w;
    size_t i;

    /* Built bytewise so the word matches memory order on either endianness. */
    memcpy(k8, k, 4);
    memcpy(k8 + 4, k, 4);
    memcpy(&kw, k8, sizeof kw);
    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&w, in + i, sizeof w);
        w ^= kw;
        memcpy(out + i, &w, sizeof w);
    }
    return i;
}

#ifdef MASK_X86
static size_t mask_sse2(const unsigned char k[4], const unsigned char *in,
                        unsigned char *out, size_t len)
{
    uint32_t k32;
    __m128i kv;
    size_t i = 0;

    memcpy(&k32, k, 4);
    kv = _mm_set1_epi32((int)k32);
    /* Four vectors per turn keep enough loads in flight to hide latency. */
    for (; i + 64 <= len; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(in + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(in + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(in + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(in + i + 48));
        _mm_storeu_si128((__m128i *)(out + i), _mm_xor_si128(a, kv));
        _mm_storeu_si128((__m128i *)(out + i + 16), _mm_xor_si128(b, kv));
        _mm_storeu_si128((__m128i *)(out + i + 32), _mm_xor_si128(c, kv));
        _mm_storeu_si128((__m128i *)(out + i + 48), _mm_xor_si128(d, kv));
    }
    for (; i + 16 <= len; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(in + i));
        _mm_storeu_si128((__m128i *)(out + i), _mm_xor_si128(a, kv));
    }
    return i;
}

static __attribute__((target("avx2"))) size_t
mask_avx2(const unsigned char k[4], const unsigned char *in, unsigned char *out,
          size_t len)
{
    uint32_t k32;
    __m256i kv;
    size_t i = 0;

    memcpy(&k32, k, 4);
    kv = _mm256_set1_epi32((int)k32);
    for (; i + 128 <= len; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(in + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(in + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(in + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(in + i + 96));
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_xor_si256(a, kv));
        _mm256_storeu_si256((__m256i *)(out + i + 32), _mm256_xor_si256(b, kv));
        _mm256_storeu_si256((__m256i *)(out + i + 64), _mm256_xor_si256(c, kv));
        _mm256_storeu_si256((__m256i *)(out + i + 96), _mm256_xor_si256(d, kv));
    }
    for (; i + 32 <= len; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(in + i));
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_xor_si256(a, kv));
    }
    return i;
}

static int x86_has_avx2(void)
{
    unsigned int eax, ebx, ecx, edx, xcr0_lo, xcr0_hi;

    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    if (!(ecx & bit_AVX) || !(ecx & bit_OSXSAVE))
        return 0;
    /* The CPU may have AVX while the OS does not save YMM registers across
     * context switches; XCR0 bits 1 and 2 say that it does. The mnemonic is
     * used rather than _xgetbv() so that no -mxsave is needed. */
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    (void)xcr0_hi;
    if ((xcr0_lo & 0x6) != 0x6)
        return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return 0;
    return (ebx & bit_AVX2) != 0;
}
#endif /* MASK_X86 */

#ifdef MASK_NEON
static size_t mask_neon(const unsigned char k[4], const unsigned char *in,
                        unsigned char *out, size_t len)
{
    unsigned char k16[16];
    uint8x16_t kv;
    size_t i;

    /* A byte load keeps lane order right whatever the data endianness. */
    for (i = 0; i < sizeof k16; i++)
        k16[i] = k[i & 3];
    kv = vld1q_u8(k16);
    for (i = 0; i + 64 <= len; i += 64) {
        uint8x16_t a = vld1q_u8(in + i);
        uint8x16_t b = vld1q_u8(in + i + 16);
        uint8x16_t c = vld1q_u8(in + i + 32);
        uint8x16_t d = vld1q_u8(in + i + 48);
        vst1q_u8(out + i, veorq_u8(a, kv));
        vst1q_u8(out + i + 16, veorq_u8(b, kv));
        vst1q_u8(out + i + 32, veorq_u8(c, kv));
        vst1q_u8(out + i + 48, veorq_u8(d, kv));
    }
    for (; i + 16 <= len; i += 16)
        vst1q_u8(out + i, veorq_u8(vld1q_u8(in + i), kv));
    return i;
}
#endif /* MASK_NEON */

static int best_level(void)
{
#if defined(MASK_X86)
    return x86_has_avx2() ? LEVEL_AVX2 : LEVEL_SSE2;
#elif defined(MASK_NEON)
    return LEVEL_NEON;
#else
    return LEVEL_PORTABLE;
#endif
}

static int level_runs_here(int level)
{
    switch (level) {
    case LEVEL_PORTABLE:
        return 1;
#ifdef MASK_X86
    case LEVEL_SSE2:
        return 1;
    case LEVEL_AVX2:
        return best_level() == LEVEL_AVX2;
#endif
#ifdef MASK_NEON
    case LEVEL_NEON:
        return 1;
#endif
    default:
        return 0;
    }
}

static int current_level(void)
{
    int level = atomic_load_explicit(&chosen_level, memory_order_relaxed);
    int unset = -1;

    if (level >= 0)
        return level;
    level = best_level();
    /* Racing first calls agree on the answer; a concurrent pin must win. */
    if (!atomic_compare_exchange_strong(&chosen_level, &unset, level))
        level = unset;
    return level;
}

static size_t mask_bulk(int level, const unsigned char k[4],
                        const unsigned char *in, unsigned char *out, size_t len)
{
    switch (level) {
#ifdef MASK_X86
    case LEVEL_AVX2:
        return mask_avx2(k, in, out, len);
    case LEVEL_SSE2:
        return mask_sse2(k, in, out, len);
#endif
#ifdef MASK_NEON
    case LEVEL_NEON:
        return mask_neon(k, in, out, len);
#endif
    default:
        return mask_words(k, in, out, len);
    }
}

void gale_websocket_mask(const unsigned char mask[4], const unsigned char *in,
                         unsigned char *out, size_t len)
{
    unsigned char k[4];
    size_t i = 0;

    if (len >= SIMD_MIN) {
        /* A store that straddles a cache line costs about two; a few bytes
         * by hand make every vector store land on a boundary. */
        size_t head = (size_t)(0u - (uintptr_t)out) & (STORE_ALIGN - 1);

        for (; i < head; i++)
            out[i] = in[i] ^ mask[i & 3];
        rotate_key(k, mask, i);
        i += mask_bulk(current_level(), k, in + i, out + i, len - i);
    }
    rotate_key(k, mask, i);
    i += mask_words(k, in + i, out + i, len - i);
    for (; i < len; i++)
        out[i] = in[i] ^ mask[i & 3];
}

void gale_websocket_mask_scalar(const unsigned char mask[4],
                                const unsigned char *in, unsigned char *out,
                                size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        out[i] = in[i] ^ mask[i & 3];
}

const char *gale_websocket_mask_impl(void)
{
    return level_names[current_level()];
}

int gale_websocket_mask_select(const char *name)
{
    int level;

    if (name == NULL) {
        atomic_store_explicit(&chosen_level, best_level(), memory_order_relaxed);
        return 0;
    }
    for (level = 0; level < LEVEL_COUNT; level++) {
        if (strcmp(name, level_names[level]) == 0)
            break;
    }
    if (level == LEVEL_COUNT || !level_runs_here(level))
        return -1;
    atomic_store_explicit(&chosen_level, level, memory_order_relaxed);
    return 0;
}
