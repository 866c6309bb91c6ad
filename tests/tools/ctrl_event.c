/* SPDX-License-Identifier: MIT
 *
 * ctrl-event.exe EVENT PID: delivers a console control event to the Windows
 * process PID the way Windows does, for tests under Wine. EVENT is c, break,
 * close, logoff or shutdown.
 *
 * Windows delivers an event by starting a thread in the process at
 * kernelbase!CtrlRoutine with the event as its argument; this does the same
 * with CreateRemoteThread, so it needs no shared console (Gale under the
 * test harness has none: its standard handles are pipes). Wine 8 cannot do
 * it otherwise: GenerateConsoleCtrlEvent supports only CTRL_C_EVENT, no Unix
 * signal becomes anything but CTRL_C_EVENT (SIGINT), and Wine's conhost
 * sends no CTRL_CLOSE_EVENT when its terminal goes away.
 *
 * After close and shutdown, Windows ends the process when the handler
 * returns, or 5 s after the event; Wine does not, so this does it: it waits
 * for the handler thread and then terminates the process if it is still
 * there. Exit status: RC_* below. Tests should look at RC_ENDED rather than
 * at the process's own exit status: wine64 exits 0 on the Unix side when
 * another process terminates it.
 *
 * Build: cmake/zig/x86_64-windows-gnu-cc -O1 -g0 -s -o ctrl-event.exe ctrl_event.c
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    RC_DELIVERED = 0, /* and, after close or shutdown, the process ended by itself */
    RC_FAILED = 1,    /* not delivered */
    RC_USAGE = 2,
    RC_ENDED = 3,     /* delivered, but the process outlived its handler and was ended */
};

/* Windows' limit for close and shutdown handlers. */
#define HANDLER_TIMEOUT_MS 5000
/* A process that exits by itself ends the handler thread first (ExitProcess
 * ends the other threads, then the process); this long is "exiting". */
#define EXITING_GRACE_MS 500

static const struct {
    const char *name;
    DWORD event;
    int terminates; /* Windows ends the process after the handler */
} events[] = {
    {"c", CTRL_C_EVENT, 0},
    {"break", CTRL_BREAK_EVENT, 0},
    {"close", CTRL_CLOSE_EVENT, 1},
    {"logoff", CTRL_LOGOFF_EVENT, 0}, /* only services see it; they live on */
    {"shutdown", CTRL_SHUTDOWN_EVENT, 1},
};

int main(int argc, char **argv)
{
    size_t i, n = sizeof events / sizeof events[0];
    int rc = RC_DELIVERED;
    DWORD pid, wait;
    HANDLE process, thread;
    FARPROC routine;

    for (i = 0; argc == 3 && i < n; i++)
        if (strcmp(argv[1], events[i].name) == 0)
            break;
    if (argc != 3 || i == n) {
        fprintf(stderr, "usage: ctrl-event c|break|close|logoff|shutdown PID\n");
        return RC_USAGE;
    }
    pid = strtoul(argv[2], NULL, 10);
    /* kernelbase.dll sits at the same address in every process. */
    routine = GetProcAddress(GetModuleHandleW(L"kernelbase.dll"), "CtrlRoutine");
    if (routine == NULL) {
        fprintf(stderr, "ctrl-event: no kernelbase!CtrlRoutine: error %lu\n", GetLastError());
        return RC_FAILED;
    }
    process = OpenProcess(PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION | PROCESS_VM_OPERATION |
                          PROCESS_VM_WRITE | PROCESS_VM_READ | PROCESS_TERMINATE | SYNCHRONIZE,
                          FALSE, pid);
    if (process == NULL) {
        fprintf(stderr, "ctrl-event: cannot open process %lu: error %lu\n", pid, GetLastError());
        return RC_FAILED;
    }
    thread = CreateRemoteThread(process, NULL, 0, (LPTHREAD_START_ROUTINE)(void *)routine,
                                (void *)(ULONG_PTR)events[i].event, 0, NULL);
    if (thread == NULL) {
        fprintf(stderr, "ctrl-event: cannot start a thread in %lu: error %lu\n", pid, GetLastError());
        CloseHandle(process);
        return RC_FAILED;
    }
    if (events[i].terminates) {
        wait = WaitForSingleObject(thread, HANDLER_TIMEOUT_MS);
        if (WaitForSingleObject(process, EXITING_GRACE_MS) == WAIT_TIMEOUT) {
            fprintf(stderr, "ctrl-event: %s: %s; ending process %lu as Windows would\n",
                    events[i].name, wait == WAIT_OBJECT_0 ? "the handler returned" : "timed out", pid);
            TerminateProcess(process, (UINT)STATUS_CONTROL_C_EXIT);
            rc = RC_ENDED;
        }
    }
    CloseHandle(thread);
    CloseHandle(process);
    return rc;
}
