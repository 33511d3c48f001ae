/* SPDX-License-Identifier: Apache-2.0 */
/* The ARM step: a token, then the VM (or scale-set instance), each disk IMDS
 * lists and each distinct disk encryption set, all within one deadline; and
 * the cache that keeps ARM's answer for hours so a fleet stays far below
 * ARM's per-principal throttle. ARM requests honour the system proxy
 * settings (https_proxy, no_proxy): unlike IMDS, ARM may need one. */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>

#include "imds/arm/http.h"
#include "imds/http-util.h"
#include "lib/timeutil.h"
#include "imds/arm/arm-internal.h"
#include "imds/arm/token.h"
#include "lib/json-util.h"
#include "lib/log.h"

#define ARM_MAX_BODY (4u << 20)
#define PERM_VM "Microsoft.Compute/virtualMachines/read"
#define PERM_VMSS_VM "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"
#define PERM_DISK "Microsoft.Compute/disks/read"
#define PERM_DES "Microsoft.Compute/diskEncryptionSets/read"

struct arm_cache {
	pthread_mutex_t lock;
	struct arm_sched_params params;
	double timeout;
	bool delay_first, started;
	struct arm_sched sched;
	uint64_t rng;

	char *token;           /* ARM_TOKEN_MAX bytes of secret memory */
	int64_t token_expires; /* 0 = no usable token */
	char *token_key;       /* which identity and endpoint it is for */

	char *key; /* the inputs the last answer is for */
	bool have_last;
	double last_at; /* CLOCK_MONOTONIC time of the last answer */
	struct arm_result last;
};

/* One lookup in flight. */
struct step {
	const struct arm_options *o;
	struct arm_cache *c;
	const char *identity;
	char *base;
	double deadline;
	unsigned requests;
	double retry_after; /* the longest a 429 asked for; -1 none */
	bool token_rejected;
};

struct des_entry {
	char *id;
	enum source_status status;
	char *error;
	struct arm_des des;
};

/* ---- one GET ---- */

static void curl_slist_free_allp(struct curl_slist **l)
{
	if (*l)
		curl_slist_free_all(*l);
}

/* The Authorization header is wiped before libcurl frees it. */
static struct curl_slist *auth_headers(const char *token)
{
	struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json"), *n;
	size_t len = strlen(token) + sizeof("Authorization: Bearer ");
	char *h = arm_secret_alloc(len);

	if (!l || !h) {
		arm_secret_free(h, len);
		return l;
	}
	snprintf(h, len, "Authorization: Bearer %s", token);
	n = curl_slist_append(l, h);
	arm_secret_free(h, len);
	return n;
}

