/* TOML scalars: the four string forms, integers, floats, booleans and datetimes.
 * Each parser consumes exactly its token; what may follow a value is checked by the
 * caller in toml_parse.c. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "folio/alloc.h"
#include "toml_internal.h"

#define BAD_VALUE                                                                        \
    "invalid value (expected a string, number, boolean, datetime, array or inline table)"

/* --- growable string --- */

void folio__toml_str_clear(struct folio__toml_str *s)
{
    folio_free(s->ptr);
    *s = (struct folio__toml_str){0};
}

static int str_reserve(struct folio__toml_parser *p, struct folio__toml_str *s, size_t extra)
{
    /* +1 keeps room for the terminating NUL. */
    if (extra > SIZE_MAX - 1 - s->len)
        return folio__toml_oom(p);
    size_t need = s->len + extra + 1;
    if (need <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 32;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *n = folio_realloc(s->ptr, cap);
    if (n == NULL)
        return folio__toml_oom(p);
    s->ptr = n;
    s->cap = cap;
    return 0;
}

static int str_append(struct folio__toml_parser *p, struct folio__toml_str *s, const void *b,
                      size_t n)
{
    if (str_reserve(p, s, n) < 0)
        return -1;
    memcpy(s->ptr + s->len, b, n);
    s->len += n;
    s->ptr[s->len] = '\0';
    return 0;
}

/* Copy the byte at p->pos (and, for a UTF-8 lead byte, its continuation bytes: the input
 * was validated as UTF-8 before parsing started). */
static int str_take_char(struct folio__toml_parser *p, struct folio__toml_str *s)
{
    size_t start = p->pos;
    folio__toml_adv(p);
    while (p->pos < p->len && (p->s[p->pos] & 0xC0) == 0x80)
        folio__toml_adv(p);
    return str_append(p, s, p->s + start, p->pos - start);
}

/* --- strings --- */

static bool is_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int folio__toml_newline_len(struct folio__toml_parser *p)
{
    int c = folio__toml_peek(p);
    if (c == '\n')
        return 1;
    if (c == '\r') {
        if (folio__toml_peek_at(p, 1) == '\n')
            return 2;
        return folio__toml_fail(p, "carriage return not followed by a line feed");
    }
    return 0;
}

/* p->pos is just after a backslash inside a basic string. */
static int parse_escape(struct folio__toml_parser *p, struct folio__toml_str *out, bool multi)
{
    uint32_t line = p->line, col = p->col - 1;
    int c = folio__toml_peek(p);
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    char simple = hit != NULL ? to[hit - from] : 0;
    if (simple != 0) {
        folio__toml_adv(p);
        return str_append(p, out, &simple, 1);
    }
    if (c == 'u' || c == 'U') {
        int digits = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        folio__toml_adv(p);
        for (int i = 0; i < digits; i++) {
            int h = hexval(folio__toml_peek(p));
            if (h < 0)
                return folio__toml_fail(p, "\\%c escape needs %d hexadecimal digits", c,
                                        digits);
            cp = cp << 4 | (uint32_t)h;
            folio__toml_adv(p);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                       "escape \\%c%0*X is not a Unicode scalar value", c,
                                       digits, (unsigned)cp);
        unsigned char buf[4];
        return str_append(p, out, buf, utf8_encode(cp, buf));
    }
    if (multi) {
        /* Line-ending backslash: skip whitespace up to the newline, then every
         * whitespace and newline after it. */
        while (folio__toml_peek(p) == ' ' || folio__toml_peek(p) == '\t')
            folio__toml_adv(p);
        int n = folio__toml_newline_len(p);
        if (n < 0)
            return -1;
        if (n > 0) {
            for (;;) {
                int w = folio__toml_peek(p);
                if (w == ' ' || w == '\t') {
                    folio__toml_adv(p);
                    continue;
                }
                n = folio__toml_newline_len(p);
                if (n < 0)
                    return -1;
                if (n == 0)
                    return 0;
                while (n-- > 0)
                    folio__toml_adv(p);
            }
        }
    }
    return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col, "invalid escape sequence");
}

/* Closing delimiter check for multi-line strings: at a run of `q` quotes. Returns 1 when
 * the string ended (up to two quotes before the closing three belong to the content), 0
 * when the run is content, -1 on error. */
