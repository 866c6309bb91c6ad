/* SPDX-License-Identifier: MIT
 *
 * The one main() every Check test program shares: run a suite, exit 0 only
 * if nothing failed.
 */
#ifndef GALE_CHECK_H
#define GALE_CHECK_H

#include <check.h>
#include <stdlib.h>

static inline int gale_check_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* GALE_CHECK_H */