static void wipe_headers(struct curl_slist *l)
{
	for (; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
}

static char *fail_message(const struct step *s, const struct arm_reply *r, const char *what,
			  const char *id, const char *perm, enum source_status *st)
{
	_cleanup_free_ char *desc = arm_describe_error(r->body.buf, r->body.len);
	char tmp[128];

	if (r->status == 0 || (r->cc != CURLE_OK && !r->too_big)) {
		*st = SOURCE_UNREACHABLE;
		return strprintf("ARM at %s did not answer for the %s (%s): check the network path "
				 "to ARM (and https_proxy/no_proxy if a proxy is needed)",
				 s->base, what, arm_transport_reason(r, tmp, sizeof(tmp)));
	}
	*st = SOURCE_ERROR;
	if (r->too_big)
		return strprintf("ARM sent a %s document larger than %u bytes", what, ARM_MAX_BODY);
	if (r->status == 401 || r->status == 403) {
		*st = SOURCE_UNAUTHORIZED;
		return strprintf("ARM refused to read the %s (HTTP %ld%s%s): grant the managed "
				 "identity (%s) the permission %s (for example the Reader role) on %s",
				 what, r->status, desc ? ", " : "", desc ? desc : "", s->identity,
				 perm, id);
	}
	if (r->status == 404)
		return strprintf("ARM does not know the %s %s (HTTP 404%s%s)", what, id,
				 desc ? ", " : "", desc ? desc : "");
	if (r->status == 429)
		return strprintf("ARM throttled the request for the %s (HTTP 429%s): the lookup "
				 "is retried later, never sooner than ARM asks",
				 what, r->retry_after >= 0 ? ", Retry-After given" : "");
	return strprintf("ARM answered HTTP %ld for the %s%s%s%s: try again later", r->status, what,
			 desc ? " (" : "", desc ? desc : "", desc ? ")" : "");
}

/* GETs a resource; on 200 hands the body over, else returns the status
 * and a message naming the permission a 401/403 lacks. */
static int arm_get(struct step *s, const char *id, const char *api, const char *what, const char *perm,
		   struct strbuf *ret_body, enum source_status *ret_st, char **ret_error)
{
	_cleanup_free_ char *path = arm_resource_path(id), *url = NULL;
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	struct arm_reply reply = { .retry_after = -1 };
	struct arm_http_req req = { .deadline = s->deadline, .max_body = ARM_MAX_BODY };

	*ret_st = SOURCE_ERROR;
	if (!path) {
		*ret_error = strprintf("the %s id '%s' is not an ARM resource id", what, strna(id));
		return -EINVAL;
	}
	url = strprintf("%s%s?api-version=%s", s->base, path, api);
	headers = auth_headers(s->c->token);
	if (!url || !headers)
		return -ENOMEM;
	req.url = url;
	req.headers = headers;
	for (unsigned attempt = 1;; attempt++) {
		double wait;

		s->requests++;
		log_debug("arm: GET %s (attempt %u)", url, attempt);
		arm_http_get(&req, &reply);
		if (reply.cc == CURLE_OK && reply.status == 200)
			break;
		if (reply.status == 429)
			s->retry_after = MAX(s->retry_after,
					     reply.retry_after >= 0 ? reply.retry_after : 0);
		wait = arm_retry_delay(&s->c->params, reply.cc == CURLE_OK ? reply.status : 0,
				       reply.retry_after, attempt, s->deadline - now_monotonic());
		if (wait < 0 || reply.too_big)
			break;
		sleep_seconds(wait);
	}
	wipe_headers(headers);
	if (reply.cc == CURLE_OK && reply.status == 200) {
		*ret_body = reply.body;
		return 0;
	}
	if (reply.status == 401)
		s->token_rejected = true;
	*ret_error = fail_message(s, &reply, what, id, perm, ret_st);
	arm_reply_done(&reply);
	return -EIO;
}

/* ---- the lookup ---- */

static const char *vm_perm(const char *resource_id)
{
	return strcasestr(resource_id, "/virtualMachineScaleSets/") ? PERM_VMSS_VM : PERM_VM;
}

static int get_vm(struct step *s, const struct imds_instance *inst, struct arm_vm *vm,
		  struct arm_result *res)
{
	struct strbuf body = { 0 };
	_cleanup_free_ char *err = NULL;
	int r;

	r = arm_get(s, inst->resource_id, ARM_API_VERSION_VM, "VM instance",
		    vm_perm(inst->resource_id), &body, &res->status, &res->error);
	if (r < 0)
		return r;
	r = arm_parse_vm(body.buf, body.len, vm, &err);
	strbuf_done(&body);
	if (r < 0) {
		res->status = SOURCE_ERROR;
		res->error = strprintf("ARM sent a VM instance document atrest cannot read (%s)",
				       strna(err));
		return r;
	}
	res->encryption_at_host = vm->encryption_at_host;
	return 0;
}

static struct des_entry *des_find(struct des_entry *t, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcaseeq(t[i].id, id))
			return &t[i];
	return NULL;
}

