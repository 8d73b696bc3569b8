/*
 * Sandbox runner: a built-in algorithm and a Lua script run to a result, a sealed input is
 * opened only inside the jail, and every escape attempt — opening files, writing outside the
 * private directory, sockets, fork bombs, exhausting memory, infinite loops (C and Lua, also
 * wrapped in pcall), oversized files and results, wall-clock overruns — is stopped with its own
 * status and a reason naming it. The private directory is gone after every run.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/sandbox.h"
#include "test.h"

/* malloc must return NULL at the memory limit under AddressSanitizer too */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static const char CSV[] = "age,sex,bp\n"
			  "50,F,120\n61,M,135\n45,F,118\n70,M,150\n38,F,110\n"
			  "66,M,142\n59,F,131\n48,M,125\n53,F,128\n72,M,155\n";

static void job_init(struct lb_sandbox_job *job)
{
	memset(job, 0, sizeof *job);
	job->input.data = (const uint8_t *)CSV;
	job->input.len = sizeof CSV - 1;
	job->limits.cpu_ms = 5000;
	job->limits.wall_ms = 20000;
}

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* Run and check status; returns the report (caller releases). */
static void run_expect(const struct lb_sandbox_job *job, enum lb_sandbox_status want,
		       struct lb_sandbox_report *rep)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = lb_sandbox_run(job, rep, &em);
	if (rep->status != want)
		fail_msg("status %s (%s), wanted %s", lb_sandbox_status_name(rep->status), rep->reason,
			 lb_sandbox_status_name(want));
	assert_int_equal(rc == LB_OK, want == LB_SANDBOX_OK);
	if (want != LB_SANDBOX_OK) {
		assert_int_equal(rc, rep->code);
		assert_non_null(strstr(em.text, rep->reason));
		assert_null(rep->result);
	}
	assert_true(rep->dir_removed);
	assert_false(exists(rep->dir));
}

static void test_builtin_stats(void **state)
{
	(void)state;
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.algorithm = "stats";
	run_expect(&job, LB_SANDBOX_OK, &rep);
	assert_int_equal(json_integer_value(json_object_get(rep.result, "n")), 10);
	json_t *age = json_array_get(json_object_get(rep.result, "columns"), 0);
	/* mean of the ages above */
	double mean = (50 + 61 + 45 + 70 + 38 + 66 + 59 + 48 + 53 + 72) / 10.0;
	assert_true(fabs(json_real_value(json_object_get(age, "mean")) - mean) < 1e-12);
	lb_sandbox_report_release(&rep);
}

static void test_lua_runs(void **state)
{
	(void)state;
	static const char lua[] = "local n = agg.count()\n"
				  "return { n = n, mean_bp = agg.mean('bp'), first = data.columns[1] }\n";
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.lua_src = lua;
	job.lua_len = sizeof lua - 1;
	run_expect(&job, LB_SANDBOX_OK, &rep);
	double mean = (120 + 135 + 118 + 150 + 110 + 142 + 131 + 125 + 128 + 155) / 10.0;
	assert_true(fabs(json_number_value(json_object_get(rep.result, "mean_bp")) - mean) < 1e-12);
	assert_int_equal(json_integer_value(json_object_get(rep.result, "n")), 10);
	assert_string_equal(json_string_value(json_object_get(rep.result, "first")), "age");
	assert_non_null(rep.prov); /* every number comes with what it was computed over */
	lb_sandbox_report_release(&rep);
}

