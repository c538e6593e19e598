// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-mctree: the merkle root of an image, computed from the
 * specification in Documentation/multicast.md with OpenSSL's BLAKE2s, apart
 * from the module's code (kernel/merkle.c).
 *
 *   dstor-mctree --name EXPORT --block-size BYTES [--key FILE] IMAGE
 *
 * Prints the root in hex, as `dstor show` prints an export's, then the
 * number of blocks and how many of them are all zeros. A test compares the
 * two roots: equal means the module hashes what the document says.
 * Exit status: 0; 2 on bad arguments; 1 when IMAGE or FILE cannot be read.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define HASH		32
#define KEY_LEN		32
#define LABEL_TREE	"dstor v1 mcast tree"

static EVP_MAC *mac;

/* BLAKE2s-256 keyed with @key (@klen bytes, 0: unkeyed) over @n parts. */
static void b2s(const unsigned char *key, size_t klen, unsigned char *out,
		int n, const void *const *parts, const size_t *lens)
{
	OSSL_PARAM p[2] = { OSSL_PARAM_END, OSSL_PARAM_END };
	EVP_MAC_CTX *c;
	size_t outl;
	int i;

	if (!klen) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		if (!md || !EVP_DigestInit_ex(md, EVP_blake2s256(), NULL))
			errx(1, "BLAKE2s-256 is missing");
		for (i = 0; i < n; i++)
			EVP_DigestUpdate(md, parts[i], lens[i]);
		EVP_DigestFinal_ex(md, out, NULL);
		EVP_MD_CTX_free(md);
		return;
	}
	c = EVP_MAC_CTX_new(mac);
	if (!c || !EVP_MAC_init(c, key, klen, p))
		errx(1, "BLAKE2SMAC cannot be keyed");
	for (i = 0; i < n; i++)
		EVP_MAC_update(c, parts[i], lens[i]);
	if (!EVP_MAC_final(c, out, &outl, HASH) || outl != HASH)
		errx(1, "BLAKE2SMAC failed");
	EVP_MAC_CTX_free(c);
}

static void put_be(unsigned char *p, unsigned long long v, int bytes)
{
	while (bytes--) {
		p[bytes] = v & 0xff;
		v >>= 8;
	}
}

/* A key file of `dstor genkey`: 32 bytes in base64, one line. */
static void read_key(const char *path, unsigned char *key)
{
	unsigned char raw[KEY_LEN + 3];
	char line[128];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		err(1, "%s", path);
	if (!fgets(line, sizeof(line), f))
		errx(1, "%s: empty", path);
	fclose(f);
	n = strcspn(line, "\r\n");
	if (n != 44 || EVP_DecodeBlock(raw, (unsigned char *)line, 44) != 33)
		errx(1, "%s: not a dstor key", path);
	memcpy(key, raw, KEY_LEN);
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: dstor-mctree --name EXPORT --block-size BYTES [--key FILE] IMAGE\n");
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char key[KEY_LEN], kt[HASH], *lv, *buf, *zero, pre[13];
	unsigned long long size, blocks, zeros = 0, i, m;
	const char *name = NULL, *keyfile = NULL;
	unsigned long bs = 0;
	size_t got;
	FILE *img;
	int ch;

	while ((ch = getopt_long(argc, argv, "n:b:k:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'b':
			bs = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (!name || bs < 4096 || bs > (1 << 20) || (bs & (bs - 1)) ||
	    optind != argc - 1)
		usage(2);
	mac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	if (!mac)
		errx(1, "OpenSSL has no BLAKE2SMAC");
	if (keyfile)
		read_key(keyfile, key);

	/* tree key kt = BLAKE2s(key = export key or none, label || name) */
	{
		const void *parts[] = { LABEL_TREE, name };
		size_t lens[] = { strlen(LABEL_TREE), strlen(name) };

		b2s(key, keyfile ? KEY_LEN : 0, kt, 2, parts, lens);
	}

	img = fopen(argv[optind], "rb");
	if (!img || fseeko(img, 0, SEEK_END) || (long long)(size = ftello(img)) < 0)
		err(1, "%s", argv[optind]);
	rewind(img);
	blocks = (size + bs - 1) / bs;
	if (!blocks)
		errx(1, "%s: empty", argv[optind]);
	lv = malloc(blocks * HASH);
	buf = malloc(bs);
	zero = calloc(1, bs);
	if (!lv || !buf || !zero)
		errx(1, "out of memory");

	/* leaf i = BLAKE2s(key = kt, 0x00 || block i) */
	for (i = 0; i < blocks; i++) {
		unsigned char d = 0;
		const void *parts[] = { &d, buf };
		size_t lens[2] = { 1, 0 };

		got = fread(buf, 1, bs, img);
		if (got != bs && (got == 0 || i != blocks - 1))
			errx(1, "%s: short read at block %llu", argv[optind], i);
		lens[1] = got;
		zeros += got == bs && !memcmp(buf, zero, bs);
		b2s(kt, HASH, lv + i * HASH, 2, parts, lens);
	}
	fclose(img);

	/* node = BLAKE2s(key = kt, 0x01 || left || right); odd ones move up */
	for (m = blocks; m > 1; m = (m + 1) / 2) {
		for (i = 0; i + 1 < m; i += 2) {
			unsigned char d = 1, out[HASH];
			const void *parts[] = { &d, lv + i * HASH,
						lv + (i + 1) * HASH };
			size_t lens[] = { 1, HASH, HASH };

			b2s(kt, HASH, out, 3, parts, lens);
			memcpy(lv + i / 2 * HASH, out, HASH);
		}
		if (m & 1)
			memmove(lv + m / 2 * HASH, lv + (m - 1) * HASH, HASH);
	}

	/* root = BLAKE2s(key = kt, 0x02 || be64(size) || be32(bs) || top) */
	{
		unsigned char root[HASH];
		const void *parts[] = { pre, lv };
		size_t lens[] = { sizeof(pre), HASH };

		pre[0] = 2;
		put_be(pre + 1, size, 8);
		put_be(pre + 9, bs, 4);
		b2s(kt, HASH, root, 2, parts, lens);
		for (i = 0; i < HASH; i++)
			printf("%02x", root[i]);
		printf("\nblocks %llu, all zeros %llu\n", blocks, zeros);
	}
	EVP_MAC_free(mac);
	free(lv);
	free(buf);
	free(zero);
	return 0;
}