static void get_disk(struct step *s, const char *id, struct arm_disk *d)
{
	struct strbuf body = { 0 };
	_cleanup_free_ char *err = NULL;
	int r;

	d->status = SOURCE_ERROR;
	d->des_rotation_enabled = TRI_UNKNOWN;
	d->id = strdup_or_null(id);
	if (!id) {
		d->error = strdup("neither IMDS nor ARM names this disk's managed disk id");
		return;
	}
	if (arm_get(s, id, ARM_API_VERSION_DISK, "disk", PERM_DISK, &body, &d->status, &d->error) < 0)
		return;
	r = arm_parse_disk(body.buf, body.len, &d->encryption_type, &d->des_id, &d->pv_name, &err);
	if (r == 0)
		r = arm_parse_disk_security(body.buf, body.len, &d->cvm_security_type,
					    &d->cvm_des_id, &err);
	if (r < 0) {
		d->status = SOURCE_ERROR;
		d->error = strprintf("ARM sent a disk document atrest cannot read (%s)", strna(err));
	} else {
		d->status = SOURCE_OK;
	}
	strbuf_done(&body);
}

static void get_des(struct step *s, struct des_entry *e)
{
	struct strbuf body = { 0 };
	_cleanup_free_ char *err = NULL;

	if (arm_get(s, e->id, ARM_API_VERSION_DISK, "disk encryption set", PERM_DES, &body,
		    &e->status, &e->error) < 0)
		return;
	if (arm_parse_des(body.buf, body.len, &e->des, &err) < 0) {
		e->status = SOURCE_ERROR;
		e->error = strprintf("ARM sent a disk encryption set document atrest cannot read "
				     "(%s)",
				     strna(err));
	} else {
		e->status = SOURCE_OK;
	}
	strbuf_done(&body);
}

/* A disk's DES facts, or the reason they are missing (fail closed: a CMK
 * disk whose DES cannot be read is not proven). */
static void apply_des(struct arm_disk *d, const struct des_entry *e)
{
	if (e->status != SOURCE_OK) {
		d->status = e->status;
		d->error = strprintf("the disk names disk encryption set %s, which could not be "
				     "read: %s",
				     e->id, strna(e->error));
		return;
	}
	d->des_encryption_type = strdup_or_null(e->des.encryption_type);
	d->des_key_url = strdup_or_null(e->des.key_url);
	d->des_rotation_enabled = e->des.rotation_enabled;
	d->des_last_rotation = strdup_or_null(e->des.last_rotation);
	d->des_rotation_error = strdup_or_null(e->des.rotation_error);
}

static const char *vm_disk_id(const struct arm_vm *vm, int lun)
{
	if (lun < 0)
		return vm->has_os_disk ? vm->os_disk.id : NULL;
	for (size_t i = 0; i < vm->n_data_disks; i++)
		if (vm->data_disks[i].lun == lun)
			return vm->data_disks[i].id;
	return NULL;
}

static bool is_local(const char *option)
{
	return option && strcaseeq(option, "Local");
}

/* An ephemeral OS disk is not an ARM resource (a GET answers 404): what ARM
 * knows of it is on the VM/VMSS instance. */
static void ephemeral_os_disk(const struct imds_instance *inst, const struct arm_vm *vm,
			      struct arm_disk *d)
{
	d->ephemeral = true;
	d->des_rotation_enabled = TRI_UNKNOWN;
	d->id = strdup_or_null(inst->os_disk.managed_disk_id ? inst->os_disk.managed_disk_id :
							       vm->os_disk.id);
	if (!vm->has_os_disk) {
		d->status = SOURCE_ERROR;
		d->error = strdup("the VM instance document has no storageProfile.osDisk, so the "
				  "ephemeral OS disk's disk encryption set is unknown");
		return;
	}
	d->status = SOURCE_OK;
	d->des_id = strdup_or_null(vm->os_disk.des_id);
}

/* The instance's confidential-VM fields fill what the disk did not say. */
static void cvm_from_vm(const struct arm_vm_disk *vd, struct arm_disk *d)
{
	if (d->status != SOURCE_OK)
		return;
	if (!d->cvm_security_type)
		d->cvm_security_type = strdup_or_null(vd->security_encryption_type);
	if (!d->cvm_des_id)
		d->cvm_des_id = strdup_or_null(vd->security_des_id);
}

static const struct arm_vm_disk *vm_disk_of_lun(const struct arm_vm *vm, int lun)
{
	for (size_t i = 0; i < vm->n_data_disks; i++)
		if (vm->data_disks[i].lun == lun)
			return &vm->data_disks[i];
	return NULL;
}

