/* pii.c — the personal-data key, encryption and keyed hashing (libsodium). */
#include "pii.h"
#include "buf.h"
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static unsigned char enc_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
static unsigned char hash_key[crypto_generichash_KEYBYTES];
static unsigned char check_key[crypto_generichash_KEYBYTES];
static int ready;

#define CHECK_CONSTANT "carewatch personal-data key check v1"

void pii_set_key(const unsigned char key[32])
{
	crypto_kdf_derive_from_key(enc_key, sizeof enc_key, 1, "cwpiienc", key);
	crypto_kdf_derive_from_key(hash_key, sizeof hash_key, 2, "cwpiihsh", key);
	crypto_kdf_derive_from_key(check_key, sizeof check_key, 3, "cwpiichk", key);
	ready = 1;
}

void pii_forget(void)
{
	sodium_memzero(enc_key, sizeof enc_key);
	sodium_memzero(hash_key, sizeof hash_key);
	sodium_memzero(check_key, sizeof check_key);
	ready = 0;
}

int pii_ready(void)
{
	return ready;
}

int pii_key_path(char *out, size_t n)
{
	if (cfg.key_file[0]) {
		cw_strlcpy(out, cfg.key_file, n);
		return 0;
	}
	if (db_is_pg_uri(cfg.db) || !cfg.db[0])
		return -1;
	snprintf(out, n, "%s.key", cfg.db);
	return 0;
}

/* Reads the key file into key. 0, 1 when it does not exist, -1 (err). */
static int read_key(const char *path, unsigned char key[32], char *err, size_t errlen)
{
	char text[130];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot read the key file %s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t got = read(fd, text, sizeof text - 1);
	close(fd);
	if (got < 0) {
		snprintf(err, errlen, "cannot read the key file %s: %s", path, strerror(errno));
		return -1;
	}
	text[got] = 0;
	while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == '\r' || text[got - 1] == ' '))
		text[--got] = 0;
	size_t bin = 0;
	if (got != 64 || sodium_hex2bin(key, 32, text, (size_t)got, NULL, &bin, NULL) != 0 || bin != 32) {
		sodium_memzero(text, sizeof text);
		snprintf(err, errlen, "the key file %s is malformed (expected 64 hex characters)", path);
		return -1;
	}
	sodium_memzero(text, sizeof text);
	return 0;
}

static int create_key(const char *path, char *err, size_t errlen)
{
	unsigned char key[32];
	char hex[65];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the key file %s: %s", path, strerror(errno));
		return -1;
	}
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	hex[64] = '\n';
	int ok = write(fd, hex, 65) == 65;
	ok = fsync(fd) == 0 && ok;
	ok = close(fd) == 0 && ok;
	sodium_memzero(key, sizeof key);
	sodium_memzero(hex, sizeof hex);
	if (!ok) {
		unlink(path);
		snprintf(err, errlen, "cannot write the key file %s", path);
		return -1;
	}
	return 0;
}

static void check_value(char out[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)CHECK_CONSTANT, strlen(CHECK_CONSTANT), check_key,
	                   sizeof check_key);
	sodium_bin2hex(out, 65, h, sizeof h);
}

/* Compares the loaded key with the database's check value, storing it when
 * the database has none. 0 or -1 (err). */
static int verify(db *d, char *err, size_t errlen)
{
	char mine[65];
	check_value(mine);
	db_stmt *st = db_prepare(d, "SELECT value FROM pii_key_check WHERE id = 1");
	if (!st) {
		snprintf(err, errlen, "cannot read the key check value: %s", d->err);
		return -1;
	}
	int rc = db_step(st), same = rc == DB_ROW && sodium_memcmp(db_column_text(st, 0), mine, 64) == 0;
	int have = rc == DB_ROW && strlen(db_column_text(st, 0)) == 64;
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		snprintf(err, errlen, "cannot read the key check value: %s", d->err);
		return -1;
	}
	if (have && !same) {
		snprintf(err, errlen, "the personal-data key does not match this database (wrong key file?); "
		                      "refusing to continue");
		return -1;
	}
	if (!have && db_run(d, "INSERT INTO pii_key_check(id, value, created_at) VALUES (1, $1, $2) "
	                       "ON CONFLICT (id) DO NOTHING",
	                    "tI", mine, (int64_t)time(NULL)) < 0) {
		snprintf(err, errlen, "cannot store the key check value: %s", d->err);
		return -1;
	}
	return 0;
}

