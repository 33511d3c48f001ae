/* SPDX-License-Identifier: Apache-2.0 */
/* The managed-identity token for ARM: which identity to ask for, and the
 * IMDS token request. The token lives only in secret memory (never dumped,
 * wiped on free) and is never logged or put into an error. */
#include "config.h"

#include "imds/arm/http.h"
#include "lib/timeutil.h"
#include "imds/arm/arm-internal.h"
#include "imds/arm/token.h"
#include "lib/log.h"
#include "lib/sysroot.h"

#define IMDS_DEFAULT_URL "http://169.254.169.254"
#define AKS_KUBELET_TAG "aks-managed-kubeletIdentityClientID"
#define AZURE_JSON "/etc/kubernetes/azure.json"
#define AZURE_JSON_MAX (1u << 20)
/* The raw token answer: token plus a few short fields. */
#define TOKEN_BODY_MAX (ARM_TOKEN_MAX + 4096)

void arm_identity_done(struct arm_identity *id)
{
	free(id->value);
	free(id->desc);
	*id = (struct arm_identity){ 0 };
}

static int identity_set(struct arm_identity *id, const char *param, const char *value, const char *source)
{
	id->param = param;
	id->value = strdup(value);
	id->desc = strprintf("%s %s (%s)", param, value, source);
	return id->value && id->desc ? 0 : -ENOMEM;
}

/* azure.json holds the service principal's secret: the buffer is wiped
 * and only the identity keys are ever looked at. */
static char *azure_json_identity(const struct sysroot *sr)
{
	_cleanup_free_ char *text = NULL;
	char *id = NULL;
	size_t len = 0;

	if (!sr || sysroot_read_file(sr, AZURE_JSON, AZURE_JSON_MAX, &text, &len) < 0)
		return NULL;
	(void)arm_parse_azure_json(text, len, &id);
	explicit_bzero(text, len);
	return id;
}

int arm_identity_choose(const struct arm_options *o, const struct imds_instance *inst,
			struct arm_identity *ret)
{
	_cleanup_free_ char *from_file = NULL;
	const char *tag;

	*ret = (struct arm_identity){ 0 };
	if (!isempty(o->client_id))
		return identity_set(ret, "client_id", o->client_id, "[arm] client_id");
	if (!isempty(o->object_id))
		return identity_set(ret, "object_id", o->object_id, "[arm] object_id");
	if (!isempty(o->msi_res_id))
		return identity_set(ret, "msi_res_id", o->msi_res_id, "[arm] msi_res_id");
	tag = inst ? imds_instance_tag(inst, AKS_KUBELET_TAG) : NULL;
	if (!isempty(tag))
		return identity_set(ret, "client_id", tag, "IMDS tag " AKS_KUBELET_TAG);
	from_file = azure_json_identity(o->sr);
	if (!isempty(from_file))
		return identity_set(ret, "client_id", from_file, AZURE_JSON " userAssignedIdentityID");
	ret->desc = strdup("system-assigned");
	return ret->desc ? 0 : -ENOMEM;
}

static char *token_url(const char *imds_url, const char *resource, const struct arm_identity *id)
{
	_cleanup_free_ char *value = NULL;
	const char *base = isempty(imds_url) ? IMDS_DEFAULT_URL : imds_url;
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	if (!id->param)
		return strprintf("%.*s/metadata/identity/oauth2/token?api-version=%s&resource=%s",
				 (int)len, base, ARM_API_VERSION_TOKEN, resource);
	value = arm_query_escape(id->value);
	if (!value)
		return NULL;
	return strprintf("%.*s/metadata/identity/oauth2/token?api-version=%s&resource=%s&%s=%s",
			 (int)len, base, ARM_API_VERSION_TOKEN, resource, id->param, value);
}

static void curl_slist_free_allp(struct curl_slist **l)
{
	if (*l)
		curl_slist_free_all(*l);
}

/* One request with the DOMAIN.md retry policy; the body lands in buf. */
static void token_get(const char *url, double deadline, char *buf, struct arm_reply *reply)
{
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	struct arm_http_req req = {
		.url = url, .no_proxy = true, .deadline = deadline, .secret = buf, .secret_size = TOKEN_BODY_MAX
	};

	headers = curl_slist_append(NULL, "Metadata: true");
	req.headers = headers;
	for (unsigned attempt = 1;; attempt++) {
		double wait;

		log_debug("arm: token request for %s (attempt %u)", url, attempt);
		arm_http_get(&req, reply);
		if (reply->cc == CURLE_OK && reply->status == 200)
			return;
		wait = arm_token_retry_delay(reply->cc == CURLE_OK ? reply->status : 0, attempt,
					     deadline - now_monotonic());
		if (wait < 0 || reply->too_big)
			return;
		sleep_seconds(MAX(wait, reply->retry_after));
	}
}

static void token_failure(const struct arm_reply *r, const char *buf, const struct arm_identity *id,
			  struct arm_token_result *out)
{
	_cleanup_free_ char *desc = NULL;
	char tmp[128];

	if (r->cc != CURLE_OK && r->status == 0) {
		out->status = SOURCE_UNREACHABLE;
		out->error = strprintf("the managed-identity token endpoint did not answer (%s): "
				       "on AKS the pod needs hostNetwork",
				       arm_transport_reason(r, tmp, sizeof(tmp)));
		return;
	}
	/* Error answers carry no token; a 200 that failed never gets here. */
	desc = r->status != 200 ? arm_describe_error(buf, r->secret_len) : NULL;
	out->status = SOURCE_ERROR;
	if (r->status == 400) {
		out->no_identity = true;
		out->error = strprintf("no managed identity (%s) is available (token endpoint: "
				       "HTTP 400%s%s): assign one to the VM or scale set, or set "
				       "[arm] client_id",
				       id->desc, desc ? " " : "", desc ? desc : "");
		return;
	}
	out->error = strprintf("the managed-identity token endpoint answered HTTP %ld%s%s%s "
			       "for %s: try again later",
			       r->status, desc ? " (" : "", desc ? desc : "", desc ? ")" : "",
			       id->desc);
}

void arm_token_fetch(const char *imds_url, const char *arm_url, const struct arm_identity *id,
		     double deadline, char *tok, int64_t *expires_on, struct arm_token_result *out)
{
	_cleanup_free_ char *resource = arm_token_resource(arm_url), *url = NULL;
	_cleanup_free_ char *err = NULL;
	struct arm_reply reply = { .retry_after = -1 };
	char *buf;

	*out = (struct arm_token_result){ .status = SOURCE_ERROR };
	url = resource ? token_url(imds_url, resource, id) : NULL;
	buf = arm_secret_alloc(TOKEN_BODY_MAX);
	if (!url || !buf) {
		out->error = strdup(url ? "out of memory for the token" :
					  "the ARM URL has no origin to ask a token for");
		arm_secret_free(buf, TOKEN_BODY_MAX);
		return;
	}
	token_get(url, deadline, buf, &reply);
	if (reply.cc != CURLE_OK || reply.status != 200) {
		token_failure(&reply, buf, id, out);
	} else if (arm_parse_token(buf, reply.secret_len, (int64_t)time(NULL), tok, ARM_TOKEN_MAX,
				   expires_on, &err) < 0) {
		out->error = strprintf("the managed-identity token endpoint sent an answer atrest "
				       "cannot read (%s)",
				       strna(err));
	} else {
		out->status = SOURCE_OK;
	}
	arm_secret_free(buf, TOKEN_BODY_MAX);
	arm_reply_done(&reply);
}
