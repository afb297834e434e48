/* pii.h — personal data at rest: the key, encryption of citizen IDs and
 * phones, and the keyed hash that keeps exact-ID search working.
 *
 * The key is 32 random bytes, written as 64 hex characters in a file named by
 * cfg.key_file; when none is configured it is "<database file>.key" beside a
 * SQLite database (PostgreSQL deployments must configure one). It never
 * enters the database or the logs. Sub-keys are derived with crypto_kdf: one
 * for XChaCha20-Poly1305 (crypto_aead_xchacha20poly1305_ietf), one for the
 * keyed BLAKE2b hash of citizen IDs, one for the key check value stored in
 * pii_key_check, which lets `serve` refuse a wrong key.
 *
 * Ciphertexts are base64(nonce || ciphertext+tag). The associated data binds
 * each value to its field and its record (the record's citizen-ID hash), so a
 * ciphertext moved to another field or record does not decrypt.
 *
 * After start-up the key is read-only; functions are thread-safe.
 */
#ifndef CW_PII_H
#define CW_PII_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "db.h"

#define PII_ENC_MAX 160   /* room for an encrypted value of up to 64 bytes */
#define PII_HASH_LEN 65   /* 64 hex + NUL */

/* The key file's path into out: cfg.key_file, or "<db>.key" for a SQLite
 * database. 0, or -1 when there is none (PostgreSQL without key_file). */
int pii_key_path(char *out, size_t n);

/* `init`: creates the key file (mode 0600) when it does not exist, loads it,
 * and stores or checks the key check value. 0; 1 when no key path exists
 * (a note is printed to msg); -1 with err filled (wrong key, unreadable). */
int pii_init(db *d, FILE *msg, char *err, size_t errlen);

/* `serve`, CLI imports and exports: loads an existing key file and checks it
 * against the database (storing the check value on first use). 0 ready;
 * 1 no key available (personal data stays unavailable: 503); -1 with err
 * filled when the key is wrong or the file unreadable (refuse to start). */
int pii_open(db *d, char *err, size_t errlen);

/* 1 when a checked key is loaded. */
int pii_ready(void);
/* Forgets the key (tests, shutdown). */
void pii_forget(void);

/* Encrypts plain ("" stays "") for field bound to record into out
 * (PII_ENC_MAX). 0 or -1 (no key, too long). */
int pii_encrypt(const char *field, const char *record, const char *plain, char *out, size_t outlen);
/* Decrypts into out. 0, or -1 (no key, tampered, moved, wrong key). */
int pii_decrypt(const char *field, const char *record, const char *enc, char *out, size_t outlen);
/* Keyed hash of a normalised citizen ID, hex (PII_HASH_LEN). Needs the key. */
void pii_hash(const char *s, char out[PII_HASH_LEN]);
/* The indexed key of a pii_hash: its first 15 hex digits as a number
 * (0 .. 2^60-1; sql/010 computes the same in SQL). Lookups name the key and
 * the full hash together. */
int64_t pii_hash_key(const char *hash);

/* Sets the key from 32 raw bytes (benchmarks and unit tests). */
void pii_set_key(const unsigned char key[32]);

#endif
