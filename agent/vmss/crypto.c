/* SPDX-License-Identifier: Apache-2.0 */
/* Protected settings: base64 DER CMS enveloped data that the platform
 * encrypted to the VM certificate waagent keeps as <thumbprint>.crt/.prv. */
#include "config.h"

#include <ctype.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "agent/vmss/vmss.h"
#include "lib/strutil.h"

#define PROTECTED_MAX_B64 (256 * 1024)

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free_all)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(CMS_ContentInfo *, CMS_ContentInfo_free)

/* A SHA-1 thumbprint names a file: only hex, so it cannot leave certdir. */
static bool thumbprint_ok(const char *t)
{
	size_t n = 0;

	for (; t && t[n]; n++)
		if (!isxdigit((unsigned char)t[n]))
			return false;
	return n >= 20 && n <= 128;
}

static int base64_decode(const char *b64, unsigned char **ret, size_t *ret_len)
{
	size_t n = strlen(b64);
	_cleanup_free_ unsigned char *out = NULL;
	EVP_ENCODE_CTX *ctx;
	int len = 0, fin = 0, r;

	if (n == 0 || n > PROTECTED_MAX_B64)
		return -EINVAL;
	out = malloc(n);
	ctx = EVP_ENCODE_CTX_new();
	if (!out || !ctx) {
		EVP_ENCODE_CTX_free(ctx);
		return -ENOMEM;
	}
	EVP_DecodeInit(ctx);
	r = EVP_DecodeUpdate(ctx, out, &len, (const unsigned char *)b64, (int)n);
	if (r >= 0)
		r = EVP_DecodeFinal(ctx, out + len, &fin);
	EVP_ENCODE_CTX_free(ctx);
	if (r < 0 || len + fin <= 0)
		return -EINVAL;
	*ret_len = (size_t)(len + fin);
	*ret = TAKE_PTR(out);
	return 0;
}

static int load_key_pair(const char *thumbprint, const char *certdir, X509 **ret_cert,
			 EVP_PKEY **ret_key, char **ret_error)
{
	_cleanup_free_ char *crt = strprintf("%s/%s.crt", certdir, thumbprint);
	_cleanup_free_ char *prv = strprintf("%s/%s.prv", certdir, thumbprint);
	_cleanup_fclose_ FILE *fc = NULL, *fk = NULL;

	if (!crt || !prv)
		return -ENOMEM;
	fc = fopen(crt, "re");
	fk = fopen(prv, "re");
	if (!fc || !fk) {
		*ret_error = strprintf("the certificate %s.crt/.prv is not in %s", thumbprint, certdir);
		return -ENOENT;
	}
	*ret_cert = PEM_read_X509(fc, NULL, NULL, NULL);
	*ret_key = PEM_read_PrivateKey(fk, NULL, NULL, NULL);
	if (!*ret_cert || !*ret_key) {
		X509_free(*ret_cert);
		EVP_PKEY_free(*ret_key);
		*ret_error = strprintf("the certificate %s.crt/.prv cannot be read as PEM", thumbprint);
		return -EINVAL;
	}
	return 0;
}

static int cms_decrypt(const unsigned char *der, size_t der_len, X509 *cert, EVP_PKEY *key,
		       char **ret_plain, size_t *ret_len)
{
	_cleanup_(BIO_free_allp) BIO *in = BIO_new_mem_buf(der, (int)der_len);
	_cleanup_(BIO_free_allp) BIO *out = BIO_new(BIO_s_mem());
	_cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
	char *data, *plain;
	long n;

	if (!in || !out)
		return -ENOMEM;
	cms = d2i_CMS_bio(in, NULL);
	if (!cms || CMS_decrypt(cms, key, cert, NULL, out, 0) != 1)
		return -EBADMSG;
	n = BIO_get_mem_data(out, &data);
	plain = malloc((size_t)n + 1);
	if (!plain) {
		OPENSSL_cleanse(data, (size_t)n);
		return -ENOMEM;
	}
	memcpy(plain, data, (size_t)n);
	plain[n] = '\0';
	OPENSSL_cleanse(data, (size_t)n);
	*ret_plain = plain;
	*ret_len = (size_t)n;
	return 0;
}

int vmss_decrypt_protected(const char *b64, const char *thumbprint, const char *certdir,
			   char **ret_plain, size_t *ret_len, char **ret_error)
{
	_cleanup_(X509_freep) X509 *cert = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	_cleanup_free_ unsigned char *der = NULL;
	size_t der_len;
	int r;

	if (!thumbprint_ok(thumbprint)) {
		*ret_error = strdup("protectedSettingsCertThumbprint is missing or not hexadecimal");
		return -EINVAL;
	}
	r = base64_decode(b64, &der, &der_len);
	if (r < 0) {
		*ret_error = strdup("protectedSettings is not base64");
		return r;
	}
	r = load_key_pair(thumbprint, certdir, &cert, &key, ret_error);
	if (r < 0)
		return r;
	r = cms_decrypt(der, der_len, cert, key, ret_plain, ret_len);
	ERR_clear_error();
	if (r == -EBADMSG)
		*ret_error = strprintf("protectedSettings cannot be decrypted with certificate %s",
				       thumbprint);
	return r;
}
