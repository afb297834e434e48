/* csv.c — CSV reading (encoding detection, RFC 4180) and writing. */
#include "csv.h"
#include "utf8.h"
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Converts GB18030 bytes to UTF-8 into out. 0 or -1 with err. */
static int from_gb18030(const char *data, size_t len, struct buf *out, char *err, size_t errlen)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	if (cd == (iconv_t)-1) {
		snprintf(err, errlen, "GB18030 conversion unavailable");
		return -1;
	}
	char *in = (char *)data;
	size_t inleft = len;
	int rc = 0;
	buf_reserve(out, len * 3 / 2 + 16);
	while (inleft > 0) {
		buf_reserve(out, inleft * 2 + 16);
		char *o = out->data + out->len;
		size_t oleft = out->cap - out->len - 1;
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		out->len = (size_t)(o - out->data);
		if (r == (size_t)-1 && errno != E2BIG) {
			long line = 1;
			for (const char *p = data; p < in; p++)
				line += *p == '\n';
			snprintf(err, errlen, "第 %ld 行（字节 %zu）既不是 UTF-8 也不是 GB18030 编码", line,
			         (size_t)(in - data));
			rc = -1;
			break;
		}
	}
	iconv_close(cd);
	if (out->data)
		out->data[out->len] = 0;
	return rc;
}

static void push_cell(struct csv_row *r, char *cell, size_t *cap)
{
	if (r->ncells == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		r->cells = xrealloc(r->cells, *cap * sizeof *r->cells);
	}
	r->cells[r->ncells++] = cell;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return s;
}

/* In-place parse of NUL-terminated text: cells are written back into the text
 * (unescaped, NUL-terminated), which only ever shrinks. */
static int parse_text(char *text, struct csv_table *t, char *err, size_t errlen)
{
	char *p = text, *w = text;
	long line = 1;
	size_t rowcap = 0, cellcap = 0;
	while (*p) {
		struct csv_row row = {NULL, 0, line};
		cellcap = 0;
		for (;;) { /* one cell */
			char *cell = w;
			size_t flen = 0;
			if (*p == '"') {
				long start = line;
				p++;
				for (;;) {
					if (!*p) {
						snprintf(err, errlen, "第 %ld 行：引号未闭合", start);
						free(row.cells);
						return -1;
					}
					if (*p == '"') {
						if (p[1] == '"') {
							*w++ = '"';
							p += 2;
							flen++;
							continue;
						}
						p++;
						break;
					}
					if (*p == '\n')
						line++;
					*w++ = *p++;
					flen++;
				}
				while (*p == ' ' || *p == '\t')
					p++;
				if (*p && *p != ',' && *p != '\n' && *p != '\r') {
					snprintf(err, errlen, "第 %ld 行：引号后有多余字符", line);
					free(row.cells);
					return -1;
				}
			} else {
				while (*p && *p != ',' && *p != '\n' && *p != '\r') {
					if (*p == '"') {
						snprintf(err, errlen, "第 %ld 行：字段中间出现引号（应整体加引号并写作 \"\"）", line);
						free(row.cells);
						return -1;
					}
					*w++ = *p++;
					flen++;
				}
			}
			if (flen > CSV_MAX_FIELD) {
				snprintf(err, errlen, "第 %ld 行：字段超过 %d 字节", line, CSV_MAX_FIELD);
				free(row.cells);
				return -1;
			}
			char sep = *p;
			*w++ = 0;
			push_cell(&row, cell, &cellcap);
			if (row.ncells > CSV_MAX_COLS) {
				snprintf(err, errlen, "第 %ld 行：超过 %d 列", line, CSV_MAX_COLS);
				free(row.cells);
				return -1;
			}
			if (sep == ',') {
				p++;
				continue;
			}
			/* the separator may have been overwritten by the NUL: use sep */
			if (sep == '\r') {
				p++;
				if (*p == '\n')
					p++;
				line++;
			} else if (sep == '\n') {
				p++;
				line++;
			}
			break;
		}
		/* a blank line (one empty cell) is skipped */
		if (row.ncells == 1 && !row.cells[0][0]) {
			free(row.cells);
			continue;
		}
		if (t->nrows == CSV_MAX_ROWS) {
			snprintf(err, errlen, "超过 %d 行", CSV_MAX_ROWS);
			free(row.cells);
			return -1;
		}
		if (t->nrows == rowcap) {
			rowcap = rowcap ? rowcap * 2 : 64;
			t->rows = xrealloc(t->rows, rowcap * sizeof *t->rows);
		}
		t->rows[t->nrows++] = row;
	}
	if (t->nrows > 0)
		for (size_t i = 0; i < t->rows[0].ncells; i++)
			t->rows[0].cells[i] = trim(t->rows[0].cells[i]);
	return 0;
}

int csv_parse(const char *data, size_t len, struct csv_table *t, char *err, size_t errlen)
{
	struct buf text = {0};
	memset(t, 0, sizeof *t);
	if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB && (unsigned char)data[2] == 0xBF) {
		data += 3;
		len -= 3;
	}
	if (utf8_valid(data, len)) {
		buf_append(&text, data, len);
		strcpy(t->encoding, "UTF-8");
	} else {
		if (memchr(data, 0, len)) {
			snprintf(err, errlen, "文件含有空字节，不是文本 CSV 文件");
			return -1;
		}
		if (from_gb18030(data, len, &text, err, errlen) != 0) {
			buf_free(&text);
			return -1;
		}
		strcpy(t->encoding, "GB18030");
	}
	t->text = buf_steal(&text);
	if (parse_text(t->text, t, err, errlen) != 0) {
		csv_free(t);
		return -1;
	}
	return 0;
}

void csv_free(struct csv_table *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		free(t->rows[i].cells);
	free(t->rows);
	free(t->text);
	memset(t, 0, sizeof *t);
}

const char *csv_cell(const struct csv_table *t, size_t row, size_t col)
{
	if (row >= t->nrows || col >= t->rows[row].ncells)
		return "";
	return t->rows[row].cells[col];
}

size_t csv_row_cols(const struct csv_table *t, size_t row)
{
	return row < t->nrows ? t->rows[row].ncells : 0;
}

long csv_row_line(const struct csv_table *t, size_t row)
{
	return row < t->nrows ? t->rows[row].line : 0;
}

void csv_write_bom(struct buf *b)
{
	buf_puts(b, "\xEF\xBB\xBF");
}

static int plain_number(const char *s)
{
	char *end;
	if (!*s)
		return 0;
	strtod(s, &end);
	return *end == 0;
}

void csv_write_field(struct buf *b, const char *s)
{
	int row_start = b->len == 0 || b->data[b->len - 1] == '\n' ||
	                (b->len == 3 && memcmp(b->data, "\xEF\xBB\xBF", 3) == 0);
	if (!row_start)
		buf_putc(b, ',');
	int formula = (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') &&
	              !plain_number(s);
	size_t n = strlen(s);
	int quote = formula || strpbrk(s, ",\"\r\n") != NULL || (n && (s[0] == ' ' || s[n - 1] == ' '));
	if (!quote) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	if (formula)
		buf_putc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_putc(b, '"');
		buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

void csv_end_row(struct buf *b)
{
	buf_puts(b, "\r\n");
}