static int load(db *d, int create, FILE *msg, char *err, size_t errlen)
{
	char path[1100];
	unsigned char key[32];
	pii_forget();
	if (pii_key_path(path, sizeof path) != 0) {
		if (msg)
			fprintf(msg, "note: no key_file configured: personal data (persons, visits) stays unavailable\n");
		return 1;
	}
	int rc = read_key(path, key, err, errlen);
	if (rc == 1 && create) {
		/* a database that already has a key must get that key back, not a new one */
		int64_t have = 0;
		int q = db_query_int64(d, &have, "SELECT COUNT(*) FROM pii_key_check", "");
		if (q != DB_ROW) {
			snprintf(err, errlen, "cannot read the key check value: %s", d->err);
			return -1;
		}
		if (have) {
			snprintf(err, errlen, "the key file %s is missing, but this database holds data encrypted with a key: "
			                      "restore that file (a new key could not read it)", path);
			return -1;
		}
		if (create_key(path, err, errlen) != 0)
			return -1;
		if (msg)
			fprintf(msg, "personal-data key created: %s (mode 0600; back it up apart from the database)\n", path);
		rc = read_key(path, key, err, errlen);
	}
	if (rc != 0)
		return rc;
	struct stat sb;
	if (stat(path, &sb) == 0 && (sb.st_mode & 077))
		fprintf(stderr, "carewatch: warning: key file %s is readable by others (chmod 600)\n", path);
	pii_set_key(key);
	sodium_memzero(key, sizeof key);
	if (verify(d, err, errlen) != 0) {
		pii_forget();
		return -1;
	}
	return 0;
}

int pii_init(db *d, FILE *msg, char *err, size_t errlen)
{
	return load(d, 1, msg, err, errlen);
}

int pii_open(db *d, char *err, size_t errlen)
{
	return load(d, 0, NULL, err, errlen);
}

static size_t ad_of(const char *field, const char *record, unsigned char *ad, size_t n)
{
	int len = snprintf((char *)ad, n, "carewatch:%s:%s", field, record ? record : "");
	return len < 0 ? 0 : (size_t)len >= n ? n - 1 : (size_t)len;
}

/* A fresh random nonce. The system's random source is read 64 nonces at a
 * time (a bulk import encrypts two values per person: one getrandom call per
 * nonce was a system call each); bytes handed out are wiped from the pool and
 * never given twice. Per thread; carewatch never forks. */
static void nonce(unsigned char out[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES])
{
	enum { N = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, POOL = 64 * N };
	static _Thread_local unsigned char pool[POOL];
	static _Thread_local size_t used = POOL;
	if (used == POOL) {
		randombytes_buf(pool, POOL);
		used = 0;
	}
	memcpy(out, pool + used, N);
	sodium_memzero(pool + used, N);
	used += N;
}

int pii_encrypt(const char *field, const char *record, const char *plain, char *out, size_t outlen)
{
	unsigned char buf[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 64 + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	unsigned char ad[160];
	size_t pl = strlen(plain);
	if (!pl) {
		if (outlen)
			out[0] = 0;
		return 0;
	}
	if (!ready || pl > 64)
		return -1;
	size_t adl = ad_of(field, record, ad, sizeof ad);
	nonce(buf);
	unsigned long long cl = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &cl,
	                                           (const unsigned char *)plain, pl, ad, adl, NULL, buf, enc_key);
	size_t total = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + (size_t)cl;
	if (sodium_base64_ENCODED_LEN(total, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) > outlen)
		return -1;
	sodium_bin2base64(out, outlen, buf, total, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	return 0;
}

int pii_decrypt(const char *field, const char *record, const char *enc, char *out, size_t outlen)
{
	unsigned char buf[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 64 + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	unsigned char ad[160];
	size_t bl = 0;
	if (!enc[0]) {
		if (outlen)
			out[0] = 0;
		return 0;
	}
	if (!ready || sodium_base642bin(buf, sizeof buf, enc, strlen(enc), NULL, &bl, NULL,
	                                sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
	    bl < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return -1;
	size_t adl = ad_of(field, record, ad, sizeof ad);
	unsigned long long ml = 0;
	unsigned char m[64];
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, &ml, NULL, buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	                                               bl - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, adl, buf,
	                                               enc_key) != 0 ||
	    ml + 1 > outlen)
		return -1;
	memcpy(out, m, (size_t)ml);
	out[ml] = 0;
	sodium_memzero(m, sizeof m);
	return 0;
}

void pii_hash(const char *s, char out[PII_HASH_LEN])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)s, strlen(s), hash_key, sizeof hash_key);
	sodium_bin2hex(out, PII_HASH_LEN, h, sizeof h);
}

int64_t pii_hash_key(const char *hash)
{
	int64_t k = 0;
	for (int i = 0; i < 15 && hash[i]; i++) {
		char c = hash[i];
		k = k * 16 + (c >= 'a' ? c - 'a' + 10 : c - '0');
	}
	return k;
}