static int multi_quotes(struct folio__toml_parser *p, char q, struct folio__toml_str *out)
{
    size_t n = 0;
    while (folio__toml_peek_at(p, n) == q)
        n++;
    if (n > 5)
        return folio__toml_fail(p, "too many quotes at the end of a multi-line string");
    size_t content = n >= 3 ? n - 3 : n;
    for (size_t i = 0; i < n; i++)
        folio__toml_adv(p);
    for (size_t i = 0; i < content; i++)
        if (str_append(p, out, &q, 1) < 0)
            return -1;
    return n >= 3;
}

int folio__toml_parse_string(struct folio__toml_parser *p, bool allow_multi,
                             struct folio__toml_str *out)
{
    uint32_t line = p->line, col = p->col;
    char q = (char)folio__toml_peek(p);
    bool literal = q == '\'';
    bool multi = allow_multi && folio__toml_peek_at(p, 1) == q && folio__toml_peek_at(p, 2) == q;
    out->len = 0;
    if (str_append(p, out, "", 0) < 0)
        return -1;
    folio__toml_adv(p);
    if (multi) {
        folio__toml_adv(p);
        folio__toml_adv(p);
        /* A newline right after the opening delimiter is trimmed. */
        int n = folio__toml_newline_len(p);
        if (n < 0)
            return -1;
        while (n-- > 0)
            folio__toml_adv(p);
    }
    for (;;) {
        int c = folio__toml_peek(p);
        if (c < 0)
            return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col, "unterminated string");
        if (c == q) {
            if (!multi) {
                folio__toml_adv(p);
                return 0;
            }
            int r = multi_quotes(p, q, out);
            if (r != 0)
                return r < 0 ? -1 : 0;
            continue;
        }
        if (c == '\\' && !literal) {
            folio__toml_adv(p);
            if (parse_escape(p, out, multi) < 0)
                return -1;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (!multi)
                return folio__toml_fail(p, "newline in a single-line string");
            int n = folio__toml_newline_len(p);
            if (n < 0)
                return -1;
            while (n-- > 0)
                folio__toml_adv(p);
            if (str_append(p, out, "\n", 1) < 0)
                return -1;
            continue;
        }
        if (is_control(c))
            return folio__toml_fail(p, "control character U+%04X in a string", (unsigned)c);
        if (str_take_char(p, out) < 0)
            return -1;
    }
}

/* --- numbers --- */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int digit_in_base(int c, int base)
{
    int d = hexval(c);
    return d >= 0 && d < base ? d : -1;
}

/* Digits in `base` with single underscores between digits. Accumulates into *acc with
 * overflow flagged in *overflow (value checked against `max`). */
static int scan_digits(struct folio__toml_parser *p, int base, uint64_t max, uint64_t *acc,
                       bool *overflow)
{
    if (digit_in_base(folio__toml_peek(p), base) < 0)
        return folio__toml_fail(p, "expected a digit");
    for (;;) {
        int d = digit_in_base(folio__toml_peek(p), base);
        if (d >= 0) {
            if (*acc > (max - (uint64_t)d) / (uint64_t)base)
                *overflow = true;
            else
                *acc = *acc * (uint64_t)base + (uint64_t)d;
            folio__toml_adv(p);
            continue;
        }
        if (folio__toml_peek(p) == '_') {
            if (digit_in_base(folio__toml_peek_at(p, 1), base) < 0)
                return folio__toml_fail(p, "an underscore must be between two digits");
            folio__toml_adv(p);
            continue;
        }
        return 0;
    }
}

static int parse_radix_int(struct folio__toml_parser *p, struct folio_toml_value *v,
                           uint32_t line, uint32_t col)
{
    int kind = folio__toml_peek_at(p, 1);
    int base = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
    folio__toml_adv(p);
    folio__toml_adv(p);
    uint64_t acc = 0;
    bool overflow = false;
    if (scan_digits(p, base, INT64_MAX, &acc, &overflow) < 0)
        return -1;
    if (overflow)
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                   "integer does not fit in 64 bits");
    v->type = FOLIO_TOML_INTEGER;
    v->u.i = (int64_t)acc;
    return 0;
}

static int match_word(struct folio__toml_parser *p, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++)
        if (folio__toml_peek_at(p, i) != (unsigned char)word[i])
            return 0;
    for (size_t i = 0; i < n; i++)
        folio__toml_adv(p);
    return 1;
}