static void lookup_disks(struct step *s, const struct imds_instance *inst, const struct arm_vm *vm,
			 struct arm_result *res)
{
	size_t n = inst->n_data_disks + 1, n_des = 0;
	struct des_entry *des = calloc(n, sizeof(*des));
	_cleanup_free_ struct arm_disk **all = calloc(n, sizeof(*all));

	res->data_disks = calloc(n, sizeof(*res->data_disks));
	if (!des || !all || !res->data_disks) {
		free(des);
		res->status = SOURCE_ERROR;
		res->error = strdup("out of memory");
		return;
	}
	res->n_data_disks = inst->n_data_disks;
	all[0] = &res->os_disk;
	if (is_local(inst->os_disk.diff_disk_option) ||
	    (vm->has_os_disk && is_local(vm->os_disk.diff_disk_option))) {
		ephemeral_os_disk(inst, vm, all[0]);
	} else {
		get_disk(s,
			 inst->os_disk.managed_disk_id ? inst->os_disk.managed_disk_id :
							 vm_disk_id(vm, -1),
			 all[0]);
		if (vm->has_os_disk)
			cvm_from_vm(&vm->os_disk, all[0]);
	}
	for (size_t i = 0; i < inst->n_data_disks; i++) {
		const struct imds_disk *d = &inst->data_disks[i];
		const struct arm_vm_disk *vd = vm_disk_of_lun(vm, d->lun);

		all[i + 1] = &res->data_disks[i];
		get_disk(s, d->managed_disk_id ? d->managed_disk_id : vm_disk_id(vm, d->lun),
			 all[i + 1]);
		if (vd)
			cvm_from_vm(vd, all[i + 1]);
	}
	for (size_t i = 0; i < n; i++) {
		struct des_entry *e;
		const char *id = all[i]->des_id ? all[i]->des_id : all[i]->cvm_des_id;

		if (all[i]->status != SOURCE_OK || !id)
			continue;
		e = des_find(des, n_des, id);
		if (!e) {
			e = &des[n_des++];
			e->id = strdup(id);
			get_des(s, e);
		}
		apply_des(all[i], e);
	}
	for (size_t i = 0; i < n_des; i++) {
		free(des[i].id);
		free(des[i].error);
		arm_des_done(&des[i].des);
	}
	free(des);
	res->status = SOURCE_OK;
}

static bool token_usable(const struct arm_cache *c, const char *key)
{
	return c->token_expires != 0 && streq_ptr(c->token_key, key) &&
	       arm_token_fresh(c->token_expires, (int64_t)time(NULL));
}

/* Gets a token into the cache; false (with res filled) when none. */
static bool get_token(struct step *s, const struct arm_identity *id, struct arm_result *res)
{
	struct arm_cache *c = s->c;
	_cleanup_free_ char *key = strprintf("%s|%s|%s", strna(s->o->imds_url), id->desc,
					     strna(s->o->arm_url));
	struct arm_token_result tr;

	if (key && token_usable(c, key))
		return true;
	c->token_expires = 0;
	arm_token_fetch(s->o->imds_url, s->base, id, s->deadline, c->token, &c->token_expires, &tr);
	if (tr.status == SOURCE_OK) {
		free(c->token_key);
		c->token_key = TAKE_PTR(key);
		return true;
	}
	explicit_bzero(c->token, ARM_TOKEN_MAX);
	c->token_expires = 0;
	if (tr.no_identity && s->o->mode == ARM_MODE_AUTO) {
		res->status = SOURCE_OFF;
		res->error = strprintf("ARM not asked: %s", strna(tr.error));
		free(tr.error);
	} else {
		res->status = tr.status;
		res->error = tr.error;
	}
	return false;
}

static char *base_of(const char *url)
{
	const char *u = isempty(url) ? ARM_DEFAULT_URL : url;
	size_t len = strlen(u);

	while (len > 0 && u[len - 1] == '/')
		len--;
	return strndup(u, len);
}

static bool preconditions(const struct arm_options *o, const struct imds_instance *inst,
			  struct arm_result *res)
{
	const char *why = NULL;

