/* SPDX-License-Identifier: MIT
 *
 * plain-import.exe: imports PlaySoundW from winmm.dll the ordinary way, as
 * gale.exe did before launcher/win/system_imports.c, and calls it (to stop
 * sounds, which plays nothing). The planted-DLL test runs it to show that
 * its set-up does catch a DLL loaded from beside the exe.
 */
#include <windows.h>
#include <mmsystem.h>

int wmain(void)
{
    return PlaySoundW(NULL, NULL, 0) ? 0 : 1;
}
