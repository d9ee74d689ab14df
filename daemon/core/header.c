/*
 * header.c - walk RFC 5322 header fields, extract addresses and MIME
 * parameters, without allocating and within the given bounds.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "header.h"

/* ftext of RFC 5322 3.6.8: printable US-ASCII except colon. */
static int
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* Length of the line at p including its LF, or 0 if no LF within len. */
static size_t
line_len(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);

	return nl ? (size_t)(nl - p) + 1 : 0;
}

enum tcp2_hdr_status
tcp2_hdr_next(const char *buf, size_t len, int at_eof,
    struct tcp2_hdr_field *f, size_t *consumed)
{
	size_t n, pos, ll;

	if (len == 0)
		return at_eof ? TCP2_HDR_BODY : TCP2_HDR_MORE;
	/* The blank line that ends the header block: LF or CRLF. */
	if (buf[0] == '\n') {
		*consumed = 1;
		return TCP2_HDR_END;
	}
	if (buf[0] == '\r') {
		if (len < 2)
			return at_eof ? TCP2_HDR_BODY : TCP2_HDR_MORE;
		if (buf[1] == '\n') {
			*consumed = 2;
			return TCP2_HDR_END;
		}
		return TCP2_HDR_BODY;
	}
	for (n = 0; n < len && is_ftext((unsigned char)buf[n]); n++)
		;
	if (n == len)
		return at_eof ? TCP2_HDR_BODY : TCP2_HDR_MORE;
	if (n == 0 || buf[n] != ':')
		return TCP2_HDR_BODY;
	/* The field runs over every following line that starts with WSP. */
	pos = 0;
	for (;;) {
		ll = line_len(buf + pos, len - pos);
		if (ll == 0 && !at_eof)
			return TCP2_HDR_MORE;
		if (ll == 0)
			ll = len - pos;	/* last line, without its end */
		pos += ll;
		if (pos == len) {
			if (!at_eof)
				return TCP2_HDR_MORE;
			break;
		}
		if (buf[pos] != ' ' && buf[pos] != '\t')
			break;
	}
	f->name = buf;
	f->namelen = n;
	f->value = buf + n + 1;
	f->valuelen = pos - n - 1;
	/* Drop the final line end from the value. */
	if (f->valuelen > 0 && f->value[f->valuelen - 1] == '\n')
		f->valuelen--;
	if (f->valuelen > 0 && f->value[f->valuelen - 1] == '\r')
		f->valuelen--;
	f->rawlen = pos;
	*consumed = pos;
	return TCP2_HDR_FIELD;
}

int
tcp2_hdr_is(const struct tcp2_hdr_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->namelen == n && strncasecmp(f->name, name, n) == 0;
}

int
tcp2_hdr_find(const char *buf, size_t len, const char *name,
    struct tcp2_hdr_field *f, size_t *off)
{
	size_t pos = 0, used;

	while (tcp2_hdr_next(buf + pos, len - pos, 1, f, &used) ==
	    TCP2_HDR_FIELD) {
		if (tcp2_hdr_is(f, name)) {
			if (off != NULL)
				*off = pos;
			return 1;
		}
		pos += used;
	}
	return 0;
}

/* Skip a quoted string or a (nested) comment starting at v[i]. */
static size_t
skip_special(const char *v, size_t len, size_t i)
{
	int depth = 0;

	if (v[i] == '"') {
		for (i++; i < len && v[i] != '"'; i++)
			if (v[i] == '\\' && i + 1 < len)
				i++;
		return i < len ? i + 1 : len;
	}
	for (; i < len; i++) {
		if (v[i] == '\\' && i + 1 < len)
			i++;
		else if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

/* Check shape local@domain, copy lower-cased into out. */
static int
addr_copy(const char *a, size_t n, char *out)
{
	const char *at;
	size_t i;

	while (n > 0 && isspace((unsigned char)*a)) {
		a++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)a[n - 1]))
		n--;
	if (n == 0 || n >= TCP2_ADDR_MAX)
		return TCP2_EFORMAT;
	at = memchr(a, '@', n);
	if (at == NULL || at == a || at == a + n - 1 ||
	    memchr(at + 1, '@', (size_t)(a + n - at - 1)) != NULL)
		return TCP2_EFORMAT;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= 32 || c >= 127 || c == '<' || c == '>' || c == ',' ||
		    c == '"' || c == '(' || c == ')')
			return TCP2_EFORMAT;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return 0;
}

int
tcp2_hdr_addr(const char *v, size_t len, char *out)
{
	size_t i = 0, start = 0, end;

	/* First pass: an angle-addr in the first mailbox wins. */
	while (i < len && v[i] != ',') {
		if (v[i] == '"' || v[i] == '(') {
			i = skip_special(v, len, i);
			continue;
		}
		if (v[i] == '<') {
			for (end = i + 1; end < len && v[end] != '>'; end++)
				;
			if (end == len)
				return TCP2_EFORMAT;
			return addr_copy(v + i + 1, end - i - 1, out);
		}
		i++;
	}
	/* Otherwise a bare addr-spec, comments removed around it. */
	end = i;
	while (start < end && (isspace((unsigned char)v[start]) ||
	    v[start] == '\r' || v[start] == '\n'))
		start++;
	for (i = start; i < end; i++)
		if (v[i] == '(' || v[i] == ' ' || v[i] == '\t' ||
		    v[i] == '\r' || v[i] == '\n')
			break;
	return addr_copy(v + start, i - start, out);
}

int
tcp2_addr_norm(const char *in, char *out)
{
	return addr_copy(in, strlen(in), out);
}

int
tcp2_hdr_param(const char *v, size_t len, const char *name, char *out,
    size_t outlen)
{
	size_t nl = strlen(name), i = 0, j, k;

	while (i < len) {
		/* Parameters follow ';' outside quotes and comments. */
		if (v[i] == '"' || v[i] == '(') {
			i = skip_special(v, len, i);
			continue;
		}
		if (v[i++] != ';')
			continue;
		while (i < len && isspace((unsigned char)v[i]))
			i++;
		if (len - i <= nl || strncasecmp(v + i, name, nl) != 0)
			continue;
		j = i + nl;
		while (j < len && isspace((unsigned char)v[j]))
			j++;
		if (j >= len || v[j] != '=')
			continue;
		for (j++; j < len && isspace((unsigned char)v[j]); j++)
			;
		k = 0;
		if (j < len && v[j] == '"') {
			for (j++; j < len && v[j] != '"'; j++) {
				if (v[j] == '\\' && j + 1 < len)
					j++;
				if (k + 1 >= outlen)
					return TCP2_ETOOBIG;
				out[k++] = v[j];
			}
		} else {
			for (; j < len && v[j] != ';' &&
			    !isspace((unsigned char)v[j]); j++) {
				if (k + 1 >= outlen)
					return TCP2_ETOOBIG;
				out[k++] = v[j];
			}
		}
		out[k] = '\0';
		return 0;
	}
	return TCP2_ENOENT;
}
