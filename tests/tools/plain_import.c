/* SPDX-License-Identifier: MIT
 *
 * plain-import.exe: imports PlaySoundW from winmm.dll the ordinary way, as
 * gale.exe did before launcher/win/system_imports.c. The planted-DLL test
 * runs it to show that its set-up does catch a DLL loaded from beside the
 * exe. It never calls the function: the planted stand-in has none, and a
 * call would crash into Wine's debugger, which hangs under qemu.
 */
#include <windows.h>
#include <mmsystem.h>

int wmain(int argc, wchar_t **argv)
{
    (void)argv;
    /* Referenced, so imported; called only with 99 arguments, so never. */
    return argc == 99 ? !PlaySoundW(NULL, NULL, 0) : 0;
}