static void test_sealed_input(void **state)
{
	(void)state;
	uint8_t pk[32], sk[32], pk2[32], sk2[32];
	lb_envelope_keypair(pk, sk);
	lb_envelope_keypair(pk2, sk2);
	uint8_t *env;
	size_t envlen;
	struct lb_errmsg em;
	assert_lb_ok(lb_envelope_seal((const uint8_t(*)[32])pk, 1, (const uint8_t *)CSV, sizeof CSV - 1,
				      &env, &envlen, &em));
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.algorithm = "stats";
	job.input.data = env;
	job.input.len = envlen;
	job.input.sealed = true;
	job.open_sk = sk;
	job.open_pk = pk;
	run_expect(&job, LB_SANDBOX_OK, &rep);
	assert_int_equal(json_integer_value(json_object_get(rep.result, "n")), 10);
	lb_sandbox_report_release(&rep);
	/* the wrong key: refused inside, nothing comes out */
	job.open_sk = sk2;
	job.open_pk = pk2;
	run_expect(&job, LB_SANDBOX_FAILED, &rep);
	assert_int_equal(rep.code, LB_EWRONGKEY);
	lb_sandbox_report_release(&rep);
	/* a changed byte */
	env[envlen - 5] ^= 1;
	job.open_sk = sk;
	job.open_pk = pk;
	run_expect(&job, LB_SANDBOX_FAILED, &rep);
	assert_int_equal(rep.code, LB_ETAMPERED);
	lb_sandbox_report_release(&rep);
	lb_free(env);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(sk2, sizeof sk2);
}

/* ---- escape attempts from native code ---- */

static int fn_open_file(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)env, (void)em;
	int fd = open("/etc/passwd", O_RDONLY);
	*result = json_pack("{si}", "fd", fd);
	return LB_OK;
}

static int fn_write_outside(void *arg, const struct lb_sandbox_env *env, json_t **result,
			    struct lb_errmsg *em)
{
	(void)env, (void)em;
	int fd = open((const char *)arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		(void)!write(fd, "leak", 4);
	*result = json_pack("{si}", "fd", fd);
	return LB_OK;
}

static int fn_socket(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)env, (void)em;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	*result = json_pack("{si}", "socket", s);
	return LB_OK;
}

static int fn_exec_memory(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)env, (void)em;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*result = json_pack("{sb}", "mapped", p != MAP_FAILED);
	return LB_OK;
}

static int fn_fork_bomb(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)env, (void)em;
	for (int i = 0; i < 1000; i++)
		if (fork() == 0)
			for (;;)
				;
	*result = json_object();
	return LB_OK;
}

static int fn_eat_memory(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)env;
	for (size_t total = 0;; total += 16u << 20) {
		char *p = malloc(16u << 20);
		if (!p)
			return lb_errf(em, LB_ENOMEM, "memory limit reached after %zu MiB", total >> 20);
		memset(p, 1, 16u << 20);
	}
	*result = json_object();
	return LB_OK;
}

static int fn_spin(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)env, (void)em;
	volatile uint64_t x = 0;
	for (;;)
		x++;
	*result = json_object();
	return LB_OK;
}

static int fn_big_file(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)em;
	static char block[65536];
	for (int i = 0; i < 64; i++) /* 4 MiB */
		if (write(env->scratch_fd, block, sizeof block) < 0)
			break;
	*result = json_object();
	return LB_OK;
}

static int fn_big_output(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)env, (void)em;
	json_t *a = json_array();
	for (int i = 0; i < 100000; i++)
		json_array_append_new(a, json_integer(i));
	*result = json_pack("{so}", "rows", a);
	return LB_OK;
}

static int fn_scratch_ok(void *arg, const struct lb_sandbox_env *env, json_t **result, struct lb_errmsg *em)
{
	(void)arg, (void)em;
	char buf[5] = {0};
	if (write(env->scratch_fd, "data", 4) != 4 || lseek(env->scratch_fd, 0, SEEK_SET) != 0 ||
	    read(env->scratch_fd, buf, 4) != 4)
		return lb_errf(em, LB_EIO, "scratch file");
	*result = json_pack("{ss}", "read_back", buf);
	return LB_OK;
}

static void expect_syscall(lb_sandbox_fn fn, void *arg, const char *const *names)
{
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.fn = fn;
	job.fn_arg = arg;
	run_expect(&job, LB_SANDBOX_SYSCALL, &rep);
	assert_int_equal(rep.code, LB_EDENIED);
	bool named = false;
	for (size_t i = 0; names[i]; i++)
		named |= strcmp(rep.syscall_name, names[i]) == 0;
	if (!named)
		fail_msg("refused call was %s", rep.syscall_name);
	assert_non_null(strstr(rep.reason, rep.syscall_name));
	lb_sandbox_report_release(&rep);
}

