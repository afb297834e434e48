/* test_config.c — the settings table: types, bounds, files, environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"

static int reset(void **state)
{
	(void)state;
	config_defaults();
	return 0;
}

static void defaults(void **state)
{
	(void)state;
	assert_string_equal(cfg.timezone, "Asia/Shanghai");
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_int_equal(cfg.threads, 4);
	assert_int_equal(cfg.body_limit, 1048576);
	assert_int_equal(cfg.secure_cookie, 0);
}

static void set_checks_types_and_bounds(void **state)
{
	(void)state;
	char err[200];
	assert_int_equal(config_set("threads", "8", err, sizeof err), 0);
	assert_int_equal(cfg.threads, 8);
	assert_int_equal(config_set("threads", "0", err, sizeof err), -1);
	assert_non_null(strstr(err, "1..256"));
	assert_int_equal(cfg.threads, 8); /* unchanged on error */
	assert_int_equal(config_set("threads", "8x", err, sizeof err), -1);
	assert_int_equal(config_set("threads", "", err, sizeof err), -1);
	assert_int_equal(config_set("body-limit", "2048", err, sizeof err), 0); /* '-' for '_' */
	assert_int_equal(cfg.body_limit, 2048);
	assert_int_equal(config_set("secure_cookie", "yes", err, sizeof err), 0);
	assert_int_equal(cfg.secure_cookie, 1);
	assert_int_equal(config_set("secure_cookie", "maybe", err, sizeof err), -1);
	assert_int_equal(config_set("no_such_thing", "1", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown setting"));
	char longv[2000];
	memset(longv, 'a', sizeof longv - 1);
	longv[sizeof longv - 1] = 0;
	assert_int_equal(config_set("db", longv, err, sizeof err), -1);
}

static void file_parsing(void **state)
{
	(void)state;
	char path[] = "/tmp/cw-config-XXXXXX", err[300];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# comment\n\n  listen = 0.0.0.0:9000  \nthreads=16\ndb = \"/var/lib/carewatch/cw.db\"\n", f);
	fclose(f);
	assert_int_equal(config_load_file(path, err, sizeof err), 0);
	assert_string_equal(cfg.listen, "0.0.0.0:9000");
	assert_int_equal(cfg.threads, 16);
	assert_string_equal(cfg.db, "/var/lib/carewatch/cw.db");
	f = fopen(path, "w");
	fputs("threads = 4\nthis line is wrong\n", f);
	fclose(f);
	assert_int_equal(config_load_file(path, err, sizeof err), -1);
	assert_non_null(strstr(err, ":2:"));
	f = fopen(path, "w");
	fputs("\nthreads = 9999\n", f);
	fclose(f);
	assert_int_equal(config_load_file(path, err, sizeof err), -1);
	assert_non_null(strstr(err, ":2:"));
	unlink(path);
	assert_int_equal(config_load_file("/nonexistent/cw.conf", err, sizeof err), -1);
}

static void environment(void **state)
{
	(void)state;
	char err[200];
	setenv("CAREWATCH_THREADS", "12", 1);
	setenv("CAREWATCH_TIMEZONE", "Asia/Urumqi", 1);
	assert_int_equal(config_load_env(err, sizeof err), 0);
	assert_int_equal(cfg.threads, 12);
	assert_string_equal(cfg.timezone, "Asia/Urumqi");
	setenv("CAREWATCH_THREADS", "-3", 1);
	assert_int_equal(config_load_env(err, sizeof err), -1);
	unsetenv("CAREWATCH_THREADS");
	unsetenv("CAREWATCH_TIMEZONE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(defaults, reset),
	    cmocka_unit_test_setup(set_checks_types_and_bounds, reset),
	    cmocka_unit_test_setup(file_parsing, reset),
	    cmocka_unit_test_setup(environment, reset),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
