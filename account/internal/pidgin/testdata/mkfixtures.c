/* mkfixtures: writes otr.private_key and otr.fingerprints for the Pidgin
 * import test with libotr 4.1.1 itself, so the files are byte-for-byte what
 * pidgin-otr writes. See README.md in this directory.
 *
 *   cc -o /tmp/mkfixtures mkfixtures.c $(pkg-config --cflags --libs libotr) -lgcrypt
 *   /tmp/mkfixtures .  > expected.txt
 */
#include <stdio.h>
#include <string.h>
#include <gcrypt.h>
#include <libotr/proto.h>
#include <libotr/privkey.h>
#include <libotr/context.h>
#include <libotr/userstate.h>

static void known(OtrlUserState us, const char *remote, const char *account,
		const char *proto, unsigned char fill, const char *trust)
{
	unsigned char fp[20];
	int i;
	for (i = 0; i < 20; i++)
		fp[i] = (unsigned char)(fill + 17 * i);
	ConnContext *ctx = otrl_context_find(us, remote, account, proto,
		OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
	Fingerprint *f = otrl_context_find_fingerprint(ctx, fp, 1, NULL);
	otrl_context_set_trust(f, trust);
}

static void own(OtrlUserState us, const char *file, const char *account, const char *proto)
{
	char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];
	if (otrl_privkey_generate(us, file, account, proto)) {
		fprintf(stderr, "keygen failed for %s\n", account);
		return;
	}
	otrl_privkey_fingerprint(us, human, account, proto);
	printf("%s\t%s\t%s\n", account, proto, human);
}

static int run(const char *dir)
{
	char keyf[4096], fpf[4096];
	OtrlUserState us = otrl_userstate_create();
	snprintf(keyf, sizeof keyf, "%s/otr.private_key", dir);
	snprintf(fpf, sizeof fpf, "%s/otr.fingerprints", dir);
	remove(keyf);

	own(us, keyf, "alice@example.org/Laptop", "prpl-jabber");
	own(us, keyf, "alice@work.example/", "prpl-jabber");
	own(us, keyf, "alice@irc.libera.chat", "prpl-irc");

	known(us, "bob@example.net", "alice@example.org/Laptop", "prpl-jabber", 0x10, "smp");
	known(us, "carol@example.net", "alice@example.org/Laptop", "prpl-jabber", 0x20, "verified");
	known(us, "dave@example.net", "alice@example.org/Laptop", "prpl-jabber", 0x30, "");
	known(us, "eve@work.example", "alice@work.example/", "prpl-jabber", 0x40, "verified");
	known(us, "mallory", "alice@irc.libera.chat", "prpl-irc", 0x50, "verified");
	return otrl_privkey_write_fingerprints(us, fpf) ? 1 : 0;
}

int main(int argc, char **argv)
{
	OTRL_INIT;
	return run(argc > 1 ? argv[1] : ".");
}