static void test_escape_open_file(void **state)
{
	(void)state;
	static const char *const n[] = {"openat", "open", NULL};
	expect_syscall(fn_open_file, NULL, n);
}

static void test_escape_write_outside(void **state)
{
	(void)state;
	static const char *const n[] = {"openat", "open", "creat", NULL};
	char path[256];
	snprintf(path, sizeof path, "%s/leben-escape-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid());
	unlink(path);
	expect_syscall(fn_write_outside, path, n);
	assert_false(exists(path));
}

static void test_escape_socket(void **state)
{
	(void)state;
	static const char *const n[] = {"socket", NULL};
	expect_syscall(fn_socket, NULL, n);
}

static void test_escape_fork_bomb(void **state)
{
	(void)state;
	static const char *const n[] = {"clone", "clone3", "fork", "vfork", NULL};
	expect_syscall(fn_fork_bomb, NULL, n);
}

static void test_escape_exec_memory(void **state)
{
	(void)state;
	static const char *const n[] = {"mmap", NULL};
	expect_syscall(fn_exec_memory, NULL, n);
}

static void test_escape_memory(void **state)
{
	(void)state;
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.fn = fn_eat_memory;
	job.limits.memory = 64u << 20;
	run_expect(&job, LB_SANDBOX_MEMORY, &rep);
	assert_int_equal(rep.code, LB_ENOMEM);
	lb_sandbox_report_release(&rep);
}

static void test_escape_cpu_loop(void **state)
{
	(void)state;
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.fn = fn_spin;
	job.limits.cpu_ms = 1000;
	run_expect(&job, LB_SANDBOX_CPU, &rep);
	assert_int_equal(rep.code, LB_ELIMIT);
	lb_sandbox_report_release(&rep);
}

static void test_escape_wall(void **state)
{
	(void)state;
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.fn = fn_spin;
	job.limits.cpu_ms = 60000;
	job.limits.wall_ms = 300;
	run_expect(&job, LB_SANDBOX_WALL, &rep);
	lb_sandbox_report_release(&rep);
}

static void test_escape_file_size(void **state)
{
	(void)state;
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.fn = fn_big_file;
	job.limits.file_bytes = 1u << 20;
	run_expect(&job, LB_SANDBOX_FILESIZE, &rep);
	lb_sandbox_report_release(&rep);
	/* within the limit, the scratch file works */
	job.fn = fn_scratch_ok;
	run_expect(&job, LB_SANDBOX_OK, &rep);
	assert_string_equal(json_string_value(json_object_get(rep.result, "read_back")), "data");
	lb_sandbox_report_release(&rep);
}

static void test_output_limit(void **state)
{
	(void)state;
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.fn = fn_big_output;
	job.limits.output_bytes = 4096;
	run_expect(&job, LB_SANDBOX_OUTPUT, &rep);
	lb_sandbox_report_release(&rep);
}

/* ---- escape attempts from Lua ---- */

static void lua_expect(const char *src, enum lb_sandbox_status want, const char *reason_part)
{
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.lua_src = src;
	job.lua_len = strlen(src);
	job.limits.lua_instructions = 2000000;
	job.limits.memory = 64u << 20;
	run_expect(&job, want, &rep);
	if (!strstr(rep.reason, reason_part))
		fail_msg("reason '%s' does not mention '%s'", rep.reason, reason_part);
	lb_sandbox_report_release(&rep);
}

static void test_lua_escapes(void **state)
{
	(void)state;
	lua_expect("return io.open('/etc/passwd'):read('a')", LB_SANDBOX_FAILED, "global 'io'");
	lua_expect("os.execute('id') return {}", LB_SANDBOX_FAILED, "global 'os'");
	lua_expect("return require('socket')", LB_SANDBOX_FAILED, "global 'require'");
	lua_expect("return load('return 1')()", LB_SANDBOX_FAILED, "global 'load'");
	lua_expect("return dofile('/etc/passwd')", LB_SANDBOX_FAILED, "global 'dofile'");
	lua_expect("return {string.dump(function() end)}", LB_SANDBOX_FAILED, "field 'dump'");
	lua_expect("return debug.getregistry()", LB_SANDBOX_FAILED, "global 'debug'");
	lua_expect("\x1bLua", LB_SANDBOX_FAILED, "bytecode");
	lua_expect("while true do end", LB_SANDBOX_INSTRUCTIONS, "instruction limit");
	lua_expect("while true do pcall(function() while true do end end) end", LB_SANDBOX_INSTRUCTIONS,
		   "instruction limit");
	lua_expect("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end return t",
		   LB_SANDBOX_MEMORY, "memory limit");
	lua_expect("local ok, e = pcall(string.rep, 'x', 1 << 30) error(e)", LB_SANDBOX_FAILED,
		   "longer than");
	lua_expect("return 42", LB_SANDBOX_FAILED, "must return a table");
	lua_expect("return {", LB_SANDBOX_FAILED, "expected");
}

/* the salt key of the asset in these tests */
static const uint8_t test_salt_key[32] = {0x5a, 0x17};

/* commitment of a local patient id, computed here with libsodium (docs/exchange.md):
 * salt = BLAKE2b-256("LEBEN-patient-salt-v1" NUL || salt key || asset || local),
 * commitment = BLAKE2b-256("LEBEN-patient-v2" NUL || asset || salt || local) */
static void pseudonym(uint8_t out[32], const uint8_t asset[32], const char *local)
{
	uint8_t salt[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"LEBEN-patient-salt-v1", 22);
	crypto_generichash_update(&st, test_salt_key, 32);
	crypto_generichash_update(&st, asset, 32);
	crypto_generichash_update(&st, (const uint8_t *)local, strlen(local));
	crypto_generichash_final(&st, salt, 32);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"LEBEN-patient-v2", 17);
	crypto_generichash_update(&st, asset, 32);
	crypto_generichash_update(&st, salt, 32);
	crypto_generichash_update(&st, (const uint8_t *)local, strlen(local));
	crypto_generichash_final(&st, out, 32);
}

