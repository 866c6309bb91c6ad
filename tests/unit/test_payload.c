/* SPDX-License-Identifier: MIT
 *
 * Check tests for locating the payload (launcher/payload.c): a file made of
 * host bytes, a zip whose EOCD comment is Gale's trailer, and optionally a
 * signature-like blob after it.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp under -std=c11 */
#include "payload.h"

#include "gale_check.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_le(unsigned char *p, uint64_t v, int n)
{
    int i;
    for (i = 0; i < n; i++, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

/* Appends "zip body + EOCD + trailer" to buf at *len. The body stands in
 * for entries and central directory; only the end record matters here. */
static void append_payload(unsigned char *buf, size_t *len, size_t body,
                           unsigned char digest_byte)
{
    size_t start = *len;
    unsigned char *eocd, *t;

    memset(buf + *len, 'z', body);
    *len += body;
    eocd = buf + *len;
    memset(eocd, 0, GALE_PAYLOAD_EOCD_SIZE);
    memcpy(eocd, "PK\005\006", 4);
    put_le(eocd + 20, GALE_PAYLOAD_TRAILER_SIZE, 2);
    t = eocd + GALE_PAYLOAD_EOCD_SIZE;
    memcpy(t, GALE_PAYLOAD_MAGIC, 8);
    put_le(t + 8, start, 8);
    put_le(t + 16, body + GALE_PAYLOAD_EOCD_SIZE + GALE_PAYLOAD_TRAILER_SIZE, 8);
    memset(t + 24, digest_byte, 32);
    *len += GALE_PAYLOAD_EOCD_SIZE + GALE_PAYLOAD_TRAILER_SIZE;
}

static unsigned char buf[1 << 20];

START_TEST(finds_plain_payload)
{
    size_t len = 1000;
    struct gale_payload p;

    memset(buf, 'h', len);
    append_payload(buf, &len, 5000, 0xab);
    ck_assert_int_eq(gale_payload_find(buf, len, len, &p), 0);
    ck_assert_uint_eq(p.offset, 1000);
    ck_assert_uint_eq(p.size, len - 1000);
    ck_assert_str_eq(p.digest_hex,
        "abababababababababababababababababababababababababababababababab");
}
END_TEST

START_TEST(survives_appended_certificate)
{
    size_t len = 4096, zip_end;
    struct gale_payload p;

    memset(buf, 'h', len);
    append_payload(buf, &len, 300, 0x01);
    zip_end = len;
    memset(buf + len, 0x30, 7000); /* a certificate table's worth */
    len += 7000;
    ck_assert_int_eq(gale_payload_find(buf, len, len, &p), 0);
    ck_assert_uint_eq(p.offset, 4096);
    ck_assert_uint_eq(p.offset + p.size, zip_end);
}
END_TEST

START_TEST(tail_is_only_part_of_the_file)
{
    size_t len = 200000;
    struct gale_payload p;
    size_t tail = 4096;

    memset(buf, 'h', len);
    append_payload(buf, &len, 50000, 0x02);
    /* The caller passes only the last `tail` bytes; offsets stay absolute. */
    ck_assert_int_eq(gale_payload_find(buf + len - tail, tail, len, &p), 0);
    ck_assert_uint_eq(p.offset, 200000);
}
END_TEST

START_TEST(rejects_no_payload)
{
    struct gale_payload p;

    memset(buf, 'h', 10000);
    ck_assert_int_eq(gale_payload_find(buf, 10000, 10000, &p), -1);
    ck_assert_int_eq(gale_payload_find(buf, 10, 10, &p), -1);
    ck_assert_int_eq(gale_payload_find(buf, 0, 0, &p), -1);
}
END_TEST

START_TEST(rejects_inconsistent_trailer)
{
    size_t len = 100;
    struct gale_payload p;
    unsigned char *t;

    memset(buf, 'h', len);
    append_payload(buf, &len, 100, 0x03);
    t = buf + len - GALE_PAYLOAD_TRAILER_SIZE;
    put_le(t + 8, 99, 8); /* offset + size no longer reaches the end */
    ck_assert_int_eq(gale_payload_find(buf, len, len, &p), -1);
    put_le(t + 8, 100, 8);
    ck_assert_int_eq(gale_payload_find(buf, len, len, &p), 0);
    buf[len - GALE_PAYLOAD_TRAILER_SIZE - 2] = 57; /* comment length */
    ck_assert_int_eq(gale_payload_find(buf, len, len, &p), -1);
}
END_TEST

START_TEST(last_valid_trailer_wins)
{
    size_t len = 10;
    struct gale_payload p;

    memset(buf, 'h', len);
    /* An app file that happens to hold an old trailer, then the real one. */
    append_payload(buf, &len, 20, 0x11);
    append_payload(buf, &len, 30, 0x22);
    ck_assert_int_eq(gale_payload_find(buf, len, len, &p), 0);
    ck_assert_uint_eq(p.offset, 10 + 20 + 78);
    ck_assert_int_eq(p.digest_hex[0], '2');
}
END_TEST

START_TEST(locate_reads_a_file)
{
    char path[] = "/tmp/gale-payload-test-XXXXXX";
    int fd = mkstemp(path);
    size_t len = 3000;
    struct gale_payload p;
    FILE *f;

    ck_assert_int_ne(fd, -1);
    memset(buf, 'h', len);
    append_payload(buf, &len, 1234, 0xcd);
    f = fdopen(fd, "wb");
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
    ck_assert_int_eq(gale_payload_locate(path, &p), 0);
    ck_assert_uint_eq(p.offset, 3000);
    ck_assert_uint_eq(p.size, 1234 + 78);

    f = fopen(path, "wb");
    fwrite("just a host", 1, 11, f);
    fclose(f);
    errno = 0;
    ck_assert_int_eq(gale_payload_locate(path, &p), -1);
    ck_assert_int_eq(errno, ENOEXEC);
    unlink(path);

    errno = 0;
    ck_assert_int_eq(gale_payload_locate(path, &p), -1);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* A certificate table longer than the first, small read: the trailer is
 * found by the second, full scan. A trailer further back than the scan is
 * not found at all. */
START_TEST(locate_scans_past_a_long_signature)
{
    char path[] = "/tmp/gale-payload-test-XXXXXX";
    int fd = mkstemp(path);
    size_t len = 5000, cert = GALE_PAYLOAD_FIRST_SCAN + 4096;
    struct gale_payload p;
    FILE *f;

    ck_assert_int_ne(fd, -1);
    memset(buf, 'h', len);
    append_payload(buf, &len, 777, 0xab);
    memset(buf + len, 'c', cert);
    len += cert;
    f = fdopen(fd, "wb");
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
    ck_assert_int_eq(gale_payload_locate(path, &p), 0);
    ck_assert_uint_eq(p.offset, 5000);
    ck_assert_str_eq(p.digest_hex + 62, "ab");

    f = fopen(path, "ab");
    memset(buf, 'c', GALE_PAYLOAD_SCAN);
    fwrite(buf, 1, GALE_PAYLOAD_SCAN, f);
    fclose(f);
    errno = 0;
    ck_assert_int_eq(gale_payload_locate(path, &p), -1);
    ck_assert_int_eq(errno, ENOEXEC);
    unlink(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("payload");
    TCase *tc = tcase_create("locate");

    tcase_add_test(tc, finds_plain_payload);
    tcase_add_test(tc, survives_appended_certificate);
    tcase_add_test(tc, tail_is_only_part_of_the_file);
    tcase_add_test(tc, rejects_no_payload);
    tcase_add_test(tc, rejects_inconsistent_trailer);
    tcase_add_test(tc, last_valid_trailer_wins);
    tcase_add_test(tc, locate_reads_a_file);
    tcase_add_test(tc, locate_scans_past_a_long_signature);
    suite_add_tcase(s, tc);
    return gale_check_run(s);
}
