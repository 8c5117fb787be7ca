/* billinfo.c - a KOS bill becomes our BillInfo (design schema + extras). */
#include <stdio.h>
#include <string.h>

#include "bill.h"
#include "json.h"
#include "kos.h"

static const cJSON *
obj(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsObject(v) ? v : NULL;
}

static int
add_str(cJSON *to, const char *name, const char *v)
{
	return v != NULL && cJSON_AddStringToObject(to, name, v) != NULL;
}

static int
add_int(cJSON *to, const char *name, long long v)
{
	return cJSON_AddNumberToObject(to, name, (double)v) != NULL;
}

/* "1234567" -> "1,234,567" */
static void
won(long long v, char *out, size_t outlen)
{
	char digits[32], tmp[48];
	size_t n, i, j = 0;
	int neg = v < 0;

	snprintf(digits, sizeof(digits), "%lld", neg ? -v : v);
	n = strlen(digits);
	if (neg)
		tmp[j++] = '-';
	for (i = 0; i < n && j + 2 < sizeof(tmp); i++) {
		if (i > 0 && (n - i) % 3 == 0)
			tmp[j++] = ',';
		tmp[j++] = digits[i];
	}
	tmp[j] = '\0';
	snprintf(out, outlen, "%s", tmp);
}

void
bill_info_summary(const cJSON *info, char *summary, size_t summarylen)
{
	const char *name = pb_json_get_string(info, "productName");
	long long total = 0;
	char amount[48];

	(void)pb_json_get_int(info, "totalAmount", &total);
	won(total, amount, sizeof(amount));
	snprintf(summary, summarylen, "%s, %s원", name != NULL ? name : "-",
	         amount);
}

/* [{code?, name, amount}] -> [{name, amount}] (+ code when keep_code). */
static cJSON *
items(const cJSON *arr, int keep_code)
{
	cJSON *out = cJSON_CreateArray(), *it;
	const cJSON *e;
	const char *name, *code;
	long long amount;

	if (out == NULL || !cJSON_IsArray(arr))
		goto bad;
	cJSON_ArrayForEach(e, arr)
	{
		name = pb_json_get_string(e, "name");
		code = pb_json_get_string(e, "code");
		if (name == NULL || !pb_json_get_int(e, "amount", &amount))
			goto bad;
		it = cJSON_CreateObject();
		if (it == NULL || !cJSON_AddItemToArray(out, it) ||
		    (keep_code && code != NULL && !add_str(it, "code", code)) ||
		    !add_str(it, "name", name) ||
		    !add_int(it, "amount", amount))
			goto bad;
	}
	return out;
bad:
	cJSON_Delete(out);
	return NULL;
}

/* "24개월 약정", "24개월 약정 (만료)", "약정 없음" */
static int
contract(cJSON *to, const cJSON *ci)
{
	const char *type = pb_json_get_string(ci, "contractType");
	const char *status = pb_json_get_string(ci, "status");
	char text[160];
	cJSON *c;
	long long v;

	if (ci == NULL || status == NULL || strcmp(status, "NONE") == 0)
		return add_str(to, "contractInfo", "약정 없음");
	snprintf(text, sizeof(text), "%s%s", type != NULL ? type : "약정",
	         strcmp(status, "EXPIRED") == 0 ? " (만료)" : "");
	if (!add_str(to, "contractInfo", text))
		return 0;
	c = cJSON_AddObjectToObject(to, "contract");
	if (c == NULL || !add_str(c, "status", status))
		return 0;
	if (pb_json_get_int(ci, "termMonths", &v) &&
	    !add_int(c, "termMonths", v))
		return 0;
	if (pb_json_get_int(ci, "remainingMonths", &v) &&
	    !add_int(c, "remainingMonths", v))
		return 0;
	if (pb_json_get_string(ci, "startDate") != NULL &&
	    !add_str(c, "startDate", pb_json_get_string(ci, "startDate")))
		return 0;
	if (pb_json_get_string(ci, "endDate") != NULL &&
	    !add_str(c, "endDate", pb_json_get_string(ci, "endDate")))
		return 0;
	return 1;
}

/*
 * usageDetail: {voice:{used, allowance, unit:"분"}, sms:{...,"건"},
 * data:{used, allowance, unit:"MB"}}; allowance null = unlimited, and the
 * whole object absent when KOS sends no figures (the UI then shows the
 * display text only).
 */
static int
usage_detail(cJSON *to, const cJSON *u)
{
	static const char *const kinds[] = {"voice", "sms", "data"};
	static const char *const used[] = {"usedMinutes", "usedCount",
	                                   "usedMb"};
	static const char *const allow[] = {"allowanceMinutes",
	                                    "allowanceCount", "allowanceMb"};
	static const char *const units[] = {"분", "건", "MB"};
	cJSON *out, *d;
	long long v;
	size_t i;

	for (i = 0; i < 3; i++)
		if (!pb_json_get_int(obj(u, kinds[i]), used[i], &v))
			return 1; /* no figures: leave it out */
	out = cJSON_AddObjectToObject(to, "usageDetail");
	for (i = 0; out != NULL && i < 3; i++) {
		d = cJSON_AddObjectToObject(out, kinds[i]);
		(void)pb_json_get_int(obj(u, kinds[i]), used[i], &v);
		if (d == NULL || !add_int(d, "used", v) ||
		    !add_str(d, "unit", units[i]))
			return 0;
		if (pb_json_get_int(obj(u, kinds[i]), allow[i], &v)
		        ? !add_int(d, "allowance", v)
		        : cJSON_AddNullToObject(d, "allowance") == NULL)
			return 0;
	}
	return out != NULL;
}