/* an executor that knows the patients only by pseudonym (off-site, integrated): the jail finds
 * their rows by hashing each row's patient cell */
static void test_exclude_by_pseudonym(void **state)
{
	(void)state;
	char csv[512] = "patient,age\n";
	double sum = 0;
	for (int i = 1; i <= 14; i++) {
		snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "P%d,%d\n", i, 20 + 3 * i);
		if (i != 3 && i != 7)
			sum += 20 + 3 * i;
	}
	uint8_t asset[32], ids[3 * 32];
	memset(asset, 0x42, sizeof asset);
	pseudonym(ids, asset, "P7");
	pseudonym(ids + 32, asset, "P99"); /* not in the table */
	pseudonym(ids + 64, asset, "P3");
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.algorithm = "stats";
	job.input.data = (const uint8_t *)csv;
	job.input.len = strlen(csv);
	job.patient_col = "patient";
	job.exclude_ids = ids;
	job.nexclude_ids = 3;
	job.asset = asset;
	job.salt_key = test_salt_key;
	run_expect(&job, LB_SANDBOX_OK, &rep);
	assert_int_equal(rep.excluded, 2);
	assert_int_equal(json_integer_value(json_object_get(rep.result, "n")), 12);
	json_t *age = json_array_get(json_object_get(rep.result, "columns"), 1);
	assert_true(fabs(json_real_value(json_object_get(age, "mean")) - sum / 12) < 1e-12);
	lb_sandbox_report_release(&rep);
	/* another asset's pseudonyms match nothing */
	uint8_t other[32];
	memset(other, 0x43, sizeof other);
	job.asset = other;
	run_expect(&job, LB_SANDBOX_OK, &rep);
	assert_int_equal(rep.excluded, 0);
	assert_int_equal(json_integer_value(json_object_get(rep.result, "n")), 14);
	lb_sandbox_report_release(&rep);
	/* numeric patient ids are hashed in shortest decimal form ("3", as the owner lists them) */
	static const char num[] = "id,x\n1,5\n2,6\n03,7\n";
	job.asset = asset;
	pseudonym(ids, asset, "3");
	job.nexclude_ids = 1;
	job.input.data = (const uint8_t *)num;
	job.input.len = sizeof num - 1;
	job.patient_col = "id";
	run_expect(&job, LB_SANDBOX_OK, &rep);
	assert_int_equal(rep.excluded, 1);
	assert_int_equal(json_integer_value(json_object_get(rep.result, "n")), 2);
	lb_sandbox_report_release(&rep);
}

