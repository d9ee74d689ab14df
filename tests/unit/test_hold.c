/*
 * test_hold.c - the hold policy (hold.c): reason lists parsed and
 * formatted back, risky attachment names and types (hidden extensions
 * too), decisions and their one-line explanations, and release tokens
 * (only the right account's token for the right id passes).
 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "hold.h"
#include "message.h"

static int
decide(unsigned int reasons, int all, const struct tcp2_hold_facts *f,
    const char *want)
{
	struct tcp2_hold_policy p;
	char why[TCP2_HOLD_REASON_MAX];
	int hold;

	tcp2_hold_policy_default(&p);
	p.reasons = reasons;
	p.all_attachments = all;
	hold = tcp2_hold_decide(&p, f, why, sizeof(why));
	if (want == NULL)
		return hold == 0 && why[0] == '\0';
	if (hold != 1 || strcmp(why, want) != 0) {
		printf("# got %d \"%s\", want \"%s\"\n", hold, why, want);
		return 0;
	}
	return 1;
}

int
main(void)
{
	struct tcp2_hold_att exe = { "invoice.exe", "application/octet-stream",
	    1 }, pdf = { "report.pdf", "application/pdf", 0 };
	struct tcp2_hold_att two[2] = { { "report.pdf", "application/pdf", 0 },
	    { "run.js", "text/plain", 1 } };
	struct tcp2_hold_facts f;
	uint8_t k1[32], k2[32];
	char spec[TCP2_HOLD_SPEC_MAX], bad[32], tok[TCP2_HOLD_TOKEN_LEN];
	char val[80], id[33];
	const char *id1 = "0123456789abcdef0123456789abcdef";
	unsigned int r;

	if (tcp2_crypto_init() != 0)
		return 1;
	tcp2_hold_reasons_format(TCP2_HOLD_DEFAULT, spec, sizeof(spec));
	t_check(strcmp(spec, "forged,changed,undecryptable,html,attachments")
	    == 0, "default reasons: %s", spec);
	t_check(tcp2_hold_reasons_parse(spec, &r, bad, sizeof(bad)) == 0 &&
	    r == TCP2_HOLD_DEFAULT, "parsed back");
	t_check(tcp2_hold_reasons_parse("none", &r, bad, sizeof(bad)) == 0 &&
	    r == 0, "none");
	tcp2_hold_reasons_format(0, spec, sizeof(spec));
	t_check(strcmp(spec, "none") == 0, "0 formats as none");
	t_check(tcp2_hold_reasons_parse("html,bogus", &r, bad, sizeof(bad)) ==
	    TCP2_EINVAL && strcmp(bad, "bogus") == 0, "unknown reason named");
	t_check(tcp2_hold_reasons_parse("html,", &r, bad, sizeof(bad)) ==
	    TCP2_EINVAL && tcp2_hold_reasons_parse("", &r, bad, sizeof(bad))
	    == TCP2_EINVAL, "empty words refused");

	t_check(tcp2_hold_risky("a.EXE", NULL) && tcp2_hold_risky("a.exe.",
	    NULL) && tcp2_hold_risky("a.exe  ", NULL) &&
	    tcp2_hold_risky("x.docm", "") && tcp2_hold_risky("", "application/"
	    "x-msdownload") && tcp2_hold_risky(NULL, "Application/Zip"),
	    "risky: case, trailing dots and spaces, types");
	t_check(!tcp2_hold_risky("report.pdf", "application/pdf") &&
	    !tcp2_hold_risky("exe", NULL) && !tcp2_hold_risky("", "") &&
	    !tcp2_hold_risky("a.exe.pdf", NULL), "harmless: pdf, no "
	    "extension, exe.pdf");

	memset(&f, 0, sizeof(f));
	f.sig = TCP2_SIG_VERIFIED;
	t_check(decide(TCP2_HOLD_DEFAULT, 0, &f, NULL), "a verified plain "
	    "mail passes");
	f.html = 1;
	t_check(decide(TCP2_HOLD_DEFAULT, 0, &f, "HTML"), "HTML: held");
	t_check(decide(TCP2_HOLD_DEFAULT & ~TCP2_HOLD_HTML, 0, &f, NULL),
	    "HTML without the html reason: passes");
	f.html = 0;
	f.natt = 1;
	f.att = &pdf;
	t_check(decide(TCP2_HOLD_DEFAULT, 0, &f, NULL), "a pdf passes");
	t_check(decide(TCP2_HOLD_DEFAULT, 1, &f, "attachment report.pdf"),
	    "attachments all: the pdf is held");
	f.natt = 2;
	f.att = two;
	f.sig = TCP2_SIG_UNVERIFIED;
	t_check(decide(TCP2_HOLD_DEFAULT, 0, &f, "attachment run.js, sender "
	    "unverified"), "only the risky one is named");
	f.natt = 1;
	f.att = &exe;
	f.sig = TCP2_SIG_FORGED;
	f.key_changed = 1;
	t_check(decide(TCP2_HOLD_DEFAULT, 0, &f, "FORGED sender, the sender's "
	    "key CHANGED, attachment invoice.exe"), "forged, changed, exe: "
	    "worst first");
	memset(&f, 0, sizeof(f));
	f.sig = -1;
	t_check(decide(TCP2_HOLD_DEFAULT, 0, &f, NULL), "unsigned plain "
	    "passes by default");
	t_check(decide(TCP2_HOLD_UNSIGNED, 0, &f, "not signed"), "unless "
	    "unsigned is a reason");
	f.encrypted = f.undecryptable = 1;
	t_check(decide(TCP2_HOLD_DEFAULT, 0, &f, "cannot be decrypted"),
	    "undecryptable: held");
	f.undecryptable = 0;
	f.sig = TCP2_SIG_VERIFIED;
	t_check(decide(TCP2_HOLD_DEFAULT, 0, &f, NULL) &&
	    decide(TCP2_HOLD_ENCRYPTED, 0, &f, "encrypted"), "encrypted: only "
	    "with the encrypted reason");
	t_check(decide(0, 1, &f, NULL), "none holds nothing");

	tcp2_crypto_random(k1, sizeof(k1));
	tcp2_crypto_random(k2, sizeof(k2));
	t_check(tcp2_hold_token(k1, id1, tok) == 0 && strlen(tok) == 32,
	    "a token: %s", tok);
	snprintf(val, sizeof(val), " %s %s\r\n", id1, tok);
	t_check(tcp2_hold_token_check(k1, val, strlen(val), id) == 0 &&
	    strcmp(id, id1) == 0, "checks, with white space around");
	t_check(tcp2_hold_token_check(k2, val, strlen(val), id) == TCP2_EAUTH,
	    "another account's key: refused");
	val[5] = val[5] == '0' ? '1' : '0';
	t_check(tcp2_hold_token_check(k1, val, strlen(val), id) == TCP2_EAUTH,
	    "another id: refused");
	t_check(tcp2_hold_token_check(k1, "x y", 3, id) == TCP2_EFORMAT &&
	    tcp2_hold_token_check(k1, val, 40, id) == TCP2_EFORMAT,
	    "malformed: refused as such");
	return t_done();
}
