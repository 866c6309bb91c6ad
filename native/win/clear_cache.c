/* SPDX-License-Identifier: MIT
 *
 * __clear_cache for aarch64-windows-gnu: the compiler turns
 * __builtin___clear_cache into a call to it, and zig's compiler-rt leaves
 * it out on Windows ARM64 (a TODO there). libffi calls it after writing a
 * closure's trampoline, so the CPU does not run stale instructions. This
 * is what LLVM's own compiler-rt does on Windows. cmake/thirdparty.sh
 * compiles it into the win-arm64 libffi.a.
 */
#include <windows.h>

void __clear_cache(void *start, void *end);

void __clear_cache(void *start, void *end)
{
    FlushInstructionCache(GetCurrentProcess(), start, (SIZE_T)((char *)end - (char *)start));
}