/* revoked consents: the rows of those patients are left out inside the jail */
static void test_exclude_patients(void **state)
{
	(void)state;
	char csv[512] = "patient,age\n";
	double sum = 0;
	for (int i = 1; i <= 14; i++) {
		snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "P%d,%d\n", i, 20 + 3 * i);
		if (i != 3 && i != 7)
			sum += 20 + 3 * i;
	}
	static const char *const revoked[] = {"P3", "P7", "P99"};
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	job_init(&job);
	job.algorithm = "stats";
	job.params = NULL;
	job.input.data = (const uint8_t *)csv;
	job.input.len = strlen(csv);
	job.patient_col = "patient";
	job.exclude = revoked;
	job.nexclude = 3;
	run_expect(&job, LB_SANDBOX_OK, &rep);
	assert_int_equal(rep.excluded, 2);
	assert_int_equal(json_integer_value(json_object_get(rep.result, "n")), 12);
	json_t *age = json_array_get(json_object_get(rep.result, "columns"), 1);
	assert_true(fabs(json_real_value(json_object_get(age, "mean")) - sum / 12) < 1e-12);
	lb_sandbox_report_release(&rep);
	/* numeric patient ids compare as numbers */
	static const char num[] = "id,x\n1,5\n2,6\n3,7\n";
	static const char *const three[] = {"3.0"};
	job.input.data = (const uint8_t *)num;
	job.input.len = sizeof num - 1;
	job.patient_col = "id";
	job.exclude = three;
	job.nexclude = 1;
	run_expect(&job, LB_SANDBOX_OK, &rep);
	assert_int_equal(rep.excluded, 1);
	assert_int_equal(json_integer_value(json_object_get(rep.result, "n")), 2);
	lb_sandbox_report_release(&rep);
	/* a patient column that is not there: refused, nothing runs */
	job.patient_col = "patient_id";
	run_expect(&job, LB_SANDBOX_FAILED, &rep);
	assert_int_equal(rep.code, LB_EINVALID);
	assert_non_null(strstr(rep.reason, "patient_id"));
	lb_sandbox_report_release(&rep);
}

static void test_refusals(void **state)
{
	(void)state;
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	struct lb_errmsg em;
	job_init(&job);
	assert_int_equal(lb_sandbox_run(&job, &rep, &em), LB_EINVALID); /* nothing to run */
	job.algorithm = "no-such";
	run_expect(&job, LB_SANDBOX_FAILED, &rep);
	assert_int_equal(rep.code, LB_ENOTFOUND);
	lb_sandbox_report_release(&rep);
	job.algorithm = "linreg"; /* missing parameters */
	run_expect(&job, LB_SANDBOX_FAILED, &rep);
	assert_int_equal(rep.code, LB_EINVALID);
	assert_non_null(strstr(rep.reason, "'y'"));
	lb_sandbox_report_release(&rep);
	static const char bad[] = "a,b\n1,2\n3\n";
	job.input.data = (const uint8_t *)bad;
	job.input.len = sizeof bad - 1;
	job.algorithm = "stats";
	run_expect(&job, LB_SANDBOX_FAILED, &rep);
	assert_int_equal(rep.code, LB_EMALFORMED);
	assert_non_null(strstr(rep.reason, "line 3"));
	lb_sandbox_report_release(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_stats),     cmocka_unit_test(test_lua_runs),
		cmocka_unit_test(test_sealed_input),      cmocka_unit_test(test_escape_open_file),
		cmocka_unit_test(test_escape_write_outside), cmocka_unit_test(test_escape_socket),
		cmocka_unit_test(test_escape_fork_bomb),  cmocka_unit_test(test_escape_exec_memory),
		cmocka_unit_test(test_escape_memory),
		cmocka_unit_test(test_escape_cpu_loop),   cmocka_unit_test(test_escape_wall),
		cmocka_unit_test(test_escape_file_size),  cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_lua_escapes),       cmocka_unit_test(test_exclude_patients),
		cmocka_unit_test(test_exclude_by_pseudonym),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