	if (o->mode == ARM_MODE_OFF) {
		res->status = SOURCE_OFF;
		res->error = strdup("ARM lookups are off (--arm off)");
		return false;
	}
	if (!inst)
		why = "IMDS gave no instance document, so ARM was not asked";
	else if (isempty(inst->resource_id))
		why = "IMDS gave no compute.resourceId, so ARM was not asked";
	if (!why)
		return true;
	res->status = o->mode == ARM_MODE_AUTO ? SOURCE_OFF : SOURCE_ERROR;
	res->error = strdup(why);
	return false;
}

static void lookup(struct arm_cache *c, const struct arm_options *o,
		   const struct imds_instance *inst, struct arm_result *res, struct step *s)
{
	struct arm_identity id = { 0 };
	struct arm_vm vm = { .encryption_at_host = TRI_UNKNOWN };

	s->deadline = now_monotonic() + (o->timeout > 0 ? o->timeout : c->timeout);
	if (http_global_init() != CURLE_OK || arm_identity_choose(o, inst, &id) < 0 || !s->base) {
		res->status = SOURCE_ERROR;
		res->error = strdup("ARM client could not start (libcurl or memory)");
		arm_identity_done(&id);
		return;
	}
	s->identity = id.desc;
	res->identity = strdup_or_null(id.desc);
	if (get_token(s, &id, res) && get_vm(s, inst, &vm, res) == 0)
		lookup_disks(s, inst, &vm, res);
	if (s->token_rejected) {
		explicit_bzero(c->token, ARM_TOKEN_MAX);
		c->token_expires = 0;
	}
	arm_vm_done(&vm);
	arm_identity_done(&id);
}

/* ---- the cache ---- */

static double env_seconds(const char *name, double def)
{
	const char *v = getenv(name);
	double d;

	return v && safe_atod_seconds(v, &d) == 0 ? d : def;
}

struct arm_cache *arm_cache_new(bool delay_first)
{
	struct arm_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->token = arm_secret_alloc(ARM_TOKEN_MAX);
	if (!c->token) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->delay_first = delay_first;
	/* Defaults; [arm] cache/start_jitter/timeout in the configuration win
	 * (applied on the first fetch), these variables stand in for tests. */
	c->params = arm_sched_default;
	c->params.ttl = env_seconds("ATREST_ARM_CACHE_SECONDS", c->params.ttl);
	c->params.start_jitter = env_seconds("ATREST_ARM_START_JITTER", c->params.start_jitter);
	c->timeout = env_seconds("ATREST_ARM_TIMEOUT", ARM_DEFAULT_TIMEOUT);
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != sizeof(c->rng))
		c->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return c;
}

