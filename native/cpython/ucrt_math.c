/* SPDX-License-Identifier: MIT
 *
 * UCRT's log2() and log10(), called through the import table so that zig's
 * compiler-rt versions (wrong for subnormal arguments) are not used. See
 * native/cpython/ucrt_math.h, which points CPython's calls here; this file
 * is compiled with GALE_UCRT_MATH_IMPL so the redirection does not apply.
 */
#include <math.h>

extern double (__cdecl *__MINGW_IMP_SYMBOL(log2))(double);
extern double (__cdecl *__MINGW_IMP_SYMBOL(log10))(double);

double
gale_ucrt_log2(double x)
{
    return __MINGW_IMP_SYMBOL(log2)(x);
}

double
gale_ucrt_log10(double x)
{
    return __MINGW_IMP_SYMBOL(log10)(x);
}
