/* SPDX-License-Identifier: MIT
 *
 * Force-included (-include) into every CPython source of the static Windows
 * build, ahead of everything else, so it must not include any header.
 *
 * zig cc links its own compiler-rt before the UCRT import libraries, so
 * log2() and log10() come from compiler-rt, not from ucrtbase.dll as in an
 * MSVC build. compiler-rt's double versions (lib/compiler_rt/log2.zig and
 * log10.zig of zig 0.17.1) are wrong for subnormal arguments: after scaling
 * x by 2**54 they rebuild it from the low word of the unscaled x. math.log2
 * (1e-308) came out 3e-7 off (2.7 million ulps) and test_math failed. Their
 * other functions checked out within 1 ulp (docs/cpython-windows.md).
 *
 * The names are redirected to native/cpython/ucrt_math.c, which calls
 * UCRT's through its import table. Defining log2 itself is not possible:
 * the UCRT import library defines the symbol too and lld reports a
 * duplicate. Drop this file once zig's versions are fixed.
 */
#ifndef GALE_UCRT_MATH_H
#define GALE_UCRT_MATH_H

#ifndef GALE_UCRT_MATH_IMPL
double gale_ucrt_log2(double x);
double gale_ucrt_log10(double x);
#  define log2 gale_ucrt_log2
#  define log10 gale_ucrt_log10
#endif

#endif /* GALE_UCRT_MATH_H */
