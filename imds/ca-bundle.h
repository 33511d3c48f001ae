/* SPDX-License-Identifier: Apache-2.0 */
/* Which CA certificate bundle the portable build hands libcurl: distributions
 * keep it in different places, and a static libcurl knows only one. */
#pragma once

/* The first bundle of the well-known list that is a readable regular file
 * under ROOT ("" for /), as a path without ROOT; NULL when none is (libcurl
 * then falls back to OpenSSL's default paths, which honour SSL_CERT_FILE and
 * SSL_CERT_DIR). Static storage. */
const char *ca_bundle_find(const char *root);
