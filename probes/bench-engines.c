/* SPDX-License-Identifier: Apache-2.0 */
/* The two ways the benchmark encrypts: OpenSSL EVP in user space (as
 * `openssl speed -evp aes-*-xts` does) and the kernel's xts(aes) through
 * AF_ALG (as libcryptsetup's crypt_benchmark() and dm-crypt do). */
#include "config.h"

#include <errno.h>
#include <linux/if_alg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libcryptsetup.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "probes/bench-internal.h"

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

#define XTS_IV_BYTES 16

/* XTS keys are two AES keys; OpenSSL 3 refuses equal halves. */
static int random_xts_key(uint8_t *key, size_t len)
{
	if (RAND_bytes(key, (int)len) != 1)
		return -EIO;
	if (memcmp(key, key + len / 2, len / 2) == 0)
		key[0] ^= 0xff;
	return 0;
}

static int openssl_open(void **ret_ctx, unsigned key_bits, bool decrypt)
{
	const EVP_CIPHER *cipher = key_bits == 512 ? EVP_aes_256_xts() : EVP_aes_128_xts();
	static const uint8_t iv[XTS_IV_BYTES];
	uint8_t key[64];
	EVP_CIPHER_CTX *ctx;
	int r;

	if (key_bits != 256 && key_bits != 512)
		return -EINVAL;
	r = random_xts_key(key, key_bits / 8);
	if (r < 0)
		return r;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	/* One key and IV for the run, like openssl speed: each update is a
	 * whole XTS data unit under that IV. */
	if (EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, decrypt ? 0 : 1) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		OPENSSL_cleanse(key, sizeof(key));
		return -ENOTSUP;
	}
	OPENSSL_cleanse(key, sizeof(key));
	*ret_ctx = ctx;
	return 0;
}

static int openssl_run(void *ctx, uint8_t *buf, size_t len)
{
	int outl = 0;

	if (EVP_CipherUpdate(ctx, buf, &outl, buf, (int)len) != 1 || (size_t)outl != len)
		return -EIO;
	return 0;
}

static void openssl_close(void *ctx)
{
	EVP_CIPHER_CTX_free(ctx);
}

const struct bench_engine bench_engine_openssl = {
	.name = "openssl",
	.open = openssl_open,
	.run = openssl_run,
	.close = openssl_close,
};

const char *bench_openssl_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

/* An AF_ALG operation socket, and the direction it runs. */
struct afalg {
	int tfm;
	int op;
	bool decrypt;
};

static void afalg_close(void *p)
{
	struct afalg *a = p;

	if (!a)
		return;
	closep(&a->op);
	closep(&a->tfm);
	free(a);
}

static int afalg_bind(struct afalg *a, unsigned key_bits)
{
	struct sockaddr_alg sa = {
		.salg_family = AF_ALG,
		.salg_type = "skcipher",
		/* The mode as the kernel names it: "xts", not "xts-plain64". */
		.salg_name = "xts(aes)",
	};
	uint8_t key[64];
	int r = 0;

	a->tfm = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (a->tfm < 0)
		return -errno;
	if (bind(a->tfm, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	r = random_xts_key(key, key_bits / 8);
	if (r >= 0 && setsockopt(a->tfm, SOL_ALG, ALG_SET_KEY, key, key_bits / 8) < 0)
		r = -errno;
	OPENSSL_cleanse(key, sizeof(key));
	if (r < 0)
		return r;
	a->op = accept4(a->tfm, NULL, 0, SOCK_CLOEXEC);
	return a->op < 0 ? -errno : 0;
}

static int afalg_open(void **ret_ctx, unsigned key_bits, bool decrypt)
{
	struct afalg *a;
	int r;

	if (key_bits != 256 && key_bits != 512)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	*a = (struct afalg){ .tfm = -1, .op = -1, .decrypt = decrypt };
	r = afalg_bind(a, key_bits);
	if (r < 0) {
		afalg_close(a);
		return r;
	}
	*ret_ctx = a;
	return 0;
}

/* One request: the data with its direction and IV, then the result read
 * back in place, as libcryptsetup's kernel backend does. */
static int afalg_run(void *p, uint8_t *buf, size_t len)
{
	struct afalg *a = p;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct af_alg_iv) + XTS_IV_BYTES)];
	} control = {};
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	struct af_alg_iv *iv;
	uint32_t op = a->decrypt ? ALG_OP_DECRYPT : ALG_OP_ENCRYPT;
	ssize_t n;

	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_OP;
	c->cmsg_len = CMSG_LEN(sizeof(op));
	memcpy(CMSG_DATA(c), &op, sizeof(op));
	c = CMSG_NXTHDR(&msg, c);
	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_IV;
	c->cmsg_len = CMSG_LEN(sizeof(*iv) + XTS_IV_BYTES);
	/* CMSG_DATA is suitably aligned for the header it carries. */
	iv = (struct af_alg_iv *)(void *)CMSG_DATA(c);
	iv->ivlen = XTS_IV_BYTES;
	memset(iv->iv, 0, XTS_IV_BYTES);

	n = sendmsg(a->op, &msg, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	n = read(a->op, buf, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

const struct bench_engine bench_engine_afalg = {
	.name = "kernel",
	.open = afalg_open,
	.run = afalg_run,
	.close = afalg_close,
};

const char *bench_kernel_errno_reason(int r)
{
	switch (-r) {
	case EAFNOSUPPORT:
	case ENOTSUP:
		return "the kernel offers no AF_ALG sockets (CONFIG_CRYPTO_USER_API_SKCIPHER)";
	case EPERM:
	case EACCES:
		return "AF_ALG sockets are denied here (seccomp or a security module)";
	case ENOENT:
		return "the kernel has no xts(aes) cipher";
	default:
		return "the kernel's xts(aes) could not be opened through AF_ALG";
	}
}

int bench_crypt_benchmark(unsigned key_bits, double *ret_enc, double *ret_dec)
{
	/* cryptsetup benchmark's buffer; -ERANGE means the run was too
	 * short to time, so a larger one is tried. */
	for (size_t buffer = 1024 * 1024; buffer <= 64 * 1024 * 1024; buffer *= 4) {
		double enc = 0, dec = 0;
		int r;

		r = crypt_benchmark(NULL, "aes", "xts", key_bits / 8, XTS_IV_BYTES, buffer, &enc, &dec);
		if (r == -ERANGE)
			continue;
		if (r < 0)
			return r;
		/* libcryptsetup reports MiB/s. */
		*ret_enc = enc * 1024 * 1024;
		*ret_dec = dec * 1024 * 1024;
		return 0;
	}
	return -ERANGE;
}
