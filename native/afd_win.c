/* SPDX-License-Identifier: MIT
 *
 * IOCTL_AFD_POLL, the request under Windows' own select() and WSAPoll(),
 * used here one socket per request so that any number of sockets can wait
 * on one completion port (what libuv, mio and wepoll do). This file owns
 * every NT call of the readiness loop: opening the helper handle, finding a
 * socket's base handle, starting and cancelling a poll, and reading its
 * outcome. The ntdll functions are looked up at run time, as they are not
 * part of the documented Win32 import libraries.
 *
 * What Wine does with each step is recorded in docs/windows-event-loop.md.
 */
#include "afd_win.h"

#include <mswsock.h>
#include <stdint.h>

#define IOCTL_AFD_POLL 0x00012024
#ifndef STATUS_PENDING
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#endif
#ifndef STATUS_CANCELLED
#define STATUS_CANCELLED ((NTSTATUS)0xC0000120L)
#endif
#ifndef STATUS_NOT_FOUND
#define STATUS_NOT_FOUND ((NTSTATUS)0xC0000225L)
#endif

typedef NTSTATUS(NTAPI *nt_create_file_fn)(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES,
                                           PIO_STATUS_BLOCK, PLARGE_INTEGER, ULONG, ULONG,
                                           ULONG, ULONG, PVOID, ULONG);
typedef NTSTATUS(NTAPI *nt_device_io_control_file_fn)(HANDLE, HANDLE, PIO_APC_ROUTINE, PVOID,
                                                      PIO_STATUS_BLOCK, ULONG, PVOID, ULONG,
                                                      PVOID, ULONG);
typedef ULONG(NTAPI *rtl_nt_status_to_dos_error_fn)(NTSTATUS);

static nt_create_file_fn nt_create_file;
static nt_device_io_control_file_fn nt_device_io_control_file;
static rtl_nt_status_to_dos_error_fn rtl_nt_status_to_dos_error;

static int load_ntdll(void)
{
    HMODULE ntdll;

    if (nt_device_io_control_file != NULL)
        return 0;
    if ((ntdll = GetModuleHandleW(L"ntdll.dll")) == NULL)
        return -1;
    nt_create_file = (nt_create_file_fn)(void (*)(void))GetProcAddress(ntdll, "NtCreateFile");
    rtl_nt_status_to_dos_error = (rtl_nt_status_to_dos_error_fn)(void (*)(void))GetProcAddress(
        ntdll, "RtlNtStatusToDosError");
    nt_device_io_control_file = (nt_device_io_control_file_fn)(void (*)(void))GetProcAddress(
        ntdll, "NtDeviceIoControlFile");
    if (nt_create_file == NULL || rtl_nt_status_to_dos_error == NULL ||
        nt_device_io_control_file == NULL) {
        nt_device_io_control_file = NULL;
        SetLastError(ERROR_PROC_NOT_FOUND);
        return -1;
    }
    return 0;
}

DWORD gale_afd_dos_error(NTSTATUS status)
{
    return rtl_nt_status_to_dos_error != NULL ? rtl_nt_status_to_dos_error(status)
                                              : ERROR_GEN_FAILURE;
}

int gale_afd_open(HANDLE port, ULONG_PTR key, HANDLE *helper)
{
    /* Any name below \Device\Afd opens the driver; the suffix names the
     * opener in a handle listing. */
    static const wchar_t path[] = L"\\Device\\Afd\\Gale";
    UNICODE_STRING name = {sizeof path - sizeof path[0], sizeof path, (PWSTR)path};
    OBJECT_ATTRIBUTES attributes;
    IO_STATUS_BLOCK iosb;
    NTSTATUS status;
    HANDLE handle;

    if (load_ntdll() < 0)
        return -1;
    InitializeObjectAttributes(&attributes, &name, 0, NULL, NULL);
    status = nt_create_file(&handle, SYNCHRONIZE, &attributes, &iosb, NULL, 0,
                            FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN, 0, NULL, 0);
    if (status != 0) {
        SetLastError(gale_afd_dos_error(status));
        return -1;
    }
    if (CreateIoCompletionPort(handle, port, key, 0) == NULL ||
        /* Completions go to the port only; no event is ever waited on. */
        !SetFileCompletionNotificationModes(handle, FILE_SKIP_SET_EVENT_ON_HANDLE)) {
        DWORD error = GetLastError();

        CloseHandle(handle);
        SetLastError(error);
        return -1;
    }
    *helper = handle;
    return 0;
}

int gale_afd_base_socket(SOCKET sock, SOCKET *base)
{
    DWORD bytes;

    /* Only SIO_BASE_HANDLE: the SIO_BSP_HANDLE* codes fail under Wine. */
    if (WSAIoctl(sock, SIO_BASE_HANDLE, NULL, 0, base, sizeof *base, &bytes, NULL, NULL) != 0) {
        SetLastError((DWORD)WSAGetLastError());
        return -1;
    }
    return 0;
}

int gale_afd_poll_start(HANDLE helper, struct gale_afd_poll *poll, SOCKET base, ULONG events)
{
    NTSTATUS status;

    poll->info.timeout.QuadPart = INT64_MAX; /* no timeout */
    poll->info.handle_count = 1;
    poll->info.exclusive = FALSE;
    poll->info.handle.handle = (HANDLE)base;
    poll->info.handle.events = events;
    poll->info.handle.status = 0;
    poll->iosb.Status = STATUS_PENDING;
    status = nt_device_io_control_file(helper, NULL, NULL, &poll->iosb, &poll->iosb,
                                       IOCTL_AFD_POLL, &poll->info, sizeof poll->info,
                                       &poll->info, sizeof poll->info);
    /* Success at once still posts a packet: the helper does not skip the
     * port on success. */
    if (status == 0 || status == STATUS_PENDING)
        return 0;
    SetLastError(gale_afd_dos_error(status));
    return -1;
}

int gale_afd_poll_cancel(HANDLE helper, struct gale_afd_poll *poll)
{
    if (poll->iosb.Status != STATUS_PENDING)
        return 0;
    if (CancelIoEx(helper, (OVERLAPPED *)&poll->iosb) || GetLastError() == ERROR_NOT_FOUND)
        return 0;
    return -1;
}

ULONG gale_afd_poll_events(const struct gale_afd_poll *poll)
{
    NTSTATUS status = poll->iosb.Status;

    /* The status first: a cancelled poll still shows the requested events. */
    if (status == STATUS_CANCELLED)
        return 0;
    if (status < 0)
        return GALE_AFD_FAILED;
    if (poll->info.handle_count < 1) /* timed out, or displaced by another poll */
        return 0;
    return poll->info.handle.events;
}
