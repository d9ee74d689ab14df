/*
 * fuzz_mime.c - libFuzzer target for the MIME analyser (mime.h), the
 * VIEW (view.h) and attachment stripping.
 *
 * Analyses the input and asserts: every part's offsets lie inside the
 * input and in order (header, body, segment), counts agree with the
 * flags, strings are NUL-terminated; the text for people is valid-length
 * and within its bound; the VIEW builds and serialises; strip() output
 * analyses again and, unless a bound was hit, holds no attachment; a
 * message without attachments strips to itself.  The input is copied to a
 * heap buffer of its exact size so that ASan sees any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mime.h"
#include "view.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void
check_parts(const struct tcp2_mime *m, size_t len)
{
	const struct tcp2_mime_part *p;
	size_t i, na = 0, nr = 0;

	CHECK(m->nparts >= 1 && m->nparts <= TCP2_MIME_PARTS_MAX);
	CHECK(m->hdr_off <= len && m->hdr_len <= len - m->hdr_off);
	for (i = 0; i < m->nparts; i++) {
		p = &m->parts[i];
		CHECK(p->seg_off <= p->hdr_off && p->hdr_off <= p->body_off);
		CHECK(p->body_off <= len && p->body_len <= len - p->body_off);
		CHECK(p->body_off + p->body_len <= p->seg_end &&
		    p->seg_end <= len);
		CHECK(p->depth <= TCP2_MIME_DEPTH_MAX);
		CHECK(memchr(p->filename, '\0', sizeof(p->filename)));
		CHECK(memchr(p->type, '\0', sizeof(p->type)) &&
		    strchr(p->type, '/') != NULL);
		if (i > 0)
			CHECK(p->seg_off >= m->parts[i - 1].seg_end ||
			    p->hdr_off >= m->parts[i - 1].body_off +
			    m->parts[i - 1].body_len);
		na += p->attachment != 0;
		nr += p->attachment && p->risky;
	}
	CHECK(na == m->nattach && nr == m->nrisky);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp2_mime m, m2;
	json_object *o;
	uint8_t *buf, *out;
	size_t outlen, tl;
	char *text;
	int cut;

	buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	if (size > 0)
		memcpy(buf, data, size);
	CHECK(tcp2_mime_analyse(buf, size, &m) == 0);
	check_parts(&m, size);

	CHECK(tcp2_mime_text(buf, size, &m, &text, &tl, &cut) == 0);
	CHECK(tl <= TCP2_MIME_TEXT_MAX && text[tl] == '\0');
	free(text);

	CHECK(tcp2_view_json(buf, size, "unverified", NULL, 0, &o) == 0);
	CHECK(json_object_to_json_string(o) != NULL);
	json_object_put(o);

	CHECK(tcp2_mime_strip(buf, size, &out, &outlen) == 0);
	if (m.nattach == 0)
		CHECK(outlen == size && memcmp(out, buf, size) == 0);
	CHECK(tcp2_mime_analyse(out, outlen, &m2) == 0);
	check_parts(&m2, outlen);
	if (!m.limited && !m2.limited)
		CHECK(m2.nattach == 0);
	tcp2_mime_free(&m2);
	tcp2_mime_free(&m);
	free(out);
	free(buf);
	return 0;
}