/* strtod on the token with its underscores removed. */
static int convert_float(struct folio__toml_parser *p, size_t start, uint32_t line,
                         uint32_t col, double *out)
{
    char small[64];
    size_t n = p->pos - start;
    char *buf = n < sizeof small ? small : folio_malloc(n + 1);
    if (buf == NULL)
        return folio__toml_oom(p);
    size_t k = 0;
    for (size_t i = start; i < p->pos; i++)
        if (p->s[i] != '_')
            buf[k++] = (char)p->s[i];
    buf[k] = '\0';
    errno = 0;
    char *end;
    double d = strtod(buf, &end);
    bool bad = *end != '\0';
    bool range = errno == ERANGE && isinf(d);
    if (buf != small)
        folio_free(buf);
    if (bad)
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col, "malformed float");
    if (range)
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                   "float is out of the range of a double");
    *out = d;
    return 0;
}

static int parse_number(struct folio__toml_parser *p, struct folio_toml_value *v)
{
    uint32_t line = p->line, col = p->col;
    size_t start = p->pos;
    int sign = 0;
    int c = folio__toml_peek(p);
    if (c == '+' || c == '-') {
        sign = c;
        folio__toml_adv(p);
        c = folio__toml_peek(p);
    }
    if (c == 'i' || c == 'n') {
        if (match_word(p, "inf")) {
            v->type = FOLIO_TOML_FLOAT;
            v->u.f = sign == '-' ? -INFINITY : INFINITY;
            return 0;
        }
        if (match_word(p, "nan")) {
            v->type = FOLIO_TOML_FLOAT;
            v->u.f = sign == '-' ? -NAN : NAN;
            return 0;
        }
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col, BAD_VALUE);
    }
    int c1 = folio__toml_peek_at(p, 1);
    if (c == '0' && (c1 == 'x' || c1 == 'o' || c1 == 'b')) {
        if (sign)
            return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                       "hexadecimal, octal and binary integers take no sign");
        return parse_radix_int(p, v, line, col);
    }
    if (!is_digit(c))
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col, BAD_VALUE);
    if (c == '0' && (is_digit(c1) || c1 == '_'))
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                   "leading zeros are not allowed");
    /* -9223372036854775808 is the one value whose magnitude exceeds INT64_MAX. */
    uint64_t max = sign == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    bool overflow = false;
    if (scan_digits(p, 10, max, &acc, &overflow) < 0)
        return -1;
    bool is_float = false;
    if (folio__toml_peek(p) == '.') {
        is_float = true;
        folio__toml_adv(p);
        uint64_t ignored = 0;
        bool o2 = false;
        if (scan_digits(p, 10, UINT64_MAX, &ignored, &o2) < 0)
            return -1;
    }
    c = folio__toml_peek(p);
    if (c == 'e' || c == 'E') {
        is_float = true;
        folio__toml_adv(p);
        c = folio__toml_peek(p);
        if (c == '+' || c == '-')
            folio__toml_adv(p);
        uint64_t ignored = 0;
        bool o2 = false;
        if (scan_digits(p, 10, UINT64_MAX, &ignored, &o2) < 0)
            return -1;
    }
    if (is_float) {
        v->type = FOLIO_TOML_FLOAT;
        return convert_float(p, start, line, col, &v->u.f);
    }
    if (overflow)
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                   "integer does not fit in 64 bits");
    v->type = FOLIO_TOML_INTEGER;
    /* Negate in unsigned arithmetic: acc may be 2^63. */
    v->u.i = sign == '-' ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

/* --- datetimes --- */

static int fixed_digits(struct folio__toml_parser *p, int n, const char *what, int *out)
{
    int val = 0;
    for (int i = 0; i < n; i++) {
        int c = folio__toml_peek(p);
        if (!is_digit(c))
            return folio__toml_fail(p, "%s needs %d digits", what, n);
        val = val * 10 + (c - '0');
        folio__toml_adv(p);
    }
    *out = val;
    return 0;
}

static int expect_char(struct folio__toml_parser *p, int ch, const char *what)
{
    if (folio__toml_peek(p) != ch)
        return folio__toml_fail(p, "expected '%c' in %s", ch, what);
    folio__toml_adv(p);
    return 0;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int parse_date(struct folio__toml_parser *p, struct folio_toml_datetime *dt)
{
    uint32_t line = p->line, col = p->col;
    if (fixed_digits(p, 4, "a year", &dt->year) < 0 || expect_char(p, '-', "a date") < 0 ||
        fixed_digits(p, 2, "a month", &dt->month) < 0 || expect_char(p, '-', "a date") < 0 ||
        fixed_digits(p, 2, "a day", &dt->day) < 0)
        return -1;
    if (dt->month < 1 || dt->month > 12)
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col, "month %02d is not 01..12",
                                   dt->month);
    if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                   "day %02d does not exist in %04d-%02d", dt->day, dt->year,
                                   dt->month);
    dt->has_date = true;
    return 0;
}