void arm_cache_free(struct arm_cache *c)
{
	if (!c)
		return;
	arm_secret_free(c->token, ARM_TOKEN_MAX);
	free(c->token_key);
	free(c->key);
	arm_result_done(&c->last);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static char *inputs_key(const struct arm_options *o, const struct imds_instance *inst)
{
	struct strbuf sb = { 0 };

	strbuf_appendf(&sb, "%d|%s|%s|%s|%s|%s|%s|", (int)o->mode, strna(o->arm_url),
		       strna(o->imds_url), strna(o->client_id), strna(o->object_id),
		       strna(o->msi_res_id), inst ? strna(inst->resource_id) : "-");
	if (inst) {
		strbuf_appendf(&sb, "%s|", strna(inst->os_disk.managed_disk_id));
		for (size_t i = 0; i < inst->n_data_disks; i++)
			strbuf_appendf(&sb, "%d=%s|", inst->data_disks[i].lun,
				       strna(inst->data_disks[i].managed_disk_id));
	}
	return strbuf_failed(&sb) ? (strbuf_done(&sb), NULL) : strbuf_steal(&sb);
}

static int disk_copy(const struct arm_disk *src, struct arm_disk *dst)
{
	*dst = (struct arm_disk){
		.id = strdup_or_null(src->id),
		.encryption_type = strdup_or_null(src->encryption_type),
		.des_id = strdup_or_null(src->des_id),
		.des_key_url = strdup_or_null(src->des_key_url),
		.des_rotation_enabled = src->des_rotation_enabled,
		.des_last_rotation = strdup_or_null(src->des_last_rotation),
		.des_rotation_error = strdup_or_null(src->des_rotation_error),
		.error = strdup_or_null(src->error),
		.status = src->status,
		.des_encryption_type = strdup_or_null(src->des_encryption_type),
		.pv_name = strdup_or_null(src->pv_name),
		.ephemeral = src->ephemeral,
		.cvm_security_type = strdup_or_null(src->cvm_security_type),
		.cvm_des_id = strdup_or_null(src->cvm_des_id),
	};
	return 0;
}

static int result_copy(const struct arm_result *src, struct arm_result *dst)
{
	*dst = (struct arm_result){
		.status = src->status,
		.error = strdup_or_null(src->error),
		.identity = strdup_or_null(src->identity),
		.encryption_at_host = src->encryption_at_host,
	};
	disk_copy(&src->os_disk, &dst->os_disk);
	if (src->n_data_disks) {
		dst->data_disks = calloc(src->n_data_disks, sizeof(*dst->data_disks));
		if (!dst->data_disks)
			return -ENOMEM;
		dst->n_data_disks = src->n_data_disks;
		for (size_t i = 0; i < src->n_data_disks; i++)
			disk_copy(&src->data_disks[i], &dst->data_disks[i]);
	}
	return 0;
}

static bool result_complete(const struct arm_result *r)
{
	if (r->status != SOURCE_OK)
		return false;
	if (r->os_disk.status != SOURCE_OK)
		return false;
	for (size_t i = 0; i < r->n_data_disks; i++)
		if (r->data_disks[i].status != SOURCE_OK)
			return false;
	return true;
}

static void pending(struct arm_cache *c, double now, struct arm_result *res)
{
	double in = MAX(c->sched.next_at, c->sched.not_before) - now;

	res->status = SOURCE_OFF;
	res->error = strprintf("the first ARM lookup is due in %.0f s (a random start-up delay "
			       "keeps a fleet restart from flooding ARM)",
			       in);
}

static void run_and_store(struct arm_cache *c, const struct arm_options *o,
			  const struct imds_instance *inst, struct arm_result *res, char *key,
			  struct arm_result_meta *meta)
{
	struct step s = { .o = o, .c = c, .base = base_of(o->arm_url), .retry_after = -1 };

	lookup(c, o, inst, res, &s);
	free(s.base);
	meta->requests = s.requests;
	if (result_complete(res))
		arm_sched_success(&c->sched, &c->params, now_monotonic(), &c->rng);
	else
		arm_sched_failure(&c->sched, &c->params, now_monotonic(), s.retry_after, &c->rng);
	arm_result_done(&c->last);
	c->have_last = result_copy(res, &c->last) == 0;
	c->last_at = now_monotonic();
	free(c->key);
	c->key = key;
}

void arm_fetch_cached(struct arm_cache *c, const struct arm_options *o,
		      const struct imds_instance *inst, struct arm_result *res,
		      struct arm_result_meta *meta)
{
	struct arm_result_meta dummy;
	char *key;
	double now = now_monotonic();

	meta = meta ? meta : &dummy;
	*meta = (struct arm_result_meta){ 0 };
	*res = (struct arm_result){ .encryption_at_host = TRI_UNKNOWN };
	if (!preconditions(o, inst, res))
		return;
	key = inputs_key(o, inst);
	pthread_mutex_lock(&c->lock);
	if (!c->started) {
		if (o->cache_ttl > 0)
			c->params.ttl = o->cache_ttl;
		if (o->start_jitter >= 0)
			c->params.start_jitter = o->start_jitter;
		/* VM + OS disk + data disks + (usually) one DES. */
		arm_sched_start(&c->sched, &c->params, now, c->delay_first,
				3 + (unsigned)inst->n_data_disks, &c->rng);
		c->started = true;
	}
	if (c->have_last && streq_ptr(key, c->key) && !arm_sched_due(&c->sched, now)) {
		result_copy(&c->last, res);
		meta->cached = true;
		meta->age = now - c->last_at;
		free(key);
	} else if (!c->have_last && !arm_sched_due(&c->sched, now)) {
		pending(c, now, res);
		free(key);
	} else if (now < c->sched.not_before) {
		/* The disks changed while ARM asked us to wait: never sooner. */
		res->status = SOURCE_ERROR;
		res->error = strprintf("ARM asked atrest to wait (HTTP 429); the lookup is due in "
				       "%.0f s",
				       c->sched.not_before - now);
		free(key);
	} else {
		run_and_store(c, o, inst, res, key, meta);
	}
	meta->next_lookup = MAX(c->sched.next_at, c->sched.not_before) - now_monotonic();
	meta->elapsed = now_monotonic() - now;
	pthread_mutex_unlock(&c->lock);
}

void arm_fetch(const struct arm_options *o, const struct imds_instance *inst,
	       struct arm_result *res, struct arm_result_meta *meta)
{
	_cleanup_(arm_cache_freep) struct arm_cache *c = arm_cache_new(false);

	if (!c) {
		*res = (struct arm_result){ .status = SOURCE_ERROR,
					    .encryption_at_host = TRI_UNKNOWN,
					    .error = strdup("out of memory") };
		if (meta)
			*meta = (struct arm_result_meta){ 0 };
		return;
	}
	arm_fetch_cached(c, o, inst, res, meta);
}

/* ---- the state a daemon's parent keeps between evaluation children ---- */

static json_object *disk_export(const struct arm_disk *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_string_or_null(d->id));
	json_object_object_add(o, "encryption_type", json_string_or_null(d->encryption_type));
	json_object_object_add(o, "des_id", json_string_or_null(d->des_id));
	json_object_object_add(o, "des_key_url", json_string_or_null(d->des_key_url));
	json_object_object_add(o, "des_rotation_enabled",
			       json_object_new_int((int)d->des_rotation_enabled));
	json_object_object_add(o, "des_last_rotation", json_string_or_null(d->des_last_rotation));
	json_object_object_add(o, "des_rotation_error", json_string_or_null(d->des_rotation_error));
	json_object_object_add(o, "error", json_string_or_null(d->error));
	json_object_object_add(o, "status", json_object_new_int((int)d->status));
	json_object_object_add(o, "des_encryption_type", json_string_or_null(d->des_encryption_type));
	json_object_object_add(o, "pv_name", json_string_or_null(d->pv_name));
	return o;
}

