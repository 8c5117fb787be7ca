/* cal.c - calendar arithmetic (day numbers, month indexes) and the hash. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "sim.h"

int
ks_days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30,
	                            31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12)
		return 30;
	return m == 2 && leap ? 29 : dim[m - 1];
}

/* days_from_civil (H. Hinnant): exact for the whole proleptic calendar. */
long
ks_day_number(int y, int m, int d)
{
	long yy = (long)y - (m <= 2 ? 1 : 0);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
ks_day_from_number(long n, struct ks_day *out)
{
	long z = n + 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	long d = doy - (153 * mp + 2) / 5 + 1;
	long m = mp < 10 ? mp + 3 : mp - 9;

	out->y = (int)(yoe + era * 400 + (m <= 2 ? 1 : 0));
	out->m = (int)m;
	out->d = (int)d;
}

int
ks_month_index(int y, int m)
{
	return y * 12 + (m - 1);
}

void
ks_month_split(int mi, int *y, int *m)
{
	*y = mi / 12;
	*m = mi % 12 + 1;
}

void
ks_today(const struct pb_app *app, struct ks_day *out)
{
	struct pb_date d;

	pb_clock_date(
	    pb_clock_now_ms(),
	    app != NULL ? app->tz_offset_min : PB_CLOCK_KST_OFFSET_MIN, &d);
	out->y = d.year;
	out->m = d.month;
	out->d = d.day;
}

long
ks_rel_day(int cur_mi, int months_ago, int day)
{
	int y, m, dim;

	ks_month_split(cur_mi - months_ago, &y, &m);
	dim = ks_days_in_month(y, m);
	if (day < 1)
		day = 1;
	if (day > dim)
		day = dim;
	return ks_day_number(y, m, day);
}

void
ks_format_day(long dn, char *out, size_t outlen)
{
	struct ks_day d;

	ks_day_from_number(dn, &d);
	snprintf(out, outlen, "%04d-%02d-%02d", d.y, d.m, d.d);
}

void
ks_format_month(int mi, char *out, size_t outlen)
{
	int y, m;

	ks_month_split(mi, &y, &m);
	snprintf(out, outlen, "%04d%02d", y, m);
}

void
ks_utc_datetime(int64_t ms, char *out, size_t outlen)
{
	struct pb_date d;
	int64_t frac = ms % 1000;

	if (frac < 0)
		frac += 1000;
	pb_clock_date(ms, 0, &d);
	snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d.%03d", d.year,
	         d.month, d.day, d.hour, d.min, d.sec, (int)frac);
}

void
ks_datetime_rfc3339(const char *db, char *out, size_t outlen)
{
	size_t n;

	if (db == NULL || outlen < 2) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	/* "YYYY-MM-DD HH:MM:SS[.fff]" -> "YYYY-MM-DDTHH:MM:SS[.fff]Z" */
	n = strlen(db);
	if (n + 2 > outlen || n < 19) {
		(void)pb_strlcpy(out, db, outlen);
		return;
	}
	memcpy(out, db, n);
	out[10] = 'T';
	out[n] = 'Z';
	out[n + 1] = '\0';
}

/* FNV-1a over the string, then the murmur3 finaliser over a and salt. */
uint32_t
ks_hash(const char *s, int a, uint32_t salt)
{
	uint32_t h = 2166136261u ^ (salt * 0x9e3779b9u);

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	h ^= (uint32_t)a;
	h *= 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}
