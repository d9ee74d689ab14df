/*
 * vectors.c - parse blank-line separated "NAME = value" vector records.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "vectors.h"

void
v_free(struct v_record *r)
{
	int i;

	for (i = 0; i < r->nfields; i++)
		free(r->val[i]);
	r->nfields = 0;
}

static void
v_add(struct v_record *r, const char *name, const char *val)
{
	size_t vl = strlen(val);
	uint8_t *b;
	long n;

	if (r->nfields >= V_MAXFIELDS)
		return;
	b = malloc(vl + 1);
	if (b == NULL)
		return;
	if (val[0] == '"') {
		const char *end = strrchr(val + 1, '"');
		n = end ? end - (val + 1) : 0;
		memcpy(b, val + 1, (size_t)n);
	} else {
		n = t_unhex(b, vl + 1, val);
		if (n < 0)
			n = 0;
	}
	strncpy(r->name[r->nfields], name, sizeof(r->name[0]) - 1);
	r->name[r->nfields][sizeof(r->name[0]) - 1] = '\0';
	r->val[r->nfields] = b;
	r->len[r->nfields] = (size_t)n;
	r->nfields++;
}

/*
 * Records start at a "COUNT" line: the RFC 5869 file has blank lines
 * inside its records, so blank lines cannot be the separator.
 */
int
v_next(FILE *f, struct v_record *r)
{
	static char line[1 << 17];
	static char pending[64];
	char *eq, *name, *val, *e;

	v_free(r);
	if (pending[0] != '\0') {
		v_add(r, "COUNT", pending);
		pending[0] = '\0';
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		e = line + strlen(line);
		while (e > line && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (line[0] == '#' || line[0] == '[' || line[0] == '\0')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		name = line;
		for (e = eq; e > name && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		for (val = eq + 1; isspace((unsigned char)*val); val++)
			;
		if (strcmp(name, "COUNT") == 0 && r->nfields > 0) {
			snprintf(pending, sizeof(pending), "%.32s", val);
			return 1;
		}
		v_add(r, name, val);
	}
	return r->nfields > 0;
}

const uint8_t *
v_get(const struct v_record *r, const char *name, size_t *len)
{
	int i;

	for (i = 0; i < r->nfields; i++) {
		if (strcasecmp(r->name[i], name) == 0) {
			if (len)
				*len = r->len[i];
			return r->val[i];
		}
	}
	return NULL;
}