static int parse_time(struct folio__toml_parser *p, struct folio_toml_datetime *dt)
{
    uint32_t line = p->line, col = p->col;
    if (fixed_digits(p, 2, "an hour", &dt->hour) < 0 || expect_char(p, ':', "a time") < 0 ||
        fixed_digits(p, 2, "minutes", &dt->minute) < 0 || expect_char(p, ':', "a time") < 0 ||
        fixed_digits(p, 2, "seconds", &dt->second) < 0)
        return -1;
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                   "time %02d:%02d:%02d is out of range", dt->hour, dt->minute,
                                   dt->second);
    if (folio__toml_peek(p) == '.') {
        folio__toml_adv(p);
        if (!is_digit(folio__toml_peek(p)))
            return folio__toml_fail(p, "expected digits after the decimal point");
        int ns = 0, digits = 0;
        while (is_digit(folio__toml_peek(p))) {
            if (digits < 9) {
                ns = ns * 10 + (folio__toml_peek(p) - '0');
                digits++;
            }
            folio__toml_adv(p);
        }
        while (digits++ < 9)
            ns *= 10;
        dt->nanosecond = ns;
    }
    dt->has_time = true;
    return 0;
}

static int parse_offset(struct folio__toml_parser *p, struct folio_toml_datetime *dt)
{
    int c = folio__toml_peek(p);
    if (c == 'Z' || c == 'z') {
        folio__toml_adv(p);
        dt->has_offset = true;
        return 0;
    }
    if (c != '+' && c != '-')
        return 0;
    uint32_t line = p->line, col = p->col;
    folio__toml_adv(p);
    int h, m;
    if (fixed_digits(p, 2, "an offset hour", &h) < 0 || expect_char(p, ':', "an offset") < 0 ||
        fixed_digits(p, 2, "offset minutes", &m) < 0)
        return -1;
    if (h > 23 || m > 59)
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col,
                                   "offset %c%02d:%02d is out of range", c, h, m);
    dt->offset_minutes = (c == '-' ? -1 : 1) * (h * 60 + m);
    dt->has_offset = true;
    return 0;
}

static int parse_datetime(struct folio__toml_parser *p, struct folio_toml_value *v)
{
    struct folio_toml_datetime *dt = &v->u.dt;
    *dt = (struct folio_toml_datetime){0};
    if (folio__toml_peek_at(p, 2) == ':') {
        if (parse_time(p, dt) < 0)
            return -1;
        v->type = FOLIO_TOML_LOCAL_TIME;
        return 0;
    }
    if (parse_date(p, dt) < 0)
        return -1;
    int c = folio__toml_peek(p);
    bool time = c == 'T' || c == 't' || (c == ' ' && is_digit(folio__toml_peek_at(p, 1)));
    if (!time) {
        v->type = FOLIO_TOML_LOCAL_DATE;
        return 0;
    }
    folio__toml_adv(p);
    if (parse_time(p, dt) < 0 || parse_offset(p, dt) < 0)
        return -1;
    v->type = dt->has_offset ? FOLIO_TOML_DATETIME : FOLIO_TOML_LOCAL_DATETIME;
    return 0;
}

static bool looks_like_datetime(const struct folio__toml_parser *p)
{
    for (size_t i = 0; i < 2; i++)
        if (!is_digit(folio__toml_peek_at(p, i)))
            return false;
    if (folio__toml_peek_at(p, 2) == ':')
        return true;
    return is_digit(folio__toml_peek_at(p, 2)) && is_digit(folio__toml_peek_at(p, 3)) &&
           folio__toml_peek_at(p, 4) == '-';
}

int folio__toml_parse_scalar(struct folio__toml_parser *p, struct folio_toml_value *v)
{
    uint32_t line = p->line, col = p->col;
    int c = folio__toml_peek(p);
    if (c == 't' || c == 'f') {
        if (match_word(p, "true") || match_word(p, "false")) {
            v->type = FOLIO_TOML_BOOL;
            v->u.b = c == 't';
            return 0;
        }
        return folio__toml_fail_at(p, FOLIO_ESYNTAX, line, col, BAD_VALUE);
    }
    if (looks_like_datetime(p))
        return parse_datetime(p, v);
    return parse_number(p, v);
}