static int
usage(cJSON *to, const cJSON *u)
{
	static const char *const kinds[] = {"voice", "sms", "data"};
	cJSON *out = cJSON_AddObjectToObject(to, "usage");
	const char *d;
	size_t i;

	if (out == NULL || u == NULL)
		return 0;
	for (i = 0; i < 3; i++) {
		d = pb_json_get_string(obj(u, kinds[i]), "display");
		if (d == NULL || !add_str(out, kinds[i], d))
			return 0;
	}
	return 1;
}

static int
device(cJSON *to, const cJSON *kb)
{
	const cJSON *di = obj(kb, "deviceInstallment");
	long long remaining = 0, v;
	cJSON *d;

	(void)pb_json_get_int(kb, "deviceInstallmentRemaining", &remaining);
	if (!add_int(to, "deviceInstallment", remaining))
		return 0;
	if (di == NULL)
		return cJSON_AddNullToObject(to, "device") != NULL;
	d = cJSON_AddObjectToObject(to, "device");
	if (d == NULL || !add_str(d, "deviceName",
	                          pb_json_get_string(di, "deviceName") != NULL
	                              ? pb_json_get_string(di, "deviceName")
	                              : "-"))
		return 0;
	if (pb_json_get_int(di, "monthlyAmount", &v) &&
	    !add_int(d, "monthlyAmount", v))
		return 0;
	if (pb_json_get_int(di, "totalMonths", &v) &&
	    !add_int(d, "totalMonths", v))
		return 0;
	if (pb_json_get_int(di, "remainingMonths", &v) &&
	    !add_int(d, "remainingMonths", v))
		return 0;
	return 1;
}

static int
payment(cJSON *to, const cJSON *pi)
{
	static const char *const keys[] = {"billingDate", "paymentStatus",
	                                   "paymentMethod", "dueDate",
	                                   "paidDate"};
	cJSON *p = cJSON_AddObjectToObject(to, "paymentInfo");
	const char *v, *st;
	size_t i;

	st = pb_json_get_string(pi, "paymentStatus");
	if (p == NULL || st == NULL ||
	    (strcmp(st, "PAID") != 0 && strcmp(st, "UNPAID") != 0 &&
	     strcmp(st, "OVERDUE") != 0))
		return 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = pb_json_get_string(pi, keys[i]);
		if (v == NULL && i < 3)
			return 0; /* the design's required three */
		if (v != NULL && !add_str(p, keys[i], v))
			return 0;
	}
	return 1;
}

cJSON *
bill_info_from_kos(const cJSON *kb, char *summary, size_t summarylen)
{
	const char *name = pb_json_get_string(kb, "productName");
	const char *code = pb_json_get_string(kb, "productCode");
	const char *kmonth = pb_json_get_string(kb, "billingMonth");
	const char *bstatus = pb_json_get_string(kb, "billStatus");
	char month[8];
	long long total, charge = 0, discount = 0, fee = 0, term = 0;
	cJSON *out = cJSON_CreateObject(), *arr;

	if (out == NULL || name == NULL || kmonth == NULL ||
	    pb_kos_month_from_kos(kmonth, month, sizeof(month)) != PB_OK ||
	    !pb_json_get_int(kb, "totalAmount", &total))
		goto bad;
	(void)pb_json_get_int(kb, "totalCharge", &charge);
	(void)pb_json_get_int(kb, "totalDiscount", &discount);
	(void)pb_json_get_int(kb, "monthlyFee", &fee);
	(void)pb_json_get_int(kb, "terminationFee", &term);
	if (!add_str(out, "productName", name) ||
	    (code != NULL && !add_str(out, "productCode", code)) ||
	    !contract(out, obj(kb, "contractInfo")) ||
	    !add_str(out, "billingMonth", month) ||
	    (bstatus != NULL && !add_str(out, "billStatus", bstatus)) ||
	    !add_int(out, "totalAmount", total) ||
	    !add_int(out, "totalCharge", charge) ||
	    !add_int(out, "totalDiscount", discount) ||
	    !add_int(out, "monthlyFee", fee))
		goto bad;
	arr = items(cJSON_GetObjectItemCaseSensitive(kb, "discounts"), 0);
	if (arr == NULL || !cJSON_AddItemToObject(out, "discountInfo", arr)) {
		cJSON_Delete(arr);
		goto bad;
	}
	arr = items(cJSON_GetObjectItemCaseSensitive(kb, "charges"), 1);
	if (arr == NULL || !cJSON_AddItemToObject(out, "charges", arr)) {
		cJSON_Delete(arr);
		goto bad;
	}
	if (!usage(out, obj(kb, "usage")) ||
	    !usage_detail(out, obj(kb, "usage")) ||
	    !add_int(out, "terminationFee", term) || !device(out, kb) ||
	    !payment(out, obj(kb, "paymentInfo")))
		goto bad;
	if (pb_json_get_string(kb, "periodStart") != NULL &&
	    (!add_str(out, "periodStart",
	              pb_json_get_string(kb, "periodStart")) ||
	     !add_str(out, "periodEnd",
	              pb_json_get_string(kb, "periodEnd") != NULL
	                  ? pb_json_get_string(kb, "periodEnd")
	                  : "")))
		goto bad;
	bill_info_summary(out, summary, summarylen);
	return out;
bad:
	cJSON_Delete(out);
	return NULL;
}
