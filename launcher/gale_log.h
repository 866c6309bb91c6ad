/* SPDX-License-Identifier: MIT
 *
 * The launcher's logging: one set of macros, one sink. Errors are one line,
 * "gale: error: ...", on stderr. Debug lines (with the pid) appear only when
 * GALE_DEBUG is set in the environment, or `--debug` leads the command
 * line. A mode with no console (the Windows service) adds a sink of its own
 * with gale_log_set_sink().
 */
#ifndef GALE_LOG_H
#define GALE_LOG_H

enum gale_log_level { GALE_LOG_DEBUG, GALE_LOG_INFO, GALE_LOG_WARN, GALE_LOG_ERROR };

#if defined(__GNUC__) || defined(__clang__)
#define GALE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GALE_PRINTF(f, a)
#endif

void gale_log_init(void);
int gale_log_debug_enabled(void);
/* Debug lines on, whatever GALE_DEBUG says (`gale --debug ...`). */
void gale_log_enable_debug(void);
void gale_log_write(enum gale_log_level level, const char *fmt, ...) GALE_PRINTF(2, 3);

/* Also hands every line that is written (without the "gale: level: "
 * prefix) to `sink`; NULL removes it. */
void gale_log_set_sink(void (*sink)(enum gale_log_level level, const char *line));

#define GALE_DEBUG(...) gale_log_write(GALE_LOG_DEBUG, __VA_ARGS__)
#define GALE_INFO(...)  gale_log_write(GALE_LOG_INFO, __VA_ARGS__)
#define GALE_WARN(...)  gale_log_write(GALE_LOG_WARN, __VA_ARGS__)
#define GALE_ERROR(...) gale_log_write(GALE_LOG_ERROR, __VA_ARGS__)

#endif /* GALE_LOG_H */