static char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

static double get_double(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_double(v);
}

static void disk_import(json_object *o, struct arm_disk *d)
{
	*d = (struct arm_disk){
		.id = get_str(o, "id"),
		.encryption_type = get_str(o, "encryption_type"),
		.des_id = get_str(o, "des_id"),
		.des_key_url = get_str(o, "des_key_url"),
		.des_rotation_enabled = (enum tristate)get_int(o, "des_rotation_enabled"),
		.des_last_rotation = get_str(o, "des_last_rotation"),
		.des_rotation_error = get_str(o, "des_rotation_error"),
		.error = get_str(o, "error"),
		.status = (enum source_status)get_int(o, "status"),
		.des_encryption_type = get_str(o, "des_encryption_type"),
		.pv_name = get_str(o, "pv_name"),
	};
}

json_object *arm_cache_export(struct arm_cache *c)
{
	json_object *o = json_object_new_object(), *last, *disks;
	char rng[32];

	if (!o)
		return NULL;
	pthread_mutex_lock(&c->lock);
	json_object_object_add(o, "ttl", json_object_new_double(c->params.ttl));
	json_object_object_add(o, "start_jitter", json_object_new_double(c->params.start_jitter));
	json_object_object_add(o, "started", json_object_new_boolean(c->started));
	json_object_object_add(o, "next_at", json_object_new_double(c->sched.next_at));
	json_object_object_add(o, "not_before", json_object_new_double(c->sched.not_before));
	json_object_object_add(o, "failures", json_object_new_int64(c->sched.failures));
	snprintf(rng, sizeof(rng), "%" PRIu64, c->rng);
	json_object_object_add(o, "rng", json_object_new_string(rng));
	if (c->token_expires != 0) {
		json_object_object_add(o, "token", json_object_new_string(c->token));
		json_object_object_add(o, "token_expires", json_object_new_int64(c->token_expires));
		json_object_object_add(o, "token_key", json_string_or_null(c->token_key));
	}
	json_object_object_add(o, "key", json_string_or_null(c->key));
	json_object_object_add(o, "last_at", json_object_new_double(c->last_at));
	if (c->have_last) {
		last = json_object_new_object();
		disks = json_object_new_array();
		json_object_object_add(last, "status", json_object_new_int((int)c->last.status));
		json_object_object_add(last, "error", json_string_or_null(c->last.error));
		json_object_object_add(last, "identity", json_string_or_null(c->last.identity));
		json_object_object_add(last, "encryption_at_host",
				       json_object_new_int((int)c->last.encryption_at_host));
		json_object_object_add(last, "os_disk", disk_export(&c->last.os_disk));
		for (size_t i = 0; i < c->last.n_data_disks; i++)
			json_object_array_add(disks, disk_export(&c->last.data_disks[i]));
		json_object_object_add(last, "data_disks", disks);
		json_object_object_add(o, "last", last);
	}
	pthread_mutex_unlock(&c->lock);
	return o;
}

