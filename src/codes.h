/* codes.h — Chinese national standard identifiers, checked on input.
 *
 *  GB 11643-1999  citizen identity number (18 chars, ISO 7064 MOD 11-2)
 *  GB 32100-2015  unified social credit code (18 chars, MOD 31)
 *
 * Each check returns 0 when valid, or -1 with a stable error code and a
 * Chinese message (static strings).
 */
#ifndef CW_CODES_H
#define CW_CODES_H

struct cid_info {
	char id[19];          /* normalised (upper-case X) */
	char birth_date[11];  /* YYYY-MM-DD */
	char sex;             /* 'M' or 'F' */
};

/* today: the local date as YYYYMMDD (a birth date may not be later). */
int cid_check(const char *id, int today, struct cid_info *out, const char **code, const char **msg);
/* "4201**********123X": the first 4 and last 4 characters kept. out holds 19+. */
void cid_mask(const char *id, char *out);
/* "138****5678": first 3 and last 4 kept; short numbers keep less. out holds
 * strlen(phone)+1 bytes. */
void phone_mask(const char *phone, char *out);

/* Checks a credit code; writes the normalised (upper-case) code to out (19). */
int uscc_check(const char *in, char *out, const char **code, const char **msg);
/* Computes the check character of 17 leading characters. 0 or -1. */
int uscc_check_char(const char *first17, char *out);

#endif