void arm_cache_state_wipe(json_object *o)
{
	json_object *t;

	if (o && json_object_object_get_ex(o, "token", &t) && json_object_is_type(t, json_type_string))
		explicit_bzero((char *)json_object_get_string(t), json_object_get_string_len(t));
}

int arm_cache_import(struct arm_cache *c, json_object *o)
{
	json_object *last, *disks, *tok;
	_cleanup_free_ char *rng = NULL;

	if (!c || !json_object_is_type(o, json_type_object))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	c->params.ttl = get_double(o, "ttl");
	c->params.start_jitter = get_double(o, "start_jitter");
	c->started = get_int(o, "started") != 0;
	c->sched.next_at = get_double(o, "next_at");
	c->sched.not_before = get_double(o, "not_before");
	c->sched.failures = (unsigned)get_int(o, "failures");
	rng = get_str(o, "rng");
	if (rng)
		c->rng = strtoull(rng, NULL, 10);
	explicit_bzero(c->token, ARM_TOKEN_MAX);
	c->token_expires = 0;
	free(c->token_key);
	c->token_key = NULL;
	if (json_object_object_get_ex(o, "token", &tok) && json_object_is_type(tok, json_type_string) &&
	    (size_t)json_object_get_string_len(tok) < ARM_TOKEN_MAX) {
		memcpy(c->token, json_object_get_string(tok), json_object_get_string_len(tok) + 1);
		c->token_expires = get_int(o, "token_expires");
		c->token_key = get_str(o, "token_key");
	}
	free(c->key);
	c->key = get_str(o, "key");
	c->last_at = get_double(o, "last_at");
	arm_result_done(&c->last);
	c->have_last = false;
	if (json_object_object_get_ex(o, "last", &last) && json_object_is_type(last, json_type_object)) {
		json_object *os = NULL;
		size_t n = 0;

		c->last = (struct arm_result){
			.status = (enum source_status)get_int(last, "status"),
			.error = get_str(last, "error"),
			.identity = get_str(last, "identity"),
			.encryption_at_host = (enum tristate)get_int(last, "encryption_at_host"),
		};
		if (json_object_object_get_ex(last, "os_disk", &os) &&
		    json_object_is_type(os, json_type_object))
			disk_import(os, &c->last.os_disk);
		if (json_object_object_get_ex(last, "data_disks", &disks) &&
		    json_object_is_type(disks, json_type_array))
			n = json_object_array_length(disks);
		if (n > 0) {
			c->last.data_disks = calloc(n, sizeof(*c->last.data_disks));
			if (c->last.data_disks) {
				c->last.n_data_disks = n;
				for (size_t i = 0; i < n; i++)
					disk_import(json_object_array_get_idx(disks, i),
						    &c->last.data_disks[i]);
			}
		}
		c->have_last = true;
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}
